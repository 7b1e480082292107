use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use dvc_domain::official::parse_reason;
use dvc_domain::roster::check_entries;
use dvc_domain::{
    Action, MAX_ROSTER_ENTRIES, NameMatch, Principal, RawEntry, Roster, RosterEntry, RosterSource, RosterStatus,
};
use dvc_sheets::Sheet;
use dvc_store::rosters::{self, AcceptSummary, NewRoster, RosterFilter};
use dvc_store::units;
use dvc_store::{Actor, Tx};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::files::{CsvFile, Spreadsheet};
use super::problems::{Changing, Creating, Reading, SignedIn};
use super::scope::unit_in_scope;
use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, LargeJson, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    RosterStatusDto as RosterStatus mirrors RosterStatus { Draft, Submitted, Accepted, Returned }
}

/// What is wrong with one field of a row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorResponse {
    /// `full_name`, `unit`, `id_number` or `phone`.
    pub column: String,
    #[schema(example = "invalid_id_number")]
    pub code: String,
    pub detail: String,
}

/// One row of a roster. Personal numbers are masked unless the caller manages officials.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryResponse {
    pub row: u32,
    pub full_name: String,
    /// The unit the row was matched to, when it was.
    #[schema(required = true)]
    pub unit_id: Option<Uuid>,
    /// The unit as the row names it.
    pub unit_name: String,
    pub id_number: String,
    pub phone: String,
    /// Empty for a valid row.
    pub errors: Vec<RowErrorResponse>,
}

impl EntryResponse {
    fn new(entry: RosterEntry, reveal: bool) -> Self {
        // A row in error is shown as written, so that it can be corrected; a valid one is masked
        // for callers who may not see personal numbers.
        let masked =
            if reveal { None } else { entry.valid().map(|valid| (valid.id_number.masked(), valid.phone.masked())) };
        let (id_number, phone) = masked.unwrap_or((entry.id_number, entry.phone));
        Self {
            row: entry.row,
            full_name: entry.full_name,
            unit_id: entry.unit_id,
            unit_name: entry.unit_name,
            id_number,
            phone,
            errors: entry
                .errors
                .into_iter()
                .map(|error| RowErrorResponse { column: error.column, code: error.code, detail: error.detail })
                .collect(),
        }
    }
}

/// A roster of one-stop desk officials.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterResponse {
    pub id: Uuid,
    /// The providing unit.
    pub unit_id: Uuid,
    pub status: RosterStatusDto,
    /// `json`, `csv` or `xlsx`.
    pub source: String,
    pub entry_count: i32,
    /// Rows with errors; a roster with any cannot be submitted.
    pub error_count: i32,
    #[schema(required = true)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub return_reason: Option<String>,
    /// The rows, when one roster is read (lists leave them out).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub entries: Option<Vec<EntryResponse>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RosterResponse {
    fn new(roster: Roster, reveal: bool) -> Self {
        Self {
            id: roster.id,
            unit_id: roster.unit_id,
            status: roster.status.into(),
            source: roster.source.as_str().to_owned(),
            entry_count: roster.entry_count,
            error_count: roster.error_count,
            submitted_at: roster.submitted_at,
            decided_at: roster.decided_at,
            return_reason: roster.return_reason,
            entries: roster
                .entries
                .map(|entries| entries.into_iter().map(|entry| EntryResponse::new(entry, reveal)).collect()),
            created_at: roster.created_at,
            updated_at: roster.updated_at,
        }
    }
}

/// One row of a roster sent as JSON: the unit by `unit_id` or by `unit_name`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    /// The row number (`STT`); defaults to the position in the list.
    pub row: Option<u32>,
    pub full_name: String,
    pub unit_id: Option<Uuid>,
    #[schema(example = "BPMC xã An Hưng")]
    pub unit_name: Option<String>,
    pub id_number: String,
    pub phone: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoster {
    /// The providing unit (a district); every row's unit must lie under it.
    pub unit_id: Uuid,
    pub entries: Vec<EntryRequest>,
}

/// The writable part of a roster: its rows, replaced as a whole while it is a draft or returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRoster {
    pub entries: Vec<EntryRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRoster {
    /// What the district must correct.
    pub reason: String,
}

/// A roster decision's effect on the officials.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptResponse {
    #[serde(flatten)]
    pub roster: RosterResponse,
    /// Officials recorded from rows with an ID number not yet known.
    pub officials_created: usize,
    /// Known officials whose name, unit or phone the roster changed.
    pub officials_updated: usize,
    pub officials_unchanged: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RosterQuery {
    unit_id: Option<Uuid>,
    status: Option<RosterStatusDto>,
}

/// The rows of a JSON roster as written; a row without a number takes its position.
fn raw_entries(entries: Vec<EntryRequest>) -> Vec<RawEntry> {
    entries
        .into_iter()
        .zip(1..)
        .map(|(entry, position)| RawEntry {
            row: entry.row.unwrap_or(position),
            full_name: entry.full_name,
            unit_id: entry.unit_id,
            unit_name: entry.unit_name.unwrap_or_default(),
            id_number: entry.id_number,
            phone: entry.phone,
        })
        .collect()
}

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
#[post("/rosters")]
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
#[get("/rosters")]
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
#[get("/rosters/{id:[0-9a-fA-F-]+}")]
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
#[patch("/rosters/{id:[0-9a-fA-F-]+}")]
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
#[delete("/rosters/{id:[0-9a-fA-F-]+}")]
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
#[post("/rosters/{id:[0-9a-fA-F-]+}/submit")]
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
#[post("/rosters/{id:[0-9a-fA-F-]+}/accept")]
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
#[post("/rosters/{id:[0-9a-fA-F-]+}/return")]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The providing unit; when absent, the form's heading (`Đơn vị cung cấp: UBND huyện …`) names it.
    unit_id: Option<Uuid>,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Reads an Appendix 2 form sent as CSV (`text/csv`) or XLSX.
fn read_form(content_type: &str, body: &[u8]) -> Result<(RosterSource, Sheet), ApiError> {
    let (source, read) = match content_type.split(';').next().map(str::trim) {
        Some("text/csv") => (RosterSource::Csv, dvc_sheets::read_csv(body)),
        Some(XLSX) => (RosterSource::Xlsx, dvc_sheets::read_xlsx(body)),
        _ => return Err(ApiError::BadRequest(format!("send the form as text/csv or {XLSX}"))),
    };
    let sheet = read.map_err(|error| ApiError::invalid("", "invalid_roster_form", &error.to_string()))?;
    Ok((source, sheet))
}

/// The providing unit a form's heading names, among the units in the caller's scope.
async fn provider_unit(state: &AppState, principal: &Principal, sheet: &Sheet) -> Result<Uuid, ApiError> {
    let unknown = |detail: &str| ApiError::invalid("", "unknown_provider", detail);
    let heading = sheet.provider.as_deref().ok_or_else(|| {
        unknown("give unit_id, or a heading `Đơn vị cung cấp: UBND huyện …` naming a unit in your scope")
    })?;
    match rosters::provider_named(state.store.conn(), &principal.scope, heading).await? {
        NameMatch::One(unit_id) => Ok(unit_id),
        NameMatch::Ambiguous => Err(ApiError::invalid(
            "",
            "ambiguous_provider",
            "the heading's unit name is ambiguous: several units in your scope have it; give unit_id",
        )),
        NameMatch::None => Err(unknown("no unit in your scope has the name in the heading; give unit_id")),
    }
}

/// Imports a roster from the Appendix 2 form, as CSV or XLSX. Every row is checked as for JSON
/// rosters; rows in error are kept with their errors.
#[utoipa::path(
    tag = "rosters",
    operation_id = "import_roster",
    params(ImportQuery, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body(content(
        (inline(CsvFile) = "text/csv"),
        (inline(Spreadsheet) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the roster", body = RosterResponse),
        Creating,
    )
)]
#[post("/rosters/import")]
pub async fn import_roster(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    query: Query<ImportQuery>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageOfficials, None)?;
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let (source, sheet) = read_form(content_type, &body)?;
    check_size(sheet.rows.len())?;
    let unit_id = match query.unit_id {
        Some(unit_id) => unit_id,
        None => provider_unit(&state, &principal, &sheet).await?,
    };
    let route = format!("POST /rosters/import?unit_id={unit_id}");
    let raw = sheet
        .rows
        .into_iter()
        .map(|row| RawEntry {
            row: row.row,
            full_name: row.full_name,
            unit_id: None,
            unit_name: row.unit_name,
            id_number: row.id_number,
            phone: row.phone,
        })
        .collect();
    create_once(&state.store, &principal, key, fingerprint(&route, &body), async |tx| {
        let roster = store_roster(tx, &state, &principal, unit_id, source, raw).await?;
        Ok(Created::new(roster.version, RosterResponse::new(roster, true)))
    })
    .await
}

/// The empty Appendix 2 form, ready to fill in (its ID and phone columns keep leading zeros).
#[utoipa::path(
    tag = "rosters",
    operation_id = "get_roster_template",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The form", content_type = XLSX, body = inline(Spreadsheet)),
        SignedIn,
    )
)]
#[get("/rosters/template.xlsx")]
pub async fn roster_template(_caller: Caller) -> Result<HttpResponse, ApiError> {
    let form = dvc_sheets::template_xlsx().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"phu-luc-2.xlsx\""))
        .body(form))
}
