use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use dvc_domain::report::{NewReportSnapshot, ReportSnapshot, check_period_ended};
use dvc_domain::{Action, Period};
use dvc_store::report_snapshots::{self, SnapshotFilter};
use dvc_store::{Actor, reports, units};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problems::{Creating, Reading};
use super::reports::{MonthlyReportResponse, MonthlyRowResponse, parse_depth, parse_period};
use super::scope::unit_in_scope;
use crate::canonical;
use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, JsonBody, Query};
use crate::pagination::{ListResponse, PageQuery};
use crate::write::{Created, create_once, fingerprint, with_etag};
use crate::{AppState, Caller};

/// A figure of one unit that differs between a snapshot and today's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SnapshotDifference {
    pub unit_id: Uuid,
    /// The row's field (`created`, `officials_granted`…), or `row` for a unit present on one side only.
    pub field: String,
    /// The frozen value (`null` when the unit was not in the snapshot).
    #[schema(required = true)]
    pub frozen: Option<i64>,
    /// Today's value (`null` when the unit is no longer in the report).
    #[schema(required = true)]
    pub live: Option<i64>,
}

/// A frozen monthly report. `sha256` is the SHA-256 of `report` as canonical JSON (keys sorted,
/// no white space), so that anyone can check it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportSnapshotResponse {
    pub id: Uuid,
    #[schema(example = "2021-07")]
    pub period: String,
    pub unit_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The admin who froze it.
    #[schema(required = true)]
    pub created_by: Option<Uuid>,
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// The snapshot this one corrects.
    #[schema(required = true)]
    pub amends: Option<Uuid>,
    /// The report exactly as frozen.
    #[schema(value_type = MonthlyReportResponse)]
    pub report: Value,
    /// With `?compare=live`: each figure that differs from today's records.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub differences: Option<Vec<SnapshotDifference>>,
}

impl ReportSnapshotResponse {
    fn new(snapshot: ReportSnapshot) -> Result<Self, ApiError> {
        let report = serde_json::from_str(&snapshot.report).map_err(ApiError::internal)?;
        Ok(Self {
            id: snapshot.id,
            period: snapshot.period.to_string(),
            unit_id: snapshot.unit_id,
            created_at: snapshot.created_at,
            created_by: snapshot.created_by,
            sha256: snapshot.sha256,
            amends: snapshot.amends,
            report,
            differences: None,
        })
    }
}

/// Freezes the monthly report of a unit for a month that has ended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReportSnapshot {
    #[schema(example = "2021-07")]
    pub period: String,
    pub unit_id: Uuid,
    /// Levels of units below the unit, 0 to 3 (default 1).
    pub depth: Option<u8>,
    /// The snapshot of the same unit and month that this one corrects.
    pub amends: Option<Uuid>,
}

/// Freezes a monthly report (admin): it never changes afterwards, whatever happens to the records.
/// A correction is a new snapshot that `amends` the old one, which stays. A month that has not
/// ended (Vietnam time) cannot be frozen.
#[utoipa::path(
    tag = "reports",
    operation_id = "create_report_snapshot",
    request_body = CreateReportSnapshot,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Frozen", body = ReportSnapshotResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_report_snapshot(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateReportSnapshot>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::FreezeReport, None)?;
    let body = body.into_inner();
    let request = fingerprint("POST /report-snapshots", &serde_json::to_vec(&body).map_err(ApiError::internal)?);
    let mut fields = Fields::default();
    let period = fields.check("/period", Period::parse(&body.period).and_then(|p| check_period_ended(p, Utc::now())));
    let depth = parse_depth(body.depth.map(|depth| depth.to_string()).as_deref())
        .map_err(|_| dvc_domain::ParseError::new("invalid_depth", "depth is a whole number from 0 to 3"));
    let depth = fields.check("/depth", depth);
    let (period, depth) = fields.finish(|| Some((period?, depth?)))?;
    create_once(&state.store, &principal, key, request, async |tx| {
        let root = unit_in_scope(tx, &principal, Action::FreezeReport, body.unit_id, "/unit_id").await?;
        let report = reports::monthly(tx, Some(&root), period, depth).await?;
        let value = serde_json::to_value(MonthlyReportResponse::from(&report)).map_err(ApiError::internal)?;
        let report = canonical::to_string(&value);
        let new = NewReportSnapshot {
            period,
            unit_id: body.unit_id,
            depth,
            sha256: canonical::sha256_hex(&report),
            amends: body.amends,
            report,
        };
        let snapshot = report_snapshots::create(tx, &Actor::from(&principal), new).await?;
        Ok(Created::new(SNAPSHOT_VERSION, ReportSnapshotResponse::new(snapshot)?))
    })
    .await
}

/// Snapshots never change, so their entity tag never does.
const SNAPSHOT_VERSION: i64 = 1;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// Snapshots of this month (`YYYY-MM`).
    period: Option<String>,
    /// Snapshots of this unit.
    unit_id: Option<Uuid>,
}

/// Lists the snapshots of units in the caller's scope, oldest first.
#[utoipa::path(
    tag = "reports",
    operation_id = "list_report_snapshots",
    params(SnapshotQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of snapshots", body = ListResponse<ReportSnapshotResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_report_snapshots(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<SnapshotQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadReport, None)?;
    let period = query.period.as_deref().map(|raw| parse_period("period", raw)).transpose()?;
    let filter = SnapshotFilter { period, unit_id: query.unit_id };
    let found = report_snapshots::list(state.store.conn(), &principal.scope, &filter, page.request()?).await?;
    let items = found.items.into_iter().map(ReportSnapshotResponse::new).collect::<Result<Vec<_>, _>>()?;
    let found = dvc_store::Page { items, next: found.next };
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, |snapshot| snapshot)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// `live` lists each figure that differs from today's records.
    compare: Option<String>,
}

/// Reads a snapshot; with `?compare=live`, also each figure that differs from today's records.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_report_snapshot",
    params(("id" = Uuid, Path), CompareQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The snapshot", body = ReportSnapshotResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_report_snapshot(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    query: Query<CompareQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadReport, None)?;
    let compare = match query.compare.as_deref() {
        None => false,
        Some("live") => true,
        Some(_) => return Err(ApiError::BadRequest("compare: the only comparison is live".to_owned())),
    };
    let db = state.store.conn();
    let snapshot = report_snapshots::get(db, *id).await?;
    let root = units::path_of(db, snapshot.unit_id).await?;
    principal.authorize(Action::ReadReport, Some(&root))?;
    let (period, depth) = (snapshot.period, snapshot.depth);
    let mut response = ReportSnapshotResponse::new(snapshot)?;
    if compare {
        let live = MonthlyReportResponse::from(&reports::monthly(db, Some(&root), period, depth).await?);
        let frozen: MonthlyReportResponse =
            serde_json::from_value(response.report.clone()).map_err(ApiError::internal)?;
        response.differences = Some(differences(&frozen.rows, &live.rows));
    }
    Ok(with_etag(StatusCode::OK, SNAPSHOT_VERSION, &response))
}

/// The figures of a row, by field name, as the comparison reads them.
fn figures(row: &MonthlyRowResponse) -> [(&'static str, i64); 7] {
    [
        ("created", row.created),
        ("failed", row.failed),
        ("created_cumulative", row.created_cumulative),
        ("officials", row.officials),
        ("officials_with_portal_account", row.officials_with_portal_account),
        ("officials_granted", row.officials_granted),
        ("officials_active", row.officials_active),
    ]
}

/// Each figure that differs between the frozen rows and today's, unit by unit in the frozen order.
fn differences(frozen: &[MonthlyRowResponse], live: &[MonthlyRowResponse]) -> Vec<SnapshotDifference> {
    let mut found = Vec::new();
    for old in frozen {
        match live.iter().find(|row| row.unit_id == old.unit_id) {
            Some(new) => {
                for ((field, before), (_, now)) in figures(old).into_iter().zip(figures(new)) {
                    if before != now {
                        let field = field.to_owned();
                        found.push(SnapshotDifference {
                            unit_id: old.unit_id,
                            field,
                            frozen: Some(before),
                            live: Some(now),
                        });
                    }
                }
            }
            None => found.push(SnapshotDifference {
                unit_id: old.unit_id,
                field: "row".to_owned(),
                frozen: None,
                live: None,
            }),
        }
    }
    for new in live.iter().filter(|row| frozen.iter().all(|old| old.unit_id != row.unit_id)) {
        found.push(SnapshotDifference { unit_id: new.unit_id, field: "row".to_owned(), frozen: None, live: None });
    }
    found
}
