//! The store's own connection and transaction types and the trait of what queries run on, so that
//! the layers above write through the store without knowing the database library: only `store`
//! depends on it.

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, IsolationLevel,
    QueryResult, Statement, TransactionTrait,
};

use crate::StoreError;

/// A handle on the database that the repositories read and write through: the store's connections
/// ([`Db`]) or one of its transactions ([`Tx`]). The layers above hold these, never the database
/// library's types.
#[derive(Debug, Clone)]
pub struct Handle<C>(C);

/// The store's connections, for reads and single writes outside a transaction.
pub type Db = Handle<DatabaseConnection>;

/// One transaction: every write of a request or a command goes through one, and nothing it wrote
/// is seen by others before `commit`. Dropped without a commit, it rolls back.
pub type Tx = Handle<DatabaseTransaction>;

impl Db {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self(db)
    }

    /// The database library's connection, for the store's own work that needs the pool itself.
    pub(crate) fn inner(&self) -> &DatabaseConnection {
        &self.0
    }

    /// A read-only transaction on one connection over one snapshot, for a read of several
    /// statements that must agree with each other, such as a report: every statement sees the
    /// same committed state, and the connection is checked out once. (SQLite reads a transaction
    /// from one snapshot on its own and takes no such settings.)
    pub async fn snapshot(&self) -> Result<Tx, StoreError> {
        let tx = match self.0.get_database_backend() {
            DbBackend::Postgres => {
                self.0.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            }
            _ => self.0.begin().await?,
        };
        Ok(Handle(tx))
    }

    pub(crate) async fn close(self) -> Result<(), StoreError> {
        Ok(self.0.close().await?)
    }
}

impl<C: TransactionTrait<Transaction = DatabaseTransaction>> Handle<C> {
    /// Opens a transaction, or a savepoint inside this one.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Handle(self.0.begin().await?))
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

/// What the repositories read and write through: the store's connections or one of its
/// transactions. Code above the store names this trait, never the database library's.
pub trait Connection: ConnectionTrait {}

impl<C: ConnectionTrait + Send + Sync> Connection for Handle<C> {}
