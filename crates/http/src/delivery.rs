//! The webhook worker: it runs inside every server process, fans the change feed out to the
//! subscriptions, and sends each subscription's deliveries in order, signed as Standard Webhooks
//! describes, retrying with exponential backoff and jitter until a day has passed.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use dvc_domain::ParseError;
use dvc_store::events::FeedEvent;
use dvc_store::webhooks::{self, Attempt, Claimed, Delivery, Outcome};
use dvc_store::{Store, StoreError};
use hmac::{Hmac, Mac};
use rand::Rng;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use sha2::Sha256;

use crate::handlers::EventResponse;

/// The longest URL a subscription may have.
const MAX_URL_CHARS: usize = 2000;
/// Events turned into deliveries in one transaction.
const FAN_OUT_BATCH: u64 = 200;
/// Deliveries sent for one subscription before the worker turns to the next one.
const DELIVERIES_PER_TURN: usize = 50;
/// How long the worker keeps sending to one subscription before it turns to the others.
const TURN_BUDGET: Duration = Duration::from_secs(30);
/// Subscriptions one process serves at once, so that a slow receiver does not hold up the others.
const CONCURRENT_SUBSCRIPTIONS: usize = 8;
/// The least time between the starts of two rounds. Every commit wakes the worker, and each round
/// is a transaction on the database even when there is nothing to send: under a steady stream of
/// writes, rounds at every commit cost the server about a fifth of each write's CPU. A burst of
/// commits is served by one round instead, its events sent at most this much later.
const ROUND_GAP: Duration = Duration::from_millis(100);
/// The longest wait between two attempts, however many failed.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// The longest error text kept with an attempt.
const MAX_ERROR_CHARS: usize = 200;

/// How webhooks are sent; from the server's settings.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Whether subscriptions may name loopback and private addresses (tests, closed networks).
    pub allow_private: bool,
    /// How long a receiver has to answer one delivery.
    pub timeout: Duration,
    /// The wait after the first failure; it doubles with every further one.
    pub retry_base: Duration,
    /// How long a delivery is retried before it is marked failed.
    pub give_up: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(10),
            give_up: Duration::from_secs(86_400),
        }
    }
}

impl DeliveryConfig {
    /// How long a process holds a subscription: longer than one send, renewed before each.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.timeout + Duration::from_secs(5)).unwrap_or(chrono::Duration::minutes(1))
    }

    /// How often the worker looks for due deliveries without being woken by a commit.
    fn poll(&self) -> Duration {
        self.retry_base.min(Duration::from_secs(1))
    }

    /// The wait before the attempt after `failures` failed ones: doubling from the base up to an
    /// hour, then a random part of it taken off so that receivers coming back are not hit by every
    /// subscription at once.
    fn backoff(&self, failures: i32) -> Duration {
        let doublings = u32::try_from(failures.saturating_sub(1)).unwrap_or(0).min(20);
        let full = self.retry_base.saturating_mul(1 << doublings).min(MAX_BACKOFF);
        full.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    /// Whether a webhook may be sent to `address`.
    fn allows(&self, address: IpAddr) -> bool {
        self.allow_private || dvc_domain::feed::is_public_address(address)
    }
}

/// Checks a subscription's URL: http or https, a host, no credentials, and no loopback or private
/// address unless the configuration allows them. Names are checked again when resolved at delivery.
pub fn check_url(raw: &str, config: &DeliveryConfig) -> Result<String, ParseError> {
    let invalid = |detail: &str| ParseError::new("invalid_url", detail.to_owned());
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(invalid("the URL is longer than 2000 characters"));
    }
    let url = Url::parse(raw.trim()).map_err(|_| invalid("not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https URLs are allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the URL cannot carry credentials"));
    }
    let refused = || ParseError::new("address_not_allowed", "loopback and private addresses are not allowed");
    match target(&url) {
        None => return Err(invalid("the URL has no host")),
        Some(Target::Address(address)) if !config.allows(address) => return Err(refused()),
        Some(Target::Name(name))
            if !config.allow_private && (name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")) =>
        {
            return Err(refused());
        }
        Some(_) => {}
    }
    Ok(url.to_string())
}

/// Where a URL points: an address written out, or a name to resolve.
enum Target<'a> {
    Address(IpAddr),
    Name(&'a str),
}

fn target(url: &Url) -> Option<Target<'_>> {
    let host = url.host_str()?;
    // An IPv6 address is written in brackets in a URL.
    match host.trim_start_matches('[').trim_end_matches(']').parse() {
        Ok(address) => Some(Target::Address(address)),
        Err(_) => Some(Target::Name(host)),
    }
}

/// A new signing secret, shown once: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` value: HMAC-SHA256, keyed by the secret's bytes, over
/// `{webhook-id}.{webhook-timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap_or_else(|_| secret.as_bytes().to_vec());
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Runs the worker until the process ends: a round over every subscription whenever events commit,
/// at most one every [`ROUND_GAP`], and at least every second.
pub async fn run(store: Store, config: DeliveryConfig) {
    let mut committed = store.watch_events();
    loop {
        committed.borrow_and_update();
        let started = actix_web::rt::time::Instant::now();
        if let Err(error) = round(&store, &config).await {
            tracing::warn!(%error, "webhook delivery round failed; trying again shortly");
        }
        let _ = actix_web::rt::time::timeout(config.poll(), committed.changed()).await;
        actix_web::rt::time::sleep_until(started + ROUND_GAP).await;
    }
}

/// Serves every subscription that no other process holds, a few at a time.
async fn round(store: &Store, config: &DeliveryConfig) -> Result<(), StoreError> {
    let mut after = None;
    loop {
        let mut claimed = Vec::new();
        while claimed.len() < CONCURRENT_SUBSCRIPTIONS {
            let Some(one) = webhooks::claim(store.writer(), after, config.lease()).await? else { break };
            after = Some(one.webhook.id);
            claimed.push(one);
        }
        if claimed.is_empty() {
            return Ok(());
        }
        let served = futures_util::future::join_all(claimed.iter_mut().map(|one| serve(store, config, one))).await;
        for one in &claimed {
            webhooks::release(store.writer(), one).await?;
        }
        served.into_iter().collect::<Result<Vec<()>, _>>()?;
    }
}

/// Fans out what is new for one subscription, then sends its due deliveries in order, stopping at
/// the first that must wait for a retry.
async fn serve(store: &Store, config: &DeliveryConfig, claimed: &mut Claimed) -> Result<(), StoreError> {
    while webhooks::fan_out(store.writer(), claimed, FAN_OUT_BATCH).await?
        == usize::try_from(FAN_OUT_BATCH).unwrap_or(0)
    {}
    let started = Instant::now();
    for _ in 0..DELIVERIES_PER_TURN {
        if started.elapsed() > TURN_BUDGET {
            return Ok(());
        }
        let Some((delivery, event)) = webhooks::next_pending(store.writer(), claimed.webhook.id).await? else {
            return Ok(());
        };
        if delivery.next_attempt_at.is_some_and(|at| at > Utc::now()) {
            return Ok(());
        }
        if !webhooks::renew(store.writer(), claimed, config.lease()).await? {
            return Ok(());
        }
        let attempt = send(config, claimed, &event).await;
        let outcome = decide(config, &delivery, &attempt);
        webhooks::record_attempt(store.writer(), delivery.id, attempt, outcome).await?;
        if let Outcome::RetryAt(_) = outcome {
            return Ok(());
        }
    }
    Ok(())
}

fn decide(config: &DeliveryConfig, delivery: &Delivery, attempt: &Attempt) -> Outcome {
    if attempt.status_code.is_some_and(|code| (200..300).contains(&code)) {
        return Outcome::Delivered;
    }
    let give_up = chrono::Duration::from_std(config.give_up).unwrap_or(chrono::Duration::days(1));
    if attempt.at >= delivery.due_since + give_up {
        return Outcome::GaveUp;
    }
    let wait = chrono::Duration::from_std(config.backoff(delivery.attempts + 1)).unwrap_or(chrono::Duration::hours(1));
    Outcome::RetryAt(Utc::now() + wait)
}

/// Sends one event; never fails, an error is an attempt without a status.
async fn send(config: &DeliveryConfig, claimed: &Claimed, event: &FeedEvent) -> Attempt {
    let at = Utc::now();
    let started = Instant::now();
    let result = try_send(config, claimed, event).await;
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match result {
        Ok(status) => Attempt { at, status_code: Some(status), latency_ms, error: None },
        Err(error) => {
            Attempt { at, status_code: None, latency_ms, error: Some(error.chars().take(MAX_ERROR_CHARS).collect()) }
        }
    }
}

async fn try_send(config: &DeliveryConfig, claimed: &Claimed, event: &FeedEvent) -> Result<u16, String> {
    let url = Url::parse(&claimed.webhook.url).map_err(|error| error.to_string())?;
    let address = resolve(config, &url).await?;
    let body = serde_json::to_vec(&EventResponse::from(event.clone())).map_err(|error| error.to_string())?;
    let id = event.id.to_string();
    let timestamp = Utc::now().timestamp();
    let mut client = reqwest::Client::builder().timeout(config.timeout).redirect(reqwest::redirect::Policy::none());
    // Connect to the address just checked, so that a name cannot resolve to another one in between.
    if let Some(Target::Name(name)) = target(&url) {
        client = client.resolve(name, address);
    }
    let client = client.build().map_err(|error| error.to_string())?;
    let response = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sign(&claimed.secret, &id, timestamp, &body))
        .header("user-agent", "dvc-webhooks/1")
        .body(body)
        .send()
        .await
        .map_err(|error| if error.is_timeout() { "timed out".to_owned() } else { error.to_string() })?;
    Ok(response.status().as_u16())
}

/// The address to send to, refused when the configuration does not allow it.
async fn resolve(config: &DeliveryConfig, url: &Url) -> Result<SocketAddr, String> {
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let address = match target(url) {
        Some(Target::Address(address)) => SocketAddr::new(address, port),
        Some(Target::Name(name)) => tokio::time::timeout(config.timeout, tokio::net::lookup_host((name, port)))
            .await
            .map_err(|_| format!("resolving {name} timed out"))?
            .map_err(|error| format!("cannot resolve {name}: {error}"))?
            .next()
            .ok_or_else(|| format!("{name} has no address"))?,
        None => return Err("the URL has no host".to_owned()),
    };
    if !config.allows(address.ip()) {
        return Err("the address is loopback or private, which is not allowed".to_owned());
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_and_public_unless_allowed() {
        let strict = DeliveryConfig::default();
        assert!(check_url("https://portal.example.vn/hooks", &strict).is_ok());
        for refused in [
            "ftp://example.vn/",
            "http://127.0.0.1:9000/",
            "http://10.0.0.5/",
            "http://[::1]/",
            "http://localhost/",
            "https://user:pw@example.vn/",
            "not a url",
        ] {
            assert!(check_url(refused, &strict).is_err(), "{refused}");
        }
        let open = DeliveryConfig { allow_private: true, ..DeliveryConfig::default() };
        assert!(check_url("http://127.0.0.1:9000/", &open).is_ok());
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let config = DeliveryConfig { retry_base: Duration::from_secs(10), ..DeliveryConfig::default() };
        for (failures, full) in [(1, 10), (2, 20), (3, 40), (30, 3600)] {
            let wait = config.backoff(failures);
            assert!(wait >= Duration::from_secs(full) / 2 && wait <= Duration::from_secs(full), "{failures}: {wait:?}");
        }
    }
}
