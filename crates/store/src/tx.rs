//! The store's own connection and transaction types and the trait of what queries run on, so that
//! the layers above write through the store without knowing the database library: only `store`
//! depends on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use crate::StoreError;
use crate::kept::{Holding, Keeps, Kept, Transacting, Waiting};

/// A handle on the database that the repositories read and write through: the store's connections
/// ([`Db`]) or one of its transactions ([`Tx`]). The layers above hold these, never the database
/// library's types.
#[derive(Debug, Clone)]
pub struct Handle<C>(C);

/// The store's connections, for reads and single writes outside a transaction.
pub type Db = Handle<Pooled>;

/// One transaction: every write of a request or a command goes through one, and nothing it wrote
/// is seen by others before `commit`. Dropped without a commit, it rolls back.
pub type Tx = Handle<Transaction>;

/// A pool of connections and, for a server worker on PostgreSQL or SQLite's readers, the
/// connections it keeps out of the pool between queries ([`Kept`]): queries and transactions run
/// on those, and everything else (a single write, the readiness check) takes its connection from
/// the pool, registered as waiting there so that none is kept meanwhile.
#[derive(Debug, Clone)]
pub struct Pooled {
    pool: DatabaseConnection,
    kept: Option<Arc<dyn Keeps>>,
}

impl Pooled {
    /// Registers a wait for a connection from the pool, for whatever takes one from it itself.
    fn waiting(&self) -> Option<Waiting<'_>> {
        self.kept.as_deref().map(Keeps::wait_for_pool)
    }

    /// Opens a transaction with `begin` (`BEGIN` when none): on a kept connection when the pool
    /// keeps them, else on one from the pool.
    async fn open(&self, begin: Option<&'static str>) -> Result<Transaction, DbErr> {
        let pool = &self.pool;
        let held: Box<dyn Transacting> = match (&self.kept, pool.get_database_backend()) {
            (Some(kept), _) => kept.begin(begin).await?,
            (None, DbBackend::Postgres) => {
                Box::new(Holding::begin_on(pool.get_postgres_connection_pool(), begin).await?)
            }
            (None, DbBackend::Sqlite) => Box::new(Holding::begin_on(pool.get_sqlite_connection_pool(), begin).await?),
            (None, other) => return Err(DbErr::BackendNotSupported { db: other.as_str(), ctx: "transactions" }),
        };
        Ok(Transaction {
            held: Arc::new(tokio::sync::Mutex::new(held)),
            changes_principals: Arc::default(),
            backend: pool.get_database_backend(),
            returning: pool.support_returning(),
            open: true,
        })
    }
}

impl Db {
    pub(crate) fn new(pool: DatabaseConnection) -> Self {
        Self(Pooled { pool, kept: None })
    }

    /// Connections that are kept between queries: a server worker's on PostgreSQL, SQLite's
    /// readers.
    pub(crate) fn keeping(pool: DatabaseConnection) -> Self {
        let kept: Option<Arc<dyn Keeps>> = match pool.get_database_backend() {
            DbBackend::Postgres => Some(Arc::new(Kept::new(pool.get_postgres_connection_pool().clone()))),
            DbBackend::Sqlite => Some(Arc::new(Kept::new(pool.get_sqlite_connection_pool().clone()))),
            _ => None,
        };
        Self(Pooled { pool, kept })
    }

    /// The database library's connection, for the store's own work that needs the pool itself
    /// (that of the commands and the background tasks, which keeps no connections).
    pub(crate) fn inner(&self) -> &DatabaseConnection {
        drop(self.0.waiting());
        &self.0.pool
    }

    /// A read-only transaction on one connection over one snapshot, for a read of several
    /// statements that must agree with each other, such as a report: every statement sees the
    /// same committed state, and the connection is checked out once. (SQLite reads a transaction
    /// from one snapshot on its own and takes no such settings.)
    pub async fn snapshot(&self) -> Result<Tx, StoreError> {
        let begin = match self.0.pool.get_database_backend() {
            DbBackend::Postgres => Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            _ => None,
        };
        Ok(Handle(self.0.open(begin).await?))
    }

    pub(crate) async fn close(self) -> Result<(), StoreError> {
        drop(self.0.waiting());
        Ok(self.0.pool.close_by_ref().await?)
    }
}

/// One transaction, or a savepoint inside one, on a connection it holds from `BEGIN` to its end:
/// a kept one when its pool keeps connections, which it keeps again after a clean end instead of
/// giving it back to the pool (whose test of a returned connection costs a round trip).
pub struct Transaction {
    /// The connection, shared by the transaction and its savepoints.
    held: Arc<tokio::sync::Mutex<Box<dyn Transacting>>>,
    /// Whether a statement of the transaction or of its savepoints may have changed a principal.
    changes_principals: Arc<AtomicBool>,
    backend: DbBackend,
    returning: bool,
    /// Neither committed nor rolled back yet: dropped so, the level rolls back.
    open: bool,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction").field("backend", &self.backend).field("open", &self.open).finish_non_exhaustive()
    }
}

impl Transaction {
    /// Notes a statement that may change a principal, as it runs.
    fn note(&self, sql: &str) {
        if may_change_principals(sql) {
            self.changes_principals.store(true, Ordering::Relaxed);
        }
    }

    async fn commit(mut self) -> Result<(), DbErr> {
        self.held.lock().await.commit().await?;
        self.open = false;
        Ok(())
    }

    async fn rollback(mut self) -> Result<(), DbErr> {
        self.held.lock().await.rollback().await?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        // Nothing else runs on the connection while its innermost level is dropped; should the
        // lock be taken all the same, the connection rolls back when its holding is dropped.
        if self.open
            && let Ok(mut held) = self.held.try_lock()
        {
            held.start_rollback();
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Transaction {
    fn get_database_backend(&self) -> DbBackend {
        self.backend
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.note(&stmt.sql);
        self.held.lock().await.execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.note(sql);
        self.held.lock().await.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.note(&stmt.sql);
        self.held.lock().await.query_one(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.note(&stmt.sql);
        self.held.lock().await.query_all(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.returning
    }

    fn is_mock_connection(&self) -> bool {
        false
    }
}

/// Whether a statement may change what a principal is made of: a user, or a unit's path. Decided
/// on the statement's text, as PostgreSQL's triggers decide on its table, so that no repository
/// has to remember to say so: anything but a `SELECT` that names either table counts, an insert
/// too (a needless reading of the principals again, never a missed one).
fn may_change_principals(sql: &str) -> bool {
    let sql = sql.trim_start();
    let select = sql.get(..6).is_some_and(|start| start.eq_ignore_ascii_case("select"));
    !select && (sql.contains("users") || sql.contains("units"))
}

/// What a committed transaction may have changed, for [`crate::Store::committed`].
#[derive(Debug, Clone, Copy)]
pub struct Committed {
    pub(crate) principals: bool,
}

/// What a transaction opens on: the store's connections, or a transaction (a savepoint inside it).
#[async_trait::async_trait]
pub trait Begins {
    async fn begin_transaction(&self) -> Result<Transaction, DbErr>;
}

#[async_trait::async_trait]
impl Begins for Pooled {
    async fn begin_transaction(&self) -> Result<Transaction, DbErr> {
        self.open(None).await
    }
}

#[async_trait::async_trait]
impl Begins for Transaction {
    async fn begin_transaction(&self) -> Result<Transaction, DbErr> {
        self.held.lock().await.savepoint().await?;
        Ok(Transaction {
            held: self.held.clone(),
            changes_principals: self.changes_principals.clone(),
            open: true,
            ..*self
        })
    }
}

impl<C: Begins + Sync> Handle<C> {
    /// Opens a transaction, or a savepoint inside this one.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Handle(self.0.begin_transaction().await?))
    }
}

impl Tx {
    pub async fn commit(self) -> Result<Committed, StoreError> {
        let principals = self.0.changes_principals.load(Ordering::Relaxed);
        self.0.commit().await?;
        Ok(Committed { principals })
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.0.rollback().await?)
    }
}

#[async_trait::async_trait]
impl<C: ConnectionTrait + Send + Sync> ConnectionTrait for Handle<C> {
    fn get_database_backend(&self) -> DbBackend {
        self.0.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.0.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.0.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.0.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.0.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.0.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.0.is_mock_connection()
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Pooled {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let _waiting = self.waiting();
        self.pool.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let _waiting = self.waiting();
        self.pool.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.kept {
            Some(kept) => kept.query_one(stmt).await,
            None => self.pool.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.kept {
            Some(kept) => kept.query_all(stmt).await,
            None => self.pool.query_all_raw(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        self.pool.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.pool.is_mock_connection()
    }
}

/// What the repositories read and write through: the store's connections or one of its
/// transactions. Code above the store names this trait, never the database library's.
pub trait Connection: ConnectionTrait {}

impl<C: ConnectionTrait + Send + Sync> Connection for Handle<C> {}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Statement};

    use super::*;

    /// A keeping store on an in-memory SQLite database, which lives in its one connection.
    async fn in_memory() -> Db {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1);
        Db::keeping(sea_orm::Database::connect(options).await.unwrap())
    }

    /// A savepoint dropped before its end rolls back what it wrote, and only that: the transaction
    /// around it goes on and commits the rest. A transaction dropped before its end leaves nothing.
    #[tokio::test]
    async fn a_level_dropped_open_rolls_back_alone() {
        let db = in_memory().await;
        db.execute_unprepared("CREATE TABLE t (n INTEGER)").await.unwrap();

        let tx = db.begin().await.unwrap();
        tx.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        let dropped = tx.begin().await.unwrap();
        dropped.execute_unprepared("INSERT INTO t VALUES (2)").await.unwrap();
        drop(dropped);
        let savepoint = tx.begin().await.unwrap();
        savepoint.execute_unprepared("INSERT INTO t VALUES (3)").await.unwrap();
        savepoint.commit().await.unwrap();
        tx.commit().await.unwrap();

        let dropped = db.begin().await.unwrap();
        dropped.execute_unprepared("INSERT INTO t VALUES (4)").await.unwrap();
        drop(dropped);

        let rows =
            db.query_all_raw(Statement::from_string(DbBackend::Sqlite, "SELECT n FROM t ORDER BY n")).await.unwrap();
        let numbers: Vec<i64> = rows.iter().map(|row| row.try_get("", "n").unwrap()).collect();
        assert_eq!(numbers, [1, 3]);
    }

    #[test]
    fn statements_that_may_change_a_principal_are_told_apart() {
        let changing = [
            r#"UPDATE "users" SET "active" = $1 WHERE "users"."id" = $2"#,
            r#"DELETE FROM "units" WHERE "units"."id" = $1"#,
            r#"UPDATE "units" SET "path" = $1, "version" = "version" + 1 WHERE "units"."id" = $2 RETURNING "id""#,
            r#"WITH moved AS (UPDATE units SET path = $1 RETURNING id) SELECT count(*) FROM moved"#,
            r#"INSERT INTO "users" ("id", "username") VALUES ($1, $2)"#,
        ];
        for sql in changing {
            assert!(may_change_principals(sql), "{sql}");
        }
        let others = [
            r#"SELECT "users"."id", "units"."path" FROM "users" LEFT JOIN "units" ON "units"."id" = "users"."unit_id""#,
            r#"  select "units"."id" from "units" for update"#,
            r#"INSERT INTO "officials" ("id", "unit_id") VALUES ($1, $2)"#,
            r#"INSERT INTO "events" ("position", "id", "type", "occurred_at", "unit_id", "data") VALUES ($1, $2, $3, $4, $5, $6)"#,
            "NOTIFY dvc_events",
        ];
        for sql in others {
            assert!(!may_change_principals(sql), "{sql}");
        }
    }

    /// A transaction tells whether a statement of its own or of a savepoint inside it may have
    /// changed a principal, so that the principals kept are read again only after such a commit.
    #[tokio::test]
    async fn a_commit_tells_whether_principals_may_have_changed() {
        let db = in_memory().await;
        db.execute_unprepared("CREATE TABLE users (id INTEGER, active BOOLEAN)").await.unwrap();
        db.execute_unprepared("CREATE TABLE audit (id INTEGER)").await.unwrap();

        let tx = db.begin().await.unwrap();
        tx.execute_unprepared("INSERT INTO audit VALUES (1)").await.unwrap();
        assert!(!tx.commit().await.unwrap().principals);

        let tx = db.begin().await.unwrap();
        let savepoint = tx.begin().await.unwrap();
        savepoint.execute_unprepared("UPDATE users SET active = false").await.unwrap();
        savepoint.commit().await.unwrap();
        assert!(tx.commit().await.unwrap().principals);
    }
}
