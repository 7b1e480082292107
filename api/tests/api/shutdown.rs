use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::{ADMIN_PASSWORD, TestDb};

const UNITS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/dvhc/units-2025-01-04.csv");

/// SIGTERM lets the request in flight finish, then the process exits 0.
#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits_cleanly() {
    let (_db, url) = TestDb::create().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut server = Command::new(env!("CARGO_BIN_EXE_dvc-api"))
        .env("DVC_DATABASE_URL", &url)
        .env("DVC_LISTEN", address.to_string())
        .env("DVC_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("DVC_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server started");
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();

    // The whole country's import takes long enough to be in flight when the signal arrives.
    let import = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/api/v1/units/import");
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(std::fs::read(UNITS_CSV).unwrap())
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());

    let response = import.await.unwrap().expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(client.get(format!("{base}/healthz")).send().await.is_err(), "the server is gone");
}
