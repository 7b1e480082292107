//! The change feed: what changed, in commit order, for integrators that poll or long-poll.

use std::time::{Duration, Instant};

use crate::extract::Query;
use actix_web::{HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use dvc_domain::Action;
use dvc_store::events::{self, EventFilter, FeedEvent, Position};
use dvc_store::units;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problems::Reading;

use crate::error::ApiError;
use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::{AppState, Caller};

/// The longest a reader may wait for an event, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// How many types one filter may name.
const MAX_TYPES: usize = 50;
/// How often a waiting reader looks again even without a notification, in case one was lost (a
/// listener reconnecting after the database restarted).
const RECHECK: Duration = Duration::from_secs(1);

/// One change, as the feed and webhooks publish it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventResponse {
    pub id: Uuid,
    /// `<resource>.<verb>`, the verb in the past tense.
    #[serde(rename = "type")]
    #[schema(example = "grant.created")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    /// The unit the changed record belongs to (`null` for records outside the tree, such as directives).
    #[schema(required = true)]
    pub unit_id: Option<Uuid>,
    /// The record after the change (before it, for a deletion), personal numbers masked.
    #[schema(required = true)]
    pub data: Option<serde_json::Value>,
}

impl From<FeedEvent> for EventResponse {
    fn from(event: FeedEvent) -> Self {
        Self {
            id: event.id,
            kind: event.kind,
            occurred_at: event.occurred_at,
            unit_id: event.unit_id,
            data: event.data,
        }
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventResponse>,
    /// Pass as `after` to read what follows. Never `null`: on an empty page it is the cursor that was
    /// given (or the start of the feed), so that a consumer simply keeps the last one it received.
    pub next_cursor: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// The `next_cursor` of the previous page; the feed's beginning when absent.
    after: Option<String>,
    /// Comma-separated event types (`grant.created,grant.revoked`); every type when absent.
    types: Option<String>,
    /// Only events of this unit's subtree.
    unit_id: Option<Uuid>,
    /// How many events to return, 1 to 500 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// Seconds to wait, at most 30, when nothing follows the cursor yet: the answer comes as soon as
    /// an event does, or empty when the time is up (default 0, answer at once).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 30)]
    wait: Option<String>,
}

/// A cursor is a position in the feed, as 8 bytes.
pub fn encode_position(position: Position) -> String {
    URL_SAFE_NO_PAD.encode(position.0.to_be_bytes())
}

fn decode_position(cursor: &str) -> Result<Position, ApiError> {
    let bad = || ApiError::BadRequest("the cursor is not one this server issued".to_owned());
    let bytes: [u8; 8] = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?.try_into().map_err(|_| bad())?;
    let position = i64::from_be_bytes(bytes);
    if position < 0 {
        return Err(bad());
    }
    Ok(Position(position))
}

fn bounded(raw: Option<&str>, name: &str, range: std::ops::RangeInclusive<u64>, default: u64) -> Result<u64, ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw.parse::<u64>().ok().filter(|value| range.contains(value)).ok_or_else(|| {
            ApiError::BadRequest(format!("{name} must be a whole number from {} to {}", range.start(), range.end()))
        }),
    }
}

/// Parses a comma-separated list of event types, refusing unknown ones.
pub fn parse_types<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut types: Vec<String> = Vec::new();
    for name in names.into_iter().map(str::trim).filter(|name| !name.is_empty()) {
        if !dvc_domain::feed::is_event_type(name) {
            return Err(format!("`{name}` is not an event type"));
        }
        if !types.iter().any(|known| known == name) {
            types.push(name.to_owned());
        }
    }
    if types.len() > MAX_TYPES {
        return Err(format!("at most {MAX_TYPES} event types"));
    }
    Ok(types)
}

/// Reads the change feed after a cursor, in commit order (admin: everything; manager and service
/// account: their subtree). A consumer that keeps the last `next_cursor` sees every change once.
#[utoipa::path(
    tag = "events",
    operation_id = "list_events",
    params(EventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of changes, in commit order", body = EventPage),
        Reading,
    )
)]
#[get("")]
pub async fn list_events(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadEvents, None)?;
    let limit = bounded(query.limit.as_deref(), "limit", 1..=MAX_LIMIT, DEFAULT_LIMIT)?;
    let wait = bounded(query.wait.as_deref(), "wait", 0..=MAX_WAIT_SECONDS, 0)?;
    let from = query.after.as_deref().map(decode_position).transpose()?.unwrap_or_default();
    let types = parse_types(query.types.as_deref().unwrap_or("").split(',')).map_err(ApiError::BadRequest)?;
    // A unit outside the caller's scope is answered like one that does not exist: 404.
    let within = match query.unit_id {
        Some(unit_id) => {
            let path = units::path_of(state.store.conn(), unit_id).await?;
            principal.authorize(Action::ReadEvents, Some(&path))?;
            Some(path)
        }
        None => None,
    };
    let filter = EventFilter { scope: principal.scope.clone(), within, types };
    let deadline = Instant::now() + Duration::from_secs(wait);
    let mut committed = state.store.watch_events();
    let found = loop {
        committed.borrow_and_update();
        events::sequence(state.store.writer()).await?;
        let found = events::read(state.store.conn(), &filter, from, limit).await?;
        let left = deadline.saturating_duration_since(Instant::now());
        if !found.is_empty() || left.is_zero() {
            break found;
        }
        // Either outcome means "look again": a notification, or the recheck interval running out.
        let _ = actix_web::rt::time::timeout(left.min(RECHECK), committed.changed()).await;
    };
    let next = found.last().map_or(from, |event| event.position);
    Ok(HttpResponse::Ok().json(EventPage {
        items: found.into_iter().map(EventResponse::from).collect(),
        next_cursor: encode_position(next),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let position = Position(7_412);
        assert_eq!(decode_position(&encode_position(position)).ok(), Some(position));
        assert!(decode_position("not-a-cursor").is_err());
        assert!(decode_position(&URL_SAFE_NO_PAD.encode([0xff; 8])).is_err());
    }

    #[test]
    fn types_are_known_and_deduplicated() {
        assert_eq!(parse_types(["grant.created", " grant.created", ""]), Ok(vec!["grant.created".to_owned()]));
        assert!(parse_types(["grant.create"]).is_err());
    }
}
