//! Login throttling: failures are counted per key (a username, a client address) in a fixed window,
//! in the database, so that every API process sees the same counts.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter};

use crate::StoreError;
use crate::entity::login_attempt::{self, Column, Entity};

/// How many failures a key may have in one window, and how long a window lasts.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub failures: i32,
    pub window: TimeDelta,
}

/// The key that counts a username's failed logins.
pub fn user_key(username: &str) -> String {
    format!("user:{username}")
}

/// The failures counted against `key` in its current or last window.
pub async fn failures(db: &impl ConnectionTrait, key: &str) -> Result<i32, StoreError> {
    Ok(Entity::find_by_id(key).one(db).await?.map_or(0, |row| row.failures))
}

/// When the first of `keys` that is over its limit may try again, if any is.
pub async fn blocked_until(
    db: &impl ConnectionTrait,
    keys: &[(&str, Limit)],
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut until: Option<DateTime<Utc>> = None;
    for (key, limit) in keys {
        let Some(row) = Entity::find_by_id(*key).one(db).await? else { continue };
        let window_end = row.window_started_at + limit.window;
        if row.failures >= limit.failures && window_end > now {
            until = Some(until.map_or(window_end, |other| Ord::max(other, window_end)));
        }
    }
    Ok(until)
}

/// Counts a failure for `key`: a window that has ended starts again at one.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    Entity::delete_many()
        .filter(Column::Key.eq(key))
        .filter(Column::WindowStartedAt.lte(now - limit.window))
        .exec(db)
        .await?;
    let first = login_attempt::ActiveModel { key: Set(key.to_owned()), failures: Set(1), window_started_at: Set(now) };
    Entity::insert(first)
        .on_conflict(
            OnConflict::column(Column::Key)
                .value(Column::Failures, Expr::col((Entity, Column::Failures)).add(1))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful login).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), StoreError> {
    Entity::delete_many().filter(Column::Key.eq(key)).exec(db).await?;
    Ok(())
}
