use reqwest::Method;
use serde_json::json;

use crate::helpers::{body, problem, spawn_app};

#[tokio::test]
async fn a_retried_create_returns_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let unit = json!({"code": "52", "name": "Tỉnh Bình Định", "kind": "province"});
    let send = |body: serde_json::Value, key: &str| {
        app.request(Method::POST, "/api/v1/units", &app.admin).header("idempotency-key", key).json(&body).send()
    };
    let first = send(unit.clone(), "key-1").await.unwrap();
    assert_eq!(first.status(), 201);
    let first = body(first).await;
    let retry = send(unit.clone(), "key-1").await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(body(retry).await, first);

    let listed = body(app.get("/api/v1/units", &app.admin).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let other = json!({"code": "64", "name": "Tỉnh Gia Lai", "kind": "province"});
    let reused = problem(send(other, "key-1").await.unwrap(), 422).await;
    assert_eq!(reused["errors"][0]["code"], "idempotency_key_reused");

    let bad_key = app
        .request(Method::POST, "/api/v1/units", &app.admin)
        .header("idempotency-key", "")
        .json(&unit)
        .send()
        .await
        .unwrap();
    problem(bad_key, 400).await;
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let clerk = json!({"username": "clerk.a", "display_name": "A", "role": "clerk", "unit_id": tree.commune_a, "password": "a-good-password"});
    let by_manager = app
        .request(Method::POST, "/api/v1/users", &manager)
        .header("idempotency-key", "k")
        .json(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(by_manager.status(), 201);
    // The same key from another user is a request of its own: here a clash on the username.
    let by_admin = app
        .request(Method::POST, "/api/v1/users", &app.admin)
        .header("idempotency-key", "k")
        .json(&clerk)
        .send()
        .await
        .unwrap();
    problem(by_admin, 409).await;
}
