//! Connections kept out of their pool between statements.
//!
//! sqlx tests every connection that goes back to its pool, because a statement cut off half-way
//! may have left unread answers on it: on PostgreSQL with a round trip to the server (a `Sync` and
//! its `ReadyForQuery`), on SQLite with a message to the connection's thread and its answer. A
//! request that makes one statement thus paid for two. A connection whose statement ran to its end
//! has read every answer, so it is known to be ready: it is kept here for the next statement,
//! without the test. A statement that fails or is cut off never comes back here: its connection
//! goes back to the pool, which tests it. A transaction holds its connection from `BEGIN` to its
//! end ([`Holding`]) and keeps it again the same way when it ended cleanly.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Database, Executor, IntoArguments, Pool, SqlSafeStr};
use sea_orm::{ConnAcquireErr, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use sqlx_core::transaction::TransactionManager;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};

use crate::{ACQUIRE_TIMEOUT, PING_AFTER_IDLE};

/// What a pool that keeps connections offers the store's connections, whichever the database.
#[async_trait::async_trait]
pub(crate) trait Keeps: Debug + Send + Sync {
    /// The rows of a query, on a kept connection if one is idle.
    async fn query_all(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr>;

    /// The first row of a query, if any; the query is still read to its end, as sqlx does.
    async fn query_one(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr>;

    /// Opens a transaction with `begin` (`BEGIN` when none) on a kept connection if one is idle,
    /// holding the connection and the query's turn until the transaction ends.
    async fn begin(&self, begin: Option<&'static str>) -> Result<Box<dyn Transacting>, DbErr>;

    /// Registers a wait for a connection from the pool: the idle kept connections go back to it at
    /// once, and none is kept until the returned guard is dropped.
    fn wait_for_pool(&self) -> Waiting<'_>;
}

/// One pool's kept connections: those of its pool that are not in use by a query and not
/// back in the pool.
///
/// Queries wait for their turn here rather than in the pool: there are as many turns as the pool
/// has connections, so a query with a turn that finds no kept connection idle takes whichever comes
/// first, one from the pool or one that another query keeps meanwhile, without asking anyone to
/// give theirs back. Whatever else waits in the pool (a transaction, a write, a query without a
/// turn) is counted: the idle kept connections go back to the pool as it starts waiting, and every
/// connection let go while it waits goes back there too. While anyone waits there, a query skips
/// its turn and joins them, so that reads and writes share the pool's queue in the order they came.
pub(crate) struct Kept<DB: Database> {
    pool: Pool<DB>,
    turns: Arc<Semaphore>,
    /// Shared with the tasks that ask the pool for a connection.
    shared: Arc<Shared<DB>>,
}

struct Shared<DB: Database> {
    /// Told whenever a connection is kept, for the queries with a turn that wait for one.
    kept_one: Notify,
    /// The idle kept connections, in the order they were kept.
    idle: Mutex<Vec<Idle<DB>>>,
    /// How many wait for a connection from the pool: raised under the lock of `idle`, so that no
    /// connection is kept once anyone waits.
    waiting: AtomicUsize,
}

impl<DB: Database> Debug for Kept<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept").field("waiting", &self.shared.waiting).finish_non_exhaustive()
    }
}

struct Idle<DB: Database> {
    connection: PoolConnection<DB>,
    since: Instant,
}

/// A wait for a connection from the pool, registered until it is dropped.
pub(crate) struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_trait::async_trait]
impl<DB: Database> Keeps for Kept<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    SqlxValues: IntoArguments<DB>,
    QueryResult: From<DB::Row>,
    ExecResult: From<DB::QueryResult>,
{
    async fn query_all(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let rows = self.run(async |connection| query(statement).fetch_all(connection).await).await?;
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }

    async fn query_one(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let row = self.run(async |connection| query(statement).fetch_optional(connection).await).await?;
        Ok(row.map(QueryResult::from))
    }

    async fn begin(&self, begin: Option<&'static str>) -> Result<Box<dyn Transacting>, DbErr> {
        let turn = self.turn().await?;
        let connection = self.checkout(turn.is_some()).await?;
        Ok(Box::new(Holding::begin(connection, Some(self.shared.clone()), turn, begin).await?))
    }

    fn wait_for_pool(&self) -> Waiting<'_> {
        self.shared.register_wait()
    }
}

/// A statement with its values bound, as sqlx runs it.
fn query<DB: Database>(statement: Statement) -> sqlx::query::Query<'static, DB, SqlxValues>
where
    SqlxValues: IntoArguments<DB>,
{
    let Statement { sql, values, .. } = statement;
    let values = SqlxValues(values.unwrap_or(sea_orm::Values(Vec::new())));
    sqlx::query_with(sqlx::AssertSqlSafe(sql), values)
}

impl<DB: Database> Kept<DB> {
    pub(crate) fn new(pool: Pool<DB>) -> Self {
        let turns = Arc::new(Semaphore::new(pool.options().get_max_connections() as usize));
        let shared = Shared { kept_one: Notify::new(), idle: Mutex::new(Vec::new()), waiting: AtomicUsize::new(0) };
        Self { pool, turns, shared: Arc::new(shared) }
    }

    /// Runs a query on a kept connection if one is idle, else on one from the pool, and keeps the
    /// connection only if the query read its answers to the end.
    async fn run<T>(&self, fetch: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, sqlx::Error>) -> Result<T, DbErr> {
        let turn = self.turn().await?;
        let mut connection = self.checkout(turn.is_some()).await?;
        let answer = fetch(&mut connection).await.map_err(query_error)?;
        self.shared.keep(connection);
        Ok(answer)
    }

    /// A query's turn, waited for as long as the pool would have made it wait for a connection;
    /// none while others wait in the pool.
    async fn turn(&self) -> Result<Option<OwnedSemaphorePermit>, DbErr> {
        // Nothing is kept while others wait in the pool, so a turn would only make the query
        // queue twice.
        if self.shared.waiting.load(Ordering::Acquire) > 0 {
            return Ok(None);
        }
        match tokio::time::timeout(ACQUIRE_TIMEOUT, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => Ok(Some(turn)),
            Ok(Err(_closed)) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
            Err(_elapsed) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        }
    }

    /// A connection for a query: a kept one if one is idle. A query with a turn takes whichever
    /// comes first, one from the pool or one kept meanwhile: registering it as waiting in the pool
    /// would send every kept connection back there, and under a steady load the next query would
    /// then find none kept either, each query paying for the pool's test again. A query without a
    /// turn waits in the pool, registered there.
    async fn checkout(&self, with_turn: bool) -> Result<PoolConnection<DB>, DbErr> {
        if !with_turn {
            if let Some(connection) = self.shared.take_idle() {
                return Ok(connection);
            }
            let _waiting = self.shared.register_wait();
            return self.pool.acquire().await.map_err(acquire_error);
        }
        let mut from_pool = None;
        loop {
            // Listening before looking, so that a connection kept in between is heard of.
            let kept = self.shared.kept_one.notified();
            tokio::pin!(kept);
            kept.as_mut().enable();
            if let Some(connection) = self.shared.take_idle() {
                return Ok(connection);
            }
            let from_pool = from_pool.get_or_insert_with(|| self.ask_pool());
            tokio::select! {
                acquired = from_pool => {
                    // The asking task ends only by answering, unless its runtime shuts down.
                    let closed = DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed);
                    return acquired.unwrap_or(Err(closed));
                }
                () = &mut kept => {}
            }
        }
    }

    /// A connection from the pool, asked for on a task of its own: a query that takes a kept
    /// connection first stops waiting for it, and the connection the pool may be opening meanwhile
    /// is not abandoned half-way but kept.
    fn ask_pool(&self) -> oneshot::Receiver<Result<PoolConnection<DB>, DbErr>> {
        let (answer, asked) = oneshot::channel();
        let (pool, shared) = (self.pool.clone(), self.shared.clone());
        tokio::spawn(async move {
            let acquired = pool.acquire().await.map_err(acquire_error);
            // Nobody left to answer: the connection is kept for the next query.
            if let Err(Ok(connection)) = answer.send(acquired) {
                shared.keep(connection);
            }
        });
        asked
    }
}

impl<DB: Database> Shared<DB> {
    fn register_wait(&self) -> Waiting<'_> {
        let idle = {
            let mut idle = self.idle();
            self.waiting.fetch_add(1, Ordering::AcqRel);
            std::mem::take(&mut *idle)
        };
        // Dropped outside the lock: each goes back to the pool on a task of its own.
        drop(idle);
        Waiting(&self.waiting)
    }

    fn take_idle(&self) -> Option<PoolConnection<DB>> {
        let mut idle_ones = self.idle();
        while let Some(idle) = idle_ones.pop() {
            if idle.since.elapsed() < PING_AFTER_IDLE {
                return Some(idle.connection);
            }
            // Idle long enough for the server or the network to have dropped it: the pool tests
            // it on its way back.
            drop(idle);
        }
        None
    }

    fn keep(&self, connection: PoolConnection<DB>) {
        let mut idle = self.idle();
        if self.waiting.load(Ordering::Acquire) == 0 {
            idle.push(Idle { connection, since: Instant::now() });
            drop(idle);
            self.kept_one.notify_one();
            return;
        }
        drop(idle);
        drop(connection);
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Idle<DB>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<DB: Database> Drop for Shared<DB> {
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

/// One transaction's connection, whichever the database: what [`crate::tx::Transaction`] runs its
/// statements on, the transaction and its savepoints in turn.
#[async_trait::async_trait]
pub(crate) trait Transacting: Send {
    async fn execute(&mut self, statement: Statement) -> Result<ExecResult, DbErr>;

    async fn execute_unprepared(&mut self, sql: &str) -> Result<ExecResult, DbErr>;

    async fn query_all(&mut self, statement: Statement) -> Result<Vec<QueryResult>, DbErr>;

    async fn query_one(&mut self, statement: Statement) -> Result<Option<QueryResult>, DbErr>;

    /// Opens a savepoint inside the transaction.
    async fn savepoint(&mut self) -> Result<(), DbErr>;

    /// Commits the innermost open level: the savepoint, or the transaction itself.
    async fn commit(&mut self) -> Result<(), DbErr>;

    /// Rolls back the innermost open level.
    async fn rollback(&mut self) -> Result<(), DbErr>;

    /// Rolls back the innermost open level without waiting, for a level dropped while open: the
    /// statement goes with the connection's next one.
    fn start_rollback(&mut self);
}

/// A connection held by a transaction, from `BEGIN` to its end. It is kept again when the
/// transaction ended cleanly, its last statement read to the end; otherwise it goes back to the
/// pool, which tests it, with whatever is still open rolled back.
pub(crate) struct Holding<DB: Database> {
    /// Always present until the holding is dropped.
    connection: Option<PoolConnection<DB>>,
    /// Where the connection is kept afterwards, if its pool keeps connections.
    keep_in: Option<Arc<Shared<DB>>>,
    /// The transaction's turn among those of the kept connections, held until it ends.
    _turn: Option<OwnedSemaphorePermit>,
    /// Whether the last statement ran to its end.
    clean: bool,
}

impl<DB: Database> Holding<DB> {
    /// Opens a transaction with `begin` (`BEGIN` when none) on a connection of `pool`, held
    /// until the transaction ends: for the pools that keep no connections.
    pub(crate) async fn begin_on(pool: &Pool<DB>, begin: Option<&'static str>) -> Result<Self, DbErr> {
        let connection = pool.acquire().await.map_err(acquire_error)?;
        Self::begin(connection, None, None, begin).await
    }

    async fn begin(
        connection: PoolConnection<DB>,
        keep_in: Option<Arc<Shared<DB>>>,
        turn: Option<OwnedSemaphorePermit>,
        begin: Option<&'static str>,
    ) -> Result<Self, DbErr> {
        let mut holding = Self { connection: Some(connection), keep_in, _turn: turn, clean: true };
        let statement = begin.map(SqlSafeStr::into_sql_str);
        holding.run(async |connection| DB::TransactionManager::begin(connection, statement).await).await?;
        Ok(holding)
    }

    /// Runs one statement, marking the connection unclean until it has read the statement's
    /// answers to the end: a statement cut off half-way leaves it unclean.
    async fn run<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, sqlx::Error>,
    ) -> Result<T, DbErr> {
        let connection = self.connection.as_mut().expect("a holding has its connection until dropped");
        self.clean = false;
        let answer = work(connection).await.map_err(query_error)?;
        self.clean = true;
        Ok(answer)
    }
}

#[async_trait::async_trait]
impl<DB: Database> Transacting for Holding<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    SqlxValues: IntoArguments<DB>,
    QueryResult: From<DB::Row>,
    ExecResult: From<DB::QueryResult>,
{
    async fn execute(&mut self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.run(async |connection| query(statement).execute(connection).await).await.map(ExecResult::from)
    }

    async fn execute_unprepared(&mut self, sql: &str) -> Result<ExecResult, DbErr> {
        let sql = sql.to_owned();
        self.run(async |connection| sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(connection).await)
            .await
            .map(ExecResult::from)
    }

    async fn query_all(&mut self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let rows = self.run(async |connection| query(statement).fetch_all(connection).await).await?;
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }

    async fn query_one(&mut self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let row = self.run(async |connection| query(statement).fetch_optional(connection).await).await?;
        Ok(row.map(QueryResult::from))
    }

    async fn savepoint(&mut self) -> Result<(), DbErr> {
        self.run(async |connection| DB::TransactionManager::begin(connection, None).await).await
    }

    async fn commit(&mut self) -> Result<(), DbErr> {
        self.run(async |connection| DB::TransactionManager::commit(connection).await).await
    }

    async fn rollback(&mut self) -> Result<(), DbErr> {
        self.run(async |connection| DB::TransactionManager::rollback(connection).await).await
    }

    fn start_rollback(&mut self) {
        if let Some(connection) = self.connection.as_mut() {
            DB::TransactionManager::start_rollback(connection);
        }
    }
}

impl<DB: Database> Drop for Holding<DB> {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        let open = DB::TransactionManager::get_transaction_depth(&connection) > 0;
        match &self.keep_in {
            Some(shared) if self.clean && !open => shared.keep(connection),
            _ => {
                // Whatever is still open is rolled back before the pool's test, which sends it.
                while DB::TransactionManager::get_transaction_depth(&connection) > 0 {
                    DB::TransactionManager::start_rollback(&mut connection);
                }
                drop(connection);
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::sqlite::{Sqlite, SqlitePoolOptions};
    use sea_orm::{DbBackend, Statement};

    use super::*;

    /// Runs rounds of `work` 20 times in each of 16 tasks at once, on a pool of two connections that
    /// opens them on first use, and checks after each round that both connections are kept and
    /// none went back to the pool, where each return costs the pool's test of the connection.
    async fn keeps_every_connection_under<W, F>(work: W)
    where
        W: Fn(Arc<Kept<Sqlite>>) -> F + Clone + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        let pool = SqlitePoolOptions::new().max_connections(2).connect_lazy("sqlite::memory:").unwrap();
        let kept = Arc::new(Kept::<Sqlite>::new(pool.clone()));
        for round in 0..5 {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..16 {
                let (kept, work) = (kept.clone(), work.clone());
                tasks.spawn(async move {
                    for _ in 0..20 {
                        work(kept.clone()).await;
                    }
                });
            }
            tasks.join_all().await;
            assert_eq!(pool.size(), 2, "round {round}: both connections are open");
            assert_eq!(kept.shared.idle().len(), 2, "round {round}: both are kept");
            assert_eq!(pool.num_idle(), 0, "round {round}: none is back in the pool");
        }
    }

    fn select_one() -> Statement {
        Statement::from_string(DbBackend::Sqlite, "SELECT 1")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_load_keeps_every_connection() {
        keeps_every_connection_under(|kept| async move {
            kept.query_all(select_one()).await.unwrap();
        })
        .await;
    }

    /// The same with transactions: each holds a kept connection from `BEGIN` to `COMMIT` and keeps
    /// it again afterwards, instead of giving it back to the pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_load_of_transactions_keeps_every_connection() {
        keeps_every_connection_under(|kept| async move {
            let mut transaction = kept.begin(None).await.unwrap();
            transaction.execute(select_one()).await.unwrap();
            transaction.commit().await.unwrap();
        })
        .await;
    }

    /// A transaction dropped before its end is rolled back, and its connection goes back to the
    /// pool (which tests it) instead of being kept with the rollback still to send.
    #[tokio::test]
    async fn a_transaction_dropped_open_rolls_back_through_the_pool() {
        let pool = SqlitePoolOptions::new().max_connections(1).connect_lazy("sqlite::memory:").unwrap();
        let kept = Kept::<Sqlite>::new(pool.clone());
        let statement = |sql: &str| Statement::from_string(DbBackend::Sqlite, sql);
        kept.query_all(statement("CREATE TABLE t (n INTEGER)")).await.unwrap();
        let mut transaction = kept.begin(None).await.unwrap();
        transaction.execute(statement("INSERT INTO t VALUES (1)")).await.unwrap();
        drop(transaction);
        assert!(kept.shared.idle().is_empty(), "the connection is not kept");
        let rows = kept.query_all(statement("SELECT n FROM t")).await.unwrap();
        assert!(rows.is_empty(), "the insert was rolled back");
    }
}
