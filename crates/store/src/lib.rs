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
mod kept;
pub mod keys;
pub mod login;
pub mod officials;
mod page;
pub mod pii;
mod principals;
pub mod reorganisations;
pub mod report_snapshots;
pub mod reports;
pub mod rosters;
mod search;
pub mod standing;
mod succession;
pub mod support;
pub mod throttle;
mod tx;
pub mod units;
pub mod users;
mod versioned;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use dvc_domain::Principal;
use dvc_migrations::{IDENTITIES_CHANNEL, Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use uuid::Uuid;

pub use audit::Actor;
pub use error::{StoreError, Subject};
pub use page::{Cursor, Page, PageRequest};
pub use pii::PiiKey;
pub use tx::{Begins, Committed, Connection, Db, Handle, Pooled, Tx};

/// A handle on the database, cheap to clone (it wraps a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    /// Reads outside a transaction.
    reads: Db,
    /// Transactions. On SQLite a pool of one connection, since the database takes one writer at a
    /// time and WAL lets the readers go on beside it; on PostgreSQL the same pool as `reads`.
    writes: Db,
    pii: PiiKey,
    /// Moves on whenever events may have committed, for the readers that wait for them.
    committed: Arc<tokio::sync::watch::Sender<u64>>,
    /// Where the database is, for the pools of [`Store::for_workers`].
    url: Arc<str>,
    /// The callers' principals, kept between requests.
    principals: Arc<principals::Principals>,
}

/// Rows per multi-row INSERT: well under the bind-parameter limits of SQLite (32,766) and
/// PostgreSQL (65,535) for the widest table.
pub(crate) const INSERT_CHUNK: usize = 500;

/// How long one statement may run before the database cancels it, so that no request holds a
/// connection indefinitely.
const STATEMENT_TIMEOUT: &str = "30s";

/// The PostgreSQL connections of a process's pool, which a server divides among its workers.
const POSTGRES_CONNECTIONS: u32 = 16;

/// SQLite's reading connections. Each runs its statements on a thread of its own, and a request
/// waits for that thread to wake and answer; with more connections than cores, a statement's
/// wait overlaps the others' work instead of queueing for a connection. Measured on 2 cores under
/// 64 concurrent clients, a primary-key read went from 13,200 to 16,300 requests/s between 4 and
/// 16 connections, and a page of units from 2,300 to 2,800; each costs at most SQLite's page cache.
const SQLITE_READERS: u32 = 16;

/// How long a request may wait for a connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a pooled connection may sit idle before a checkout pings it first.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`, creating an SQLite file if it is missing),
    /// applies the migrations that have not run yet, and loads the key that seals personal numbers:
    /// the configured one, or the one stored in the database.
    pub async fn open(url: &str, pii_key: Option<&[u8; 32]>) -> Result<Self, StoreError> {
        let writes = connect(url, Pool::Writes).await?;
        Migrator::up(&writes, None).await?;
        let pii = pii::load(&writes, pii_key).await?;
        let reads = match Pool::for_reads(url) {
            Some(pool) => Db::keeping(connect(url, pool).await?),
            None => Db::new(writes.clone()),
        };
        let writes = Db::new(writes);
        standing::fill_if_missing(&writes).await?;
        let committed = Arc::new(tokio::sync::watch::channel(0).0);
        // PostgreSQL's other processes are heard only once `listen` runs.
        let principals = Arc::new(principals::Principals::new(writes.get_database_backend() != DbBackend::Postgres));
        Ok(Self { reads, writes, pii, committed, url: Arc::from(url), principals })
    }

    /// One store for each of a server's `workers` threads. On PostgreSQL each has a pool of its
    /// own whose connections open on first use, inside the worker that uses them: a connection
    /// belongs to the runtime that opened it, so the worker's own connections answer it without a
    /// hop through another thread, and they stop with it at a graceful shutdown while no other
    /// worker can be handed one of them. SQLite's connections are threads of their own, shared.
    pub async fn for_workers(&self, workers: usize) -> Result<Vec<Store>, StoreError> {
        if self.reads.get_database_backend() != DbBackend::Postgres {
            return Ok(vec![self.clone(); workers]);
        }
        let connections = POSTGRES_CONNECTIONS.div_ceil(u32::try_from(workers.max(1)).unwrap_or(u32::MAX)).max(1);
        let mut stores = Vec::with_capacity(workers);
        for _ in 0..workers {
            let pool = Db::keeping(connect(&self.url, Pool::Worker(connections)).await?);
            stores.push(Self { reads: pool.clone(), writes: pool, ..self.clone() });
        }
        Ok(stores)
    }

    /// A receiver that wakes when events may have committed: in this process (see
    /// [`Store::committed`]) or, on PostgreSQL once [`Store::listen`] runs, in any process.
    pub fn watch_events(&self) -> tokio::sync::watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Tells this process that one of its transactions committed: its waiting readers look for new
    /// events, and if the transaction may have changed a user or a unit's path, the principals it
    /// keeps are read again.
    pub fn committed(&self, committed: Committed) {
        if committed.principals {
            self.principals.changed();
        }
        self.wake_readers();
    }

    fn wake_readers(&self) {
        self.committed.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// The principal behind a token (see [`users::principal`]), kept between requests for as long
    /// as nothing that could change it may have committed since it was read.
    pub async fn principal(&self, user_id: Uuid) -> Result<Option<Principal>, StoreError> {
        let generation = self.principals.generation();
        if let Some(principal) = generation.and_then(|current| self.principals.get(user_id, current)) {
            return Ok(Some(principal));
        }
        let principal = users::principal(&self.reads, user_id).await?;
        if let (Some(generation), Some(principal)) = (generation, &principal) {
            self.principals.keep(generation, principal.clone());
        }
        Ok(principal)
    }

    /// On PostgreSQL, listens for the notifications other processes' commits send: new events, so
    /// that readers in this process wake for the writes of every process, and changed users and
    /// units, so that the principals kept here are read again. Runs until the process ends,
    /// listening again after a lost connection; in between, no principal is kept.
    pub async fn listen(&self) {
        use sea_orm::sqlx::postgres::PgListener;
        if self.reads.get_database_backend() != DbBackend::Postgres {
            return;
        }
        loop {
            let listened = async || -> Result<(), sea_orm::sqlx::Error> {
                let mut listener = PgListener::connect_with(self.reads.inner().get_postgres_connection_pool()).await?;
                // A lost connection ends the loop instead of reconnecting unseen: notifications
                // sent meanwhile are lost, and the principals kept must not be trusted past them.
                listener.eager_reconnect(false);
                listener.listen_all([events::CHANNEL, IDENTITIES_CHANNEL]).await?;
                self.principals.hearing(true);
                while let Some(notification) = listener.try_recv().await? {
                    if notification.channel() == IDENTITIES_CHANNEL {
                        self.principals.changed();
                    } else {
                        self.wake_readers();
                    }
                }
                Ok(())
            };
            let listened = listened().await;
            self.principals.hearing(false);
            if let Err(error) = listened {
                tracing::warn!(%error, "listening for other processes' commits failed; listening again shortly");
            }
            // Readers also look again on their own every second, so a pause here loses nothing.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.reads.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Opens a transaction; every write of one request goes through one.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        self.writes.begin().await
    }

    /// The key that seals personal numbers, for the repositories that store them.
    pub fn pii(&self) -> &PiiKey {
        &self.pii
    }

    /// The connection for reads outside a transaction.
    pub fn conn(&self) -> &Db {
        &self.reads
    }

    /// The connection for a single write outside a transaction (a login failure, a webhook
    /// delivery's progress): SQLite's one writer, so that it queues behind the transactions.
    pub fn writer(&self) -> &Db {
        &self.writes
    }

    pub async fn close(self) -> Result<(), StoreError> {
        self.reads.close().await?;
        self.writes.close().await?;
        Ok(())
    }
}

/// The pools a store opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    /// Every connection on PostgreSQL; the one writer on SQLite.
    Writes,
    /// SQLite's readers.
    SqliteReads,
    /// One server worker's PostgreSQL connections, at most this many, opened when first needed.
    Worker(u32),
}

impl Pool {
    /// The pool of readers a database needs beside its writers, if any: SQLite files have one;
    /// PostgreSQL's pool serves both, and an in-memory SQLite database exists only in its one
    /// connection.
    fn for_reads(url: &str) -> Option<Pool> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        (url.starts_with("sqlite:") && !in_memory).then_some(Pool::SqliteReads)
    }
}

async fn connect(url: &str, pool: Pool) -> Result<DatabaseConnection, StoreError> {
    let mut options = ConnectOptions::new(url.to_owned());
    let tls_asked = asks_for_tls(url);
    options
        .connect_timeout(Duration::from_secs(5))
        // A ping on every checkout would double the round trips of a request; only a connection
        // that sat idle long enough for the server or the network to have dropped it is pinged.
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |sqlite| {
            sqlite
                // Readers cannot write: a write slipped onto a reader would race the one writer.
                .read_only(pool == Pool::SqliteReads)
                .create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                // In WAL mode NORMAL loses no committed transaction to a crash of the process,
                // only to one of the machine, and spares a disk flush per commit.
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        })
        .map_sqlx_postgres_opts(move |postgres| {
            let postgres = postgres.options([("statement_timeout", STATEMENT_TIMEOUT)]);
            if tls_asked || !is_loopback(postgres.get_host()) {
                return postgres;
            }
            // TLS to a database on this machine protects nothing and costs a handshake per
            // connection and time on every statement; it is used here only when the URL asks.
            postgres.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable)
        });
    match pool {
        // SQLite takes one writer at a time; a single pooled connection serialises writes in the
        // pool instead of failing them with SQLITE_BUSY, and keeps `:memory:` one database.
        Pool::Writes if url.starts_with("sqlite:") => options.max_connections(1),
        // The commands' and the background tasks' pool on PostgreSQL (the server's requests use
        // their workers' pools).
        Pool::Writes => options.max_connections(POSTGRES_CONNECTIONS),
        Pool::SqliteReads => options.max_connections(SQLITE_READERS).min_connections(1),
        Pool::Worker(connections) => options.max_connections(connections).connect_lazy(true),
    };
    Ok(Database::connect(options).await?)
}

fn asks_for_tls(url: &str) -> bool {
    url.contains("sslmode=") || url.contains("ssl-mode=")
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.starts_with('/') || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The sum of `expr` over a group, as an integer on both databases (PostgreSQL sums integers as
/// NUMERIC).
pub(crate) fn sum(expr: impl Into<sea_orm::sea_query::Expr>) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Alias, Expr, Func};
    Expr::from(Func::cast_as(Func::sum(expr.into()), Alias::new("BIGINT")))
}

/// A moment as the database stores it: microseconds, so that what is written reads back equal on
/// both SQLite and PostgreSQL.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
