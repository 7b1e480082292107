//! Rosters and their rows. Accepting a roster records its officials in the same transaction.

use dvc_domain::roster::unit_match_key;
use dvc_domain::{
    NameMatch, NewOfficial, OfficialChanges, PortalAccount, Roster, RosterEntry, RosterSource, RosterStatus,
    RosterUnits, RowError, Scope,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::roster::{self, Column, Entity};
use crate::entity::{roster_entry, unit};
use crate::error::Subject;
use crate::units::{subtree_condition, unit_ids_in};
use crate::versioned;
use crate::{Actor, Page, PageRequest, PiiKey, StoreError, officials, page, units};

const ENTITY: &str = "roster";
fn to_domain(model: roster::Model, entries: Option<Vec<RosterEntry>>) -> Result<Roster, StoreError> {
    Ok(Roster {
        id: model.id,
        unit_id: model.unit_id,
        status: RosterStatus::parse(&model.status)
            .ok_or_else(|| StoreError::Corrupt(format!("roster status {}", model.status)))?,
        source: RosterSource::parse(&model.source)
            .ok_or_else(|| StoreError::Corrupt(format!("roster source {}", model.source)))?,
        entry_count: model.entry_count,
        error_count: model.error_count,
        submitted_at: model.submitted_at,
        decided_at: model.decided_at,
        return_reason: model.return_reason,
        entries,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

fn snapshot(roster: &Roster) -> Value {
    json!({
        "unit_id": roster.unit_id,
        "status": roster.status.as_str(),
        "source": roster.source.as_str(),
        "entry_count": roster.entry_count,
        "error_count": roster.error_count,
        "return_reason": roster.return_reason,
    })
}

fn entry_to_domain(pii: &PiiKey, model: roster_entry::Model) -> Result<RosterEntry, StoreError> {
    let errors = model
        .errors
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| RowError {
                    column: error["column"].as_str().unwrap_or_default().to_owned(),
                    code: error["code"].as_str().unwrap_or_default().to_owned(),
                    detail: error["detail"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RosterEntry {
        row: u32::try_from(model.row).unwrap_or_default(),
        full_name: model.full_name,
        unit_id: model.unit_id,
        unit_name: model.unit_name,
        id_number: pii.open(&model.id_number_sealed)?,
        phone: pii.open(&model.phone_sealed)?,
        errors,
    })
}

/// The units a roster of `unit_id` may name: that unit and everything below it. The providing unit
/// is checked to lie in the caller's scope first, so this is within the caller's scope too.
pub async fn units_for(db: &impl ConnectionTrait, unit_id: Uuid) -> Result<RosterUnits, StoreError> {
    let root = units::path_of(db, unit_id).await?;
    let subtree =
        unit::Entity::find().filter(subtree_condition(unit::Column::Path, &Scope::Subtree(root))).all(db).await?;
    Ok(RosterUnits::new(subtree.into_iter().map(|unit| (unit.id, unit.name))))
}

/// The unit a roster form's heading names (`Đơn vị cung cấp: UBND huyện An Lão`), among every unit
/// of `scope` that could answer to it: the importer's scope decides which of the country's namesakes
/// is meant, and a heading that still fits several is [`NameMatch::Ambiguous`].
pub async fn provider_named(db: &impl ConnectionTrait, scope: &Scope, heading: &str) -> Result<NameMatch, StoreError> {
    let key = unit_match_key(heading);
    if key.is_empty() {
        return Ok(NameMatch::None);
    }
    let candidates = unit::Entity::find()
        .filter(subtree_condition(unit::Column::Path, scope))
        .filter(unit::Column::NameFolded.contains(key))
        .all(db)
        .await?;
    Ok(RosterUnits::new(candidates.into_iter().map(|unit| (unit.id, unit.name))).find(heading))
}

/// A roster about to be stored, its rows already checked.
#[derive(Debug)]
pub struct NewRoster {
    pub unit_id: Uuid,
    pub source: RosterSource,
    pub entries: Vec<RosterEntry>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    new: NewRoster,
) -> Result<Roster, StoreError> {
    let id = Uuid::now_v7();
    let now = crate::now();
    let error_count = new.entries.iter().filter(|entry| !entry.errors.is_empty()).count();
    let model = roster::ActiveModel {
        id: Set(id),
        unit_id: Set(new.unit_id),
        status: Set(RosterStatus::Draft.as_str().to_owned()),
        source: Set(new.source.as_str().to_owned()),
        entry_count: Set(i32::try_from(new.entries.len()).unwrap_or(i32::MAX)),
        error_count: Set(i32::try_from(error_count).unwrap_or(i32::MAX)),
        submitted_at: Set(None),
        submitted_by: Set(None),
        decided_at: Set(None),
        decided_by: Set(None),
        return_reason: Set(None),
        created_by: Set(actor.id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    insert_entries(db, pii, id, &new.entries).await?;
    let roster = to_domain(model, Some(new.entries))?;
    let change = Change::created("roster.create", ENTITY, id, snapshot(&roster)).in_unit(roster.unit_id);
    audit::record(db, actor, change).await?;
    Ok(roster)
}

async fn insert_entries(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    roster_id: Uuid,
    entries: &[RosterEntry],
) -> Result<(), StoreError> {
    for chunk in entries.chunks(crate::INSERT_CHUNK) {
        let models = chunk
            .iter()
            .map(|entry| {
                let errors: Vec<Value> = entry
                    .errors
                    .iter()
                    .map(|error| json!({ "column": error.column, "code": error.code, "detail": error.detail }))
                    .collect();
                Ok(roster_entry::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    roster_id: Set(roster_id),
                    row: Set(i32::try_from(entry.row).unwrap_or(i32::MAX)),
                    full_name: Set(entry.full_name.clone()),
                    unit_id: Set(entry.unit_id),
                    unit_name: Set(entry.unit_name.clone()),
                    id_number_sealed: Set(pii.seal(&entry.id_number)?),
                    phone_sealed: Set(pii.seal(&entry.phone)?),
                    errors: Set(Value::Array(errors)),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        roster_entry::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(())
}

/// A roster without its rows.
pub async fn summary(db: &impl ConnectionTrait, id: Uuid) -> Result<Roster, StoreError> {
    to_domain(Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?, None)
}

/// A roster with its rows in row order.
pub async fn get(db: &impl ConnectionTrait, pii: &PiiKey, id: Uuid) -> Result<Roster, StoreError> {
    let model = Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?;
    let entries = roster_entry::Entity::find()
        .filter(roster_entry::Column::RosterId.eq(id))
        .order_by_asc(roster_entry::Column::Row)
        .order_by_asc(roster_entry::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|entry| entry_to_domain(pii, entry))
        .collect::<Result<Vec<_>, _>>()?;
    to_domain(model, Some(entries))
}

/// Which rosters to list.
#[derive(Debug, Clone, Default)]
pub struct RosterFilter {
    pub unit_id: Option<Uuid>,
    pub status: Option<RosterStatus>,
}

/// Lists the rosters of units in `scope`, newest last, without their rows.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &RosterFilter,
    request: PageRequest,
) -> Result<Page<Roster>, StoreError> {
    let mut select = Entity::find();
    if let Scope::Subtree(_) = scope {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(scope)));
    }
    if let Some(unit_id) = filter.unit_id {
        select = select.filter(Column::UnitId.eq(unit_id));
    }
    if let Some(status) = filter.status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    page::fetch(db, select, Column::Id, |roster| roster.id, request).await?.try_map(|model| to_domain(model, None))
}

/// Applies a versioned change to the roster `before` pictures, and records it.
async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    before: Roster,
    update: sea_orm::UpdateMany<Entity>,
    action: &str,
) -> Result<Roster, StoreError> {
    versioned::apply(db, update, before.id, before.version).await?;
    let after = summary(db, before.id).await?;
    let change = Change::update(action, ENTITY, before.id, snapshot(&before), snapshot(&after)).in_unit(after.unit_id);
    audit::record(db, actor, change).await?;
    Ok(after)
}

/// A transition the roster's current status does not allow: 409 naming that status and what the
/// transition needs, with no `existing_id` (the roster in the way is the one addressed).
fn wrong_state(roster: &Roster, needed: &str) -> StoreError {
    StoreError::conflict(format!("the roster is {}; {needed}", roster.status.as_str()), None)
}

const NEEDS_DRAFT: &str = "only a draft or returned roster can be changed, submitted or discarded";
const NEEDS_SUBMITTED: &str = "only a submitted roster can be accepted or returned";

/// Replaces the rows of a draft or returned roster (a correction before it is submitted again).
pub async fn replace_entries(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
    entries: Vec<RosterEntry>,
) -> Result<Roster, StoreError> {
    let before = summary(db, id).await?;
    versioned::expect(before.version, expected)?;
    if !before.status.may_submit() {
        return Err(wrong_state(&before, NEEDS_DRAFT));
    }
    roster_entry::Entity::delete_many().filter(roster_entry::Column::RosterId.eq(id)).exec(db).await?;
    insert_entries(db, pii, id, &entries).await?;
    let error_count = entries.iter().filter(|entry| !entry.errors.is_empty()).count();
    let update = Entity::update_many()
        .col_expr(Column::EntryCount, Expr::value(i32::try_from(entries.len()).unwrap_or(i32::MAX)))
        .col_expr(Column::ErrorCount, Expr::value(i32::try_from(error_count).unwrap_or(i32::MAX)));
    let after = transition(db, actor, before, update, "roster.update").await?;
    Ok(Roster { entries: Some(entries), ..after })
}

/// Discards a draft or returned roster with its rows: the district will not send it. The audit
/// trail keeps how it looked.
pub async fn discard(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), StoreError> {
    let before = summary(db, id).await?;
    versioned::expect(before.version, expected)?;
    if !before.status.may_submit() {
        return Err(wrong_state(&before, NEEDS_DRAFT));
    }
    roster_entry::Entity::delete_many().filter(roster_entry::Column::RosterId.eq(id)).exec(db).await?;
    let deleted =
        Entity::delete_many().filter(Column::Id.eq(id)).filter(Column::Version.eq(before.version)).exec(db).await?;
    if deleted.rows_affected != 1 {
        return Err(StoreError::VersionMismatch);
    }
    let change = Change::deleted("roster.discard", ENTITY, id, snapshot(&before)).in_unit(before.unit_id);
    audit::record(db, actor, change).await
}

/// Submits a draft or returned roster; one with row errors cannot be submitted.
pub async fn submit(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<Roster, StoreError> {
    let before = summary(db, id).await?;
    versioned::expect(before.version, expected)?;
    if !before.status.may_submit() {
        return Err(wrong_state(&before, NEEDS_DRAFT));
    }
    if before.error_count > 0 {
        return Err(StoreError::invalid(
            Subject::RosterEntries,
            "roster_has_errors",
            "correct the rows with errors before submitting",
        ));
    }
    let update = Entity::update_many()
        .col_expr(Column::Status, Expr::value(RosterStatus::Submitted.as_str()))
        .col_expr(Column::SubmittedAt, Expr::value(crate::now()))
        .col_expr(Column::SubmittedBy, Expr::value(actor.id))
        .col_expr(Column::ReturnReason, Expr::value(Option::<String>::None));
    transition(db, actor, before, update, "roster.submit").await
}

/// Returns a submitted roster to its district with a reason.
pub async fn return_roster(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
    reason: String,
) -> Result<Roster, StoreError> {
    let before = summary(db, id).await?;
    versioned::expect(before.version, expected)?;
    if !before.status.may_decide() {
        return Err(wrong_state(&before, NEEDS_SUBMITTED));
    }
    let update = Entity::update_many()
        .col_expr(Column::Status, Expr::value(RosterStatus::Returned.as_str()))
        .col_expr(Column::DecidedAt, Expr::value(crate::now()))
        .col_expr(Column::DecidedBy, Expr::value(actor.id))
        .col_expr(Column::ReturnReason, Expr::value(reason));
    transition(db, actor, before, update, "roster.return").await
}

/// What accepting a roster did to the officials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcceptSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Accepts a submitted roster: every row becomes an official (matched by ID number to an active
/// one, which takes the row's name, unit and phone, or else created), in this transaction.
pub async fn accept(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(Roster, AcceptSummary), StoreError> {
    let before = get(db, pii, id).await?;
    versioned::expect(before.version, expected)?;
    if !before.status.may_decide() {
        return Err(wrong_state(&before, NEEDS_SUBMITTED));
    }
    let mut summary = AcceptSummary::default();
    for entry in before.entries.iter().flatten() {
        let valid =
            entry.valid().ok_or_else(|| StoreError::Corrupt(format!("roster {id} row {} is invalid", entry.row)))?;
        match officials::find_active_by_id_number(db, pii, &valid.id_number).await? {
            Some(existing) => {
                let changes = OfficialChanges {
                    full_name: Some(valid.full_name.clone()).filter(|name| *name != existing.full_name),
                    unit_id: Some(valid.unit_id).filter(|unit_id| *unit_id != existing.unit_id),
                    phone: Some(valid.phone.clone()).filter(|phone| *phone != existing.phone),
                    ..OfficialChanges::default()
                };
                if changes.full_name.is_none() && changes.unit_id.is_none() && changes.phone.is_none() {
                    summary.unchanged += 1;
                } else {
                    officials::update(db, pii, actor, existing.id, None, changes).await?;
                    summary.updated += 1;
                }
            }
            None => {
                let new = NewOfficial {
                    full_name: valid.full_name,
                    unit_id: valid.unit_id,
                    id_number: valid.id_number,
                    phone: valid.phone,
                    email: None,
                    position: None,
                    portal_account: PortalAccount::None,
                    portal_account_at: None,
                };
                officials::create(db, pii, actor, new).await?;
                summary.created += 1;
            }
        }
    }
    let update = Entity::update_many()
        .col_expr(Column::Status, Expr::value(RosterStatus::Accepted.as_str()))
        .col_expr(Column::DecidedAt, Expr::value(crate::now()))
        .col_expr(Column::DecidedBy, Expr::value(actor.id));
    let after = transition(db, actor, Roster { entries: None, ..before }, update, "roster.accept").await?;
    Ok((after, summary))
}
