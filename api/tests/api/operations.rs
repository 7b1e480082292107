use actix_web::test::{TestRequest, call_service, init_service};
use dvc_http::{AppState, Metrics, TokenKeys};
use dvc_store::Store;

use crate::helpers::{TestDb, spawn_app};

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    app.get("/api/v1/units", &app.admin).await;
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("dvc_http_requests_total{method=\"GET\",route=\"/api/v1/units\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("dvc_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn metrics_label_routes_by_their_template() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    app.get(&format!("/api/v1/units/{}", tree.province), &app.admin).await;
    // Requests no handler takes are labelled by the documented route their path has, or not at all.
    app.client.delete(app.url("/api/v1/units/not-an-id")).send().await.unwrap();
    app.client.get(app.url("/api/v1/rosters/import")).send().await.unwrap();
    app.client.get(app.url("/api/v1/nothing/here")).send().await.unwrap();
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for series in [
        "{method=\"GET\",route=\"/api/v1/units/{id}\",status=\"200\"} 1",
        "{method=\"DELETE\",route=\"/api/v1/units/{id}\",status=\"400\"} 1",
        "{method=\"GET\",route=\"/api/v1/rosters/import\",status=\"405\"} 1",
        "{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
    ] {
        assert!(metrics.contains(&format!("dvc_http_requests_total{series}")), "{series} in {metrics}");
    }
    assert!(!metrics.contains("0-9a-fA-F"), "{metrics}");
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_unreachable() {
    let (_db, url) = TestDb::create().await;
    let store = Store::open(&url, None).await.unwrap();
    let tokens = TokenKeys::load(&store, None, 900).await.unwrap();
    let state = actix_web::web::Data::new(AppState {
        store: store.clone(),
        tokens,
        metrics: Metrics::default(),
        delivery: Default::default(),
        hashing: dvc_http::password::HashGate::new(1, 1),
    });
    let service = init_service(dvc_http::app(state)).await;
    assert_eq!(call_service(&service, TestRequest::get().uri("/readyz").to_request()).await.status(), 200);
    store.close().await.unwrap();
    let response = call_service(&service, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("content-type").unwrap(), "application/problem+json");
}

#[tokio::test]
async fn swagger_ui_is_served_offline() {
    let app = spawn_app().await;
    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"));
    let document: serde_json::Value =
        app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
}
