use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use dvc_domain::grant::{grant_for_recording, may_be_granted, parse_basis};
use dvc_domain::official::parse_reason;
use dvc_domain::time::today_in_vietnam;
use dvc_domain::{Action, Grant, GrantFunction, GrantPeriod, GrantRefusal, NewGrant, Principal, RosterGrants};
use dvc_store::grants::{self, GrantFilter};
use dvc_store::{Actor, StoreError, officials, units};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problems::{Changing, Creating, Reading};

use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    FunctionDto as GrantFunction mirrors GrantFunction { CreateCitizenAccount }
}

/// A portal function granted to an official.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantResponse {
    pub id: Uuid,
    pub official_id: Uuid,
    pub function: FunctionDto,
    /// The letter or decision the grant rests on.
    #[schema(example = "125/QĐ-TTPVHCC")]
    pub basis: String,
    pub valid_from: NaiveDate,
    /// The last day covered; `null` runs on.
    #[schema(required = true)]
    pub valid_until: Option<NaiveDate>,
    /// The user who granted it.
    #[schema(required = true)]
    pub granted_by: Option<Uuid>,
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub revoke_reason: Option<String>,
    /// In force now.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Grant> for GrantResponse {
    fn from(grant: Grant) -> Self {
        Self {
            active: grant.is_active_at(Utc::now()),
            id: grant.id,
            official_id: grant.official_id,
            function: grant.function.into(),
            basis: grant.basis,
            valid_from: grant.period.from(),
            valid_until: grant.period.until(),
            granted_by: grant.granted_by,
            revoked_at: grant.revoked_at,
            revoke_reason: grant.revoke_reason,
            created_at: grant.created_at,
            updated_at: grant.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrant {
    pub official_id: Uuid,
    /// Defaults to `create_citizen_account`.
    pub function: Option<FunctionDto>,
    pub basis: String,
    /// Defaults to today (in Vietnam).
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

/// Grants for every official of an accepted roster.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRoster {
    pub basis: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeGrant {
    pub reason: String,
}

/// A roster row that got no grant, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedRow {
    pub row: u32,
    /// The row's official, when one was found.
    #[schema(required = true)]
    pub official_id: Option<Uuid>,
    /// `official_inactive`, `no_portal_account`, `already_granted` or `official_not_found`.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterGrantsResponse {
    pub granted: Vec<GrantResponse>,
    pub skipped: Vec<SkippedRow>,
}

impl From<RosterGrants> for RosterGrantsResponse {
    fn from(result: RosterGrants) -> Self {
        let skipped = result
            .skipped
            .into_iter()
            .map(|row| SkippedRow { row: row.row, official_id: row.official_id, reason: row.reason.code().to_owned() })
            .collect();
        Self { granted: result.granted.into_iter().map(GrantResponse::from).collect(), skipped }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    official_id: Option<Uuid>,
    /// Only grants in force today (`true`) or not (`false`).
    active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActiveAtQuery {
    /// Only the grants that allow recording a citizen account at this moment (default: all grants).
    active_at: Option<DateTime<Utc>>,
}

fn parse_period(
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    fields: &mut Fields,
) -> Option<GrantPeriod> {
    fields.check("/valid_until", GrantPeriod::new(valid_from.unwrap_or_else(today_in_vietnam), valid_until))
}

fn refusal(refusal: GrantRefusal) -> ApiError {
    ApiError::invalid("/official_id", refusal.code(), refusal.detail())
}

/// The path of the official's unit, when the caller may act on it with `action`.
async fn visible_official(
    db: &impl dvc_store::Connection,
    state: &AppState,
    principal: &Principal,
    official_id: Uuid,
    action: Action,
) -> Result<dvc_domain::Official, ApiError> {
    let official = officials::get(db, state.store.pii(), official_id).await?;
    let path = units::path_of(db, official.unit_id).await?;
    principal.authorize(action, Some(&path))?;
    Ok(official)
}

/// Grants a function to an official (admin). The official must be active and have opened an account
/// on the national portal.
#[utoipa::path(
    tag = "grants",
    operation_id = "create_grant",
    request_body = CreateGrant,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the grant", body = GrantResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_grant(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateGrant>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageGrants, None)?;
    let request = fingerprint("POST /grants", &serde_json::to_vec(&*body).map_err(ApiError::internal)?);
    let mut fields = Fields::default();
    let basis = fields.check("/basis", parse_basis(&body.basis));
    let period = parse_period(body.valid_from, body.valid_until, &mut fields);
    let function = body.function.map_or(GrantFunction::CreateCitizenAccount, Into::into);
    let new =
        fields.finish(|| Some(NewGrant { official_id: body.official_id, function, basis: basis?, period: period? }))?;
    create_once(&state.store, &principal, key, request, async |tx| {
        let official = match officials::get(tx, state.store.pii(), new.official_id).await {
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid("/official_id", "unknown_official", "no such official"));
            }
            other => other?,
        };
        may_be_granted(&official).map_err(refusal)?;
        let grant = grants::create(tx, &Actor::from(&principal), new).await?;
        Ok(Created::new(grant.version, GrantResponse::from(grant)))
    })
    .await
}

/// Lists the grants of officials in the caller's subtree.
#[utoipa::path(
    tag = "grants",
    operation_id = "list_grants",
    params(GrantQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of grants", body = ListResponse<GrantResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_grants(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<GrantQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadGrant, None)?;
    let filter = GrantFilter {
        official_id: query.official_id,
        active_on: query.active.map(|active| (active, today_in_vietnam())),
    };
    let found = grants::list(state.store.conn(), &principal.scope, &filter, page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, GrantResponse::from)))
}

/// Loads a grant the caller may act on with `action`, or 404.
async fn grant_for(
    db: &impl dvc_store::Connection,
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    action: Action,
) -> Result<Grant, ApiError> {
    let grant = grants::get(db, id).await?;
    visible_official(db, state, principal, grant.official_id, action).await?;
    Ok(grant)
}

/// Reads a grant.
#[utoipa::path(
    tag = "grants",
    operation_id = "get_grant",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The grant", body = GrantResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_grant(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let grant = grant_for(state.store.conn(), &state, &principal, *id, Action::ReadGrant).await?;
    Ok(with_etag(StatusCode::OK, grant.version, &GrantResponse::from(grant)))
}

/// Revokes a grant with a reason (admin), from now on; what was recorded before stays valid.
#[utoipa::path(
    tag = "grants",
    operation_id = "revoke_grant",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = RevokeGrant,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The grant", body = GrantResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/revoke")]
pub async fn revoke_grant(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<RevokeGrant>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageGrants, None)?;
    let mut fields = Fields::default();
    let reason = fields.check("/reason", parse_reason(&body.reason));
    let reason = fields.finish(|| reason)?;
    let grant = in_transaction(&state.store, async |tx| {
        grant_for(tx, &state, &principal, *id, Action::ManageGrants).await?;
        Ok(grants::revoke(tx, &Actor::from(&principal), *id, if_match.0, &reason).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, grant.version, &GrantResponse::from(grant)))
}

/// An official's grants; with `active_at`, only those that allow recording a citizen account at that
/// moment (empty when none does).
#[utoipa::path(
    tag = "grants",
    operation_id = "list_official_grants",
    params(("id" = Uuid, Path), ActiveAtQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of grants", body = ListResponse<GrantResponse>),
        Reading,
    )
)]
// Served in the `/officials` scope: the path is an official's.
#[get("/{id:[0-9a-fA-F-]+}/grants")]
pub async fn list_official_grants(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    query: Query<ActiveAtQuery>,
) -> Result<HttpResponse, ApiError> {
    visible_official(state.store.conn(), &state, &principal, *id, Action::ReadGrant).await?;
    let held = grants::of_official(state.store.conn(), *id).await?;
    let items: Vec<Grant> = match query.active_at {
        Some(at) => grant_for_recording(&held, at).ok().cloned().into_iter().collect(),
        None => held,
    };
    let items = items.into_iter().map(GrantResponse::from).collect();
    Ok(HttpResponse::Ok().json(ListResponse { items, next_cursor: None }))
}

/// Grants the function to the official of every row of an accepted roster (admin), in one
/// transaction, and lists the rows skipped with the reason.
#[utoipa::path(
    tag = "grants",
    operation_id = "grant_roster",
    params(("id" = Uuid, Path)),
    request_body = GrantRoster,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The grants made from the roster", body = RosterGrantsResponse),
        Changing,
    )
)]
// Served in the `/rosters` scope: the path is a roster's.
#[post("/{id:[0-9a-fA-F-]+}/grants")]
pub async fn grant_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    body: JsonBody<GrantRoster>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageGrants, None)?;
    let mut fields = Fields::default();
    let basis = fields.check("/basis", parse_basis(&body.basis));
    let period = parse_period(body.valid_from, body.valid_until, &mut fields);
    let (basis, period) = fields.finish(|| Some((basis?, period?)))?;
    let actor = Actor::from(&principal);
    let result = in_transaction(&state.store, async |tx| {
        Ok(grants::grant_roster(tx, state.store.pii(), &actor, *id, basis, period).await?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RosterGrantsResponse::from(result)))
}
