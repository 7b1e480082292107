//! Persistence. The only crate that knows sea-orm and SQL: repositories take and return domain
//! types, map constraint violations to [`StoreError`], and write the audit event of every change in
//! the transaction of the change itself.

pub mod audit;
pub mod citizen_accounts;
pub mod counters;
pub mod directives;
mod entity;
mod error;
pub mod grants;
pub mod idempotency;
pub mod keys;
pub mod officials;
mod page;
pub mod pii;
pub mod reorganisations;
pub mod report_snapshots;
pub mod reports;
pub mod rosters;
mod search;
mod succession;
pub mod support;
pub mod throttle;
pub mod units;
pub mod users;
mod versioned;

use std::time::Duration;

use dvc_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, TransactionTrait};

pub use audit::Actor;
pub use error::StoreError;
pub use page::{Cursor, Page, PageRequest};
pub use pii::PiiKey;
pub use sea_orm::{ConnectionTrait as Connection, DatabaseTransaction as Tx};

/// A handle on the database, cheap to clone (it wraps a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    pii: PiiKey,
}

/// Rows per multi-row INSERT: well under the bind-parameter limits of SQLite (32,766) and
/// PostgreSQL (65,535) for the widest table.
pub(crate) const INSERT_CHUNK: usize = 500;

/// How long one statement may run before the database cancels it, so that no request holds a
/// connection indefinitely.
const STATEMENT_TIMEOUT: &str = "30s";

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`, creating an SQLite file if it is missing),
    /// applies the migrations that have not run yet, and loads the key that seals personal numbers:
    /// the configured one, or the one stored in the database.
    pub async fn open(url: &str, pii_key: Option<&[u8; 32]>) -> Result<Self, StoreError> {
        let db = connect(url).await?;
        Migrator::up(&db, None).await?;
        let pii = pii::load(&db, pii_key).await?;
        Ok(Self { db, pii })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Opens a transaction; every write of one request goes through one.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.db.begin().await?)
    }

    /// The key that seals personal numbers, for the repositories that store them.
    pub fn pii(&self) -> &PiiKey {
        &self.pii
    }

    /// The connection for reads outside a transaction.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await?;
        Ok(())
    }
}

async fn connect(url: &str) -> Result<DatabaseConnection, StoreError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        })
        .map_sqlx_postgres_opts(|postgres| postgres.options([("statement_timeout", STATEMENT_TIMEOUT)]));
    if url.starts_with("sqlite:") {
        // SQLite takes one writer at a time; a single pooled connection serialises writes in the
        // pool instead of failing them with SQLITE_BUSY, and keeps `:memory:` one database.
        options.max_connections(1);
    } else {
        options.max_connections(16).min_connections(1);
    }
    Ok(Database::connect(options).await?)
}

/// A moment as the database stores it: microseconds, so that what is written reads back equal on
/// both SQLite and PostgreSQL.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
