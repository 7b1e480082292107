//! Frozen monthly reports. Written once, never updated: a correction is a new snapshot that names
//! the one it amends.

use dvc_domain::report::{NewReportSnapshot, ReportSnapshot};
use dvc_domain::{Period, Scope};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::report_snapshot::{self, Column, Entity};
use crate::error::Subject;
use crate::units::unit_ids_in;
use crate::{Actor, Page, PageRequest, StoreError, page};

const ENTITY: &str = "report_snapshot";

fn to_domain(model: report_snapshot::Model) -> Result<ReportSnapshot, StoreError> {
    Ok(ReportSnapshot {
        id: model.id,
        period: Period::parse(&model.period)?,
        unit_id: model.unit_id,
        depth: u8::try_from(model.depth).map_err(|_| StoreError::Corrupt(format!("snapshot depth {}", model.depth)))?,
        created_at: model.created_at,
        created_by: model.created_by,
        sha256: model.sha256,
        amends: model.amends,
        report: model.report,
    })
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<ReportSnapshot, StoreError> {
    to_domain(Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

/// Freezes a report. A snapshot that amends another must correct the same unit and month.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewReportSnapshot,
) -> Result<ReportSnapshot, StoreError> {
    if let Some(amended) = new.amends {
        let fits = Entity::find_by_id(amended)
            .one(db)
            .await?
            .is_some_and(|old| old.unit_id == new.unit_id && old.period == new.period.to_string());
        if !fits {
            return Err(StoreError::invalid(
                Subject::AmendedSnapshot,
                "unknown_snapshot",
                "a correction amends a snapshot of the same unit and month",
            ));
        }
    }
    let model = report_snapshot::ActiveModel {
        id: Set(Uuid::now_v7()),
        period: Set(new.period.to_string()),
        unit_id: Set(new.unit_id),
        depth: Set(i16::from(new.depth)),
        created_at: Set(crate::now()),
        created_by: Set(actor.id),
        sha256: Set(new.sha256),
        amends: Set(new.amends),
        report: Set(new.report),
    }
    .insert(db)
    .await?;
    let snapshot = to_domain(model)?;
    let after = json!({
        "period": snapshot.period.to_string(),
        "unit_id": snapshot.unit_id,
        "sha256": snapshot.sha256,
        "amends": snapshot.amends,
    });
    let change = Change::created("report_snapshot.create", ENTITY, snapshot.id, after).in_unit(snapshot.unit_id);
    audit::record(db, actor, change).await?;
    Ok(snapshot)
}

/// Which snapshots to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct SnapshotFilter {
    pub period: Option<Period>,
    pub unit_id: Option<Uuid>,
}

/// Lists the snapshots of units in `scope`, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &SnapshotFilter,
    request: PageRequest,
) -> Result<Page<ReportSnapshot>, StoreError> {
    let mut select = Entity::find();
    if let Scope::Subtree(_) = scope {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(scope)));
    }
    if let Some(period) = filter.period {
        select = select.filter(Column::Period.eq(period.to_string()));
    }
    if let Some(unit_id) = filter.unit_id {
        select = select.filter(Column::UnitId.eq(unit_id));
    }
    page::fetch(db, select, Column::Id, |snapshot| snapshot.id, request).await?.try_map(to_domain)
}
