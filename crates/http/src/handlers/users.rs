use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use dvc_domain::user::{self, check_official_link};
use dvc_domain::{Action, DisplayName, NewUser, Password, Principal, Role, UnitPath, User, UserChanges, Username};
use dvc_store::{Actor, StoreError, Tx, officials, units, users};

use super::problems::{Changing, Creating, Reading};
use super::scope::unit_in_scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, FieldError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::patch::Patch;
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    RoleDto as Role mirrors Role { Admin, Manager, Clerk, Viewer, Integration }
}

/// A user or service account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    /// The login name; a service account's `client_id`.
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
    /// The scope unit: the user acts in this unit and below it.
    #[schema(required = true)]
    pub unit_id: Option<Uuid>,
    /// A clerk's official.
    #[schema(required = true)]
    pub official_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            role: user.role.into(),
            unit_id: user.unit_id,
            official_id: user.official_id,
            active: user.active,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// A new user. A service account is a user with role `integration`: its username is the
/// `client_id`, its password the `client_secret`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(example = "canbo.anlao")]
    pub username: String,
    #[schema(example = "Nguyễn Văn A")]
    pub display_name: String,
    pub role: RoleDto,
    /// Required for every role but `admin`.
    pub unit_id: Option<Uuid>,
    /// A clerk's official: an active official working in the clerk's unit or below it. Only clerks
    /// have one.
    pub official_id: Option<Uuid>,
    /// At least 12 characters.
    pub password: String,
}

/// The writable fields of a user; role and scope unit are fixed at creation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    pub display_name: Option<String>,
    pub password: Option<String>,
    /// Links a clerk to another official, or (`null`) to none.
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub official_id: Patch<Uuid>,
}

/// Lists the users whose scope unit lies in the caller's subtree.
#[utoipa::path(
    tag = "users",
    operation_id = "list_users",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = ListResponse<UserResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_users(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadUser, None)?;
    let found = users::list(state.store.conn(), &principal.scope, page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, UserResponse::from)))
}

/// Creates a user. Nobody creates a user with more rights or a wider scope than their own.
#[utoipa::path(
    tag = "users",
    operation_id = "create_user",
    request_body = CreateUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the user", body = UserResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_user(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let request = fingerprint("POST /users", &serde_json::to_vec(&body).map_err(ApiError::internal)?);
    let role = Role::from(body.role);
    principal.authorize(Action::ManageUser(role), None)?;
    let mut fields = Fields::default();
    let username = fields.check("/username", Username::parse(&body.username));
    let display_name = fields.check("/display_name", DisplayName::parse(&body.display_name));
    let secret = fields.check("/password", Password::parse(&body.password));
    let (username, display_name, secret) = fields.finish(|| Some((username?, display_name?, secret?)))?;
    let password_hash = state.hashing.hash(secret).await?;
    create_once(&state.store, &principal, key, request, async |tx| {
        let scope_unit = check_scope_unit(tx, &principal, role, body.unit_id).await?;
        if let Some(official_id) = body.official_id {
            check_official(tx, &state, &principal, role, scope_unit.as_ref(), official_id).await?;
        }
        let new = NewUser {
            username,
            display_name,
            role,
            unit_id: body.unit_id,
            official_id: body.official_id,
            password_hash,
        };
        let user = users::create(tx, &Actor::from(&principal), new).await?;
        Ok(Created::new(user.version, UserResponse::from(user)))
    })
    .await
}

/// The scope unit of a new user must exist and lie in the creator's scope; only an admin may
/// go without one. Answers the unit's path.
async fn check_scope_unit(
    tx: &Tx,
    principal: &Principal,
    role: Role,
    unit_id: Option<Uuid>,
) -> Result<Option<UnitPath>, ApiError> {
    match unit_id {
        Some(unit_id) => unit_in_scope(tx, principal, Action::ManageUser(role), unit_id, "/unit_id").await.map(Some),
        None => user::check_scope_unit(role, None)
            .map(|()| None)
            .map_err(|error| ApiError::Validation(vec![FieldError::new("/unit_id", error)])),
    }
}

/// The official a clerk is linked to must be one the caller manages, and fit the clerk
/// ([`check_official_link`]); an official the caller cannot see is answered as unknown.
async fn check_official(
    tx: &Tx,
    state: &AppState,
    principal: &Principal,
    role: Role,
    scope_unit: Option<&UnitPath>,
    official_id: Uuid,
) -> Result<(), ApiError> {
    let unknown = || ApiError::invalid("/official_id", "unknown_official", "no such official in your scope");
    let official = match officials::get(tx, state.store.pii(), official_id).await {
        Ok(official) => official,
        Err(StoreError::NotFound) => return Err(unknown()),
        Err(other) => return Err(other.into()),
    };
    let path = units::path_of(tx, official.unit_id).await?;
    principal.authorize(Action::ManageUser(role), Some(&path)).map_err(|_| unknown())?;
    check_official_link(role, scope_unit, &official, &path)
        .map_err(|error| ApiError::Validation(vec![FieldError::new("/official_id", error)]))
}

/// Loads a user the caller may see, or 404.
async fn visible_user(
    tx: &impl dvc_store::Connection,
    principal: &Principal,
    id: Uuid,
    action: impl Fn(&User) -> Action,
) -> Result<User, ApiError> {
    let user = users::get(tx, id).await?;
    if user.id == principal.user_id {
        return Ok(user);
    }
    match users::unit_path_of(tx, &user).await? {
        Some(path) => principal.authorize(action(&user), Some(&path))?,
        None => principal.authorize_unscoped(action(&user))?,
    }
    Ok(user)
}

/// Reads a user.
#[utoipa::path(
    tag = "users",
    operation_id = "get_user",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_user(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = visible_user(state.store.conn(), &principal, *id, |_| Action::ReadUser).await?;
    Ok(with_etag(StatusCode::OK, user.version, &UserResponse::from(user)))
}

/// Changes a user's display name or password (JSON merge patch); a user may change its own. A clerk's
/// official is changed by those who manage the clerk.
#[utoipa::path(
    tag = "users",
    operation_id = "patch_user",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = PatchUser, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        Changing,
    )
)]
#[patch("/{id:[0-9a-fA-F-]+}")]
pub async fn patch_user(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<PatchUser>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut fields = Fields::default();
    let display_name = body.display_name.as_deref().map(|name| fields.check("/display_name", DisplayName::parse(name)));
    let secret = body.password.as_deref().map(|secret| fields.check("/password", Password::parse(secret)));
    let (display_name, secret) = fields.finish(|| Some((display_name.flatten(), secret.flatten())))?;
    let password_hash = match secret {
        Some(secret) => Some(state.hashing.hash(secret).await?),
        None => None,
    };
    let official_id = body.official_id.into_change();
    let user = in_transaction(&state.store, async |tx| {
        let user = visible_user(tx, &principal, *id, |user| Action::ManageUser(user.role)).await?;
        if official_id.is_some() {
            // A user may change its own name and password, but not whose desk it records for.
            principal.authorize(Action::ManageUser(user.role), None)?;
        }
        if let Some(Some(official_id)) = official_id {
            let scope_unit = users::unit_path_of(tx, &user).await?;
            check_official(tx, &state, &principal, user.role, scope_unit.as_ref(), official_id).await?;
        }
        let changes = UserChanges { display_name, password_hash, active: None, official_id };
        Ok(users::update(tx, &Actor::from(&principal), *id, if_match.0, changes, "user.update").await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, user.version, &UserResponse::from(user)))
}

/// Deactivates a user: its tokens stop working at once and it can no longer log in.
#[utoipa::path(
    tag = "users",
    operation_id = "deactivate_user",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    if *id == principal.user_id {
        return Err(ApiError::invalid("", "self_deactivation", "you cannot deactivate yourself"));
    }
    let user = in_transaction(&state.store, async |tx| {
        visible_user(tx, &principal, *id, |user| Action::ManageUser(user.role)).await?;
        let changes = UserChanges { active: Some(false), ..UserChanges::default() };
        Ok(users::update(tx, &Actor::from(&principal), *id, if_match.0, changes, "user.deactivate").await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, user.version, &UserResponse::from(user)))
}

/// Clears a user's login lockout (admin): the failed logins counted against its username are
/// forgotten, so that it may log in again at once. Audited.
#[utoipa::path(
    tag = "users",
    operation_id = "unlock_user",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user, who may log in again", body = UserResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/unlock")]
pub async fn unlock_user(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::UnlockUser, None)?;
    let user = in_transaction(&state.store, async |tx| {
        visible_user(tx, &principal, *id, |_| Action::UnlockUser).await?;
        Ok(users::unlock(tx, &Actor::from(&principal), *id).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, user.version, &UserResponse::from(user)))
}
