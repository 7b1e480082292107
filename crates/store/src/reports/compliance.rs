//! Where each unit stands on the steps of a directive: done on time, done late, pending or overdue,
//! and the day it was done.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use dvc_domain::grant::grant_for_recording;
use dvc_domain::report::{ComplianceRow, MilestoneStatus};
use dvc_domain::time::vietnam_date;
use dvc_domain::{Directive, MilestoneKey, PortalAccount, Scope, UnitPath};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::RowUnits;
use crate::StoreError;
use crate::entity::{citizen_account, official, report_snapshot, roster};
use crate::units::unit_ids_in;

#[derive(Debug, FromQueryResult)]
struct Desk {
    id: Uuid,
    unit_id: Uuid,
    active: bool,
    portal_account: String,
    portal_account_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct Dated {
    unit_id: Uuid,
    at: DateTime<Utc>,
}

/// What the steps are judged on, for a whole subtree.
struct Evidence {
    desks: Vec<Desk>,
    grants: HashMap<Uuid, Vec<dvc_domain::Grant>>,
    /// Rosters submitted, by providing unit.
    rosters: Vec<Dated>,
    /// Live records, by unit: the first registration of each.
    records: Vec<Dated>,
    snapshots: Vec<Dated>,
}

impl Evidence {
    async fn gather(db: &impl ConnectionTrait, scope: &Scope) -> Result<Self, StoreError> {
        let desks = official::Entity::find()
            .select_only()
            .columns([
                official::Column::Id,
                official::Column::UnitId,
                official::Column::Active,
                official::Column::PortalAccount,
                official::Column::PortalAccountAt,
                official::Column::CreatedAt,
            ])
            .filter(Expr::col(official::Column::UnitId).in_subquery(unit_ids_in(scope)))
            .into_model::<Desk>()
            .all(db)
            .await?;
        let grants = crate::grants::by_official_in(db, scope).await?;
        let rosters = roster::Entity::find()
            .select_only()
            .column(roster::Column::UnitId)
            .column_as(roster::Column::SubmittedAt, "at")
            .filter(roster::Column::SubmittedAt.is_not_null())
            .into_model::<Dated>()
            .all(db)
            .await?;
        let records = citizen_account::Entity::find()
            .select_only()
            .column(citizen_account::Column::UnitId)
            .column_as(citizen_account::Column::RegisteredAt.min(), "at")
            .filter(citizen_account::Column::VoidedAt.is_null())
            .filter(Expr::col(citizen_account::Column::UnitId).in_subquery(unit_ids_in(scope)))
            .group_by(citizen_account::Column::UnitId)
            .into_model::<Dated>()
            .all(db)
            .await?;
        let snapshots = report_snapshot::Entity::find()
            .select_only()
            .column(report_snapshot::Column::UnitId)
            .column_as(report_snapshot::Column::CreatedAt, "at")
            .into_model::<Dated>()
            .all(db)
            .await?;
        Ok(Self { desks, grants, rosters, records, snapshots })
    }
}

/// The earliest moment among `dated` whose unit passes `counts`, as a day in Vietnam.
fn first_day(dated: &[Dated], counts: impl Fn(Uuid) -> bool) -> Option<NaiveDate> {
    dated.iter().filter(|item| counts(item.unit_id)).map(|item| item.at).min().map(vietnam_date)
}

/// The day every active official of the unit had done its part (`done` answers when it was), or
/// `None` while one has not, or while the unit has no active official.
fn all_done(desks: &[&Desk], done: impl Fn(&Desk) -> Option<DateTime<Utc>>) -> Option<NaiveDate> {
    let active: Vec<&&Desk> = desks.iter().filter(|desk| desk.active).collect();
    if active.is_empty() {
        return None;
    }
    active.into_iter().map(|desk| done(desk)).collect::<Option<Vec<_>>>()?.into_iter().max().map(vietnam_date)
}

/// Each row unit's standing on each milestone of `directive`, judged `today`.
pub async fn compliance(
    db: &impl ConnectionTrait,
    root_id: Uuid,
    directive: &Directive,
    today: NaiveDate,
) -> Result<Vec<ComplianceRow>, StoreError> {
    let rows = RowUnits::load(db, root_id).await?;
    let root = crate::units::path_of(db, root_id).await?;
    let evidence = Evidence::gather(db, &Scope::Subtree(root)).await?;
    let path_of: HashMap<Uuid, &UnitPath> = rows.units.iter().map(|unit| (unit.id, &unit.path)).collect();
    let mut found = Vec::new();
    for row in &rows.rows {
        let within = |unit_id: Uuid| path_of.get(&unit_id).is_some_and(|path| path.is_within(&row.path));
        // A roster or a snapshot of a unit above also covers this one.
        let covering = |unit_id: Uuid| within(unit_id) || row.path.ids().any(|above| above == unit_id);
        let desks: Vec<&Desk> = evidence.desks.iter().filter(|desk| within(desk.unit_id)).collect();
        let with_account: Vec<&Desk> = desks
            .iter()
            .copied()
            .filter(|desk| {
                PortalAccount::parse(&desk.portal_account).is_some_and(|status| status != PortalAccount::None)
            })
            .collect();
        for milestone in &directive.milestones {
            let done_on = match milestone.key {
                MilestoneKey::OfficialPortalAccounts => all_done(&desks, |desk| {
                    let opened = PortalAccount::parse(&desk.portal_account).is_some_and(|s| s != PortalAccount::None);
                    opened.then(|| desk.portal_account_at.unwrap_or(desk.created_at))
                }),
                MilestoneKey::RostersSubmitted => first_day(&evidence.rosters, covering),
                MilestoneKey::GrantsCompleted => all_done(&with_account, |desk| {
                    let grants = evidence.grants.get(&desk.id)?;
                    grant_for_recording(grants, Utc::now()).ok()?;
                    grants.iter().map(|grant| grant.created_at).min()
                }),
                MilestoneKey::AssistedRegistrationStart => first_day(&evidence.records, within),
                MilestoneKey::MonthlyReport => first_day(&evidence.snapshots, covering),
            };
            found.push(ComplianceRow {
                unit: row.clone(),
                key: milestone.key,
                due_on: milestone.due_on,
                done_on,
                status: MilestoneStatus::of(milestone.due_on, done_on, today),
            });
        }
    }
    Ok(found)
}
