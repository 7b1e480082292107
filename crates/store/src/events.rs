//! The change feed: an outbox of events written in the transaction of each change (by
//! [`crate::audit`]), read in commit order by integrators and by the webhook fan-out.
//!
//! Order is the hard part. On PostgreSQL, `seq` is drawn at insert time, so two concurrent writers
//! can commit out of `seq` order: a reader could see event 8 while event 7 is still uncommitted, move
//! its cursor past 7, and never see it. Each event therefore also keeps its writer's transaction id,
//! the feed is ordered by `(txid, seq)`, and a reader only releases events whose transaction is older
//! than the oldest transaction still running (`pg_snapshot_xmin`). Every transaction that commits
//! later has an id at least that old one's, so it sorts after everything already released: a
//! consumer that keeps its cursor sees each event once, in order. SQLite has one writer at a time;
//! there `txid` is 0 and `seq` alone is commit order.

use chrono::{DateTime, Utc};
use dvc_domain::{Scope, UnitPath};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::StoreError;
use crate::entity::event::{Column, Entity, Model};
use crate::units::unit_ids_in;

/// The PostgreSQL channel notified when events commit, so that waiting readers wake at once.
pub const CHANNEL: &str = "dvc_events";

/// Where an event stands in the feed; a consumer's cursor is the position of the last event it read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

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

/// Writes `events` in the caller's transaction, stamped with its transaction id on PostgreSQL, and
/// notifies waiting readers when the transaction commits.
pub(crate) async fn publish(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    events: Vec<NewEvent>,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let txid = || -> SimpleExpr {
        if postgres { Expr::cust("pg_current_xact_id()::text::bigint") } else { Expr::value(0_i64) }
    };
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let mut insert = Query::insert();
        insert.into_table(Entity).columns([
            Column::Id,
            Column::Txid,
            Column::Kind,
            Column::OccurredAt,
            Column::UnitId,
            Column::Data,
        ]);
        for event in events.by_ref().take(crate::INSERT_CHUNK) {
            insert.values_panic([
                Expr::value(Uuid::now_v7()),
                txid(),
                Expr::value(event.kind),
                Expr::value(at),
                Expr::value(event.unit_id),
                Expr::value(event.data),
            ]);
        }
        db.execute(&insert).await?;
    }
    if postgres {
        // Delivered at commit, and only if the transaction commits.
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}

/// The condition that keeps back events whose writer may still be followed by an older one.
fn released(db: &impl ConnectionTrait) -> Condition {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            Condition::all().add(Expr::cust("txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        }
        _ => Condition::all(),
    }
}

fn after(position: Position) -> Condition {
    Condition::any()
        .add(Column::Txid.gt(position.txid))
        .add(Condition::all().add(Column::Txid.eq(position.txid)).add(Column::Seq.gt(position.seq)))
}

/// Reads at most `limit` released events after `from`, in feed order.
pub async fn read(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    from: Position,
    limit: u64,
) -> Result<Vec<FeedEvent>, StoreError> {
    let mut select = Entity::find().filter(after(from)).filter(released(db));
    if let Scope::Subtree(_) = filter.scope {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(&filter.scope)));
    }
    if let Some(within) = &filter.within {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(&Scope::Subtree(within.clone()))));
    }
    if !filter.types.is_empty() {
        select = select.filter(Column::Kind.is_in(filter.types.iter().map(String::as_str)));
    }
    let models = select.order_by_asc(Column::Txid).order_by_asc(Column::Seq).limit(limit).all(db).await?;
    Ok(models.into_iter().map(to_event).collect())
}

/// The position of the last released event: where a consumer that wants only what happens from now
/// on starts.
pub async fn head(db: &impl ConnectionTrait) -> Result<Position, StoreError> {
    let last =
        Entity::find().filter(released(db)).order_by_desc(Column::Txid).order_by_desc(Column::Seq).one(db).await?;
    Ok(last.map(|model| Position { txid: model.txid, seq: model.seq }).unwrap_or_default())
}

/// One event by id, released or not (a delivery names it once it was released).
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<FeedEvent, StoreError> {
    Entity::find().filter(Column::Id.eq(id)).one(db).await?.map(to_event).ok_or(StoreError::NotFound)
}

fn to_event(model: Model) -> FeedEvent {
    FeedEvent {
        position: Position { txid: model.txid, seq: model.seq },
        id: model.id,
        kind: model.kind,
        occurred_at: model.occurred_at,
        unit_id: model.unit_id,
        data: model.data,
    }
}
