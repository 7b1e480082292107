//! Webhook subscriptions (admin): where the feed's events are pushed, and how their deliveries went.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use dvc_domain::{Action, ParseError, Principal};
use dvc_store::webhooks::{self, Attempt, Delivery, DeliveryStatus, NewWebhook, Webhook, WebhookChanges};
use dvc_store::{Actor, Connection, StoreError, units};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::events::parse_types;
use super::problems::{Changing, Creating, Reading};

use crate::delivery::{check_url, new_secret};
use crate::error::{ApiError, Fields};
use crate::extract::{IdempotencyKey, IfMatch, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::patch::Patch;
use crate::write::{Created, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

/// A subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: Uuid,
    #[schema(example = "https://dichvucong.binhdinh.gov.vn/dvc-events")]
    pub url: String,
    /// The event types sent; empty means every type.
    pub types: Vec<String>,
    /// Only events of this unit's subtree; every unit when `null`.
    #[schema(required = true)]
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookResponse {
    fn from(webhook: Webhook) -> Self {
        Self {
            id: webhook.id,
            url: webhook.url,
            types: webhook.types,
            unit_id: webhook.unit_id,
            active: webhook.active,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

/// A subscription just registered, with its signing secret: shown this once, never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhookResponse {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// `whsec_` and the base64 key that signs every delivery (`webhook-signature`).
    pub secret: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An http or https URL; loopback and private addresses are refused unless the server allows them.
    pub url: String,
    /// Event types to send (`grant.created`…); every type when empty or absent.
    #[serde(default)]
    pub types: Vec<String>,
    /// Only events of this unit's subtree.
    pub unit_id: Option<Uuid>,
    /// Whether deliveries are sent (default `true`).
    pub active: Option<bool>,
}

/// The writable fields of a subscription, as a JSON merge patch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhook {
    pub url: Option<String>,
    pub types: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub unit_id: Patch<Uuid>,
    pub active: Option<bool>,
}

mirror_enum! {
    DeliveryStatusDto as DeliveryStatus mirrors DeliveryStatus { Pending, Delivered, Failed }
}

/// One try at sending a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponse {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, or `null` when it did not answer.
    #[schema(required = true)]
    pub status_code: Option<u16>,
    /// How long the receiver took, in milliseconds.
    pub latency_ms: i64,
    /// Why no answer came (refused, timed out…).
    #[schema(required = true)]
    pub error: Option<String>,
}

impl From<Attempt> for AttemptResponse {
    fn from(attempt: Attempt) -> Self {
        Self { at: attempt.at, status_code: attempt.status_code, latency_ms: attempt.latency_ms, error: attempt.error }
    }
}

/// One event sent, or to be sent, to one subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: Uuid,
    pub event_id: Uuid,
    pub status: DeliveryStatusDto,
    /// How many attempts were made.
    pub attempts: i32,
    #[schema(required = true)]
    pub last_status_code: Option<u16>,
    /// When the next attempt is due (`null` once delivered or failed).
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first, with its status and latency.
    pub attempt_log: Vec<AttemptResponse>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(delivery: Delivery) -> Self {
        Self {
            id: delivery.id,
            event_id: delivery.event_id,
            status: delivery.status.into(),
            attempts: delivery.attempts,
            last_status_code: delivery.last_status_code,
            next_attempt_at: delivery.next_attempt_at,
            created_at: delivery.created_at,
            updated_at: delivery.updated_at,
            attempt_log: delivery.history.into_iter().map(AttemptResponse::from).collect(),
        }
    }
}

fn check_types(types: &[String]) -> Result<Vec<String>, ParseError> {
    parse_types(types.iter().map(String::as_str)).map_err(|detail| ParseError::new("unknown_event_type", detail))
}

/// A unit named by a subscription must exist.
async fn check_unit(db: &impl Connection, unit_id: Uuid) -> Result<(), ApiError> {
    match units::path_of(db, unit_id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(ApiError::invalid("/unit_id", "unknown_unit", "no such unit")),
        Err(other) => Err(other.into()),
    }
}

fn authorize(principal: &Principal) -> Result<(), ApiError> {
    principal.authorize_unscoped(Action::ManageWebhooks).map_err(|_| ApiError::Forbidden)
}

/// Lists subscriptions (admin).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of subscriptions", body = ListResponse<WebhookResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal)?;
    let found = webhooks::list(state.store.conn(), page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, WebhookResponse::from)))
}

/// Registers a subscription (admin). It receives the events that commit from now on; the answer
/// holds its signing secret, shown this once.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body = CreateWebhook,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = CreatedWebhookResponse),
        Creating,
    )
)]
#[post("")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal)?;
    let request = fingerprint("POST /webhooks", &serde_json::to_vec(&*body).map_err(ApiError::internal)?);
    let mut fields = Fields::default();
    let url = fields.check("/url", check_url(&body.url, &state.delivery));
    let types = fields.check("/types", check_types(&body.types));
    let (url, types) = fields.finish(|| Some((url?, types?)))?;
    create_once(&state.store, &principal, key, request, async |tx| {
        if let Some(unit_id) = body.unit_id {
            check_unit(tx, unit_id).await?;
        }
        let secret = new_secret();
        let new = NewWebhook {
            url,
            secret: secret.clone(),
            types,
            unit_id: body.unit_id,
            active: body.active.unwrap_or(true),
        };
        let webhook = webhooks::create(tx, &Actor::from(&principal), new).await?;
        Ok(Created::new(webhook.version, CreatedWebhookResponse { webhook: webhook.into(), secret }))
    })
    .await
}

/// Reads a subscription (admin).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription", body = WebhookResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal)?;
    let webhook = webhooks::get(state.store.conn(), *id).await?;
    Ok(with_etag(StatusCode::OK, webhook.version, &WebhookResponse::from(webhook)))
}

/// Changes a subscription (admin): its URL, types, unit, or whether it is active.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "patch_webhook",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = PatchWebhook, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed subscription", body = WebhookResponse),
        Changing,
    )
)]
#[patch("/{id:[0-9a-fA-F-]+}")]
pub async fn patch_webhook(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<PatchWebhook>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal)?;
    let body = body.into_inner();
    let mut fields = Fields::default();
    let url = body.url.as_deref().map(|url| fields.check("/url", check_url(url, &state.delivery)));
    let types = body.types.as_deref().map(|types| fields.check("/types", check_types(types)));
    let unit_id = body.unit_id.into_change();
    let changes = fields
        .finish(|| Some(WebhookChanges { url: url.flatten(), types: types.flatten(), unit_id, active: body.active }))?;
    let webhook = in_transaction(&state.store, async |tx| {
        if let Some(Some(unit_id)) = changes.unit_id {
            check_unit(tx, unit_id).await?;
        }
        Ok(webhooks::update(tx, &Actor::from(&principal), *id, if_match.0, changes).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, webhook.version, &WebhookResponse::from(webhook)))
}

/// Removes a subscription and its deliveries (admin).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        Changing,
    )
)]
#[delete("/{id:[0-9a-fA-F-]+}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal)?;
    in_transaction(&state.store, async |tx| Ok(webhooks::delete(tx, &Actor::from(&principal), *id).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists a subscription's deliveries, oldest first, each with its attempts (admin).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    params(("id" = Uuid, Path), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of deliveries", body = ListResponse<DeliveryResponse>),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal)?;
    webhooks::get(state.store.conn(), *id).await?;
    let found = webhooks::deliveries(state.store.conn(), *id, page.request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, DeliveryResponse::from)))
}

/// Sends a delivered or failed delivery again (admin); 409 while it is still pending.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "redeliver_webhook_delivery",
    params(("id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued for delivery again", body = DeliveryResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/deliveries/{delivery_id:[0-9a-fA-F-]+}/redeliver")]
pub async fn redeliver_webhook_delivery(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal)?;
    let (id, delivery_id) = path.into_inner();
    let delivery = in_transaction(&state.store, async |tx| {
        Ok(webhooks::redeliver(tx, &Actor::from(&principal), id, delivery_id).await?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(DeliveryResponse::from(delivery)))
}
