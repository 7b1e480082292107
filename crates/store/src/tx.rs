//! The store's own transaction and the trait of what queries run on, so that the layers above
//! write through the store without knowing the database library: only `store` depends on it.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};

use crate::StoreError;

/// One transaction: every write of a request or a command goes through one, and nothing it wrote
/// is seen by others before `commit`. Dropped without a commit, it rolls back.
#[derive(Debug)]
pub struct Tx(DatabaseTransaction);

impl Tx {
    pub(crate) fn new(tx: DatabaseTransaction) -> Self {
        Self(tx)
    }

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
impl ConnectionTrait for Tx {
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

/// What the repositories read and write through: the store's connection or one of its
/// transactions. Code above the store names this trait, never the database library's.
pub trait Connection: ConnectionTrait {}

impl Connection for Tx {}
impl Connection for DatabaseConnection {}
