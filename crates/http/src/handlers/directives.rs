use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use dvc_domain::directive::{check_milestones, parse_code, parse_title};
use dvc_domain::{Action, Directive, DirectiveChanges, Milestone, MilestoneKey, NewDirective};
use dvc_store::{Actor, directives};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problems::{Changing, Creating, Reading};

use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    MilestoneKeyDto as MilestoneKey mirrors MilestoneKey { OfficialPortalAccounts, RostersSubmitted, GrantsCompleted, AssistedRegistrationStart, MonthlyReport }
}

/// A step of the drive and its deadline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Milestone)]
pub struct MilestoneDto {
    pub key: MilestoneKeyDto,
    /// The last day on which the step is on time (for a start, its first day).
    pub due_on: NaiveDate,
}

/// A directive with its deadlines.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectiveResponse {
    pub id: Uuid,
    #[schema(example = "3102/UBND-KSTT")]
    pub code: String,
    pub title: String,
    pub issued_on: NaiveDate,
    pub milestones: Vec<MilestoneDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Directive> for DirectiveResponse {
    fn from(directive: Directive) -> Self {
        Self {
            id: directive.id,
            code: directive.code,
            title: directive.title,
            issued_on: directive.issued_on,
            milestones: directive
                .milestones
                .into_iter()
                .map(|milestone| MilestoneDto { key: milestone.key.into(), due_on: milestone.due_on })
                .collect(),
            created_at: directive.created_at,
            updated_at: directive.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDirective {
    pub code: String,
    pub title: String,
    pub issued_on: NaiveDate,
    #[serde(default)]
    pub milestones: Vec<MilestoneDto>,
}

/// The writable fields of a directive, as a JSON merge patch; `milestones` replaces the list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchDirective {
    pub code: Option<String>,
    pub title: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub milestones: Option<Vec<MilestoneDto>>,
}

fn milestones(dtos: &[MilestoneDto]) -> Vec<Milestone> {
    dtos.iter().map(|dto| Milestone { key: dto.key.into(), due_on: dto.due_on }).collect()
}

/// Lists directives, oldest first.
#[utoipa::path(
    tag = "directives",
    operation_id = "list_directives",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of directives", body = ListResponse<DirectiveResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_directives(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadDirective, None)?;
    let found = directives::list(state.store.conn(), page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, DirectiveResponse::from)))
}

/// Records a directive with its deadlines (admin).
#[utoipa::path(
    tag = "directives",
    operation_id = "create_directive",
    request_body = CreateDirective,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the directive", body = DirectiveResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_directive(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateDirective>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageDirectives, None)?;
    let request = fingerprint("POST /directives", &serde_json::to_vec(&*body).map_err(ApiError::internal)?);
    let mut fields = Fields::default();
    let code = fields.check("/code", parse_code(&body.code));
    let title = fields.check("/title", parse_title(&body.title));
    let milestones = fields.check("/milestones", check_milestones(milestones(&body.milestones)));
    let new = fields.finish(|| {
        Some(NewDirective { code: code?, title: title?, issued_on: body.issued_on, milestones: milestones? })
    })?;
    create_once(&state.store, &principal, key, request, async |tx| {
        let directive = directives::create(tx, &Actor::from(&principal), new).await?;
        Ok(Created::new(directive.version, DirectiveResponse::from(directive)))
    })
    .await
}

/// Reads a directive.
#[utoipa::path(
    tag = "directives",
    operation_id = "get_directive",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The directive", body = DirectiveResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_directive(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadDirective, None)?;
    let directive = directives::get(state.store.conn(), *id).await?;
    Ok(with_etag(StatusCode::OK, directive.version, &DirectiveResponse::from(directive)))
}

/// Changes a directive (admin).
#[utoipa::path(
    tag = "directives",
    operation_id = "patch_directive",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = PatchDirective, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The directive", body = DirectiveResponse),
        Changing,
    )
)]
#[patch("/{id:[0-9a-fA-F-]+}")]
pub async fn patch_directive(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<PatchDirective>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ManageDirectives, None)?;
    let mut fields = Fields::default();
    let code = body.code.as_deref().map(|code| fields.check("/code", parse_code(code)));
    let title = body.title.as_deref().map(|title| fields.check("/title", parse_title(title)));
    let milestones =
        body.milestones.as_deref().map(|list| fields.check("/milestones", check_milestones(milestones(list))));
    let changes = fields.finish(|| {
        Some(DirectiveChanges {
            code: code.flatten(),
            title: title.flatten(),
            issued_on: body.issued_on,
            milestones: milestones.flatten(),
        })
    })?;
    let directive = in_transaction(&state.store, async |tx| {
        Ok(directives::update(tx, &Actor::from(&principal), *id, if_match.0, changes).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, directive.version, &DirectiveResponse::from(directive)))
}
