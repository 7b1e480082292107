use reqwest::Method;
use serde_json::json;

use crate::helpers::{body, id_of, problem, spawn_app};

#[tokio::test]
async fn admins_record_directives_with_deadlines_and_everyone_reads_them() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let directive = json!({
        "code": "3102/UBND-KSTT", "title": "Về việc tăng cường hỗ trợ", "issued_on": "2021-05-31",
        "milestones": [{"key": "official_portal_accounts", "due_on": "2021-06-20"}, {"key": "rosters_submitted", "due_on": "2021-06-24"}]
    });
    let created = app.post("/api/v1/directives", &app.admin, &directive).await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert_eq!(created["milestones"][1]["key"], "rosters_submitted");

    let clash = problem(app.post("/api/v1/directives", &app.admin, &directive).await, 409).await;
    assert_eq!(clash["existing_id"], created["id"]);
    let twice = json!({"code": "1/X", "title": "t", "issued_on": "2021-05-31",
        "milestones": [{"key": "monthly_report", "due_on": "2021-07-31"}, {"key": "monthly_report", "due_on": "2021-08-31"}]});
    problem(app.post("/api/v1/directives", &app.admin, &twice).await, 422).await;
    let unknown_key = json!({"code": "1/X", "title": "t", "issued_on": "2021-05-31", "milestones": [{"key": "party", "due_on": "2021-07-31"}]});
    problem(app.post("/api/v1/directives", &app.admin, &unknown_key).await, 422).await;

    let viewer = app.user("viewer.p", "viewer", Some(&tree.province)).await;
    let path = format!("/api/v1/directives/{}", id_of(&created));
    let read = app.get(&path, &viewer).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(body(read).await["code"], "3102/UBND-KSTT");
    problem(app.post("/api/v1/directives", &viewer, &directive).await, 403).await;
    problem(app.patch(&path, &viewer, &json!({"title": "x"})).await, 403).await;

    let moved = json!({"milestones": [{"key": "rosters_submitted", "due_on": "2021-06-28"}]});
    let patched =
        app.request(Method::PATCH, &path, &app.admin).header("if-match", &etag).json(&moved).send().await.unwrap();
    assert_eq!(body(patched).await["milestones"], json!([{"key": "rosters_submitted", "due_on": "2021-06-28"}]));
    let stale =
        app.request(Method::PATCH, &path, &app.admin).header("if-match", &etag).json(&moved).send().await.unwrap();
    problem(stale, 412).await;
}

#[tokio::test]
async fn the_2021_letter_loads_from_the_command_line_once() {
    let app = spawn_app().await;
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"))
            .arg("load-directive")
            .env("DVC_DATABASE_URL", &app.database_url)
            .env("DVC_LOG", "warn")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let second = run();
    assert!(String::from_utf8_lossy(&second.stderr).contains("already recorded"));

    let listed = body(app.get("/api/v1/directives", &app.admin).await).await;
    let letter = &listed["items"][0];
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(letter["code"], "3102/UBND-KSTT");
    assert_eq!(letter["issued_on"], "2021-05-31");
    let dues: Vec<_> = letter["milestones"].as_array().unwrap().iter().map(|m| m["due_on"].as_str().unwrap()).collect();
    assert_eq!(dues, vec!["2021-06-20", "2021-06-24", "2021-06-29", "2021-07-01", "2021-07-31"]);
}
