//! Persistence. The only crate that knows sea-orm and SQL: repositories take and return domain
//! types, map constraint violations to [`StoreError`], and write the audit event of every change in
//! the transaction of the change itself.

pub mod audit;
pub mod bulk;
pub mod citizen_accounts;
pub mod counters;
pub mod directives;
mod entity;
mod error;
pub mod events;
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
pub mod webhooks;

use std::sync::Arc;
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
    /// Moves on whenever events may have committed, for the readers that wait for them.
    committed: Arc<tokio::sync::watch::Sender<u64>>,
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
        Ok(Self { db, pii, committed: Arc::new(tokio::sync::watch::channel(0).0) })
    }

    /// A receiver that wakes when events may have committed: in this process (see
    /// [`Store::committed`]) or, on PostgreSQL once [`Store::listen`] runs, in any process.
    pub fn watch_events(&self) -> tokio::sync::watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Tells this process's waiting readers that a transaction committed.
    pub fn committed(&self) {
        self.committed.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// On PostgreSQL, listens for the notification every transaction that publishes events sends
    /// at commit, so that readers in this process wake for the writes of every process. Runs until
    /// the process ends, reconnecting after a lost connection.
    pub async fn listen(&self) {
        use sea_orm::sqlx::postgres::PgListener;
        if self.db.get_database_backend() != sea_orm::DbBackend::Postgres {
            return;
        }
        loop {
            let listened = async || -> Result<(), sea_orm::sqlx::Error> {
                let mut listener = PgListener::connect_with(self.db.get_postgres_connection_pool()).await?;
                listener.listen(events::CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    self.committed();
                }
            };
            if let Err(error) = listened().await {
                tracing::warn!(%error, "listening for committed events failed; listening again shortly");
            }
            // Readers also look again on their own every second, so a pause here loses nothing.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
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
