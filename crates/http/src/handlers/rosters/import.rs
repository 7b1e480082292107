//! Rosters sent as the Appendix 2 form, and the empty form to fill in.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use dvc_domain::{Action, NameMatch, Principal, RawEntry, RosterSource};
use dvc_sheets::Sheet;
use dvc_store::rosters;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{IdempotencyKey, Query};
use crate::handlers::files::{CsvFile, Spreadsheet};
use crate::handlers::problems::{Creating, SignedIn};
use crate::write::{Created, create_once, fingerprint};
use crate::{AppState, Caller};

use super::{RosterResponse, check_size, store_roster};

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
#[post("/import")]
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
#[get("/template.xlsx")]
pub async fn roster_template(_caller: Caller) -> Result<HttpResponse, ApiError> {
    let form = dvc_sheets::template_xlsx().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"phu-luc-2.xlsx\""))
        .body(form))
}
