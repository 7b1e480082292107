//! PostgreSQL connections kept out of their pool between statements.
//!
//! sqlx tests every connection that goes back to its pool with a round trip to the server (a
//! `Sync` and its `ReadyForQuery`), because a statement cut off half-way may have left unread
//! answers on it. A request that makes one statement thus made two round trips. A connection whose
//! statement ran to its end has read every answer, up to the `ReadyForQuery` that closes it, so it
//! is known to be ready: it is kept here for the next statement, without the test. A statement that
//! fails or is cut off never comes back here: its connection goes back to the pool, which tests it.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, PgPool, Postgres};
use sea_orm::{DbErr, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;

use crate::PING_AFTER_IDLE;

/// One server worker's kept connections: those of its pool that are not in use by a statement and
/// not back in the pool. Whoever takes a connection from the pool itself (a transaction, a write)
/// first gives the idle ones back, so that no connection sits here while the pool has none.
#[derive(Debug)]
pub(crate) struct Kept {
    pool: PgPool,
    idle: Mutex<Vec<Idle>>,
}

#[derive(Debug)]
struct Idle {
    connection: PoolConnection<Postgres>,
    since: Instant,
}

impl Kept {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool, idle: Mutex::new(Vec::new()) }
    }

    /// The rows of a query, on a kept connection if one is idle.
    pub(crate) async fn query_all(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut connection = self.checkout().await?;
        let rows = bind(&statement).fetch_all(&mut *connection).await.map_err(query_error)?;
        self.keep(connection);
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }

    /// The first row of a query, if any; the query is still read to its end, as sqlx does.
    pub(crate) async fn query_one(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut connection = self.checkout().await?;
        let row = bind(&statement).fetch_optional(&mut *connection).await.map_err(query_error)?;
        self.keep(connection);
        Ok(row.map(QueryResult::from))
    }

    /// Gives every idle kept connection back to the pool.
    pub(crate) fn give_back(&self) {
        let idle = std::mem::take(&mut *self.idle());
        // Dropped outside the lock: each goes back to the pool on a task of its own.
        drop(idle);
    }

    async fn checkout(&self) -> Result<PoolConnection<Postgres>, DbErr> {
        loop {
            let Some(idle) = self.idle().pop() else { break };
            if idle.since.elapsed() < PING_AFTER_IDLE {
                return Ok(idle.connection);
            }
            // Idle long enough for the server or the network to have dropped it: the pool tests
            // it on its way back.
            drop(idle);
        }
        self.pool.acquire().await.map_err(acquire_error)
    }

    fn keep(&self, connection: PoolConnection<Postgres>) {
        self.idle().push(Idle { connection, since: Instant::now() });
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Kept {
    /// A connection dropped into its pool goes back on a task of the runtime at hand, and at the
    /// end of a process there may be none (or that of another worker): kept connections are closed
    /// where they are instead.
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(PoisonError::into_inner));
        for Idle { connection, .. } in idle {
            drop(connection.detach());
        }
    }
}

fn bind(statement: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = statement.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(statement.sql.as_str()), SqlxValues(values))
}

/// The errors sea-orm gives for the same failures, so that the store maps them as it maps sea-orm's.
fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(error.into()))
}

fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}
