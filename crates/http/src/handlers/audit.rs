use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use dvc_domain::Action;
use dvc_store::audit::{self, AuditEvent, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problems::Reading;

use crate::error::ApiError;
use crate::extract::Query;
use crate::pagination::{ListResponse, PageQuery};
use crate::{AppState, Caller};

/// One recorded change. Personal numbers in `before` and `after` are masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The username of whoever made the change, or `system:…`.
    pub actor: String,
    #[schema(example = "unit.create")]
    pub action: String,
    #[schema(example = "unit")]
    pub entity: String,
    #[schema(required = true)]
    pub entity_id: Option<Uuid>,
    #[schema(required = true)]
    pub before: Option<serde_json::Value>,
    #[schema(required = true)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(event: AuditEvent) -> Self {
        Self {
            id: event.id,
            at: event.at,
            actor: event.actor,
            action: event.action,
            entity: event.entity,
            entity_id: event.entity_id,
            before: event.before,
            after: event.after,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The kind of record (`unit`, `user`…).
    entity: Option<String>,
    entity_id: Option<Uuid>,
    /// The actor's username.
    actor: Option<String>,
    /// Events at or after this moment.
    from: Option<DateTime<Utc>>,
    /// Events before this moment.
    to: Option<DateTime<Utc>>,
}

/// Lists audit events, oldest first (admin only).
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_events",
    params(AuditQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit events", body = ListResponse<AuditEventResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<AuditQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadAudit, None)?;
    let query = query.into_inner();
    let texts = [&query.entity, &query.actor];
    if texts.into_iter().flatten().any(|text| text.chars().any(char::is_control)) {
        return Err(ApiError::BadRequest("entity and actor cannot hold control characters".to_owned()));
    }
    let filter = AuditFilter {
        entity: query.entity,
        entity_id: query.entity_id,
        actor: query.actor,
        from: query.from,
        to: query.to,
    };
    let events = audit::list(state.store.conn(), &filter, page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(events, AuditEventResponse::from)))
}
