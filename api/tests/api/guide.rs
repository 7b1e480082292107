//! `docs/integration.md` works as written: its shell examples run in order against a server on the
//! embedded database, and its Python and JavaScript snippets accept a real delivery's signature and
//! refuse a tampered one.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, TestApp, TestDb};
use crate::webhooks::{Receiver, official, serve, subscribe, until_up};

const GUIDE: &str = include_str!("../../../docs/integration.md");

/// The guide's fenced code blocks in `language`, in order.
fn blocks(language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    GUIDE.split(fence.as_str()).skip(1).map(|rest| rest.split("```").next().unwrap_or("").to_owned()).collect()
}

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn the_integration_guide_runs_as_written() {
    let (_db, url) = TestDb::create().await;
    let (mut server, base) = serve(&url);
    until_up(&base).await;

    let script = blocks("sh").join("\n");
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("DVC", &base)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .output()
        .unwrap();
    assert!(output.status.success(), "the guide's shell examples failed: {}", String::from_utf8_lossy(&output.stderr));

    let app = TestApp::attach(base, reqwest::Client::new(), url).await;
    let receiver = Receiver::start(0, std::time::Duration::ZERO).await;
    let (_, secret) = subscribe(&app, &receiver.url, &["official.created"]).await;
    let unit = app.unit("99", "Tỉnh Thử", "province", None).await;
    official(&app, &unit, "052090009999").await;
    let delivered = receiver.accepted(1).await.remove(0);
    server.kill().unwrap();
    server.wait().unwrap();

    let folder = std::env::temp_dir().join(format!("dvc-guide-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&folder).unwrap();
    let case = |name: &str, body: &[u8]| {
        let path = folder.join(name);
        let headers = json!({"webhook-id": delivered.id, "webhook-timestamp": delivered.timestamp, "webhook-signature": delivered.signature});
        let case = json!({"secret": secret, "headers": headers, "body": STANDARD.encode(body)});
        std::fs::write(&path, case.to_string()).unwrap();
        path.display().to_string()
    };
    let genuine = case("genuine.json", &delivered.body);
    let mut altered = delivered.body.clone();
    altered.extend_from_slice(b" ");
    let tampered = case("tampered.json", &altered);

    let python = folder.join("verify.py");
    let python_harness = "\nimport json, sys\ncase = json.load(open(sys.argv[1]))\nprint('valid' if verify(case['secret'], case['headers'], base64.b64decode(case['body'])) else 'invalid')\n";
    std::fs::write(&python, blocks("python").concat() + python_harness).unwrap();
    let node = folder.join("verify.js");
    let node_harness = "\nconst c = JSON.parse(require('node:fs').readFileSync(process.argv[2]));\nconsole.log(verify(c.secret, c.headers, Buffer.from(c.body, 'base64')) ? 'valid' : 'invalid');\n";
    std::fs::write(&node, blocks("js").concat() + node_harness).unwrap();
    for (program, file) in [("python3", &python), ("node", &node)] {
        let file = file.display().to_string();
        assert_eq!(run(program, &[&file, &genuine]), "valid", "{program} accepts a real delivery");
        assert_eq!(run(program, &[&file, &tampered]), "invalid", "{program} refuses a tampered body");
    }
    let _ = std::fs::remove_dir_all(&folder);
}
