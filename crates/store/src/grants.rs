//! Permission grants. Never deleted: a grant ends by its period or by a revocation with a reason.

use chrono::NaiveDate;
use dvc_domain::grant::may_be_granted;
use dvc_domain::{
    Grant, GrantFunction, GrantPeriod, NewGrant, RosterGrants, RosterStatus, Scope, SkipReason, SkippedRow,
};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::grant::{self, Column, Entity};
use crate::entity::official;
use crate::pii::PiiKey;
use crate::units::unit_ids_in;
use crate::{Actor, Page, PageRequest, StoreError, officials, page, rosters};
use crate::{standing, versioned};

const ENTITY: &str = "grant";

pub(crate) fn to_domain(model: grant::Model) -> Result<Grant, StoreError> {
    Ok(Grant {
        id: model.id,
        official_id: model.official_id,
        function: GrantFunction::parse(&model.function)
            .ok_or_else(|| StoreError::Corrupt(format!("grant function {}", model.function)))?,
        basis: model.basis,
        period: GrantPeriod::new(model.valid_from, model.valid_until)?,
        granted_by: model.granted_by,
        revoked_at: model.revoked_at,
        revoke_reason: model.revoke_reason,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

fn snapshot(grant: &Grant) -> Value {
    json!({
        "official_id": grant.official_id,
        "function": grant.function.as_str(),
        "basis": grant.basis,
        "valid_from": grant.period.from(),
        "valid_until": grant.period.until(),
        "revoked_at": grant.revoked_at,
        "revoke_reason": grant.revoke_reason,
    })
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Grant, StoreError> {
    to_domain(Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

/// Every grant an official ever held, oldest first.
pub async fn of_official(db: &impl ConnectionTrait, official_id: Uuid) -> Result<Vec<Grant>, StoreError> {
    Entity::find()
        .filter(Column::OfficialId.eq(official_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Every grant of the officials of `scope`, by official, oldest first.
pub async fn by_official_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<std::collections::HashMap<Uuid, Vec<Grant>>, StoreError> {
    let mut select = Entity::find().order_by_asc(Column::Id);
    if let Scope::Subtree(_) = scope {
        select = select.filter(Expr::col(Column::OfficialId).in_subquery(officials_in(scope)));
    }
    let mut by_official: std::collections::HashMap<Uuid, Vec<Grant>> = std::collections::HashMap::new();
    for model in select.all(db).await? {
        let grant = to_domain(model)?;
        by_official.entry(grant.official_id).or_default().push(grant);
    }
    Ok(by_official)
}

/// The ids of the officials whose unit lies in `scope`, as a subquery.
fn officials_in(scope: &Scope) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(official::Column::Id)
        .from(official::Entity)
        .and_where(Expr::col(official::Column::UnitId).in_subquery(unit_ids_in(scope)))
        .to_owned()
}

/// Which grants to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    pub official_id: Option<Uuid>,
    /// Only grants in force (`true`) or not (`false`) on this day in Vietnam.
    pub active_on: Option<(bool, NaiveDate)>,
}

/// The condition "in force on `day`": not revoked, and `day` within the period.
fn in_force_on(day: NaiveDate) -> Condition {
    Condition::all()
        .add(Column::RevokedAt.is_null())
        .add(Column::ValidFrom.lte(day))
        .add(Condition::any().add(Column::ValidUntil.is_null()).add(Column::ValidUntil.gte(day)))
}

/// Lists the grants of officials whose unit lies in `scope`.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &GrantFilter,
    request: PageRequest,
) -> Result<Page<Grant>, StoreError> {
    let mut select = Entity::find();
    if let Scope::Subtree(_) = scope {
        select = select.filter(Expr::col(Column::OfficialId).in_subquery(officials_in(scope)));
    }
    if let Some(official_id) = filter.official_id {
        select = select.filter(Column::OfficialId.eq(official_id));
    }
    if let Some((active, day)) = filter.active_on {
        let condition = in_force_on(day);
        select = select.filter(if active { condition } else { condition.not() });
    }
    page::fetch(db, select, Column::Id, |grant| grant.id, request).await?.try_map(to_domain)
}

/// The row of a new grant, made by `actor`.
pub(crate) fn new_model(
    id: Uuid,
    new: NewGrant,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> grant::ActiveModel {
    grant::ActiveModel {
        id: Set(id),
        official_id: Set(new.official_id),
        function: Set(new.function.as_str().to_owned()),
        basis: Set(new.basis),
        valid_from: Set(new.period.from()),
        valid_until: Set(new.period.until()),
        granted_by: Set(actor.id),
        revoked_at: Set(None),
        revoked_by: Set(None),
        revoke_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Grants a function; refused (409, naming it) while an unrevoked grant of the same function covers
/// any of the same days.
pub async fn create(db: &impl ConnectionTrait, actor: &Actor, new: NewGrant) -> Result<Grant, StoreError> {
    let clash = of_official(db, new.official_id).await?.into_iter().find(|grant| {
        grant.function == new.function && grant.revoked_at.is_none() && grant.period.overlaps(&new.period)
    });
    if let Some(grant) = clash {
        return Err(StoreError::conflict("the official already holds this function for these days", Some(grant.id)));
    }
    let standing = standing::before(db, vec![new.official_id]).await?;
    let model = new_model(Uuid::now_v7(), new, actor, crate::now()).insert(db).await?;
    let grant = to_domain(model)?;
    let change = Change::created("grant.create", ENTITY, grant.id, snapshot(&grant))
        .in_unit(unit_of_official(db, grant.official_id).await?);
    audit::record(db, actor, change).await?;
    standing::settle(db, standing).await?;
    Ok(grant)
}

/// Grants the function to the official of every valid row of an accepted roster, for `period` on
/// `basis`, and lists the rows skipped with the reason. A roster that is not accepted is a conflict.
pub async fn grant_roster(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    roster_id: Uuid,
    basis: String,
    period: GrantPeriod,
) -> Result<RosterGrants, StoreError> {
    let roster = rosters::get(db, pii, roster_id).await?;
    if roster.status != RosterStatus::Accepted {
        let detail = format!("the roster is {}, not accepted", roster.status.as_str());
        return Err(StoreError::conflict(detail, Some(roster.id)));
    }
    let mut result = RosterGrants::default();
    for entry in roster.entries.unwrap_or_default() {
        let skip = |official_id, reason| SkippedRow { row: entry.row, official_id, reason };
        let Some(valid) = entry.valid() else { continue };
        let Some(official) = officials::find_active_by_id_number(db, pii, &valid.id_number).await? else {
            result.skipped.push(skip(None, SkipReason::OfficialNotFound));
            continue;
        };
        if let Err(refused) = may_be_granted(&official) {
            result.skipped.push(skip(Some(official.id), SkipReason::Refused(refused)));
            continue;
        }
        let new = NewGrant {
            official_id: official.id,
            function: GrantFunction::CreateCitizenAccount,
            basis: basis.clone(),
            period,
        };
        match create(db, actor, new).await {
            Ok(grant) => result.granted.push(grant),
            Err(StoreError::Conflict { .. }) => {
                result.skipped.push(skip(Some(official.id), SkipReason::AlreadyGranted))
            }
            Err(other) => return Err(other),
        }
    }
    Ok(result)
}

/// Revokes a grant with a reason, from now on.
pub async fn revoke(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    reason: &str,
) -> Result<Grant, StoreError> {
    let before = get(db, id).await?;
    versioned::expect(before.version, expected_version)?;
    if before.revoked_at.is_some() {
        return Err(StoreError::conflict("the grant is already revoked", Some(id)));
    }
    let now = crate::now();
    let update = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::RevokedBy, Expr::value(actor.id))
        .col_expr(Column::RevokeReason, Expr::value(reason));
    let standing = standing::before(db, vec![before.official_id]).await?;
    versioned::apply(db, update, id, before.version).await?;
    let after = get(db, id).await?;
    let change = Change::update("grant.revoke", ENTITY, id, snapshot(&before), snapshot(&after))
        .in_unit(unit_of_official(db, after.official_id).await?);
    audit::record(db, actor, change).await?;
    standing::settle(db, standing).await?;
    Ok(after)
}

/// The unit a grant belongs to: its official's.
async fn unit_of_official(db: &impl ConnectionTrait, official_id: Uuid) -> Result<Uuid, StoreError> {
    let official = official::Entity::find_by_id(official_id).one(db).await?.ok_or(StoreError::NotFound)?;
    Ok(official.unit_id)
}

/// Revokes every unrevoked grant of an official (when it is deactivated), with `reason`.
pub async fn revoke_all_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    official_id: Uuid,
    reason: &str,
) -> Result<usize, StoreError> {
    let open: Vec<Grant> =
        of_official(db, official_id).await?.into_iter().filter(|grant| grant.revoked_at.is_none()).collect();
    for grant in &open {
        revoke(db, actor, grant.id, None, reason).await?;
    }
    Ok(open.len())
}
