use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use dvc_domain::unit::parse_category;
use dvc_domain::{Action, NewUnit, Principal, Unit, UnitChanges, UnitCode, UnitKind, UnitName, Validity};
use dvc_store::units::{self, ImportSummary, UnitFilter};
use dvc_store::{Actor, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::files::CsvFile;
use super::problems::{Changing, Creating, Reading};

use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::patch::Patch;
use crate::write::{Created, create_once, fingerprint, in_transaction, in_transaction_or_dry_run, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    UnitKindDto as UnitKind mirrors UnitKind { Province, Agency, ServiceCenter, District, Commune }
}

/// A unit of the administrative tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitResponse {
    pub id: Uuid,
    /// The statistics office's code, or the province's own for its agencies.
    #[schema(example = "00001")]
    pub code: String,
    #[schema(example = "Phường Phúc Xá")]
    pub name: String,
    pub kind: UnitKindDto,
    #[schema(required = true, example = "Phường")]
    pub category: Option<String>,
    #[schema(required = true)]
    pub parent_id: Option<Uuid>,
    /// The parent's name, to tell apart units of the same name; `null` for a province.
    #[schema(required = true, example = "Quận Ba Đình")]
    pub parent_name: Option<String>,
    /// The name of the province the unit lies in; `null` for a province.
    #[schema(required = true, example = "Thành phố Hà Nội")]
    pub province_name: Option<String>,
    /// Depth in the tree, 1 for a province.
    pub level: i32,
    /// The ids of the unit's ancestors and itself, `/id/…/id/`.
    pub path: String,
    /// First day the unit exists; `null` when it has always existed.
    #[schema(required = true)]
    pub valid_from: Option<NaiveDate>,
    /// First day the unit no longer exists; `null` while it does.
    #[schema(required = true)]
    pub valid_to: Option<NaiveDate>,
    /// The units that took over from this one.
    pub successor_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Unit> for UnitResponse {
    fn from(unit: Unit) -> Self {
        Self {
            id: unit.id,
            code: unit.code.as_str().to_owned(),
            name: unit.name.as_str().to_owned(),
            kind: unit.kind.into(),
            category: unit.category,
            parent_id: unit.parent_id,
            parent_name: unit.parent_name,
            province_name: unit.province_name,
            level: unit.path.level(),
            path: unit.path.as_str().to_owned(),
            valid_from: unit.validity.from(),
            valid_to: unit.validity.to(),
            successor_ids: unit.successor_ids,
            created_at: unit.created_at,
            updated_at: unit.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    #[schema(example = "TTPVHCC")]
    pub code: String,
    #[schema(example = "Trung tâm Phục vụ hành chính công tỉnh")]
    pub name: String,
    pub kind: UnitKindDto,
    pub category: Option<String>,
    /// Required for every kind but `province`.
    pub parent_id: Option<Uuid>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub successor_ids: Vec<Uuid>,
}

/// The writable fields of a unit, as a JSON merge patch: `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUnit {
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub category: Patch<String>,
    /// Moves the unit, with its subtree, under another parent.
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Patch<Uuid>,
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_from: Patch<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_to: Patch<NaiveDate>,
    pub successor_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    parent_id: Option<Uuid>,
    kind: Option<UnitKindDto>,
    code: Option<String>,
    /// Part of the name; case, diacritics and đ/d are ignored.
    q: Option<String>,
    /// Only units that exist on this day.
    valid_on: Option<NaiveDate>,
}

impl UnitQuery {
    fn filter(self) -> Result<UnitFilter, ApiError> {
        let code = self
            .code
            .map(|code| UnitCode::parse(&code))
            .transpose()
            .map_err(|error| ApiError::BadRequest(format!("code: {error}")))?;
        Ok(UnitFilter {
            parent_id: self.parent_id,
            kind: self.kind.map(Into::into),
            code,
            q: self.q,
            valid_on: self.valid_on,
        })
    }
}

async fn list_page(
    state: &AppState,
    principal: &Principal,
    filter: UnitFilter,
    page: PageRequest,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadUnit, None)?;
    let found = units::list(state.store.conn(), &principal.scope, &filter, page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, UnitResponse::from)))
}

/// Lists the units in the caller's subtree, in the order they were created.
#[utoipa::path(
    tag = "units",
    operation_id = "list_units",
    params(UnitQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of units", body = ListResponse<UnitResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_units(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<UnitQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    list_page(&state, &principal, query.into_inner().filter()?, page.request()?).await
}

/// Lists a unit's children.
#[utoipa::path(
    tag = "units",
    operation_id = "list_unit_children",
    params(("id" = Uuid, Path), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of units", body = ListResponse<UnitResponse>),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}/children")]
pub async fn list_children(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let path = units::path_of(state.store.conn(), *id).await?;
    principal.authorize(Action::ReadUnit, Some(&path))?;
    let filter = UnitFilter { parent_id: Some(*id), ..UnitFilter::default() };
    list_page(&state, &principal, filter, page.request()?).await
}

/// Reads a unit.
#[utoipa::path(
    tag = "units",
    operation_id = "get_unit",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unit", body = UnitResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let unit = units::get(state.store.conn(), *id).await?;
    principal.authorize(Action::ReadUnit, Some(&unit.path))?;
    Ok(with_etag(StatusCode::OK, unit.version, &UnitResponse::from(unit)))
}

fn parse_new_unit(body: &CreateUnit) -> Result<NewUnit, ApiError> {
    let mut fields = Fields::default();
    let code = fields.check("/code", UnitCode::parse(&body.code));
    let name = fields.check("/name", UnitName::parse(&body.name));
    let category = body.category.as_deref().map(|category| fields.check("/category", parse_category(category)));
    let validity = fields.check("/valid_to", Validity::new(body.valid_from, body.valid_to));
    fields.finish(|| {
        Some(NewUnit {
            code: code?,
            name: name?,
            kind: body.kind.into(),
            category: category.flatten(),
            parent_id: body.parent_id,
            validity: validity?,
            successor_ids: body.successor_ids.clone(),
        })
    })
}

/// Creates a unit (admin only).
#[utoipa::path(
    tag = "units",
    operation_id = "create_unit",
    request_body = CreateUnit,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the unit", body = UnitResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_unit(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateUnit>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageUnits, None)?;
    let request = fingerprint("POST /units", &serde_json::to_vec(&*body).map_err(ApiError::internal)?);
    let new = parse_new_unit(&body)?;
    create_once(&state.store, &principal, key, request, async |tx| {
        let unit = units::create(tx, &Actor::from(&principal), new).await?;
        Ok(Created::new(unit.version, UnitResponse::from(unit)))
    })
    .await
}

fn parse_changes(body: PatchUnit) -> Result<UnitChanges, ApiError> {
    let mut fields = Fields::default();
    let code = body.code.as_deref().map(|code| fields.check("/code", UnitCode::parse(code)));
    let name = body.name.as_deref().map(|name| fields.check("/name", UnitName::parse(name)));
    let category = body
        .category
        .into_change()
        .map(|category| category.map(|category| fields.check("/category", parse_category(&category))));
    fields.finish(|| {
        Some(UnitChanges {
            code: code.flatten(),
            name: name.flatten(),
            category: category.map(Option::flatten),
            parent_id: body.parent_id.into_change(),
            valid_from: body.valid_from.into_change(),
            valid_to: body.valid_to.into_change(),
            successor_ids: body.successor_ids,
        })
    })
}

/// Changes a unit (admin only); moving it moves its subtree.
#[utoipa::path(
    tag = "units",
    operation_id = "patch_unit",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = PatchUnit, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unit", body = UnitResponse),
        Changing,
    )
)]
#[patch("/{id:[0-9a-fA-F-]+}")]
pub async fn patch_unit(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<PatchUnit>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageUnits, None)?;
    let changes = parse_changes(body.into_inner())?;
    let unit = in_transaction(&state.store, async |tx| {
        Ok(units::update(tx, &Actor::from(&principal), *id, if_match.0, changes).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, unit.version, &UnitResponse::from(unit)))
}

/// Deletes a unit (admin only), refused with 409 while child units or users depend on it.
#[utoipa::path(
    tag = "units",
    operation_id = "delete_unit",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        Changing,
    )
)]
#[delete("/{id:[0-9a-fA-F-]+}")]
pub async fn delete_unit(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageUnits, None)?;
    in_transaction(&state.store, async |tx| Ok(units::delete(tx, &Actor::from(&principal), *id, if_match.0).await?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Import only this province (its 2-digit code) and what lies below it.
    #[param(example = "52")]
    province: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl From<ImportSummary> for ImportResponse {
    fn from(summary: ImportSummary) -> Self {
        Self { created: summary.created, updated: summary.updated, unchanged: summary.unchanged }
    }
}

/// The `province` query parameter of the list uploads: a province's code, or 400 naming it.
fn province_code(raw: Option<&str>) -> Result<Option<UnitCode>, ApiError> {
    raw.map(UnitCode::parse).transpose().map_err(|error| ApiError::BadRequest(format!("province: {error}")))
}

/// Imports the statistics office's unit list (CSV, the layout of `units-2025-01-04.csv`); running
/// it again changes nothing (admin only).
#[utoipa::path(
    tag = "units",
    operation_id = "import_units",
    params(ImportQuery),
    request_body(content = inline(CsvFile), content_type = "text/csv"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the import did", body = ImportResponse),
        Creating,
    )
)]
#[post("/import")]
pub async fn import_units(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageUnits, None)?;
    let province = province_code(query.province.as_deref())?;
    let listed = dvc_dvhc::read_units(body.as_ref(), province.as_ref())
        .map_err(|error| ApiError::invalid("", "invalid_unit_list", &error.to_string()))?;
    let summary = in_transaction(&state.store, async |tx| {
        Ok(units::import(tx, &Actor::from(&principal), &listed, &|_, _| {}).await?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ImportResponse::from(summary)))
}

/// What applying the reform's list did, or would do in a dry run.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReorganisationResponse {
    /// Old units closed on the eve of the reform (`valid_to` 2025-07-01: valid through 30 June).
    pub units_closed: usize,
    /// New provinces and communes opened on 1 July 2025.
    pub units_created: usize,
    /// Old units newly naming a successor.
    pub successors_linked: usize,
    /// Units the list names that were already as it wants them.
    pub unchanged: usize,
    /// Whether nothing was written.
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReorganisationQuery {
    /// `true` answers what would change and writes nothing.
    dry_run: Option<bool>,
    /// Only this new province (its code after the reform).
    province: Option<String>,
}

/// Applies the official old → new commune list of the 2025 reform (CSV, the layout of
/// `conversion-2025-07-01.csv`; admin only): old communes, districts and merged provinces close
/// (`valid_to` 2025-07-01, the first day they no longer exist), new communes and provinces open on
/// 2025-07-01 with no district level, and every old unit names its successors. Nothing is moved, so
/// periods before the reform report as before. Running it again changes nothing.
#[utoipa::path(
    tag = "units",
    operation_id = "apply_reorganisation",
    params(ReorganisationQuery),
    request_body(content = inline(CsvFile), content_type = "text/csv"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the reform changed (or would change)", body = ReorganisationResponse),
        Creating,
    )
)]
#[post("/reorganisations")]
pub async fn apply_reorganisation(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<ReorganisationQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageUnits, None)?;
    let province = province_code(query.province.as_deref())?;
    let rows = dvc_dvhc::read_conversion(body.as_ref(), province.as_ref())
        .map_err(|error| ApiError::invalid("", "invalid_conversion_list", &error.to_string()))?;
    let dry_run = query.dry_run.unwrap_or(false);
    let summary = in_transaction_or_dry_run(&state.store, dry_run, async |tx| {
        Ok(dvc_store::reorganisations::apply(tx, &Actor::from(&principal), &rows).await?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReorganisationResponse {
        units_closed: summary.units_closed,
        units_created: summary.units_created,
        successors_linked: summary.successors_linked,
        unchanged: summary.unchanged,
        dry_run,
    }))
}

/// How many officials moved to the successors of their closed units.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovedOfficialsResponse {
    pub officials_moved: usize,
}

/// Moves every active official of a unit closed by a reorganisation to its successor (the first
/// listed), with its grants, in one call (admin only); each move is audited.
#[utoipa::path(
    tag = "units",
    operation_id = "move_officials_to_successors",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many officials moved", body = MovedOfficialsResponse),
        Changing,
    )
)]
#[post("/reorganisations/officials")]
pub async fn move_officials_to_successors(
    state: web::Data<AppState>,
    Caller(principal): Caller,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageUnits, None)?;
    let officials_moved = in_transaction(&state.store, async |tx| {
        Ok(dvc_store::reorganisations::move_officials(tx, state.store.pii(), &Actor::from(&principal)).await?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MovedOfficialsResponse { officials_moved }))
}
