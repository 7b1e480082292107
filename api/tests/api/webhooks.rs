//! Webhooks: signed, retried, in order, visible, and not lost when a server stops mid-delivery.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{ADMIN_PASSWORD, TestApp, TestDb, body, id_of, problem, settings_for, spawn_app_with, start};

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub answered: u16,
}

/// A receiver on 127.0.0.1 that answers 503 to its first `failures` requests, holds its first
/// request for `hold` (to be caught mid-delivery), and accepts the rest.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(failures: usize, hold: Duration) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = (calls.clone(), received.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            let (calls, received) = state.clone();
            App::new().route(
                "/hooks",
                web::post().to(move |request: HttpRequest, payload: web::Bytes| {
                    let (calls, received) = (calls.clone(), received.clone());
                    async move {
                        let call = calls.fetch_add(1, Ordering::SeqCst);
                        let header = |name: &str| {
                            request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
                        };
                        let answered = if call < failures { 503 } else { 200 };
                        let record = Received {
                            id: header("webhook-id"),
                            timestamp: header("webhook-timestamp"),
                            signature: header("webhook-signature"),
                            body: payload.to_vec(),
                            answered: if call == 0 && !hold.is_zero() { 0 } else { answered },
                        };
                        received.lock().unwrap().push(record);
                        if call == 0 && !hold.is_zero() {
                            tokio::time::sleep(hold).await;
                        }
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests it accepted, once there are `count` of them.
    pub async fn accepted(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(45);
        loop {
            let accepted: Vec<Received> = self.received().into_iter().filter(|r| r.answered == 200).collect();
            if accepted.len() >= count || Instant::now() > deadline {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Checks a Standard Webhooks signature the way a receiver does.
pub fn verify(secret: &str, received: &Received) -> bool {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", received.id, received.timestamp).as_bytes());
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|signature| signature == expected)
}

pub async fn official(app: &TestApp, unit: &str, id_number: &str) -> String {
    let official = json!({"full_name": "Nguyễn Văn An", "unit_id": unit, "id_number": id_number, "phone": "0972123588", "portal_account": "created"});
    let response = app.post("/api/v1/officials", &app.admin, &official).await;
    assert_eq!(response.status(), 201);
    id_of(&body(response).await)
}

fn quick(settings: &mut dvc_api::settings::Settings) {
    settings.webhooks.retry_base = Duration::from_millis(100);
    settings.webhooks.timeout = Duration::from_secs(2);
}

pub async fn subscribe(app: &TestApp, url: &str, types: &[&str]) -> (String, String) {
    let response = app.post("/api/v1/webhooks", &app.admin, &json!({"url": url, "types": types})).await;
    assert_eq!(response.status(), 201);
    let created = body(response).await;
    (id_of(&created), created["secret"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn deliveries_are_signed_retried_with_backoff_and_sent_in_order() {
    let app = spawn_app_with(quick).await;
    let tree = app.tree().await;
    let receiver = Receiver::start(2, Duration::ZERO).await;
    let (webhook, secret) = subscribe(&app, &receiver.url, &["official.created"]).await;
    assert!(secret.starts_with("whsec_"));
    let shown = body(app.get(&format!("/api/v1/webhooks/{webhook}"), &app.admin).await).await;
    assert!(shown.get("secret").is_none(), "the secret is shown once");

    let mut officials = Vec::new();
    for (n, unit) in [&tree.commune_a, &tree.commune_b, &tree.commune_a].into_iter().enumerate() {
        officials.push(official(&app, unit, &format!("05209000124{n}")).await);
    }
    let accepted = receiver.accepted(3).await;
    let sent: Vec<String> = accepted
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, officials, "in the order of the changes");
    let all = receiver.received();
    assert_eq!(all.len(), 5, "two refusals, then three deliveries");
    assert!(all[..3].iter().all(|r| r.id == all[0].id), "the first event is retried before the next is sent");
    assert!(all.iter().all(|r| verify(&secret, r)), "every request is signed");
    let event: Value = serde_json::from_slice(&accepted[0].body).unwrap();
    assert_eq!(event["type"], "official.created");
    assert_eq!(event["id"], accepted[0].id.as_str());
    assert!(!String::from_utf8_lossy(&accepted[0].body).contains("052090001240"), "masked");

    let deliveries = body(app.get(&format!("/api/v1/webhooks/{webhook}/deliveries"), &app.admin).await).await;
    let first = &deliveries["items"][0];
    assert_eq!(first["status"], "delivered");
    assert_eq!(first["attempts"], 3);
    assert_eq!(first["last_status_code"], 200);
    assert_eq!(first["next_attempt_at"], Value::Null);
    let codes: Vec<&Value> = first["attempt_log"].as_array().unwrap().iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(503), &json!(503), &json!(200)]);
    assert!(first["attempt_log"][0]["latency_ms"].is_i64());

    // A delivered delivery can be sent again by hand.
    let delivery = id_of(first);
    let path = format!("/api/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver");
    let again = app.post(&path, &app.admin, &json!({})).await;
    assert_eq!(again.status(), 202);
    assert_eq!(receiver.accepted(4).await.last().unwrap().id, all[0].id);
}

#[tokio::test]
async fn a_delivery_is_given_up_then_redelivered_by_hand() {
    let app = spawn_app_with(|settings| {
        quick(settings);
        settings.webhooks.give_up = Duration::from_secs(1);
    })
    .await;
    let tree = app.tree().await;
    let receiver = Receiver::start(usize::MAX, Duration::ZERO).await;
    let (webhook, _) = subscribe(&app, &receiver.url, &[]).await;
    official(&app, &tree.commune_a, "052090001245").await;
    let deliveries = format!("/api/v1/webhooks/{webhook}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let list = body(app.get(&deliveries, &app.admin).await).await;
        if list["items"][0]["status"] == "failed" || Instant::now() > deadline {
            break list["items"][0].clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["last_status_code"], 503);
    let redeliver = format!("{deliveries}/{}/redeliver", id_of(&failed));
    assert_eq!(app.post(&redeliver, &app.admin, &json!({})).await.status(), 202);
    problem(app.post(&redeliver, &app.admin, &json!({})).await, 409).await;
}

/// Two servers share one PostgreSQL database, each running the worker: each event is delivered
/// once, in order. (SQLite serves one process; on it this test has nothing to show.)
#[tokio::test]
async fn two_servers_on_one_database_deliver_each_event_once_and_in_order() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        return;
    }
    let app = spawn_app_with(quick).await;
    let mut settings = settings_for(&app.database_url);
    quick(&mut settings);
    start(&settings).await;
    let tree = app.tree().await;
    let receiver = Receiver::start(0, Duration::ZERO).await;
    subscribe(&app, &receiver.url, &["official.created"]).await;
    let mut officials = Vec::new();
    for n in 0..8 {
        officials.push(official(&app, &tree.commune_a, &format!("05209000124{n}")).await);
    }
    let accepted = receiver.accepted(officials.len()).await;
    let sent: Vec<String> = accepted
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, officials);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), officials.len(), "no event delivered twice");
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_other_subscriptions() {
    let app = spawn_app_with(|settings| {
        quick(settings);
        settings.webhooks.timeout = Duration::from_secs(10);
    })
    .await;
    let tree = app.tree().await;
    let slow = Receiver::start(0, Duration::from_secs(8)).await;
    let fast = Receiver::start(0, Duration::ZERO).await;
    subscribe(&app, &slow.url, &[]).await;
    subscribe(&app, &fast.url, &[]).await;
    let started = Instant::now();
    official(&app, &tree.commune_a, "052090001245").await;
    assert_eq!(fast.accepted(1).await.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(6), "served while the slow receiver still holds its request");
}

#[tokio::test]
async fn subscriptions_are_the_admins_and_their_urls_are_checked() {
    let app = spawn_app_with(|settings| settings.webhooks.allow_private = false).await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let good =
        json!({"url": "https://portal.example.vn/hooks", "types": ["grant.created"], "unit_id": tree.district_a});
    problem(app.post("/api/v1/webhooks", &manager, &good).await, 403).await;
    problem(app.get("/api/v1/webhooks", &manager).await, 403).await;
    for (url, code) in [
        ("http://127.0.0.1:9000/hooks", "address_not_allowed"),
        ("http://10.0.0.8/hooks", "address_not_allowed"),
        ("http://localhost/hooks", "address_not_allowed"),
        ("ftp://portal.example.vn/", "invalid_url"),
    ] {
        let refused = problem(app.post("/api/v1/webhooks", &app.admin, &json!({"url": url})).await, 422).await;
        assert_eq!(refused["errors"][0]["code"], code, "{url}");
    }
    let unknown = json!({"url": "https://portal.example.vn/hooks", "types": ["grant.create"]});
    problem(app.post("/api/v1/webhooks", &app.admin, &unknown).await, 422).await;
    let listed = body(app.get("/api/v1/webhooks", &app.admin).await).await;
    assert_eq!(listed["items"], json!([]), "nothing written by refused requests");

    let created = body(app.post("/api/v1/webhooks", &app.admin, &good).await).await;
    let path = format!("/api/v1/webhooks/{}", id_of(&created));
    let patched = app.patch(&path, &app.admin, &json!({"active": false, "unit_id": null})).await;
    assert_eq!(patched.status(), 200);
    let patched = body(patched).await;
    assert_eq!((patched["active"].clone(), patched["unit_id"].clone()), (json!(false), Value::Null));
    assert_eq!(app.request(reqwest::Method::DELETE, &path, &app.admin).send().await.unwrap().status(), 204);
    problem(app.get(&path, &app.admin).await, 404).await;
}

/// Runs the server binary on `database_url`, sending webhooks quickly to local receivers.
pub fn serve(database_url: &str) -> (Child, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let child = Command::new(env!("CARGO_BIN_EXE_dvc-api"))
        .env("DVC_DATABASE_URL", database_url)
        .env("DVC_LISTEN", address.to_string())
        .env("DVC_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("DVC_LOG", "warn")
        .env("DVC_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("DVC_WEBHOOK_TIMEOUT_SECONDS", "2")
        .env("DVC_WEBHOOK_RETRY_BASE_MS", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://{address}"))
}

pub async fn until_up(base: &str) {
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

#[tokio::test]
async fn a_server_killed_mid_delivery_loses_nothing() {
    let (_db, url) = TestDb::create().await;
    let receiver = Receiver::start(0, Duration::from_secs(20)).await;
    let (mut first, base) = serve(&url);
    until_up(&base).await;
    let app = TestApp::attach(base, reqwest::Client::new(), url.clone()).await;
    let tree = app.tree().await;
    let (_, secret) = subscribe(&app, &receiver.url, &["official.created"]).await;
    let mut officials = Vec::new();
    for n in 0..3 {
        officials.push(official(&app, &tree.commune_a, &format!("05209000124{n}")).await);
    }
    // The first delivery is in flight: the receiver holds it. Kill the server there.
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.received().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.received().len(), 1, "caught mid-delivery");
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, base) = serve(&url);
    until_up(&base).await;
    let accepted = receiver.accepted(3).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let sent: Vec<String> = accepted
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, officials, "every event, in order, after the restart");
    assert_eq!(accepted[0].id, receiver.received()[0].id, "the cut-off delivery is sent again");
    assert!(accepted.iter().all(|r| verify(&secret, r)));
}
