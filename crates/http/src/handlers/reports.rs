use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use dvc_domain::report::{MAX_DEPTH, MAX_MONTHS, MilestoneStatus, MonthlyReport, MonthlyRow, Tally, UnitFigures};
use dvc_domain::{AccountKind, Action, Period, Principal, UnitPath};
use dvc_reports::{Bars, Cell, ChartSpec, Column, Table};
use dvc_store::{Connection, reports, units};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::files::{CsvFile, Spreadsheet, SvgImage};
use super::problems::Reading;
use crate::error::ApiError;
use crate::extract::Query;
use crate::mirror::mirror_enum;
use crate::{AppState, Caller};

/// Created and failed attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KindTally {
    pub created: i64,
    pub failed: i64,
}

impl From<Tally> for KindTally {
    fn from(tally: Tally) -> Self {
        Self { created: tally.created, failed: tally.failed }
    }
}

/// Attempts in the period by kind of account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ByAccountKind {
    pub dvc_portal: KindTally,
    pub vneid_level1: KindTally,
    pub vneid_level2: KindTally,
}

/// One unit's row; every figure counts the unit's whole subtree.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MonthlyRowResponse {
    pub unit_id: Uuid,
    pub unit_code: String,
    pub unit_name: String,
    pub level: i32,
    #[schema(required = true)]
    pub parent_id: Option<Uuid>,
    /// Accounts created in the period (voided records never count).
    pub created: i64,
    /// Failed attempts in the period.
    pub failed: i64,
    /// Accounts created from the start of the drive to the end of the period.
    pub created_cumulative: i64,
    /// Officials recorded by the end of the period.
    pub officials: i64,
    /// Active officials with their own portal account.
    pub officials_with_portal_account: i64,
    /// Active officials holding a grant in force.
    pub officials_granted: i64,
    /// Officials still at a desk at the end of the period.
    pub officials_active: i64,
    pub by_account_kind: ByAccountKind,
}

impl From<&MonthlyRow> for MonthlyRowResponse {
    fn from(row: &MonthlyRow) -> Self {
        let figures = &row.figures;
        let total = figures.total();
        let kind = |kind: AccountKind| KindTally::from(figures.by_kind.get(kind.as_str()).copied().unwrap_or_default());
        Self {
            unit_id: row.unit.id,
            unit_code: row.unit.code.clone(),
            unit_name: row.unit.name.clone(),
            level: row.unit.level,
            parent_id: row.unit.parent_id,
            created: total.created,
            failed: total.failed,
            created_cumulative: figures.created_cumulative,
            officials: figures.officials,
            officials_with_portal_account: figures.officials_with_portal_account,
            officials_granted: figures.officials_granted,
            officials_active: figures.officials_active,
            by_account_kind: ByAccountKind {
                dvc_portal: kind(AccountKind::DvcPortal),
                vneid_level1: kind(AccountKind::VneidLevel1),
                vneid_level2: kind(AccountKind::VneidLevel2),
            },
        }
    }
}

/// The monthly report of a unit: its own row first, then the units below it down to `depth`. The
/// country's report (`unit_id` null) has no row of its own: its rows start with the provinces.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MonthlyReportResponse {
    /// The month, in Vietnam time.
    #[schema(example = "2021-07")]
    pub period: String,
    /// The report's unit; null for the whole country's report.
    #[schema(required = true)]
    pub unit_id: Option<Uuid>,
    pub depth: u8,
    pub generated_at: DateTime<Utc>,
    pub rows: Vec<MonthlyRowResponse>,
}

impl From<&MonthlyReport> for MonthlyReportResponse {
    fn from(report: &MonthlyReport) -> Self {
        Self {
            period: report.period.to_string(),
            unit_id: report.unit_id,
            depth: report.depth,
            generated_at: report.generated_at,
            rows: report.rows.iter().map(MonthlyRowResponse::from).collect(),
        }
    }
}

/// The forms a report is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Xlsx,
    Svg,
}

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const SVG: &str = "image/svg+xml";

impl Format {
    /// `?format=` wins; otherwise the `Accept` header may ask for CSV or XLSX; JSON by default.
    fn negotiate(req: &HttpRequest, asked: Option<&str>) -> Result<Self, ApiError> {
        match asked {
            Some("json") => return Ok(Format::Json),
            Some("csv") => return Ok(Format::Csv),
            Some("xlsx") => return Ok(Format::Xlsx),
            Some("svg") => return Ok(Format::Svg),
            Some(_) => return Err(ApiError::BadRequest("format must be json, csv, xlsx or svg".to_owned())),
            None => {}
        }
        let accept = req.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or("");
        Ok(if accept.contains("text/csv") {
            Format::Csv
        } else if accept.contains(XLSX) {
            Format::Xlsx
        } else {
            Format::Json
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthlyQuery {
    /// The month, `YYYY-MM` in Vietnam time.
    #[param(example = "2021-07")]
    period: String,
    /// The report's unit; the caller's own unit when omitted, and the whole country for a caller
    /// without one (an admin).
    unit_id: Option<Uuid>,
    /// Levels of units below the report's unit, 0 to 3 (default 1: its children; for the country,
    /// its provinces).
    #[param(value_type = Option<u8>, minimum = 0, maximum = 3)]
    depth: Option<String>,
    /// `json` (default), `csv`, `xlsx` or `svg` (a bar chart of the units below).
    format: Option<String>,
}

/// A month named by the query parameter `name`, or 400 naming it.
pub fn parse_period(name: &str, raw: &str) -> Result<Period, ApiError> {
    Period::parse(raw).map_err(|error| ApiError::BadRequest(format!("{name}: {}", error.detail)))
}

pub fn parse_depth(raw: Option<&str>) -> Result<u8, ApiError> {
    let Some(raw) = raw else { return Ok(1) };
    raw.parse::<u8>()
        .ok()
        .filter(|depth| *depth <= MAX_DEPTH)
        .ok_or_else(|| ApiError::BadRequest(format!("depth must be a whole number from 0 to {MAX_DEPTH}")))
}

/// The unit a report is about: the one asked for, or the caller's own, which the caller may read
/// reports of (404 otherwise).
pub async fn report_unit(
    db: &impl Connection,
    principal: &Principal,
    asked: Option<Uuid>,
) -> Result<(Uuid, UnitPath), ApiError> {
    principal.authorize(Action::ReadReport, None)?;
    let unit_id = asked
        .or(principal.unit_id)
        .ok_or_else(|| ApiError::BadRequest("unit_id is required for a user without a unit".to_owned()))?;
    let path = units::path_of(db, unit_id).await?;
    principal.authorize(Action::ReadReport, Some(&path))?;
    Ok((unit_id, path))
}

/// The monthly report: a row for the unit and for each unit below it down to `depth`,
/// each counting its whole subtree, from the counters kept with every record. Months are Vietnam
/// time; voided records never count. As JSON, CSV (UTF-8 with BOM), XLSX (title, Vietnamese
/// headings, totals and a chart) or an SVG bar chart.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_monthly_report",
    params(MonthlyQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", content(
            (MonthlyReportResponse = "application/json"),
            (inline(CsvFile) = "text/csv"),
            (inline(Spreadsheet) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (inline(SvgImage) = "image/svg+xml"),
        )),
        Reading,
    )
)]
#[get("/monthly")]
pub async fn get_monthly_report(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    req: HttpRequest,
    query: Query<MonthlyQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = Format::negotiate(&req, query.format.as_deref())?;
    let period = parse_period("period", &query.period)?;
    let depth = parse_depth(query.depth.as_deref())?;
    let db = state.store.conn().snapshot().await?;
    let root = match (query.unit_id, principal.unit_id) {
        (None, None) => {
            principal.authorize_unscoped(Action::ReadReport)?;
            None
        }
        (asked, _) => Some(report_unit(&db, &principal, asked).await?.1),
    };
    let report = reports::monthly(&db, root.as_ref(), period, depth).await?;
    db.commit().await?;
    render_monthly(&report, format)
}

const MONTHLY_COLUMNS: [Column; 16] = [
    Column { key: "unit_code", heading: "Mã đơn vị" },
    Column { key: "unit_name", heading: "Đơn vị" },
    Column { key: "level", heading: "Cấp" },
    Column { key: "created", heading: "Tạo thành công" },
    Column { key: "failed", heading: "Không thành công" },
    Column { key: "created_cumulative", heading: "Luỹ kế thành công" },
    Column { key: "officials", heading: "Số công chức" },
    Column { key: "officials_with_portal_account", heading: "Đã có tài khoản" },
    Column { key: "officials_granted", heading: "Đã được phân quyền" },
    Column { key: "officials_active", heading: "Đang làm việc" },
    Column { key: "dvc_portal_created", heading: "Cổng DVC: thành công" },
    Column { key: "dvc_portal_failed", heading: "Cổng DVC: không thành công" },
    Column { key: "vneid_level1_created", heading: "VNeID mức 1: thành công" },
    Column { key: "vneid_level1_failed", heading: "VNeID mức 1: không thành công" },
    Column { key: "vneid_level2_created", heading: "VNeID mức 2: thành công" },
    Column { key: "vneid_level2_failed", heading: "VNeID mức 2: không thành công" },
];

fn monthly_cells(row: &MonthlyRow) -> Vec<Cell> {
    let unit = &row.unit;
    figure_cells(
        [Cell::Text(unit.code.clone()), Cell::Text(unit.name.clone()), Cell::Number(i64::from(unit.level))],
        &row.figures,
    )
}

/// The cells of a monthly report's totals row: its unit's figures, or the country's.
fn monthly_totals(report: &MonthlyReport) -> Vec<Cell> {
    let level = report.rows.first().filter(|_| report.unit_id.is_some()).map_or(0, |row| row.unit.level);
    figure_cells(
        [Cell::Text("Tổng cộng".to_owned()), Cell::Text(String::new()), Cell::Number(i64::from(level))],
        &report.total(),
    )
}

fn figure_cells(unit: [Cell; 3], figures: &UnitFigures) -> Vec<Cell> {
    let total = figures.total();
    let mut cells = unit.to_vec();
    cells.extend([
        Cell::Number(total.created),
        Cell::Number(total.failed),
        Cell::Number(figures.created_cumulative),
        Cell::Number(figures.officials),
        Cell::Number(figures.officials_with_portal_account),
        Cell::Number(figures.officials_granted),
        Cell::Number(figures.officials_active),
    ]);
    for (_, tally) in figures.kinds() {
        cells.push(Cell::Number(tally.created));
        cells.push(Cell::Number(tally.failed));
    }
    cells
}

fn monthly_title(report: &MonthlyReport) -> String {
    let name = match report.unit_id {
        Some(_) => report.rows.first().map_or("", |row| row.unit.name.as_str()),
        None => "cả nước",
    };
    format!("Kết quả tạo tài khoản công dân tháng {} — {name}", report.period)
}

/// Renders a monthly report. In CSV every unit is a row, the report's own unit first; in XLSX the
/// units below are the rows and the report's own unit (or the country) is the totals row, as
/// people read a sheet.
fn render_monthly(report: &MonthlyReport, format: Format) -> Result<HttpResponse, ApiError> {
    let below = report.rows_below();
    let bytes = match format {
        Format::Json => return Ok(HttpResponse::Ok().json(MonthlyReportResponse::from(report))),
        Format::Csv => {
            let table = Table {
                title: monthly_title(report),
                columns: MONTHLY_COLUMNS.to_vec(),
                rows: report.rows.iter().map(monthly_cells).collect(),
                totals: None,
                chart: None,
            };
            (CSV, dvc_reports::csv(&table).map_err(ApiError::internal)?)
        }
        Format::Xlsx => {
            let totals = Some(monthly_totals(report));
            let table = Table {
                title: monthly_title(report),
                columns: MONTHLY_COLUMNS.to_vec(),
                rows: below.iter().map(monthly_cells).collect(),
                totals,
                chart: Some(ChartSpec {
                    title: "Tạo tài khoản: thành công và không thành công".to_owned(),
                    label: 1,
                    series: vec![3, 4],
                    rows: 0..below.len(),
                }),
            };
            (XLSX, dvc_reports::xlsx(&table).map_err(ApiError::internal)?)
        }
        Format::Svg => {
            let groups: Vec<Bars> = below
                .iter()
                .map(|row| {
                    let total = row.figures.total();
                    Bars { label: row.unit.name.clone(), values: vec![total.created, total.failed] }
                })
                .collect();
            let svg = dvc_reports::bar_chart(&monthly_title(report), &["thành công", "không thành công"], &groups);
            (SVG, svg.into_bytes())
        }
    };
    let mut response = HttpResponse::Ok();
    response.content_type(bytes.0);
    if format == Format::Xlsx {
        let name = format!("bao-cao-{}.xlsx", report.period);
        response.insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")));
    }
    Ok(response.body(bytes.1))
}

/// Serves a report that has a JSON form and a table: JSON, CSV or XLSX (no chart form).
fn render_table<T: Serialize>(
    report: &T,
    table: impl FnOnce(&T) -> Table,
    format: Format,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(report)),
        Format::Csv => {
            Ok(HttpResponse::Ok().content_type(CSV).body(dvc_reports::csv(&table(report)).map_err(ApiError::internal)?))
        }
        Format::Xlsx => Ok(HttpResponse::Ok()
            .content_type(XLSX)
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.xlsx\"")))
            .body(dvc_reports::xlsx(&table(report)).map_err(ApiError::internal)?)),
        Format::Svg => Err(ApiError::BadRequest("format: svg is offered for the monthly report only".to_owned())),
    }
}

/// One unit's attempts in one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesRowResponse {
    #[schema(example = "2021-07")]
    pub period: String,
    pub unit_id: Uuid,
    pub unit_code: String,
    pub unit_name: String,
    pub created: i64,
    pub failed: i64,
}

/// A unit's attempts and each child's, month by month.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeseriesResponse {
    pub unit_id: Uuid,
    pub from: String,
    pub to: String,
    pub rows: Vec<SeriesRowResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeseriesQuery {
    /// The unit; the caller's own when omitted.
    unit_id: Option<Uuid>,
    /// The first month, `YYYY-MM` (default: eleven months before `to`).
    from: Option<String>,
    /// The last month, `YYYY-MM` (default: this month); at most 120 months after `from`.
    to: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    format: Option<String>,
}

/// Month by month, the attempts of a unit and of each of its children, from the counters.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_timeseries_report",
    params(TimeseriesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The series", content(
            (TimeseriesResponse = "application/json"),
            (inline(CsvFile) = "text/csv"),
            (inline(Spreadsheet) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        Reading,
    )
)]
#[get("/timeseries")]
pub async fn get_timeseries_report(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    req: HttpRequest,
    query: Query<TimeseriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = Format::negotiate(&req, query.format.as_deref())?;
    let to = match query.to.as_deref() {
        Some(raw) => parse_period("to", raw)?,
        None => Period::of(Utc::now()),
    };
    let from = match query.from.as_deref() {
        Some(raw) => parse_period("from", raw)?,
        None => (0..11).fold(to, |period, _| period.previous()),
    };
    if from > to {
        return Err(ApiError::BadRequest("to: the last month comes before the first (from)".to_owned()));
    }
    if from.months_until(to) > MAX_MONTHS {
        return Err(ApiError::BadRequest(format!("from, to: a series spans at most {MAX_MONTHS} months")));
    }
    let db = state.store.conn();
    let (unit_id, _) = report_unit(db, &principal, query.unit_id).await?;
    let points = reports::timeseries(db, unit_id, from, to).await?;
    let rows: Vec<SeriesRowResponse> = points
        .iter()
        .map(|point| SeriesRowResponse {
            period: point.period.to_string(),
            unit_id: point.unit.id,
            unit_code: point.unit.code.clone(),
            unit_name: point.unit.name.clone(),
            created: point.tally.created,
            failed: point.tally.failed,
        })
        .collect();
    let response = TimeseriesResponse { unit_id, from: from.to_string(), to: to.to_string(), rows };
    let table = |report: &TimeseriesResponse| Table {
        title: format!("Kết quả tạo tài khoản công dân từ {from} đến {to}"),
        columns: vec![
            Column { key: "period", heading: "Tháng" },
            Column { key: "unit_code", heading: "Mã đơn vị" },
            Column { key: "unit_name", heading: "Đơn vị" },
            Column { key: "created", heading: "Tạo thành công" },
            Column { key: "failed", heading: "Không thành công" },
        ],
        rows: report
            .rows
            .iter()
            .map(|row| {
                vec![
                    Cell::Text(row.period.clone()),
                    Cell::Text(row.unit_code.clone()),
                    Cell::Text(row.unit_name.clone()),
                    Cell::Number(row.created),
                    Cell::Number(row.failed),
                ]
            })
            .collect(),
        totals: None,
        chart: None,
    };
    render_table(&response, table, format, &format!("chuoi-thoi-gian-{from}-{to}"))
}

/// One official's attempts in the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficialRowResponse {
    pub official_id: Uuid,
    pub full_name: String,
    pub unit_id: Uuid,
    pub active: bool,
    pub created: i64,
    pub failed: i64,
    /// Created over all attempts, from 0 to 1; `null` without attempts.
    #[schema(required = true)]
    pub success_rate: Option<f64>,
}

/// Each official of a unit's subtree with its attempts in the month, in roster order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficialsReportResponse {
    #[schema(example = "2021-07")]
    pub period: String,
    pub unit_id: Uuid,
    pub rows: Vec<OfficialRowResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficialsReportQuery {
    /// The month, `YYYY-MM` in Vietnam time.
    #[param(example = "2021-07")]
    period: String,
    /// The unit; the caller's own when omitted.
    unit_id: Option<Uuid>,
    /// `json` (default), `csv` or `xlsx`.
    format: Option<String>,
}

/// Each official of a unit's subtree with its attempts in the month (created, failed, success
/// rate), in roster order.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_officials_report",
    params(OfficialsReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The officials' figures", content(
            (OfficialsReportResponse = "application/json"),
            (inline(CsvFile) = "text/csv"),
            (inline(Spreadsheet) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        Reading,
    )
)]
#[get("/officials")]
pub async fn get_officials_report(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    req: HttpRequest,
    query: Query<OfficialsReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = Format::negotiate(&req, query.format.as_deref())?;
    let period = parse_period("period", &query.period)?;
    let db = state.store.conn();
    let (unit_id, _) = report_unit(db, &principal, query.unit_id).await?;
    let figures = reports::officials(db, unit_id, period).await?;
    let rows: Vec<OfficialRowResponse> = figures
        .iter()
        .map(|official| OfficialRowResponse {
            official_id: official.official_id,
            full_name: official.full_name.clone(),
            unit_id: official.unit_id,
            active: official.active,
            created: official.tally.created,
            failed: official.tally.failed,
            success_rate: official.success_rate(),
        })
        .collect();
    let response = OfficialsReportResponse { period: period.to_string(), unit_id, rows };
    let table = |report: &OfficialsReportResponse| Table {
        title: format!("Kết quả của từng công chức tháng {period}"),
        columns: vec![
            Column { key: "full_name", heading: "Họ và tên" },
            Column { key: "created", heading: "Tạo thành công" },
            Column { key: "failed", heading: "Không thành công" },
            Column { key: "success_rate", heading: "Tỷ lệ thành công" },
        ],
        rows: report
            .rows
            .iter()
            .map(|row| {
                vec![
                    Cell::Text(row.full_name.clone()),
                    Cell::Number(row.created),
                    Cell::Number(row.failed),
                    row.success_rate.map_or(Cell::Empty, Cell::Ratio),
                ]
            })
            .collect(),
        totals: None,
        chart: None,
    };
    render_table(&response, table, format, &format!("cong-chuc-{period}"))
}

mirror_enum! {
    /// Where a unit stands on one step of a directive.
    MilestoneStatusDto as MilestoneStatus mirrors MilestoneStatus { DoneOnTime, DoneLate, Pending, Overdue }
}

/// One unit's standing on one milestone.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceRowResponse {
    pub unit_id: Uuid,
    pub unit_code: String,
    pub unit_name: String,
    #[schema(example = "rosters_submitted")]
    pub milestone: String,
    pub due_on: NaiveDate,
    pub status: MilestoneStatusDto,
    /// The day the step was done, in Vietnam; `null` while it is not.
    #[schema(required = true)]
    pub done_on: Option<NaiveDate>,
}

/// The unit and each of its children against each milestone of a directive.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceResponse {
    pub directive_id: Uuid,
    pub unit_id: Uuid,
    /// The day the standing was judged, in Vietnam.
    pub as_of: NaiveDate,
    pub rows: Vec<ComplianceRowResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    directive_id: Uuid,
    /// The unit; the caller's own when omitted.
    unit_id: Option<Uuid>,
    /// `json` (default), `csv` or `xlsx`.
    format: Option<String>,
}

/// Follow-up on deadlines: for the unit and each child, each milestone of the directive as
/// `done_on_time`, `done_late`, `pending` or `overdue`, with the day it was done: officials' portal
/// accounts, rosters submitted, grants completed, first assisted registration, monthly snapshot.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_compliance_report",
    params(ComplianceQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The standing on each milestone", content(
            (ComplianceResponse = "application/json"),
            (inline(CsvFile) = "text/csv"),
            (inline(Spreadsheet) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        Reading,
    )
)]
#[get("/compliance")]
pub async fn get_compliance_report(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    req: HttpRequest,
    query: Query<ComplianceQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = Format::negotiate(&req, query.format.as_deref())?;
    let db = state.store.conn();
    let (unit_id, _) = report_unit(db, &principal, query.unit_id).await?;
    let directive = match dvc_store::directives::get(db, query.directive_id).await {
        Ok(directive) => directive,
        Err(dvc_store::StoreError::NotFound) => {
            return Err(ApiError::BadRequest("directive_id: no such directive".to_owned()));
        }
        Err(other) => return Err(other.into()),
    };
    let today = dvc_domain::time::today_in_vietnam();
    let found = reports::compliance(db, unit_id, &directive, today).await?;
    let rows: Vec<ComplianceRowResponse> = found
        .iter()
        .map(|row| ComplianceRowResponse {
            unit_id: row.unit.id,
            unit_code: row.unit.code.clone(),
            unit_name: row.unit.name.clone(),
            milestone: row.key.as_str().to_owned(),
            due_on: row.due_on,
            status: row.status.into(),
            done_on: row.done_on,
        })
        .collect();
    let response = ComplianceResponse { directive_id: directive.id, unit_id, as_of: today, rows };
    let table = |report: &ComplianceResponse| Table {
        title: format!("Tiến độ thực hiện văn bản {}", directive.code),
        columns: vec![
            Column { key: "unit_code", heading: "Mã đơn vị" },
            Column { key: "unit_name", heading: "Đơn vị" },
            Column { key: "milestone", heading: "Nội dung" },
            Column { key: "due_on", heading: "Thời hạn" },
            Column { key: "status", heading: "Tình trạng" },
            Column { key: "done_on", heading: "Ngày hoàn thành" },
        ],
        rows: report
            .rows
            .iter()
            .map(|row| {
                vec![
                    Cell::Text(row.unit_code.clone()),
                    Cell::Text(row.unit_name.clone()),
                    Cell::Text(row.milestone.clone()),
                    Cell::Text(row.due_on.to_string()),
                    Cell::Text(MilestoneStatus::from(row.status).as_str().to_owned()),
                    row.done_on.map_or(Cell::Empty, |day| Cell::Text(day.to_string())),
                ]
            })
            .collect(),
        totals: None,
        chart: None,
    };
    render_table(&response, table, format, "tien-do")
}
