//! Webhook subscriptions and their deliveries. The change feed is the outbox: every change writes
//! its event in its own transaction, and a subscription's fan-out turns the events after its cursor
//! into deliveries, moving the cursor in the same transaction, so that nothing is lost or doubled.
//! A process works on a subscription only while it holds the subscription's lease, which keeps its
//! deliveries in order with several processes, and which runs out by itself if the process dies.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use dvc_domain::Scope;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Db;
use crate::audit::{self, Change};
use crate::entity::webhook::{self, Column, Entity};
use crate::entity::{webhook_attempt, webhook_delivery};
use crate::events::{self, EventFilter, FeedEvent, Position};
use crate::{Actor, Page, PageRequest, StoreError, Tx, page, units, versioned};

const ENTITY: &str = "webhook";

/// A subscription: where to send which events. Its secret is kept apart and shown once.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// The event types sent; empty means every type.
    pub types: Vec<String>,
    /// Only events of this unit's subtree, or of every unit when `None`.
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub secret: String,
    pub types: Vec<String>,
    pub unit_id: Option<Uuid>,
    pub active: bool,
}

/// The fields a change sets; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub types: Option<Vec<String>>,
    pub unit_id: Option<Option<Uuid>>,
    pub active: Option<bool>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(StoreError::Corrupt(format!("delivery status `{other}`"))),
        }
    }
}

/// One try at sending a delivery.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The receiver's answer, or `None` when none came (refused, timed out).
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// One event to send to one subscription.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub event_id: Uuid,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<u16>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Since when the delivery has been due: the worker gives up a day after it.
    pub due_since: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its attempts, oldest first (filled by listings only).
    pub history: Vec<Attempt>,
}

/// What an attempt leads to.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Delivered,
    RetryAt(DateTime<Utc>),
    GaveUp,
}

fn to_domain(model: webhook::Model) -> Result<Webhook, StoreError> {
    let types = serde_json::from_value(model.types).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    Ok(Webhook {
        id: model.id,
        url: model.url,
        types,
        unit_id: model.unit_id,
        active: model.active,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

/// The audit picture of a subscription; the secret never appears in it.
fn snapshot(webhook: &Webhook) -> Value {
    json!({ "url": webhook.url, "types": webhook.types, "unit_id": webhook.unit_id, "active": webhook.active })
}

/// Registers a subscription. It receives the events released from now on.
pub async fn create(tx: &Tx, actor: &Actor, new: NewWebhook) -> Result<Webhook, StoreError> {
    events::sequence(tx).await?;
    let now = crate::now();
    let head = events::head(tx).await?;
    let model = webhook::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(new.url),
        secret: Set(new.secret),
        types: Set(json!(new.types)),
        unit_id: Set(new.unit_id),
        active: Set(new.active),
        cursor: Set(head.0),
        lease_token: Set(None),
        lease_until: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(tx)
    .await?;
    let webhook = to_domain(model)?;
    audit::record(tx, actor, Change::created("webhook.create", ENTITY, webhook.id, snapshot(&webhook))).await?;
    Ok(webhook)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Webhook, StoreError> {
    to_domain(Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

pub async fn list(db: &impl ConnectionTrait, request: PageRequest) -> Result<Page<Webhook>, StoreError> {
    page::fetch(db, Entity::find(), Column::Id, |webhook| webhook.id, request).await?.try_map(to_domain)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    changes: WebhookChanges,
) -> Result<Webhook, StoreError> {
    let before = get(db, id).await?;
    versioned::expect(before.version, expected_version)?;
    let update = Entity::update_many()
        .col_expr(Column::Url, Expr::value(changes.url.unwrap_or_else(|| before.url.clone())))
        .col_expr(Column::Types, Expr::value(json!(changes.types.unwrap_or_else(|| before.types.clone()))))
        .col_expr(Column::UnitId, Expr::value(changes.unit_id.unwrap_or(before.unit_id)))
        .col_expr(Column::Active, Expr::value(changes.active.unwrap_or(before.active)));
    versioned::apply(db, update, id, before.version).await?;
    let after = get(db, id).await?;
    audit::record(db, actor, Change::update("webhook.update", ENTITY, id, snapshot(&before), snapshot(&after))).await?;
    Ok(after)
}

/// Removes a subscription with its deliveries; the audit trail keeps what it was.
pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
    let before = get(db, id).await?;
    Entity::delete_by_id(id).exec(db).await?;
    let change = Change::deleted("webhook.delete", ENTITY, id, snapshot(&before));
    audit::record(db, actor, change).await
}

/// A subscription a process holds the lease of, with what it needs to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub webhook: Webhook,
    pub secret: String,
    cursor: Position,
    lease: Uuid,
}

/// Takes the lease of the next active subscription after `after` (in id order) that no live
/// process holds, for `lease`. On PostgreSQL the row is locked with `SKIP LOCKED` while the lease is
/// taken, so that processes claiming at once pass each other by instead of waiting.
pub async fn claim(db: &Db, after: Option<Uuid>, lease: Duration) -> Result<Option<Claimed>, StoreError> {
    let tx = db.begin().await?;
    let now = crate::now();
    let free = Condition::any().add(Column::LeaseUntil.is_null()).add(Column::LeaseUntil.lt(now));
    let mut select = Entity::find().filter(Column::Active.eq(true)).filter(free.clone());
    if let Some(after) = after {
        select = select.filter(Column::Id.gt(after));
    }
    let Some(model) =
        select.order_by_asc(Column::Id).lock_with_behavior(LockType::Update, LockBehavior::SkipLocked).one(&tx).await?
    else {
        return Ok(None);
    };
    let token = Uuid::now_v7();
    Entity::update_many()
        .col_expr(Column::LeaseToken, Expr::value(token))
        .col_expr(Column::LeaseUntil, Expr::value(now + lease))
        .filter(Column::Id.eq(model.id))
        .filter(free)
        .exec(&tx)
        .await?;
    tx.commit().await?;
    let cursor = Position(model.cursor);
    let secret = model.secret.clone();
    Ok(Some(Claimed { webhook: to_domain(model)?, secret, cursor, lease: token }))
}

fn held(claimed: &Claimed) -> Condition {
    Condition::all().add(Column::Id.eq(claimed.webhook.id)).add(Column::LeaseToken.eq(claimed.lease))
}

/// Extends the lease before more work; `false` when it ran out and another process may hold it.
pub async fn renew(db: &impl ConnectionTrait, claimed: &Claimed, lease: Duration) -> Result<bool, StoreError> {
    let renewed = Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(crate::now() + lease))
        .filter(held(claimed))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// Gives the lease back, so that any process may take the subscription at once.
pub async fn release(db: &impl ConnectionTrait, claimed: &Claimed) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(held(claimed))
        .exec(db)
        .await?;
    Ok(())
}

/// Turns up to `limit` events after the subscription's cursor into deliveries and moves the cursor
/// past them, in one transaction; returns how many events it read.
pub async fn fan_out(db: &Db, claimed: &mut Claimed, limit: u64) -> Result<usize, StoreError> {
    events::sequence(db).await?;
    let tx = db.begin().await?;
    let within = match claimed.webhook.unit_id {
        Some(unit_id) => Some(units::path_of(&tx, unit_id).await?),
        None => None,
    };
    let filter = EventFilter { scope: Scope::All, within, types: claimed.webhook.types.clone() };
    let found = events::read(&tx, &filter, claimed.cursor, limit).await?;
    let Some(last) = found.last().map(|event| event.position) else {
        return Ok(0);
    };
    let now = crate::now();
    let models = found.iter().map(|event| webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(claimed.webhook.id),
        event_id: Set(event.id),
        event_position: Set(event.position.0),
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        last_status_code: Set(None),
        next_attempt_at: Set(Some(now)),
        due_since: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    });
    webhook_delivery::Entity::insert_many(models)
        .on_conflict(
            OnConflict::columns([webhook_delivery::Column::WebhookId, webhook_delivery::Column::EventId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&tx)
        .await?;
    let moved =
        Entity::update_many().col_expr(Column::Cursor, Expr::value(last.0)).filter(held(claimed)).exec(&tx).await?;
    if moved.rows_affected != 1 {
        // The lease ran out and another process may be fanning out the same events: leave it to it.
        return Ok(0);
    }
    tx.commit().await?;
    claimed.cursor = last;
    Ok(found.len())
}

/// The subscription's first pending delivery in feed order, with its event: deliveries go out one
/// after another, a later one only once the earlier is delivered or given up.
pub async fn next_pending(
    db: &impl ConnectionTrait,
    webhook_id: Uuid,
) -> Result<Option<(Delivery, FeedEvent)>, StoreError> {
    use webhook_delivery::Column as D;
    let head = webhook_delivery::Entity::find()
        .filter(D::WebhookId.eq(webhook_id))
        .filter(D::Status.eq(DeliveryStatus::Pending.as_str()))
        .order_by_asc(D::EventPosition)
        .one(db)
        .await?;
    let Some(head) = head else { return Ok(None) };
    let event = events::get(db, head.event_id).await?;
    Ok(Some((to_delivery(head, Vec::new())?, event)))
}

/// Records an attempt and what it leads to, in one transaction.
pub async fn record_attempt(db: &Db, delivery_id: Uuid, attempt: Attempt, outcome: Outcome) -> Result<(), StoreError> {
    use webhook_delivery::Column as D;
    let tx = db.begin().await?;
    let (status, next) = match outcome {
        Outcome::Delivered => (DeliveryStatus::Delivered, None),
        Outcome::RetryAt(at) => (DeliveryStatus::Pending, Some(at)),
        Outcome::GaveUp => (DeliveryStatus::Failed, None),
    };
    webhook_delivery::Entity::update_many()
        .col_expr(D::Status, Expr::value(status.as_str()))
        .col_expr(D::Attempts, Expr::col(D::Attempts).add(1))
        .col_expr(D::LastStatusCode, Expr::value(attempt.status_code.map(i32::from)))
        .col_expr(D::NextAttemptAt, Expr::value(next))
        .col_expr(D::UpdatedAt, Expr::value(crate::now()))
        .filter(D::Id.eq(delivery_id))
        .exec(&tx)
        .await?;
    webhook_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery_id),
        at: Set(attempt.at),
        status_code: Set(attempt.status_code.map(i32::from)),
        latency_ms: Set(attempt.latency_ms),
        error: Set(attempt.error),
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A subscription's deliveries, oldest first, each with its attempts.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    webhook_id: Uuid,
    request: PageRequest,
) -> Result<Page<Delivery>, StoreError> {
    use webhook_delivery::Column as D;
    let select = webhook_delivery::Entity::find().filter(D::WebhookId.eq(webhook_id));
    let found = page::fetch(db, select, D::Id, |delivery| delivery.id, request).await?;
    let ids: Vec<Uuid> = found.items.iter().map(|delivery| delivery.id).collect();
    let mut histories: HashMap<Uuid, Vec<Attempt>> = HashMap::new();
    for chunk in ids.chunks(crate::INSERT_CHUNK) {
        let attempts = webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.is_in(chunk.iter().copied()))
            .order_by_asc(webhook_attempt::Column::At)
            .order_by_asc(webhook_attempt::Column::Id)
            .all(db)
            .await?;
        for attempt in attempts {
            histories.entry(attempt.delivery_id).or_default().push(Attempt {
                at: attempt.at,
                status_code: attempt.status_code.and_then(|code| u16::try_from(code).ok()),
                latency_ms: attempt.latency_ms,
                error: attempt.error,
            });
        }
    }
    found.try_map(|model| {
        let history = histories.remove(&model.id).unwrap_or_default();
        to_delivery(model, history)
    })
}

/// Sends a delivered or failed delivery again, as soon as its subscription's earlier deliveries
/// allow, with a new day before it is given up.
pub async fn redeliver(
    db: &impl ConnectionTrait,
    actor: &Actor,
    webhook_id: Uuid,
    delivery_id: Uuid,
) -> Result<Delivery, StoreError> {
    use webhook_delivery::Column as D;
    let before = webhook_delivery::Entity::find_by_id(delivery_id)
        .filter(D::WebhookId.eq(webhook_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    if before.status == DeliveryStatus::Pending.as_str() {
        return Err(StoreError::conflict("the delivery is still pending", Some(delivery_id)));
    }
    let now = crate::now();
    webhook_delivery::Entity::update_many()
        .col_expr(D::Status, Expr::value(DeliveryStatus::Pending.as_str()))
        .col_expr(D::NextAttemptAt, Expr::value(Some(now)))
        .col_expr(D::DueSince, Expr::value(now))
        .col_expr(D::UpdatedAt, Expr::value(now))
        .filter(D::Id.eq(delivery_id))
        .filter(D::Status.eq(before.status.clone()))
        .exec(db)
        .await?;
    let change = Change::update(
        "webhook_delivery.redeliver",
        "webhook_delivery",
        delivery_id,
        json!({ "status": before.status }),
        json!({ "status": DeliveryStatus::Pending.as_str() }),
    );
    audit::record(db, actor, change).await?;
    let after = webhook_delivery::Entity::find_by_id(delivery_id).one(db).await?.ok_or(StoreError::NotFound)?;
    to_delivery(after, Vec::new())
}

fn to_delivery(model: webhook_delivery::Model, history: Vec<Attempt>) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: model.id,
        event_id: model.event_id,
        status: DeliveryStatus::parse(&model.status)?,
        attempts: model.attempts,
        last_status_code: model.last_status_code.and_then(|code| u16::try_from(code).ok()),
        next_attempt_at: model.next_attempt_at,
        due_since: model.due_since,
        created_at: model.created_at,
        updated_at: model.updated_at,
        history,
    })
}
