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
use sea_orm::sqlx::{self, PgConnection, PgPool, Postgres};
use sea_orm::{ConnAcquireErr, DbErr, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{ACQUIRE_TIMEOUT, PING_AFTER_IDLE};

/// One server worker's kept connections: those of its pool that are not in use by a query and not
/// back in the pool.
///
/// Queries wait for their turn here rather than in the pool: there are as many turns as the pool
/// has connections, so a query with a turn finds a kept connection idle or, unless transactions
/// hold the others, the pool one to give at once. Whatever does wait in the pool (such a query, a
/// transaction, a write) is counted: the idle kept connections go back to the pool as it starts
/// waiting, and every connection let go while it waits goes back there too. While anyone waits
/// there, a query skips its turn and joins them, so that reads and writes share the pool's queue in
/// the order they came.
#[derive(Debug)]
pub(crate) struct Kept {
    pool: PgPool,
    turns: Semaphore,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    idle: Vec<Idle>,
    /// How many wait for a connection from the pool.
    waiting: usize,
}

#[derive(Debug)]
struct Idle {
    connection: PoolConnection<Postgres>,
    since: Instant,
}

/// A wait for a connection from the pool, registered until it is dropped.
pub(crate) struct Waiting<'a>(&'a Kept);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.state().waiting -= 1;
    }
}

impl Kept {
    pub(crate) fn new(pool: PgPool) -> Self {
        let turns = Semaphore::new(pool.options().get_max_connections() as usize);
        Self { pool, turns, state: Mutex::new(State::default()) }
    }

    /// The rows of a query, on a kept connection if one is idle.
    pub(crate) async fn query_all(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let rows = self.run(statement, async |query, connection| query.fetch_all(connection).await).await?;
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }

    /// The first row of a query, if any; the query is still read to its end, as sqlx does.
    pub(crate) async fn query_one(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let row = self.run(statement, async |query, connection| query.fetch_optional(connection).await).await?;
        Ok(row.map(QueryResult::from))
    }

    /// Runs a query on a kept connection if one is idle, else on one from the pool, and keeps the
    /// connection only if the query read its answers to the end.
    async fn run<T>(
        &self,
        statement: Statement,
        fetch: impl AsyncFnOnce(PgQuery<'_>, &mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, DbErr> {
        let _turn = self.turn().await?;
        let mut connection = self.checkout().await?;
        let Statement { sql, values, .. } = statement;
        let values = SqlxValues(values.unwrap_or(sea_orm::Values(Vec::new())));
        let query = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), values);
        let answer = fetch(query, &mut connection).await.map_err(query_error)?;
        self.keep(connection);
        Ok(answer)
    }

    /// Registers a wait for a connection from the pool: the idle kept connections go back to it at
    /// once, and none is kept until the returned guard is dropped.
    pub(crate) fn wait_for_pool(&self) -> Waiting<'_> {
        let idle = {
            let mut state = self.state();
            state.waiting += 1;
            std::mem::take(&mut state.idle)
        };
        // Dropped outside the lock: each goes back to the pool on a task of its own.
        drop(idle);
        Waiting(self)
    }

    /// A query's turn, waited for as long as the pool would have made it wait for a connection;
    /// none while others wait in the pool.
    async fn turn(&self) -> Result<Option<SemaphorePermit<'_>>, DbErr> {
        // Nothing is kept while others wait in the pool, so a turn would only make the query
        // queue twice.
        if self.state().waiting > 0 {
            return Ok(None);
        }
        match tokio::time::timeout(ACQUIRE_TIMEOUT, self.turns.acquire()).await {
            Ok(Ok(turn)) => Ok(Some(turn)),
            Ok(Err(_closed)) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
            Err(_elapsed) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        }
    }

    async fn checkout(&self) -> Result<PoolConnection<Postgres>, DbErr> {
        if let Some(connection) = self.take_idle() {
            return Ok(connection);
        }
        let _waiting = self.wait_for_pool();
        self.pool.acquire().await.map_err(acquire_error)
    }

    fn take_idle(&self) -> Option<PoolConnection<Postgres>> {
        let mut state = self.state();
        while let Some(idle) = state.idle.pop() {
            if idle.since.elapsed() < PING_AFTER_IDLE {
                return Some(idle.connection);
            }
            // Idle long enough for the server or the network to have dropped it: the pool tests
            // it on its way back.
            drop(idle);
        }
        None
    }

    fn keep(&self, connection: PoolConnection<Postgres>) {
        let mut state = self.state();
        if state.waiting == 0 {
            state.idle.push(Idle { connection, since: Instant::now() });
            return;
        }
        drop(state);
        drop(connection);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Kept {
    /// A connection dropped into its pool goes back on a task of the runtime at hand, and at the
    /// end of a process there may be none (or that of another worker): kept connections are closed
    /// where they are instead.
    fn drop(&mut self) {
        let state = std::mem::take(self.state.get_mut().unwrap_or_else(PoisonError::into_inner));
        for Idle { connection, .. } in state.idle {
            drop(connection.detach());
        }
    }
}

/// A query with its values bound, as sqlx runs it.
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, SqlxValues>;

/// The errors sea-orm gives for the same failures, so that the store maps them as it maps sea-orm's.
fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(error.into()))
}

fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}
