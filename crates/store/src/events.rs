//! The change feed: an outbox of events written in the transaction of each change (by
//! [`crate::audit`]), read in commit order by integrators and by the webhook fan-out.
//!
//! Order is the hard part. A number drawn at insert time does not follow commit order on PostgreSQL:
//! of two concurrent writers, the one that drew 8 may commit before the one that drew 7, and a reader
//! that saw 8 and moved its cursor past it would never see 7. So an event gets its place in the feed,
//! its `position`, only after it committed: [`sequence`] numbers the committed events that have none
//! yet, one sequencer at a time (an advisory lock on PostgreSQL; SQLite has one writer). Each run
//! starts after the previous one committed and only numbers events visible to it, so positions become
//! visible in increasing order: a consumer that keeps its cursor sees each event once, in order, and
//! a long transaction elsewhere delays only its own events.

use chrono::{DateTime, Utc};
use dvc_domain::{Scope, UnitPath};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::StoreError;
use crate::entity::event::{self, Column, Entity, Model};
use crate::units::unit_ids_in;
use crate::{Begins, Handle};

/// The PostgreSQL channel notified when events commit, so that waiting readers wake at once.
pub const CHANNEL: &str = "dvc_events";

/// Where an event stands in the feed; a consumer's cursor is the position of the last event it read,
/// and 0 is the feed's beginning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position(pub i64);

/// Events numbered by one run of [`sequence`], to bound its transaction.
const SEQUENCE_BATCH: u64 = 1_000;
/// The advisory lock that lets one sequencer run at a time on PostgreSQL (an arbitrary constant).
const SEQUENCER_LOCK: i64 = 0x0064_7663_6576_656e;

/// One published change.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub position: Position,
    pub id: Uuid,
    /// `<resource>.<verb>` in the past tense (`grant.created`).
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub unit_id: Option<Uuid>,
    /// The record after the change (before it, for a deletion), personal numbers masked.
    pub data: Option<Value>,
}

/// An event about to be written with its change.
#[derive(Debug)]
pub(crate) struct NewEvent {
    pub kind: String,
    pub unit_id: Option<Uuid>,
    pub data: Option<Value>,
}

/// Which events to read; every field narrows the feed.
#[derive(Debug, Clone)]
pub struct EventFilter {
    /// The reader's scope: events of units outside it are left out, and so are events of no unit
    /// unless the scope is everything.
    pub scope: Scope,
    /// Only events of this unit's subtree.
    pub within: Option<UnitPath>,
    /// Only these types; empty means every type.
    pub types: Vec<String>,
}

/// Writes `events` in the caller's transaction, and notifies waiting readers when it commits.
pub(crate) async fn publish(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    events: Vec<NewEvent>,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut models = events
        .into_iter()
        .map(|event| event::ActiveModel {
            seq: NotSet,
            position: Set(None),
            id: Set(Uuid::now_v7()),
            kind: Set(event.kind),
            occurred_at: Set(at),
            unit_id: Set(event.unit_id),
            data: Set(event.data),
        })
        .peekable();
    while models.peek().is_some() {
        let chunk: Vec<_> = models.by_ref().take(crate::INSERT_CHUNK).collect();
        Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Delivered at commit, and only if the transaction commits.
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}

/// Gives the committed events that have no position yet the next positions, in the order they were
/// written; call it before reading the feed. Within a transaction (`db` may be one), the lock is held
/// until that transaction ends.
pub async fn sequence<C>(db: &Handle<C>) -> Result<(), StoreError>
where
    C: ConnectionTrait + Begins + Send + Sync,
{
    let waiting = Entity::find().select_only().column(Column::Seq).filter(Column::Position.is_null()).limit(1);
    if waiting.into_tuple::<i64>().one(db).await?.is_none() {
        return Ok(());
    }
    let tx = db.begin().await?;
    let postgres = tx.get_database_backend() == DbBackend::Postgres;
    if postgres {
        tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})")).await?;
    }
    // Read after the lock is held, so that it sees the previous run's positions.
    let last: Option<Option<i64>> =
        Entity::find().select_only().column_as(Column::Position.max(), "last").into_tuple().one(&tx).await?;
    let base = last.flatten().unwrap_or(0);
    // One statement for the batch; `base` is a number read from the database, not caller input.
    tx.execute_unprepared(&format!(
        "UPDATE events SET position = {base} + ranked.n \
         FROM (SELECT seq, ROW_NUMBER() OVER (ORDER BY seq) AS n FROM events \
               WHERE position IS NULL ORDER BY seq LIMIT {SEQUENCE_BATCH}) AS ranked \
         WHERE events.seq = ranked.seq"
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Reads at most `limit` events after `from`, in feed order.
pub async fn read(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    from: Position,
    limit: u64,
) -> Result<Vec<FeedEvent>, StoreError> {
    let mut select = Entity::find().filter(Column::Position.gt(from.0));
    if let Scope::Subtree(_) = filter.scope {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(&filter.scope)));
    }
    if let Some(within) = &filter.within {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(&Scope::Subtree(within.clone()))));
    }
    if !filter.types.is_empty() {
        select = select.filter(Column::Kind.is_in(filter.types.iter().map(String::as_str)));
    }
    let models = select.order_by_asc(Column::Position).limit(limit).all(db).await?;
    Ok(models.into_iter().map(to_event).collect())
}

/// The position of the last sequenced event: where a consumer that wants only what happens from now
/// on starts.
pub async fn head(db: &impl ConnectionTrait) -> Result<Position, StoreError> {
    let last: Option<Option<i64>> =
        Entity::find().select_only().column_as(Column::Position.max(), "last").into_tuple().one(db).await?;
    Ok(Position(last.flatten().unwrap_or(0)))
}

/// One event by id, released or not (a delivery names it once it was released).
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<FeedEvent, StoreError> {
    Entity::find().filter(Column::Id.eq(id)).one(db).await?.map(to_event).ok_or(StoreError::NotFound)
}

fn to_event(model: Model) -> FeedEvent {
    FeedEvent {
        position: Position(model.position.unwrap_or(0)),
        id: model.id,
        kind: model.kind,
        occurred_at: model.occurred_at,
        unit_id: model.unit_id,
        data: model.data,
    }
}
