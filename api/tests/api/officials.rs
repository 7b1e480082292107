use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, body, id_of, ids, problem, spawn_app};

fn official(name: &str, unit_id: &str, id_number: &str, phone: &str) -> Value {
    json!({"full_name": name, "unit_id": unit_id, "id_number": id_number, "phone": phone})
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app.post("/api/v1/officials", token, body).await;
    assert_eq!(response.status(), 201, "create official");
    crate::helpers::body(response).await
}

#[tokio::test]
async fn managers_record_officials_and_personal_numbers_are_masked_in_lists() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let created =
        create(&app, &manager, &official("  Nguyễn  Văn An ", &tree.commune_a, "052090001245", "+84 972.123.588"))
            .await;
    assert_eq!(created["full_name"], "Nguyễn Văn An");
    assert_eq!(created["id_number"], "052090001245");
    assert_eq!(created["phone"], "0972123588");
    assert_eq!(created["portal_account"], "none");
    assert_eq!(created["active"], true);

    let listed = body(app.get("/api/v1/officials", &manager).await).await;
    assert_eq!(listed["items"][0]["id_number"], "052*******45");
    assert_eq!(listed["items"][0]["phone"], "0972***588");

    let path = format!("/api/v1/officials/{}", id_of(&created));
    let read = app.get(&path, &manager).await;
    assert!(read.headers().contains_key("etag"));
    assert_eq!(body(read).await["id_number"], "052090001245");

    let service = app.user("portal.sync", "integration", Some(&tree.province)).await;
    assert_eq!(body(app.get(&path, &service).await).await["id_number"], "052*******45");
    let viewer = app.user("viewer.p", "viewer", Some(&tree.province)).await;
    problem(app.get("/api/v1/officials", &viewer).await, 403).await;
    problem(
        app.post(
            "/api/v1/officials",
            &service,
            &official("Lê Văn Bình", &tree.commune_a, "052090001246", "0972123589"),
        )
        .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn invalid_values_are_reported_field_by_field() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let bad = official("A1", &tree.commune_a, "999090001245", "0243 123 456");
    let value = problem(app.post("/api/v1/officials", &app.admin, &bad).await, 422).await;
    let codes: Vec<_> = value["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("/full_name", "invalid_person_name"),
            ("/id_number", "invalid_id_number"),
            ("/phone", "invalid_phone_number")
        ]
    );
    // The rejected personal numbers are not echoed back.
    assert!(!value.to_string().contains("999090001245"));
}

#[tokio::test]
async fn one_active_official_per_id_number() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let first =
        create(&app, &app.admin, &official("Nguyễn Văn An", &tree.commune_a, "052090001245", "0972123588")).await;
    let clash = official("Nguyễn Văn An", &tree.commune_b, "052090001245", "0972123589");
    let value = problem(app.post("/api/v1/officials", &app.admin, &clash).await, 409).await;
    assert_eq!(value["existing_id"], first["id"]);

    let path = format!("/api/v1/officials/{}/deactivate", id_of(&first));
    let short = app.post(&path, &app.admin, &json!({"reason": "x"})).await;
    problem(short, 422).await;
    let deactivated = body(app.post(&path, &app.admin, &json!({"reason": "chuyển công tác"})).await).await;
    assert_eq!(deactivated["active"], false);
    assert_eq!(deactivated["deactivation_reason"], "chuyển công tác");
    assert!(deactivated["deactivated_at"].is_string());
    problem(app.post(&path, &app.admin, &json!({"reason": "chuyển công tác"})).await, 409).await;

    assert_eq!(app.post("/api/v1/officials", &app.admin, &clash).await.status(), 201, "free again once inactive");
    let inactive = body(app.get("/api/v1/officials?active=false", &app.admin).await).await;
    assert_eq!(ids(&inactive), vec![id_of(&first)]);
}

#[tokio::test]
async fn managers_act_on_their_subtree_only() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let outside = official("Lê Văn Bình", &tree.commune_b, "052090001246", "0972123589");
    let value = problem(app.post("/api/v1/officials", &manager, &outside).await, 422).await;
    assert_eq!(value["errors"][0]["pointer"], "/unit_id");

    let theirs = create(&app, &app.admin, &outside).await;
    let path = format!("/api/v1/officials/{}", id_of(&theirs));
    problem(app.get(&path, &manager).await, 404).await;
    problem(app.patch(&path, &manager, &json!({"position": "Chuyên viên"})).await, 404).await;
    problem(app.post(&format!("{path}/deactivate"), &manager, &json!({"reason": "nghỉ hưu"})).await, 404).await;
    let listed = body(app.get("/api/v1/officials", &manager).await).await;
    assert!(ids(&listed).is_empty());
    let filtered = body(app.get(&format!("/api/v1/officials?unit_id={}", tree.district_b), &manager).await).await;
    assert!(ids(&filtered).is_empty());

    let mine = create(&app, &manager, &official("Trần Thị Ánh", &tree.commune_a, "052190001247", "0972123590")).await;
    let moved =
        app.patch(&format!("/api/v1/officials/{}", id_of(&mine)), &manager, &json!({"unit_id": tree.commune_b})).await;
    problem(moved, 422).await;
}

#[tokio::test]
async fn officials_are_listed_in_vietnamese_roster_order_and_found_without_diacritics() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let names = ["Lê Thị Đào", "Phạm Văn Dũng", "Trần Thị Ánh", "Lê Văn Bình", "Nguyễn Văn An"];
    for (index, name) in names.iter().enumerate() {
        let phone = format!("097212358{index}");
        create(&app, &app.admin, &official(name, &tree.commune_a, &format!("05209000124{index}"), &phone)).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/officials?limit=2&cursor={cursor}"),
            None => "/api/v1/officials?limit=2".to_owned(),
        };
        let page = body(app.get(&path, &app.admin).await).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|o| o["full_name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["Nguyễn Văn An", "Trần Thị Ánh", "Lê Văn Bình", "Phạm Văn Dũng", "Lê Thị Đào"]);

    let found = body(app.get("/api/v1/officials?q=le%20thi%20dao", &app.admin).await).await;
    assert_eq!(found["items"][0]["full_name"], "Lê Thị Đào");
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn patch_updates_portal_accounts_and_honours_if_match() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created =
        create(&app, &app.admin, &official("Nguyễn Văn An", &tree.commune_a, "052090001245", "0972123588")).await;
    let path = format!("/api/v1/officials/{}", id_of(&created));
    let etag = app.get(&path, &app.admin).await.headers()["etag"].to_str().unwrap().to_owned();
    let updated = app
        .request(Method::PATCH, &path, &app.admin)
        .header("if-match", &etag)
        .json(&json!({"portal_account": "created", "email": "an@binhdinh.gov.vn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let updated = body(updated).await;
    assert_eq!(updated["portal_account"], "created");
    assert!(updated["portal_account_at"].is_string());
    assert_eq!(updated["email"], "an@binhdinh.gov.vn");

    let stale = app
        .request(Method::PATCH, &path, &app.admin)
        .header("if-match", &etag)
        .json(&json!({"email": null}))
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;
    problem(app.patch(&path, &app.admin, &json!({"active": false})).await, 422).await;
}

#[tokio::test]
async fn personal_numbers_are_sealed_at_rest_and_masked_in_the_audit_trail() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created =
        create(&app, &app.admin, &official("Nguyễn Văn An", &tree.commune_a, "052090001245", "0972123588")).await;

    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id_number_sealed, phone_sealed FROM officials",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "the official is stored");
    for row in rows {
        let id_number: String = row.try_get("", "id_number_sealed").unwrap();
        let phone: String = row.try_get("", "phone_sealed").unwrap();
        assert!(!id_number.contains("052090001245") && !phone.contains("0972123588"));
    }
    db.close().await.unwrap();

    let events =
        body(app.get(&format!("/api/v1/audit-events?entity=official&entity_id={}", id_of(&created)), &app.admin).await)
            .await;
    assert_eq!(events["items"][0]["after"]["id_number"], "052*******45");
    assert_eq!(events["items"][0]["after"]["phone"], "0972***588");
}
