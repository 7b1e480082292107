//! Builds and runs the server: connect, migrate, bootstrap, bind, serve.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use anyhow::Context;
use dvc_domain::{DisplayName, NewUser, Password, Role, Username};
use dvc_http::{AppState, Metrics, TokenKeys, password};
use dvc_store::pii::{self, NewKeyKept, Resealed};
use dvc_store::{Actor, Store, StoreError};

use crate::settings::{Settings, redact_url};

/// How long in-flight requests may take to finish after SIGTERM.
const SHUTDOWN_SECONDS: u64 = 30;

pub struct Application {
    port: u16,
    server: Server,
    /// The webhook worker and the listener for other processes' commits, stopped with the server.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

/// Opens the configured database (creating the folder of an SQLite file), applying the migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    if let Some(path) = settings.database_url.strip_prefix("sqlite://")
        && let Some(folder) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
        && !folder.as_os_str().is_empty()
    {
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    }
    match Store::open(&settings.database_url, settings.pii_key.as_ref()).await {
        Ok(store) => Ok(store),
        // The database opened; the key is what is wrong, and the message says what to do.
        Err(mismatch @ StoreError::PiiKeyMismatch) => Err(mismatch.into()),
        Err(other) => Err(anyhow::Error::new(other)
            .context(format!("DVC_DATABASE_URL: cannot open {}", redact_url(&settings.database_url)))),
    }
}

/// Re-seals every personal number under `new_key` in one transaction: a key the operator will
/// configure as `DVC_PII_KEY` from now on, or, when `None`, a generated one kept in the database.
/// The current key (configured or stored) must open the database.
pub async fn rotate_pii_key(settings: &Settings, new_key: Option<[u8; 32]>) -> anyhow::Result<Resealed> {
    if settings.pii_key.is_some() && new_key.is_none() {
        anyhow::bail!(
            "DVC_PII_KEY is set: give the new key in DVC_NEW_PII_KEY, then start the servers with it as DVC_PII_KEY"
        );
    }
    let store = open_store(settings).await?;
    let (master, kept) = match new_key {
        Some(key) => (key, NewKeyKept::ByOperator),
        None => (rand::random(), NewKeyKept::InDatabase),
    };
    let tx = store.begin().await?;
    let resealed = pii::rotate(&tx, &Actor::system("cli"), store.pii(), &master, kept).await?;
    tx.commit().await?;
    store.close().await?;
    Ok(resealed)
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store = open_store(settings).await?;
        bootstrap_admin(&store, settings.admin_password.as_deref()).await?;
        let tokens = TokenKeys::load(&store, settings.jwt_secret.as_deref(), settings.token_ttl_seconds)
            .await
            .map_err(|error| anyhow::anyhow!("cannot load the token signing keys: {error}"))?;
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("DVC_LISTEN: cannot bind {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let background = vec![
            tokio::spawn({
                let store = store.clone();
                async move { store.listen().await }
            }),
            tokio::spawn(dvc_http::run_deliveries(store.clone(), settings.webhooks.clone())),
        ];
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let state = AppState {
            store: store.clone(),
            tokens,
            metrics: Metrics::default(),
            delivery: settings.webhooks.clone(),
            hashing: settings.password_hashing.clone(),
        };
        let stores = store.for_workers(workers).await?;
        // Each worker takes the next store; a worker restarted after a panic shares one.
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let server = HttpServer::new(move || {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % stores.len();
            dvc_http::app(web::Data::new(AppState { store: stores[index].clone(), ..state.clone() }))
        })
        .workers(workers)
        .listen(listener)?
        .shutdown_timeout(SHUTDOWN_SECONDS)
        .run();
        tracing::info!(address = %settings.listen, port, "listening");
        Ok(Self { port, server, background })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        // A delivery cut off here is still pending in the database, and is sent again once the
        // subscription's lease runs out.
        for task in self.background {
            task.abort();
        }
        served
    }
}

/// Creates the `admin` user on a database without users, with the configured password or a
/// generated one that is printed once.
async fn bootstrap_admin(store: &Store, configured: Option<&str>) -> anyhow::Result<()> {
    if dvc_store::users::count(store.conn()).await? > 0 {
        return Ok(());
    }
    let generated = configured.is_none();
    let secret = match configured {
        Some(secret) => secret.to_owned(),
        None => generate_password(),
    };
    let password_hash = password::hash(Password::parse(&secret)?).await.map_err(|error| anyhow::anyhow!("{error}"))?;
    let admin = NewUser {
        username: Username::parse("admin")?,
        display_name: DisplayName::parse("Administrator")?,
        role: Role::Admin,
        unit_id: None,
        official_id: None,
        password_hash,
    };
    let tx = store.begin().await?;
    match dvc_store::users::create(&tx, &Actor::system("bootstrap"), admin).await {
        // Another process sharing the database created it first.
        Err(StoreError::Conflict { .. }) => return Ok(()),
        other => other?,
    };
    tx.commit().await?;
    if generated {
        announce_generated_password(&secret);
    }
    Ok(())
}

fn generate_password() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

/// The one time the generated password is shown: on standard output, where the operator who started
/// the server sees it, and never in the logs.
#[allow(clippy::print_stdout, reason = "the operator must see the generated password once")]
fn announce_generated_password(secret: &str) {
    println!("Created the user `admin` with the generated password: {secret}");
    println!("Keep it now: it is not shown again. Set DVC_ADMIN_PASSWORD to choose one instead.");
}
