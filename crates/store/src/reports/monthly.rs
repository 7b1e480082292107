//! The monthly report: each row's records of the month from the subtree counters, and its
//! officials as they stood at the month's end from the officials' standing.

use std::collections::HashMap;

use dvc_domain::report::{MonthlyReport, MonthlyRow, ReportUnit, Tally, UnitFigures, tree_order};
use dvc_domain::{AccountKind, Period, Scope, UnitPath};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter};
use uuid::Uuid;

use crate::StoreError;
use crate::counters::Ledger;
use crate::entity::{citizen_account_counter as counter, unit};
use crate::units::subtree_condition;

#[derive(Debug, FromQueryResult)]
struct MonthCounts {
    unit_id: Uuid,
    account_kind: String,
    created: i64,
    failed: i64,
}

/// Each row unit's whole-subtree counts in `period` by kind, and its accounts created up to the end
/// of it: one counter row per row unit and kind for each, whatever the size of the subtree and the
/// length of the drive.
async fn record_figures(
    db: &impl ConnectionTrait,
    rows: &[Uuid],
    period: Period,
    figures: &mut HashMap<Uuid, UnitFigures>,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(crate::INSERT_CHUNK) {
        let select = Query::select()
            .columns([
                counter::Column::UnitId,
                counter::Column::AccountKind,
                counter::Column::Created,
                counter::Column::Failed,
            ])
            .from(Ledger::Subtree.table())
            .and_where(Expr::col(counter::Column::UnitId).is_in(chunk.iter().copied()))
            .and_where(Expr::col(counter::Column::Period).eq(period.to_string()))
            .to_owned();
        for counts in MonthCounts::find_by_statement(db.get_database_backend().build(&select)).all(db).await? {
            let Some(kind) = AccountKind::parse(&counts.account_kind) else {
                return Err(StoreError::Corrupt(format!("counter account kind {}", counts.account_kind)));
            };
            let row = figures.entry(counts.unit_id).or_default();
            *row.by_kind.entry(kind.as_str()).or_default() += Tally { created: counts.created, failed: counts.failed };
        }
    }
    for (unit_id, created) in crate::counters::created_to_date(db, rows, period).await? {
        figures.entry(unit_id).or_default().created_cumulative += created;
    }
    Ok(())
}

/// Each row unit's officials as they stood at the end of `period`, from the officials' standing.
async fn official_figures(
    db: &impl ConnectionTrait,
    rows: &[Uuid],
    period: Period,
    figures: &mut HashMap<Uuid, UnitFigures>,
) -> Result<(), StoreError> {
    for (unit_id, standing) in crate::standing::subtree_standings(db, rows, period).await? {
        let row = figures.entry(unit_id).or_default();
        row.officials += standing.officials;
        row.officials_active += standing.active;
        row.officials_with_portal_account += standing.with_portal_account;
        row.officials_granted += standing.granted;
    }
    Ok(())
}

/// The units a report shows: `root` and its units down to `depth` levels (or the country's, down
/// to `depth` levels below it), in tree order, leaving out units that did not exist in `period`.
async fn row_units(
    db: &impl ConnectionTrait,
    root: Option<&UnitPath>,
    depth: u8,
    period: Period,
) -> Result<Vec<ReportUnit>, StoreError> {
    let scope = root.map_or(Scope::All, |root| Scope::Subtree(root.clone()));
    let deepest = root.map_or(i32::from(Ord::max(depth, 1)), |root| root.level() + i32::from(depth));
    let existed = Condition::all()
        .add(
            Condition::any().add(unit::Column::ValidFrom.is_null()).add(unit::Column::ValidFrom.lte(period.last_day())),
        )
        .add(Condition::any().add(unit::Column::ValidTo.is_null()).add(unit::Column::ValidTo.gt(period.first_day())));
    let root_id = root.and_then(|root| root.ids().last());
    let models = unit::Entity::find()
        .filter(subtree_condition(unit::Column::Path, &scope))
        .filter(unit::Column::Level.lte(deepest))
        .filter(Condition::any().add(existed).add(unit::Column::Id.is_in(root_id)))
        .all(db)
        .await?;
    let units = models.into_iter().map(super::report_unit).collect::<Result<Vec<_>, _>>()?;
    Ok(tree_order(&units, root_id, depth).into_iter().cloned().collect())
}

/// The monthly report of the unit at `root` (or of the whole country) for `period`, rows down to
/// `depth` levels below it. Officials are counted as they stand at the end of the period (for the
/// current one: as far as is known now, such as a grant that ends before the month does).
pub async fn monthly(
    db: &impl ConnectionTrait,
    root: Option<&UnitPath>,
    period: Period,
    depth: u8,
) -> Result<MonthlyReport, StoreError> {
    let root_id = root.and_then(|root| root.ids().last());
    let units = row_units(db, root, depth, period).await?;
    let ids: Vec<Uuid> = units.iter().map(|unit| unit.id).collect();
    let mut figures: HashMap<Uuid, UnitFigures> = HashMap::new();
    record_figures(db, &ids, period, &mut figures).await?;
    official_figures(db, &ids, period, &mut figures).await?;
    let rows = units
        .into_iter()
        .map(|unit| {
            let figures = figures.remove(&unit.id).unwrap_or_default();
            MonthlyRow { unit, figures }
        })
        .collect();
    Ok(MonthlyReport { period, unit_id: root_id, depth, generated_at: crate::now(), rows })
}
