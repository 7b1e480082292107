//! The monthly report: each unit's records of the month and its officials at the month's end.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use dvc_domain::report::{MonthlyReport, MonthlyRow, ReportUnit, Tally, UnitFigures, roll_up, tree_order};
use dvc_domain::{AccountKind, Period, PortalAccount, Scope};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::subtree_units;
use crate::StoreError;
use crate::entity::{citizen_account_counter as counter, official, unit};
use crate::units::unit_ids_in;

#[derive(Debug, FromQueryResult)]
struct CounterSums {
    unit_id: Uuid,
    account_kind: String,
    created: i64,
    failed: i64,
    created_cumulative: i64,
}

/// Each unit's own counts in `period` and its accounts created up to the end of it, by kind.
async fn counter_sums(
    db: &impl ConnectionTrait,
    scope: &Scope,
    period: Period,
) -> Result<Vec<CounterSums>, StoreError> {
    // Sums come back as NUMERIC on PostgreSQL; the cast makes them integers on both databases.
    let total = |expr: Expr| Expr::from(Func::cast_as(Func::sum(expr), Alias::new("BIGINT")));
    let in_period = |column: counter::Column| {
        total(Expr::case(counter::Column::Period.eq(period.to_string()), Expr::col(column)).finally(0).into())
    };
    Ok(counter::Entity::find()
        .select_only()
        .column(counter::Column::UnitId)
        .column(counter::Column::AccountKind)
        .column_as(in_period(counter::Column::Created), "created")
        .column_as(in_period(counter::Column::Failed), "failed")
        .column_as(total(Expr::col(counter::Column::Created)), "created_cumulative")
        .filter(counter::Column::Period.lte(period.to_string()))
        .filter(Expr::col(counter::Column::UnitId).in_subquery(unit_ids_in(scope)))
        .group_by(counter::Column::UnitId)
        .group_by(counter::Column::AccountKind)
        .into_model::<CounterSums>()
        .all(db)
        .await?)
}

#[derive(Debug, FromQueryResult)]
struct DeskState {
    id: Uuid,
    unit_id: Uuid,
    portal_account: String,
    portal_account_at: Option<DateTime<Utc>>,
    active: bool,
    deactivated_at: Option<DateTime<Utc>>,
}

/// Adds each unit's officials as they stood at `at` to its figures.
async fn count_officials(
    db: &impl ConnectionTrait,
    scope: &Scope,
    at: DateTime<Utc>,
    own: &mut HashMap<Uuid, UnitFigures>,
) -> Result<(), StoreError> {
    let officials = official::Entity::find()
        .select_only()
        .columns([
            official::Column::Id,
            official::Column::UnitId,
            official::Column::PortalAccount,
            official::Column::PortalAccountAt,
            official::Column::Active,
            official::Column::DeactivatedAt,
        ])
        .filter(Expr::col(official::Column::UnitId).in_subquery(unit_ids_in(scope)))
        .filter(official::Column::CreatedAt.lte(at))
        .into_model::<DeskState>()
        .all(db)
        .await?;
    let granted = crate::grants::officials_in_force(db, scope, at).await?;
    for state in officials {
        let figures = own.entry(state.unit_id).or_default();
        figures.officials += 1;
        let active = state.active || state.deactivated_at.is_some_and(|left| left > at);
        if !active {
            continue;
        }
        figures.officials_active += 1;
        let opened = PortalAccount::parse(&state.portal_account).is_some_and(|status| status != PortalAccount::None)
            && state.portal_account_at.is_none_or(|opened| opened <= at);
        figures.officials_with_portal_account += i64::from(opened);
        figures.officials_granted += i64::from(granted.contains(&state.id));
    }
    Ok(())
}

/// The monthly report of `root_id` for `period`, rows down to `depth` levels below it. Officials
/// are counted as they stood at the end of the period (or now, for the current one).
pub async fn monthly(
    db: &impl ConnectionTrait,
    root_id: Uuid,
    period: Period,
    depth: u8,
) -> Result<MonthlyReport, StoreError> {
    let root = crate::units::path_of(db, root_id).await?;
    let scope = Scope::Subtree(root.clone());
    let units = subtree_units(db, &root).await?;
    let mut own: HashMap<Uuid, UnitFigures> = HashMap::new();
    for sums in counter_sums(db, &scope, period).await? {
        let Some(kind) = AccountKind::parse(&sums.account_kind) else {
            return Err(StoreError::Corrupt(format!("counter account kind {}", sums.account_kind)));
        };
        let figures = own.entry(sums.unit_id).or_default();
        *figures.by_kind.entry(kind.as_str()).or_default() += Tally { created: sums.created, failed: sums.failed };
        figures.created_cumulative += sums.created_cumulative;
    }
    let now = Utc::now();
    let at = if period.end() > now { now } else { period.end() - chrono::TimeDelta::microseconds(1) };
    count_officials(db, &scope, at, &mut own).await?;
    let report_units: Vec<ReportUnit> = units.iter().map(|(unit, _)| unit.clone()).collect();
    let totals = roll_up(&report_units, &own);
    let existed = |model: &unit::Model| {
        model.valid_from.is_none_or(|from| from <= period.last_day())
            && model.valid_to.is_none_or(|to| to > period.first_day())
    };
    let models: HashMap<Uuid, &unit::Model> = units.iter().map(|(unit, model)| (unit.id, model)).collect();
    let rows = tree_order(&report_units, root_id, depth)
        .into_iter()
        .filter(|unit| unit.id == root_id || models.get(&unit.id).is_some_and(|model| existed(model)))
        .map(|unit| MonthlyRow { unit: unit.clone(), figures: totals.get(&unit.id).cloned().unwrap_or_default() })
        .collect();
    Ok(MonthlyReport { period, unit_id: root_id, depth, generated_at: crate::now(), rows })
}
