use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{ADMIN_PASSWORD, TestDb, admin_token};

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
    let token = admin_token(&client, &base).await;

    // The import asks to continue before sending its body: the server's "100 Continue" says it has
    // read the request, which is then in flight however fast it would be; the body follows the signal.
    let csv = std::fs::read(UNITS_CSV).unwrap();
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/units/import HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        csv.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = read_head(&mut stream).await;
    assert!(interim.starts_with("HTTP/1.1 100"), "the server reads the request: {interim}");
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());

    stream.write_all(&csv).await.unwrap();
    let answer = read_head(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "the in-flight request is answered: {answer}");
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(client.get(format!("{base}/healthz")).send().await.is_err(), "the server is gone");
}

/// Reads a response's status line and headers, up to the blank line that ends them.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("the server answers");
        head.push(byte);
    }
    String::from_utf8(head).unwrap()
}
