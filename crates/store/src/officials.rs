//! Officials at the one-stop desks. Their ID and phone numbers are sealed here and nowhere else.

use std::collections::{BTreeMap, HashMap};

use dvc_domain::text::fold;
use dvc_domain::{
    Email, IdNumber, NewOfficial, Official, OfficialChanges, PersonName, PhoneNumber, PortalAccount, Scope, UnitPath,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, TryIntoModel};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::official::{self, Column, Entity};
use crate::page::{self, KeyOrder};
use crate::units::unit_ids_in;
use crate::{Actor, Page, PageRequest, PiiKey, StoreError};
use crate::{standing, versioned};

const ENTITY: &str = "official";

fn to_domain(pii: &PiiKey, model: official::Model) -> Result<Official, StoreError> {
    Ok(Official {
        id: model.id,
        full_name: PersonName::parse(&model.full_name)?,
        unit_id: model.unit_id,
        id_number: IdNumber::parse(&pii.open(&model.id_number_sealed)?)?,
        phone: PhoneNumber::parse(&pii.open(&model.phone_sealed)?)?,
        email: model.email.as_deref().map(Email::parse).transpose()?,
        position: model.position,
        portal_account: PortalAccount::parse(&model.portal_account)
            .ok_or_else(|| StoreError::Corrupt(format!("portal account status {}", model.portal_account)))?,
        portal_account_at: model.portal_account_at,
        active: model.active,
        deactivated_at: model.deactivated_at,
        deactivation_reason: model.deactivation_reason,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

/// The audit trail's picture of an official, personal numbers masked.
fn snapshot(official: &Official) -> Value {
    json!({
        "full_name": official.full_name.as_str(),
        "unit_id": official.unit_id,
        "id_number": official.id_number.masked(),
        "phone": official.phone.masked(),
        "email": official.email.as_ref().map(Email::as_str),
        "position": official.position,
        "portal_account": official.portal_account.as_str(),
        "portal_account_at": official.portal_account_at,
        "active": official.active,
        "deactivation_reason": official.deactivation_reason,
    })
}

pub async fn get(db: &impl ConnectionTrait, pii: &PiiKey, id: Uuid) -> Result<Official, StoreError> {
    to_domain(pii, Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

/// The active official holding `id_number`, if any.
pub async fn find_active_by_id_number(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    id_number: &IdNumber,
) -> Result<Option<Official>, StoreError> {
    let found = Entity::find()
        .filter(Column::IdNumberHash.eq(pii.fingerprint(id_number.as_str())))
        .filter(Column::Active.eq(true))
        .one(db)
        .await?;
    found.map(|model| to_domain(pii, model)).transpose()
}

/// Which officials to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct OfficialFilter {
    /// Officials of this subtree (a unit the caller may see).
    pub within: Option<Scope>,
    /// Matches names ignoring case, diacritics and đ/d.
    pub q: Option<String>,
    pub active: Option<bool>,
    pub portal_account: Option<PortalAccount>,
}

/// Lists officials in `scope` in roster order: by given name, then the rest of the name, under
/// Vietnamese collation (the order of the stored sort key).
pub async fn list(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    scope: &Scope,
    filter: &OfficialFilter,
    request: PageRequest,
) -> Result<Page<Official>, StoreError> {
    let mut select = Entity::find();
    for subtree in [Some(scope), filter.within.as_ref()].into_iter().flatten() {
        if let Scope::Subtree(_) = subtree {
            select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(subtree)));
        }
    }
    if let Some(q) = &filter.q {
        select = select.filter(crate::search::name_contains::<Entity>(
            db.get_database_backend(),
            Column::Id,
            Column::NameFolded,
            q,
        ));
    }
    if let Some(active) = filter.active {
        select = select.filter(Column::Active.eq(active));
    }
    if let Some(status) = filter.portal_account {
        select = select.filter(Column::PortalAccount.eq(status.as_str()));
    }
    let order = KeyOrder {
        key_column: Column::SortKey,
        key_of: |model: &official::Model| model.sort_key.clone(),
        id_column: Column::Id,
        id_of: |model: &official::Model| model.id,
    };
    page::fetch_by_key(db, select, order, request).await?.try_map(|model| to_domain(pii, model))
}

/// Refuses a second active official with the same ID number, naming the first.
async fn check_id_number_free(db: &impl ConnectionTrait, hash: &str, except: Option<Uuid>) -> Result<(), StoreError> {
    let holder = Entity::find().filter(Column::IdNumberHash.eq(hash)).filter(Column::Active.eq(true)).one(db).await?;
    match holder {
        Some(holder) if Some(holder.id) != except => {
            Err(StoreError::conflict("an active official has this ID number", Some(holder.id)))
        }
        _ => Ok(()),
    }
}

/// The row of a new active official, its numbers sealed; `id_number_hash` is its ID number's fingerprint.
pub(crate) fn new_model(
    pii: &PiiKey,
    id: Uuid,
    id_number_hash: String,
    new: NewOfficial,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<official::ActiveModel, StoreError> {
    Ok(official::ActiveModel {
        id: Set(id),
        full_name: Set(new.full_name.as_str().to_owned()),
        name_folded: Set(fold(new.full_name.as_str())),
        sort_key: Set(new.full_name.sort_key()),
        unit_id: Set(new.unit_id),
        id_number_sealed: Set(pii.seal(new.id_number.as_str())?),
        id_number_hash: Set(id_number_hash),
        phone_sealed: Set(pii.seal(new.phone.as_str())?),
        email: Set(new.email.as_ref().map(|email| email.as_str().to_owned())),
        position: Set(new.position),
        portal_account: Set(new.portal_account.as_str().to_owned()),
        portal_account_at: Set(new.portal_account_at),
        active: Set(true),
        deactivated_at: Set(None),
        deactivation_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

pub async fn create(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    new: NewOfficial,
) -> Result<Official, StoreError> {
    let unit = crate::units::path_of(db, new.unit_id).await?;
    create_at(db, pii, actor, new, &unit).await
}

/// [`create`], for a caller that has read the path of the official's unit in this transaction
/// (to check its scope): the standing is filed under the units on it without reading it again.
pub async fn create_at(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    new: NewOfficial,
    unit: &UnitPath,
) -> Result<Official, StoreError> {
    if unit.ids().last() != Some(new.unit_id) {
        return Err(StoreError::Corrupt(format!("{} is not the path of unit {}", unit.as_str(), new.unit_id)));
    }
    let id_number_hash = pii.fingerprint(new.id_number.as_str());
    let row = new_model(pii, Uuid::now_v7(), id_number_hash.clone(), new, crate::now())?;
    // One statement, the row kept as written rather than read back: the unique index of active
    // officials' ID numbers turns a duplicate away, and only then is its holder looked up.
    let active_id_number =
        OnConflict::column(Column::IdNumberHash).target_and_where(Expr::col(Column::Active)).do_nothing().to_owned();
    let inserted = Entity::insert(row.clone()).on_conflict(active_id_number).exec_without_returning(db).await?;
    if inserted == 0 {
        check_id_number_free(db, &id_number_hash, None).await?;
        return Err(StoreError::conflict("an active official has this ID number", None));
    }
    let model = row.try_into_model()?;
    let official = to_domain(pii, model.clone())?;
    let change = Change::created("official.create", ENTITY, official.id, snapshot(&official)).in_unit(official.unit_id);
    audit::record(db, actor, change).await?;
    standing::add_recorded(db, &model, unit).await?;
    Ok(official)
}

pub async fn update(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    changes: OfficialChanges,
) -> Result<Official, StoreError> {
    let before = get(db, pii, id).await?;
    versioned::expect(before.version, expected_version)?;
    let mut update = Entity::update_many();
    if let Some(name) = &changes.full_name {
        update = update
            .col_expr(Column::FullName, Expr::value(name.as_str()))
            .col_expr(Column::NameFolded, Expr::value(fold(name.as_str())))
            .col_expr(Column::SortKey, Expr::value(name.sort_key()));
    }
    if let Some(unit_id) = changes.unit_id {
        update = update.col_expr(Column::UnitId, Expr::value(unit_id));
    }
    if let Some(id_number) = &changes.id_number {
        let hash = pii.fingerprint(id_number.as_str());
        if before.active {
            check_id_number_free(db, &hash, Some(id)).await?;
        }
        update = update
            .col_expr(Column::IdNumberSealed, Expr::value(pii.seal(id_number.as_str())?))
            .col_expr(Column::IdNumberHash, Expr::value(hash));
    }
    if let Some(phone) = &changes.phone {
        update = update.col_expr(Column::PhoneSealed, Expr::value(pii.seal(phone.as_str())?));
    }
    if let Some(email) = &changes.email {
        update = update.col_expr(Column::Email, Expr::value(email.as_ref().map(|email| email.as_str().to_owned())));
    }
    if let Some(position) = &changes.position {
        update = update.col_expr(Column::Position, Expr::value(position.clone()));
    }
    if let Some(status) = changes.portal_account {
        update = update.col_expr(Column::PortalAccount, Expr::value(status.as_str()));
    }
    if let Some(at) = changes.portal_account_at {
        update = update.col_expr(Column::PortalAccountAt, Expr::value(at));
    }
    finish_update(db, pii, actor, update, before, "official.update").await
}

/// Moves officials to other units (pairs of official and unit), each move a versioned, audited
/// change as [`update`] makes it, in a few statements for all of them: a reorganisation moves tens
/// of thousands at once.
pub async fn move_to_units(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    moves: &[(Uuid, Uuid)],
) -> Result<(), StoreError> {
    let targets: HashMap<Uuid, Uuid> = moves.iter().copied().collect();
    let ids: Vec<Uuid> = targets.keys().copied().collect();
    let standing = standing::before(db, ids.clone()).await?;
    let mut befores = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(crate::INSERT_CHUNK) {
        befores.extend(Entity::find().filter(Column::Id.is_in(chunk.iter().copied())).all(db).await?);
    }
    let mut by_target: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (official, target) in &targets {
        by_target.entry(*target).or_default().push(*official);
    }
    for (target, officials) in by_target {
        for chunk in officials.chunks(crate::INSERT_CHUNK) {
            versioned::bump(Entity::update_many())
                .col_expr(Column::UnitId, Expr::value(target))
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .exec(db)
                .await?;
        }
    }
    let changes = befores
        .into_iter()
        .map(|model| {
            let before = to_domain(pii, model)?;
            let after = Official { unit_id: targets[&before.id], ..before.clone() };
            let change = Change::update("official.update", ENTITY, before.id, snapshot(&before), snapshot(&after));
            Ok(change.in_unit(after.unit_id))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    audit::record_many(db, actor, changes).await?;
    standing::settle(db, standing).await
}

/// Deactivates an official with a reason, ending its grants; the record stays, as history.
pub async fn deactivate(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    reason: String,
) -> Result<Official, StoreError> {
    let before = get(db, pii, id).await?;
    versioned::expect(before.version, expected_version)?;
    if !before.active {
        return Err(StoreError::conflict("the official is already inactive", Some(id)));
    }
    let now = crate::now();
    let update = Entity::update_many()
        .col_expr(Column::Active, Expr::value(false))
        .col_expr(Column::DeactivatedAt, Expr::value(now))
        .col_expr(Column::DeactivationReason, Expr::value(reason));
    let official = finish_update(db, pii, actor, update, before, "official.deactivate").await?;
    // An official who leaves the desk no longer creates citizen accounts.
    crate::grants::revoke_all_of(db, actor, id, "the official was deactivated").await?;
    Ok(official)
}

/// Applies a versioned update to the official `before` pictures, and records it.
async fn finish_update(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    update: sea_orm::UpdateMany<Entity>,
    before: Official,
    action: &str,
) -> Result<Official, StoreError> {
    let standing = standing::before(db, vec![before.id]).await?;
    versioned::apply(db, update, before.id, before.version).await?;
    let after = get(db, pii, before.id).await?;
    let change = Change::update(action, ENTITY, before.id, snapshot(&before), snapshot(&after)).in_unit(after.unit_id);
    audit::record(db, actor, change).await?;
    standing::settle(db, standing).await?;
    Ok(after)
}
