//! Rosters (R2): the lists of desk officials a district sends, and the Service Center's decisions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use dvc_domain::official::parse_reason;
use dvc_domain::roster::check_entries;
use dvc_domain::{Action, MAX_ROSTER_ENTRIES, Principal, RawEntry, Roster, RosterSource};
use dvc_store::rosters::{self, AcceptSummary, NewRoster, RosterFilter};
use dvc_store::units;
use dvc_store::{Actor, Tx};
use uuid::Uuid;

use super::problems::{Changing, Creating, Reading};
use super::scope::unit_in_scope;
use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, LargeJson, Query};
use crate::pagination::{ListResponse, PageQuery};
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mod import;
mod shapes;

pub use import::{import_roster, roster_template};
pub use shapes::*;

/// Checks the rows and stores a roster of the providing unit; shared by JSON, CSV and XLSX.
pub async fn store_roster(
    tx: &Tx,
    state: &AppState,
    principal: &Principal,
    unit_id: Uuid,
    source: RosterSource,
    raw: Vec<RawEntry>,
) -> Result<Roster, ApiError> {
    unit_in_scope(tx, principal, Action::ManageOfficials, unit_id, "/unit_id").await?;
    let units = rosters::units_for(tx, unit_id).await?;
    let entries = check_entries(raw, &units);
    Ok(rosters::create(tx, state.store.pii(), &Actor::from(principal), NewRoster { unit_id, source, entries }).await?)
}

/// Refuses an empty roster or one past the size limit.
pub fn check_size(count: usize) -> Result<(), ApiError> {
    match count {
        0 => Err(ApiError::invalid("/entries", "empty_roster", "a roster lists at least one official")),
        count if count > MAX_ROSTER_ENTRIES => Err(ApiError::invalid(
            "/entries",
            "roster_too_long",
            &format!("a roster lists at most {MAX_ROSTER_ENTRIES} officials"),
        )),
        _ => Ok(()),
    }
}

/// Creates a roster from JSON. Every row is checked: rows with errors are kept with their errors
/// (the roster cannot be submitted until they are corrected), valid rows are kept in normal form.
#[utoipa::path(
    tag = "rosters",
    operation_id = "create_roster",
    request_body = CreateRoster,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the roster", body = RosterResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    LargeJson(body): LargeJson<CreateRoster>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    let request = fingerprint("POST /rosters", &serde_json::to_vec(&body).map_err(ApiError::internal)?);
    check_size(body.entries.len())?;
    let raw = raw_entries(body.entries);
    create_once(&state.store, &principal, key, request, async |tx| {
        let roster = store_roster(tx, &state, &principal, body.unit_id, RosterSource::Json, raw).await?;
        Ok(Created::new(roster.version, RosterResponse::new(roster, true)))
    })
    .await
}

/// Lists the rosters of the caller's subtree, without their rows.
#[utoipa::path(
    tag = "rosters",
    operation_id = "list_rosters",
    params(RosterQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of rosters", body = ListResponse<RosterResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_rosters(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<RosterQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    let filter = RosterFilter { unit_id: query.unit_id, status: query.status.map(Into::into) };
    let found = rosters::list(state.store.conn(), &principal.scope, &filter, page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, |roster| RosterResponse::new(roster, false))))
}

/// Loads a roster's summary when the caller may act on it with `action`, or 404.
async fn roster_for(
    db: &impl dvc_store::Connection,
    principal: &Principal,
    id: Uuid,
    action: Action,
) -> Result<Roster, ApiError> {
    let roster = rosters::summary(db, id).await?;
    let path = units::path_of(db, roster.unit_id).await?;
    principal.authorize(Action::ManageOfficials, Some(&path))?;
    principal.authorize(action, Some(&path))?;
    Ok(roster)
}

/// Reads a roster with its rows.
#[utoipa::path(
    tag = "rosters",
    operation_id = "get_roster",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The roster", body = RosterResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    roster_for(state.store.conn(), &principal, *id, Action::ManageOfficials).await?;
    let roster = rosters::get(state.store.conn(), state.store.pii(), *id).await?;
    Ok(with_etag(StatusCode::OK, roster.version, &RosterResponse::new(roster, true)))
}

/// Replaces the rows of a draft or returned roster; they are checked as when it was created.
#[utoipa::path(
    tag = "rosters",
    operation_id = "patch_roster",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = PatchRoster, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The roster", body = RosterResponse),
        Changing,
    )
)]
#[patch("/{id:[0-9a-fA-F-]+}")]
pub async fn patch_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    LargeJson(body): LargeJson<PatchRoster>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    check_size(body.entries.len())?;
    let raw = raw_entries(body.entries);
    let roster = in_transaction(&state.store, async |tx| {
        let roster = roster_for(tx, &principal, *id, Action::ManageOfficials).await?;
        let units = rosters::units_for(tx, roster.unit_id).await?;
        let entries = check_entries(raw, &units);
        Ok(rosters::replace_entries(tx, state.store.pii(), &Actor::from(&principal), *id, if_match.0, entries).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, roster.version, &RosterResponse::new(roster, true)))
}

/// Discards a draft or returned roster with its rows; a submitted or decided roster cannot be
/// discarded (409). Audited.
#[utoipa::path(
    tag = "rosters",
    operation_id = "discard_roster",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Discarded"),
        Changing,
    )
)]
#[delete("/{id:[0-9a-fA-F-]+}")]
pub async fn discard_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    in_transaction(&state.store, async |tx| {
        roster_for(tx, &principal, *id, Action::ManageOfficials).await?;
        Ok(rosters::discard(tx, &Actor::from(&principal), *id, if_match.0).await?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Submits a draft or returned roster to the Service Center; refused while rows have errors.
#[utoipa::path(
    tag = "rosters",
    operation_id = "submit_roster",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The roster", body = RosterResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/submit")]
pub async fn submit_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    let roster = in_transaction(&state.store, async |tx| {
        roster_for(tx, &principal, *id, Action::ManageOfficials).await?;
        Ok(rosters::submit(tx, &Actor::from(&principal), *id, if_match.0).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, roster.version, &RosterResponse::new(roster, false)))
}

/// Accepts a submitted roster (admin): its officials are created or updated in one transaction.
#[utoipa::path(
    tag = "rosters",
    operation_id = "accept_roster",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The accepted roster and what it did to the officials", body = AcceptResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/accept")]
pub async fn accept_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::DecideRoster, None)?;
    let (roster, summary): (Roster, AcceptSummary) = in_transaction(&state.store, async |tx| {
        roster_for(tx, &principal, *id, Action::DecideRoster).await?;
        Ok(rosters::accept(tx, state.store.pii(), &Actor::from(&principal), *id, if_match.0).await?)
    })
    .await?;
    let version = roster.version;
    let body = AcceptResponse {
        roster: RosterResponse::new(roster, false),
        officials_created: summary.created,
        officials_updated: summary.updated,
        officials_unchanged: summary.unchanged,
    };
    Ok(with_etag(StatusCode::OK, version, &body))
}

/// Returns a submitted roster to its district with a reason (admin); it can then be corrected and
/// submitted again.
#[utoipa::path(
    tag = "rosters",
    operation_id = "return_roster",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = ReturnRoster,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The roster", body = RosterResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/return")]
pub async fn return_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<ReturnRoster>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::DecideRoster, None)?;
    let mut fields = Fields::default();
    let reason = fields.check("/reason", parse_reason(&body.reason));
    let reason = fields.finish(|| reason)?;
    let roster = in_transaction(&state.store, async |tx| {
        roster_for(tx, &principal, *id, Action::DecideRoster).await?;
        Ok(rosters::return_roster(tx, &Actor::from(&principal), *id, if_match.0, reason).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, roster.version, &RosterResponse::new(roster, false)))
}
