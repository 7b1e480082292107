//! Settings from `DVC_*` environment variables, over an optional TOML file (`DVC_CONFIG`, or
//! `dvc.toml` in the working directory) that may set the same keys in lower case without the prefix.
//! A bad value stops start-up with a message that names the variable.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use dvc_http::DeliveryConfig;
use dvc_http::password::HashGate;

/// The database used when none is configured: an SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/dvc.sqlite?mode=rwc";
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_TOKEN_TTL_SECONDS: i64 = 900;
const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    /// The bootstrap admin's password; generated and printed once when unset.
    pub admin_password: Option<String>,
    /// The token signing secret; generated and stored in the database when unset.
    pub jwt_secret: Option<Vec<u8>>,
    /// The key that seals personal numbers; generated and stored in the database when unset.
    pub pii_key: Option<[u8; 32]>,
    pub token_ttl_seconds: i64,
    pub log: String,
    /// How webhooks are sent.
    pub webhooks: DeliveryConfig,
    /// How many password hashes run at once and wait (`DVC_PASSWORD_HASHES`, `DVC_PASSWORD_QUEUE`).
    pub password_hashing: HashGate,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("log", &self.log)
            .field("webhooks", &self.webhooks)
            .finish_non_exhaustive()
    }
}

/// A database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Settings {
    /// Reads the file (if any) and the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let file = match std::env::var("DVC_CONFIG") {
            Ok(path) => Some(read_file(Path::new(&path)).context("DVC_CONFIG")?),
            Err(_) if Path::new("dvc.toml").exists() => Some(read_file(Path::new("dvc.toml"))?),
            Err(_) => None,
        };
        Self::from_sources(&file.unwrap_or_default(), |name| std::env::var(name).ok())
    }

    /// Builds settings from a file's keys and an environment lookup; the environment wins.
    pub fn from_sources(file: &BTreeMap<String, String>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| env(name).or_else(|| file.get(&name.trim_start_matches("DVC_").to_lowercase()).cloned());
        let listen_raw = get("DVC_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_raw.parse().with_context(|| {
            format!("DVC_LISTEN: `{listen_raw}` is not an address and port such as {DEFAULT_LISTEN}")
        })?;
        let database_url = get("DVC_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("DVC_DATABASE_URL: expected sqlite:… or postgres://…");
        }
        let jwt_secret = match (get("DVC_JWT_SECRET"), get("DVC_JWT_SECRET_FILE")) {
            (Some(secret), _) => Some(secret.into_bytes()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("DVC_JWT_SECRET_FILE: cannot read {path}"))?
                    .trim()
                    .as_bytes()
                    .to_vec(),
            ),
            (None, None) => None,
        };
        if let Some(secret) = &jwt_secret
            && secret.len() < MIN_SECRET_BYTES
        {
            bail!("DVC_JWT_SECRET: must be at least {MIN_SECRET_BYTES} bytes long");
        }
        let pii_key = get("DVC_PII_KEY")
            .map(|raw| parse_key(&raw).context("DVC_PII_KEY: expected 64 hexadecimal digits (32 bytes)"))
            .transpose()?;
        let admin_password = get("DVC_ADMIN_PASSWORD");
        if let Some(password) = &admin_password {
            dvc_domain::Password::parse(password).map_err(|error| anyhow::anyhow!("DVC_ADMIN_PASSWORD: {error}"))?;
        }
        let token_ttl_seconds = match get("DVC_TOKEN_TTL_SECONDS") {
            Some(raw) => raw.parse::<i64>().ok().filter(|ttl| (60..=86_400).contains(ttl)).with_context(|| {
                format!("DVC_TOKEN_TTL_SECONDS: `{raw}` is not a number of seconds from 60 to 86400")
            })?,
            None => DEFAULT_TOKEN_TTL_SECONDS,
        };
        let log = get("DVC_LOG").unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log)
            .with_context(|| format!("DVC_LOG: `{log}` is not a log filter"))?;
        let webhooks = webhook_settings(&get)?;
        let password_hashing = hashing_settings(&get)?;
        Ok(Self {
            listen,
            database_url,
            admin_password,
            jwt_secret,
            pii_key,
            token_ttl_seconds,
            log,
            webhooks,
            password_hashing,
        })
    }
}

/// `DVC_PASSWORD_HASHES` (hashes at once, default: one per core) and `DVC_PASSWORD_QUEUE` (requests
/// waiting for one, default: four per core).
fn hashing_settings(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<HashGate> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let count = |name: &str, range: std::ops::RangeInclusive<usize>, default: usize| -> anyhow::Result<usize> {
        match get(name) {
            Some(raw) => raw.trim().parse::<usize>().ok().filter(|value| range.contains(value)).with_context(|| {
                format!("{name}: `{raw}` is not a whole number from {} to {}", range.start(), range.end())
            }),
            None => Ok(default),
        }
    };
    Ok(HashGate::new(count("DVC_PASSWORD_HASHES", 1..=64, cores)?, count("DVC_PASSWORD_QUEUE", 0..=1024, 4 * cores)?))
}

/// The `DVC_WEBHOOK_*` settings, each bounded.
fn webhook_settings(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<DeliveryConfig> {
    let defaults = DeliveryConfig::default();
    let number = |name: &str, range: std::ops::RangeInclusive<u64>, default: u64| -> anyhow::Result<u64> {
        match get(name) {
            Some(raw) => raw.trim().parse::<u64>().ok().filter(|value| range.contains(value)).with_context(|| {
                format!("{name}: `{raw}` is not a whole number from {} to {}", range.start(), range.end())
            }),
            None => Ok(default),
        }
    };
    let allow_private = match get("DVC_WEBHOOK_ALLOW_PRIVATE").as_deref().map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => bail!("DVC_WEBHOOK_ALLOW_PRIVATE: `{other}` is not true or false"),
    };
    let seconds = |duration: std::time::Duration| duration.as_secs();
    let millis = |duration: std::time::Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    Ok(DeliveryConfig {
        allow_private,
        timeout: Duration::from_secs(number("DVC_WEBHOOK_TIMEOUT_SECONDS", 1..=60, seconds(defaults.timeout))?),
        retry_base: Duration::from_millis(number(
            "DVC_WEBHOOK_RETRY_BASE_MS",
            100..=3_600_000,
            millis(defaults.retry_base),
        )?),
        give_up: Duration::from_secs(number("DVC_WEBHOOK_GIVE_UP_SECONDS", 1..=604_800, seconds(defaults.give_up))?),
    })
}

/// A 32-byte key written as 64 hexadecimal digits.
pub fn parse_key(text: &str) -> Option<[u8; 32]> {
    let mut key = [0; 32];
    hex::decode_to_slice(text.trim(), &mut key).ok()?;
    Some(key)
}

fn read_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let table: toml::Table = text.parse().with_context(|| format!("{} is not valid TOML", path.display()))?;
    table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(text) => text,
                other => other.to_string(),
            };
            Ok((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Settings::from_sources(&BTreeMap::new(), |name| vars.get(name).cloned())
    }

    fn error_of(vars: &[(&str, &str)]) -> String {
        settings(vars).err().map(|error| format!("{error:#}")).unwrap_or_default()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let settings = settings(&[]).expect("defaults are valid");
        assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
        assert!(settings.jwt_secret.is_none());
        assert!(settings.pii_key.is_none());
        let configured = self::settings(&[("DVC_PII_KEY", &"0f".repeat(32))]).expect("a valid key");
        assert_eq!(configured.pii_key, Some([0x0f; 32]));
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert!(error_of(&[("DVC_LISTEN", "nowhere")]).starts_with("DVC_LISTEN"));
        assert!(error_of(&[("DVC_DATABASE_URL", "mysql://x")]).starts_with("DVC_DATABASE_URL"));
        assert!(error_of(&[("DVC_JWT_SECRET", "short")]).starts_with("DVC_JWT_SECRET"));
        assert!(error_of(&[("DVC_ADMIN_PASSWORD", "short")]).starts_with("DVC_ADMIN_PASSWORD"));
        assert!(error_of(&[("DVC_TOKEN_TTL_SECONDS", "5")]).starts_with("DVC_TOKEN_TTL_SECONDS"));
        assert!(error_of(&[("DVC_LOG", "info,[")]).starts_with("DVC_LOG"));
        assert!(error_of(&[("DVC_PII_KEY", "abcd")]).starts_with("DVC_PII_KEY"));
        assert!(error_of(&[("DVC_WEBHOOK_ALLOW_PRIVATE", "yes")]).starts_with("DVC_WEBHOOK_ALLOW_PRIVATE"));
        assert!(error_of(&[("DVC_WEBHOOK_TIMEOUT_SECONDS", "0")]).starts_with("DVC_WEBHOOK_TIMEOUT_SECONDS"));
        assert!(error_of(&[("DVC_WEBHOOK_RETRY_BASE_MS", "5")]).starts_with("DVC_WEBHOOK_RETRY_BASE_MS"));
        assert!(error_of(&[("DVC_WEBHOOK_GIVE_UP_SECONDS", "x")]).starts_with("DVC_WEBHOOK_GIVE_UP_SECONDS"));
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = BTreeMap::from([
            ("listen".to_owned(), "127.0.0.1:9000".to_owned()),
            ("log".to_owned(), "debug".to_owned()),
        ]);
        let settings =
            Settings::from_sources(&file, |name| (name == "DVC_LOG").then(|| "warn".to_owned())).expect("valid");
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(settings.log, "warn");
    }

    #[test]
    fn urls_are_redacted_for_logs() {
        assert_eq!(redact_url("postgres://dvc:secret@db:5432/dvc"), "postgres://dvc:***@db:5432/dvc");
        assert_eq!(redact_url(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }
}
