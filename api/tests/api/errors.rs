use reqwest::Method;
use serde_json::json;

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn malformed_bodies_are_400_and_invalid_values_422() {
    let app = spawn_app().await;
    let not_json = app
        .request(Method::POST, "/api/v1/units", &app.admin)
        .header("content-type", "application/json")
        .body("{\"code\":")
        .send()
        .await
        .unwrap();
    problem(not_json, 400).await;
    let wrong_type = app
        .request(Method::POST, "/api/v1/units", &app.admin)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(wrong_type, 400).await;
    let wrong_value =
        app.post("/api/v1/units", &app.admin, &json!({"code": 52, "name": "x", "kind": "province"})).await;
    problem(wrong_value, 422).await;
    let unknown_kind =
        app.post("/api/v1/units", &app.admin, &json!({"code": "52", "name": "x", "kind": "planet"})).await;
    problem(unknown_kind, 422).await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let huge = json!({"code": "52", "name": "x".repeat(300 * 1024), "kind": "province"});
    problem(app.post("/api/v1/units", &app.admin, &huge).await, 413).await;
}

#[tokio::test]
async fn bad_paths_and_queries_are_400() {
    let app = spawn_app().await;
    problem(app.get("/api/v1/units/not-a-uuid", &app.admin).await, 400).await;
    problem(app.get("/api/v1/units/abc-def", &app.admin).await, 400).await;
    problem(app.get("/api/v1/units?kind=planet", &app.admin).await, 400).await;
    problem(app.get("/api/v1/audit-events?from=yesterday", &app.admin).await, 400).await;
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let app = spawn_app().await;
    problem(app.get("/api/v1/nothing-here", &app.admin).await, 404).await;
    let response = app.request(Method::PUT, "/api/v1/units", &app.admin).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET, POST");
    problem(response, 405).await;
    let response = app
        .request(Method::POST, "/api/v1/units/0190c0de-0000-7000-8000-000000000000", &app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "DELETE, GET, PATCH");
    problem(response, 405).await;
    // A literal route is not an id: PATCH /rosters/import is a wrong method, not a bad id.
    let response = app.request(Method::PATCH, "/api/v1/rosters/import", &app.admin).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    problem(response, 405).await;
}

#[tokio::test]
async fn nothing_is_written_when_a_request_fails() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let before = crate::helpers::body(app.get("/api/v1/audit-events?limit=500", &app.admin).await).await;
    // The unit would be valid, but a successor that does not exist fails the request after checks.
    let failing = json!({"code": "21699", "name": "Xã Thử", "kind": "commune", "parent_id": tree.district_a,
        "successor_ids": ["0190c0de-0000-7000-8000-000000000000"]});
    problem(app.post("/api/v1/units", &app.admin, &failing).await, 422).await;
    let after = crate::helpers::body(app.get("/api/v1/audit-events?limit=500", &app.admin).await).await;
    assert_eq!(before["items"].as_array().unwrap().len(), after["items"].as_array().unwrap().len());
    let listed = crate::helpers::body(app.get("/api/v1/units?code=21699", &app.admin).await).await;
    assert!(listed["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bodies_must_be_json_objects() {
    let app = spawn_app().await;
    let me = crate::helpers::body(app.get("/api/v1/auth/me", &app.admin).await).await;
    let path = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
    for body in ["[null, null]", "\"text\"", "42", "null"] {
        let response = app
            .request(Method::PATCH, &path, &app.admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        problem(response, 422).await;
    }
}

#[tokio::test]
async fn hostile_input_is_answered_without_harm() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let send_raw = |body: Vec<u8>| {
        app.request(Method::POST, "/api/v1/units", &app.admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Invalid UTF-8, deep nesting and numbers beyond any type are not JSON this server reads.
    problem(send_raw(b"{\"code\": \"\xff\xfe\"}".to_vec()).await.unwrap(), 400).await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(send_raw(deep.into_bytes()).await.unwrap().status().is_client_error());
    let huge = json!({"code": "52", "name": "x", "kind": "province", "valid_from": 1e308});
    problem(app.post("/api/v1/units", &app.admin, &huge).await, 422).await;

    // A NUL byte never reaches the database; a query cannot carry one either.
    let with_nul = app
        .post("/api/v1/units", &app.admin, &json!({"code": "53", "name": "Tỉnh\u{0} Thử", "kind": "province"}))
        .await;
    assert_eq!(crate::helpers::body(with_nul).await["name"], "Tỉnh Thử");
    problem(app.get("/api/v1/audit-events?actor=ad%00min", &app.admin).await, 400).await;
    assert_eq!(app.get("/api/v1/officials?q=a%00b", &app.admin).await.status(), 200);

    // SQL in values is data.
    let injection = "x'); DROP TABLE units; --";
    let listed = app.get(&format!("/api/v1/units?q={}", urlencode(injection)), &app.admin).await;
    assert_eq!(crate::helpers::body(listed).await["items"], json!([]));
    let stored =
        app.post("/api/v1/units", &app.admin, &json!({"code": "54", "name": injection, "kind": "province"})).await;
    assert_eq!(crate::helpers::body(stored).await["name"], injection);
    assert_eq!(app.get(&format!("/api/v1/units/{}", tree.province), &app.admin).await.status(), 200);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") })
        .collect()
}

#[tokio::test]
async fn oversized_rosters_are_refused_or_bounded() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // A CSV of a million rows stops being read at the roster limit.
    let mut form = String::from("STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n");
    for index in 0..1_000_000 {
        form.push_str(&format!("{index},A,B,1,2\n"));
    }
    let response = app
        .request(Method::POST, &format!("/api/v1/rosters/import?unit_id={}", tree.district_a), &app.admin)
        .header("content-type", "text/csv")
        .body(form)
        .send()
        .await
        .unwrap();
    problem(response, 422).await;

    // A 10 MB name is a row error, and only its beginning is kept.
    let entry = json!({"full_name": "x".repeat(10 * 1024 * 1024), "unit_name": "Xã An Hưng", "id_number": "052090001245", "phone": "0972123588"});
    let response =
        app.post("/api/v1/rosters", &app.admin, &json!({"unit_id": tree.district_a, "entries": [entry]})).await;
    assert_eq!(response.status(), 201);
    let roster = crate::helpers::body(response).await;
    assert_eq!(roster["entries"][0]["errors"][0]["column"], "full_name");
    assert!(roster["entries"][0]["full_name"].as_str().unwrap().len() <= 200);
    let listed = crate::helpers::body(app.get("/api/v1/rosters", &app.admin).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "the refused import wrote nothing");
}
