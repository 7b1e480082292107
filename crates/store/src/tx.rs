//! The store's own connection and transaction types and the trait of what queries run on, so that
//! the layers above write through the store without knowing the database library: only `store`
//! depends on it.

use std::sync::Arc;

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, IsolationLevel,
    QueryResult, Statement, TransactionTrait,
};

use crate::StoreError;
use crate::kept::{Keeps, Kept, Waiting};

/// A handle on the database that the repositories read and write through: the store's connections
/// ([`Db`]) or one of its transactions ([`Tx`]). The layers above hold these, never the database
/// library's types.
#[derive(Debug, Clone)]
pub struct Handle<C>(C);

/// The store's connections, for reads and single writes outside a transaction.
pub type Db = Handle<Pooled>;

/// One transaction: every write of a request or a command goes through one, and nothing it wrote
/// is seen by others before `commit`. Dropped without a commit, it rolls back.
pub type Tx = Handle<DatabaseTransaction>;

/// A pool of connections and, for a server worker on PostgreSQL or SQLite's readers, the
/// connections it keeps out of the pool between queries ([`Kept`]): queries outside a transaction
/// run on those, and everything else takes its connection from the pool, registered as waiting
/// there so that none is kept meanwhile.
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
        let _waiting = self.0.waiting();
        let pool = &self.0.pool;
        let tx = match pool.get_database_backend() {
            DbBackend::Postgres => {
                pool.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            }
            _ => pool.begin().await?,
        };
        Ok(Handle(tx))
    }

    pub(crate) async fn close(self) -> Result<(), StoreError> {
        drop(self.0.waiting());
        Ok(self.0.pool.close_by_ref().await?)
    }
}

/// What a transaction opens on: the store's connections, or a transaction (a savepoint inside it).
#[async_trait::async_trait]
pub trait Begins {
    async fn begin_transaction(&self) -> Result<DatabaseTransaction, DbErr>;
}

#[async_trait::async_trait]
impl Begins for Pooled {
    async fn begin_transaction(&self) -> Result<DatabaseTransaction, DbErr> {
        let _waiting = self.waiting();
        self.pool.begin().await
    }
}

#[async_trait::async_trait]
impl Begins for DatabaseTransaction {
    async fn begin_transaction(&self) -> Result<DatabaseTransaction, DbErr> {
        self.begin().await
    }
}

impl<C: Begins + Sync> Handle<C> {
    /// Opens a transaction, or a savepoint inside this one.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Handle(self.0.begin_transaction().await?))
    }
}

impl Tx {
    /// The database library's transaction, for the store's own work that opens a savepoint in it.
    pub(crate) fn inner(&self) -> &DatabaseTransaction {
        &self.0
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
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
