//! Users and service accounts.

use dvc_domain::{DisplayName, NewUser, Principal, Role, Scope, UnitPath, User, UserChanges, Username};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult,
    PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::unit;
use crate::entity::user::{self, Column, Entity};
use crate::units::unit_ids_in;
use crate::versioned;
use crate::{Actor, Page, PageRequest, StoreError, page, throttle};

const ENTITY: &str = "user";

fn to_domain(model: user::Model) -> Result<User, StoreError> {
    Ok(User {
        id: model.id,
        username: Username::parse(&model.username)?,
        display_name: DisplayName::parse(&model.display_name)?,
        role: Role::parse(&model.role).ok_or_else(|| StoreError::Corrupt(format!("user role {}", model.role)))?,
        unit_id: model.unit_id,
        official_id: model.official_id,
        active: model.active,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

fn snapshot(user: &User) -> Value {
    json!({
        "username": user.username.as_str(),
        "display_name": user.display_name.as_str(),
        "role": user.role.as_str(),
        "unit_id": user.unit_id,
        "official_id": user.official_id,
        "active": user.active,
    })
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<User, StoreError> {
    to_domain(Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(Entity::find().count(db).await?)
}

/// A user and its password hash, for checking a login.
pub async fn find_credentials(db: &impl ConnectionTrait, username: &str) -> Result<Option<(User, String)>, StoreError> {
    match Entity::find().filter(Column::Username.eq(username)).one(db).await? {
        Some(model) => {
            let hash = model.password_hash.clone();
            Ok(Some((to_domain(model)?, hash)))
        }
        None => Ok(None),
    }
}

#[derive(Debug, FromQueryResult)]
struct Identity {
    id: Uuid,
    username: String,
    role: String,
    unit_id: Option<Uuid>,
    official_id: Option<Uuid>,
    unit_path: Option<String>,
}

/// The principal behind a token: the user as it is now, or `None` when it is gone or deactivated,
/// so that a deactivated user's token stops working at once. One statement on every request: the
/// user's role and scope with its unit's path, and never its password hash.
pub(crate) async fn principal(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Option<Principal>, StoreError> {
    let select = Query::select()
        .columns([
            (user::Entity, Column::Id),
            (user::Entity, Column::Username),
            (user::Entity, Column::Role),
            (user::Entity, Column::UnitId),
            (user::Entity, Column::OfficialId),
        ])
        .expr_as(Expr::col((unit::Entity, unit::Column::Path)), Alias::new("unit_path"))
        .from(user::Entity)
        .left_join(unit::Entity, Expr::col((unit::Entity, unit::Column::Id)).equals((user::Entity, Column::UnitId)))
        .and_where(Expr::col((user::Entity, Column::Id)).eq(user_id))
        .and_where(Expr::col((user::Entity, Column::Active)).eq(true))
        .to_owned();
    let Some(identity) = Identity::find_by_statement(db.get_database_backend().build(&select)).one(db).await? else {
        return Ok(None);
    };
    let role =
        Role::parse(&identity.role).ok_or_else(|| StoreError::Corrupt(format!("user role {}", identity.role)))?;
    let scope = match identity.unit_path {
        _ if !role.needs_scope_unit() => Scope::All,
        Some(path) => Scope::Subtree(UnitPath::parse(&path)?),
        None => return Err(StoreError::Corrupt(format!("user {user_id} has no scope unit"))),
    };
    Ok(Some(Principal {
        user_id: identity.id,
        username: identity.username,
        role,
        unit_id: identity.unit_id,
        official_id: identity.official_id,
        scope,
    }))
}

/// Lists the users whose scope unit lies in `scope`.
pub async fn list(db: &impl ConnectionTrait, scope: &Scope, request: PageRequest) -> Result<Page<User>, StoreError> {
    let mut select = Entity::find();
    if let Scope::Subtree(_) = scope {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(scope)));
    }
    page::fetch(db, select, Column::Id, |user| user.id, request).await?.try_map(to_domain)
}

/// The path of a user's scope unit (`None` for an admin without one), for scope checks.
pub async fn unit_path_of(db: &impl ConnectionTrait, user: &User) -> Result<Option<UnitPath>, StoreError> {
    match user.unit_id {
        Some(unit_id) => Ok(Some(crate::units::path_of(db, unit_id).await?)),
        None => Ok(None),
    }
}

pub async fn create(db: &impl ConnectionTrait, actor: &Actor, new: NewUser) -> Result<User, StoreError> {
    if let Some(holder) = Entity::find().filter(Column::Username.eq(new.username.as_str())).one(db).await? {
        return Err(StoreError::conflict("the username is taken", Some(holder.id)));
    }
    let now = crate::now();
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(new.username.as_str().to_owned()),
        display_name: Set(new.display_name.as_str().to_owned()),
        role: Set(new.role.as_str().to_owned()),
        unit_id: Set(new.unit_id),
        official_id: Set(new.official_id),
        password_hash: Set(new.password_hash),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let user = to_domain(model)?;
    let change = Change::created("user.create", ENTITY, user.id, snapshot(&user));
    audit::record(db, actor, change).await?;
    Ok(user)
}

/// Applies `changes`; `action` names the change in the audit trail (`user.update`, `user.deactivate`).
pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    changes: UserChanges,
    action: &str,
) -> Result<User, StoreError> {
    let before = get(db, id).await?;
    versioned::expect(before.version, expected_version)?;
    let mut update = Entity::update_many();
    if let Some(display_name) = &changes.display_name {
        update = update.col_expr(Column::DisplayName, Expr::value(display_name.as_str()));
    }
    if let Some(hash) = changes.password_hash {
        update = update.col_expr(Column::PasswordHash, Expr::value(hash));
    }
    if let Some(active) = changes.active {
        update = update.col_expr(Column::Active, Expr::value(active));
    }
    if let Some(official_id) = changes.official_id {
        update = update.col_expr(Column::OfficialId, Expr::value(official_id));
    }
    versioned::apply(db, update, id, before.version).await?;
    let after = get(db, id).await?;
    let change = Change::update(action, ENTITY, id, snapshot(&before), snapshot(&after));
    audit::record(db, actor, change).await?;
    Ok(after)
}

/// Clears a user's login lockout: the failed logins counted against its username are forgotten,
/// and the clearing is audited with how many there were.
pub async fn unlock(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<User, StoreError> {
    let user = get(db, id).await?;
    let key = throttle::user_key(user.username.as_str());
    let failures = throttle::failures(db, &key).await?;
    throttle::clear(db, &key).await?;
    let change =
        Change::update("user.unlock", ENTITY, id, json!({ "failed_logins": failures }), json!({ "failed_logins": 0 }));
    audit::record(db, actor, change).await?;
    Ok(user)
}
