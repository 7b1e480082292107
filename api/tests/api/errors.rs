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
