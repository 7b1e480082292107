use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use dvc_domain::official::{parse_position, parse_reason};
use dvc_domain::{
    Action, Email, IdNumber, NewOfficial, Official, OfficialChanges, PersonName, PhoneNumber, PortalAccount, Principal,
    Scope,
};
use dvc_store::officials::{self, OfficialFilter};
use dvc_store::{Actor, StoreError, units};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problems::{Changing, Creating, Reading};
use super::scope::unit_in_scope;
use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::patch::Patch;
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    PortalAccountDto as PortalAccount mirrors PortalAccount { None, Created, Verified }
}

/// An official at a one-stop desk. `id_number` and `phone` are masked in lists and for callers who
/// may not manage officials.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficialResponse {
    pub id: Uuid,
    #[schema(example = "Nguyễn Văn A")]
    pub full_name: String,
    pub unit_id: Uuid,
    #[schema(example = "052*******45")]
    pub id_number: String,
    #[schema(example = "0972***588")]
    pub phone: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub position: Option<String>,
    /// The official's own account on the national portal.
    pub portal_account: PortalAccountDto,
    #[schema(required = true)]
    pub portal_account_at: Option<DateTime<Utc>>,
    pub active: bool,
    #[schema(required = true)]
    pub deactivated_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub deactivation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OfficialResponse {
    fn new(official: Official, reveal: bool) -> Self {
        let (id_number, phone) = if reveal {
            (official.id_number.as_str().to_owned(), official.phone.as_str().to_owned())
        } else {
            (official.id_number.masked(), official.phone.masked())
        };
        Self {
            id: official.id,
            full_name: official.full_name.as_str().to_owned(),
            unit_id: official.unit_id,
            id_number,
            phone,
            email: official.email.map(|email| email.as_str().to_owned()),
            position: official.position,
            portal_account: official.portal_account.into(),
            portal_account_at: official.portal_account_at,
            active: official.active,
            deactivated_at: official.deactivated_at,
            deactivation_reason: official.deactivation_reason,
            created_at: official.created_at,
            updated_at: official.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOfficial {
    #[schema(example = "Nguyễn Văn A")]
    pub full_name: String,
    pub unit_id: Uuid,
    /// 12 digits (căn cước) or 9 digits (old CMND).
    #[schema(example = "052090001245")]
    pub id_number: String,
    /// A Vietnamese mobile number; `+84…`, spaces, dots and dashes are accepted.
    #[schema(example = "0972 123 588")]
    pub phone: String,
    pub email: Option<String>,
    pub position: Option<String>,
    /// Defaults to `none`.
    pub portal_account: Option<PortalAccountDto>,
    /// When the portal account was opened; defaults to now when a status other than `none` is given.
    pub portal_account_at: Option<DateTime<Utc>>,
}

/// The writable fields of an official, as a JSON merge patch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOfficial {
    pub full_name: Option<String>,
    /// Moves the official to another unit in the caller's scope.
    pub unit_id: Option<Uuid>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub position: Patch<String>,
    pub portal_account: Option<PortalAccountDto>,
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub portal_account_at: Patch<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateOfficial {
    /// Why the official leaves the desk (retired, moved, …).
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficialQuery {
    /// Officials of this unit and the units below it.
    unit_id: Option<Uuid>,
    /// Part of the name; case, diacritics and đ/d are ignored.
    q: Option<String>,
    active: Option<bool>,
    portal_account: Option<PortalAccountDto>,
}

/// When a portal account status other than `none` arrives without a date, the change happens now.
fn portal_date(status: PortalAccount, given: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match status {
        PortalAccount::None => given,
        _ => given.or_else(|| Some(Utc::now())),
    }
}

fn parse_new(body: &CreateOfficial) -> Result<NewOfficial, ApiError> {
    let mut fields = Fields::default();
    let full_name = fields.check("/full_name", PersonName::parse(&body.full_name));
    let id_number = fields.check("/id_number", IdNumber::parse(&body.id_number));
    let phone = fields.check("/phone", PhoneNumber::parse(&body.phone));
    let email = body.email.as_deref().map(|email| fields.check("/email", Email::parse(email)));
    let position = body.position.as_deref().map(|position| fields.check("/position", parse_position(position)));
    let portal_account = body.portal_account.map_or(PortalAccount::None, Into::into);
    fields.finish(|| {
        Some(NewOfficial {
            full_name: full_name?,
            unit_id: body.unit_id,
            id_number: id_number?,
            phone: phone?,
            email: email.flatten(),
            position: position.flatten(),
            portal_account,
            portal_account_at: portal_date(portal_account, body.portal_account_at),
        })
    })
}

fn parse_changes(body: PatchOfficial) -> Result<OfficialChanges, ApiError> {
    let mut fields = Fields::default();
    let full_name = body.full_name.as_deref().map(|name| fields.check("/full_name", PersonName::parse(name)));
    let id_number = body.id_number.as_deref().map(|number| fields.check("/id_number", IdNumber::parse(number)));
    let phone = body.phone.as_deref().map(|phone| fields.check("/phone", PhoneNumber::parse(phone)));
    let email = body.email.into_change().map(|email| email.map(|email| fields.check("/email", Email::parse(&email))));
    let position = body
        .position
        .into_change()
        .map(|position| position.map(|position| fields.check("/position", parse_position(&position))));
    let portal_account = body.portal_account.map(PortalAccount::from);
    let portal_account_at = match (portal_account, body.portal_account_at.into_change()) {
        (Some(status), None) => Some(portal_date(status, None)),
        (_, given) => given,
    };
    fields.finish(|| {
        Some(OfficialChanges {
            full_name: full_name.flatten(),
            unit_id: body.unit_id,
            id_number: id_number.flatten(),
            phone: phone.flatten(),
            email: email.map(Option::flatten),
            position: position.map(Option::flatten),
            portal_account,
            portal_account_at,
        })
    })
}

/// Lists officials in the caller's scope in roster order: by given name, then the rest of the name,
/// under Vietnamese collation. Personal numbers are masked.
#[utoipa::path(
    tag = "officials",
    operation_id = "list_officials",
    params(OfficialQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of officials", body = ListResponse<OfficialResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_officials(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<OfficialQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadOfficial, None)?;
    let query = query.into_inner();
    let page = page.request()?;
    let within = match query.unit_id {
        Some(unit_id) => match units::path_of(state.store.conn(), unit_id).await {
            Ok(path) => Some(Scope::Subtree(path)),
            // An unknown unit has no officials; saying so would tell it apart from one out of scope.
            Err(StoreError::NotFound) => return Ok(HttpResponse::Ok().json(ListResponse::<OfficialResponse>::empty())),
            Err(other) => return Err(other.into()),
        },
        None => None,
    };
    let filter = OfficialFilter {
        within,
        q: query.q,
        active: query.active,
        portal_account: query.portal_account.map(Into::into),
    };
    let found = officials::list(state.store.conn(), state.store.pii(), &principal.scope, &filter, page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, |official| OfficialResponse::new(official, false))))
}

/// Records an official. At most one active official holds an ID number (409 names the other).
#[utoipa::path(
    tag = "officials",
    operation_id = "create_official",
    request_body = CreateOfficial,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the official", body = OfficialResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_official(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateOfficial>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    let request = fingerprint("POST /officials", &serde_json::to_vec(&*body).map_err(ApiError::internal)?);
    let new = parse_new(&body)?;
    let pii = state.store.pii();
    create_once(&state.store, &principal, key, request, async |tx| {
        let unit = unit_in_scope(tx, &principal, Action::ManageOfficials, new.unit_id, "/unit_id").await?;
        let official = officials::create_at(tx, pii, &Actor::from(&principal), new, &unit).await?;
        Ok(Created::new(official.version, OfficialResponse::new(official, true)))
    })
    .await
}

/// Loads an official the caller may act on with `action`, or 404.
async fn official_for(
    db: &impl dvc_store::Connection,
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    action: Action,
) -> Result<Official, ApiError> {
    let official = officials::get(db, state.store.pii(), id).await?;
    let path = units::path_of(db, official.unit_id).await?;
    principal.authorize(action, Some(&path))?;
    Ok(official)
}

/// Reads an official; its personal numbers are shown to those who manage officials.
#[utoipa::path(
    tag = "officials",
    operation_id = "get_official",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The official", body = OfficialResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_official(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let official = official_for(state.store.conn(), &state, &principal, *id, Action::ReadOfficial).await?;
    let reveal = principal.authorize(Action::RevealOfficial, None).is_ok();
    Ok(with_etag(StatusCode::OK, official.version, &OfficialResponse::new(official, reveal)))
}

/// Changes an official (JSON merge patch); moving it to another unit needs that unit in scope too.
#[utoipa::path(
    tag = "officials",
    operation_id = "patch_official",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = PatchOfficial, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The official", body = OfficialResponse),
        Changing,
    )
)]
#[patch("/{id:[0-9a-fA-F-]+}")]
pub async fn patch_official(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<PatchOfficial>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    let changes = parse_changes(body.into_inner())?;
    let official = in_transaction(&state.store, async |tx| {
        official_for(tx, &state, &principal, *id, Action::ManageOfficials).await?;
        if let Some(unit_id) = changes.unit_id {
            unit_in_scope(tx, &principal, Action::ManageOfficials, unit_id, "/unit_id").await?;
        }
        Ok(officials::update(tx, state.store.pii(), &Actor::from(&principal), *id, if_match.0, changes).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, official.version, &OfficialResponse::new(official, true)))
}

/// Deactivates an official with a reason; the record is kept.
#[utoipa::path(
    tag = "officials",
    operation_id = "deactivate_official",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = DeactivateOfficial,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The official", body = OfficialResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/deactivate")]
pub async fn deactivate_official(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<DeactivateOfficial>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    let mut fields = Fields::default();
    let reason = fields.check("/reason", parse_reason(&body.reason));
    let reason = fields.finish(|| reason)?;
    let official = in_transaction(&state.store, async |tx| {
        official_for(tx, &state, &principal, *id, Action::ManageOfficials).await?;
        Ok(officials::deactivate(tx, state.store.pii(), &Actor::from(&principal), *id, if_match.0, reason).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, official.version, &OfficialResponse::new(official, true)))
}
