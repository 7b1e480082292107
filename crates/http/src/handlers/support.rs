use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use dvc_domain::support::{parse_message, parse_subject};
use dvc_domain::{Action, Principal, SupportChanges, SupportRequest, SupportStatus};
use dvc_store::{Actor, support, units};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problems::{Changing, Commenting, Creating, Reading};
use super::scope::unit_in_scope;
use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    SupportStatusDto as SupportStatus mirrors SupportStatus { Open, InProgress, Resolved }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentResponse {
    pub id: Uuid,
    /// The author's username.
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A unit's request for help.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupportRequestResponse {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub subject: String,
    pub body: String,
    pub status: SupportStatusDto,
    /// The user who opened it; `null` when the system did.
    #[schema(required = true)]
    pub created_by: Option<Uuid>,
    /// Oldest first; lists leave them out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub comments: Option<Vec<CommentResponse>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SupportRequestResponse {
    fn new(request: SupportRequest, with_comments: bool) -> Self {
        let comments = with_comments.then(|| {
            request
                .comments
                .into_iter()
                .map(|comment| CommentResponse {
                    id: comment.id,
                    author: comment.author,
                    body: comment.body,
                    created_at: comment.created_at,
                })
                .collect()
        });
        Self {
            id: request.id,
            unit_id: request.unit_id,
            subject: request.subject,
            body: request.body,
            status: request.status.into(),
            created_by: request.opened_by,
            comments,
            created_at: request.created_at,
            updated_at: request.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenSupportRequest {
    /// The unit that needs help: the caller's own, or one below it.
    pub unit_id: Uuid,
    pub subject: String,
    pub body: String,
}

/// The writable fields of a support request; only the Service Center (admin) moves `status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchSupportRequest {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub status: Option<SupportStatusDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    pub body: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupportQuery {
    status: Option<SupportStatusDto>,
}

/// Lists the support requests of the caller's subtree (a clerk's: its own unit's).
#[utoipa::path(
    tag = "support",
    operation_id = "list_support_requests",
    params(SupportQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of support requests", body = ListResponse<SupportRequestResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_support_requests(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<SupportQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::UseSupport, None)?;
    let found =
        support::list(state.store.conn(), &principal.scope, query.status.map(Into::into), page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, |request| SupportRequestResponse::new(request, false))))
}

/// Opens a support request for a unit.
#[utoipa::path(
    tag = "support",
    operation_id = "open_support_request",
    request_body = OpenSupportRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the support request", body = SupportRequestResponse),
        Creating,
    )
)]
#[post("")]
pub async fn open_support_request(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<OpenSupportRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::UseSupport, None)?;
    let request = fingerprint("POST /support-requests", &serde_json::to_vec(&*body).map_err(ApiError::internal)?);
    let mut fields = Fields::default();
    let subject = fields.check("/subject", parse_subject(&body.subject));
    let message = fields.check("/body", parse_message(&body.body));
    let (subject, message) = fields.finish(|| Some((subject?, message?)))?;
    create_once(&state.store, &principal, key, request, async |tx| {
        unit_in_scope(tx, &principal, Action::UseSupport, body.unit_id, "/unit_id").await?;
        let opened = support::open(tx, &Actor::from(&principal), body.unit_id, subject, message).await?;
        Ok(Created::new(opened.version, SupportRequestResponse::new(opened, true)))
    })
    .await
}

/// Loads a request the caller may see, or 404.
async fn visible_request(
    db: &impl dvc_store::Connection,
    principal: &Principal,
    id: Uuid,
) -> Result<SupportRequest, ApiError> {
    let request = support::get(db, id).await?;
    let path = units::path_of(db, request.unit_id).await?;
    principal.authorize(Action::UseSupport, Some(&path))?;
    Ok(request)
}

/// Reads a support request with its comments.
#[utoipa::path(
    tag = "support",
    operation_id = "get_support_request",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The support request", body = SupportRequestResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_support_request(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let request = visible_request(state.store.conn(), &principal, *id).await?;
    Ok(with_etag(StatusCode::OK, request.version, &SupportRequestResponse::new(request, true)))
}

/// Changes a support request: its subject and text, or (admin only) its status.
#[utoipa::path(
    tag = "support",
    operation_id = "patch_support_request",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = PatchSupportRequest, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The support request", body = SupportRequestResponse),
        Changing,
    )
)]
#[patch("/{id:[0-9a-fA-F-]+}")]
pub async fn patch_support_request(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<PatchSupportRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.status.is_some() {
        principal.authorize(Action::ManageSupport, None)?;
    }
    let mut fields = Fields::default();
    let subject = body.subject.as_deref().map(|subject| fields.check("/subject", parse_subject(subject)));
    let message = body.body.as_deref().map(|message| fields.check("/body", parse_message(message)));
    let changes = fields.finish(|| {
        Some(SupportChanges {
            subject: subject.flatten(),
            body: message.flatten(),
            status: body.status.map(Into::into),
        })
    })?;
    let request = in_transaction(&state.store, async |tx| {
        visible_request(tx, &principal, *id).await?;
        Ok(support::update(tx, &Actor::from(&principal), *id, if_match.0, changes).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, request.version, &SupportRequestResponse::new(request, true)))
}

/// Adds a comment to a support request; the unit's users and the Service Center talk it through.
#[utoipa::path(
    tag = "support",
    operation_id = "comment_support_request",
    params(("id" = Uuid, Path)),
    request_body = NewComment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: the support request", body = SupportRequestResponse),
        Commenting,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/comments")]
pub async fn comment_support_request(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    id: web::Path<Uuid>,
    body: JsonBody<NewComment>,
) -> Result<HttpResponse, ApiError> {
    let request = fingerprint(&format!("POST /support-requests/{id}/comments"), body.body.as_bytes());
    let mut fields = Fields::default();
    let message = fields.check("/body", parse_message(&body.body));
    let message = fields.finish(|| message)?;
    create_once(&state.store, &principal, key, request, async |tx| {
        visible_request(tx, &principal, *id).await?;
        let updated = support::comment(tx, &Actor::from(&principal), *id, message).await?;
        Ok(Created::new(updated.version, SupportRequestResponse::new(updated, true)))
    })
    .await
}
