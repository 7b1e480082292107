use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, body, id_of, ids, problem, spawn_app};

async fn official(app: &TestApp, name: &str, unit: &str, id_number: &str, portal: &str) -> Value {
    let body = json!({"full_name": name, "unit_id": unit, "id_number": id_number, "phone": "0972123588", "portal_account": portal});
    let response = app.post("/api/v1/officials", &app.admin, &body).await;
    assert_eq!(response.status(), 201);
    crate::helpers::body(response).await
}

fn grant(official: &Value, from: &str, until: Option<&str>) -> Value {
    json!({"official_id": official["id"], "basis": "125/QĐ-TTPVHCC", "valid_from": from, "valid_until": until})
}

#[tokio::test]
async fn the_service_center_grants_to_active_officials_with_a_portal_account() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ready = official(&app, "Nguyễn Văn An", &tree.commune_a, "052090001245", "created").await;
    let created = app.post("/api/v1/grants", &app.admin, &grant(&ready, "2021-07-01", None)).await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert_eq!(created["function"], "create_citizen_account");
    assert_eq!(created["active"], true);
    assert_eq!(created["basis"], "125/QĐ-TTPVHCC");

    let clash = problem(app.post("/api/v1/grants", &app.admin, &grant(&ready, "2022-01-01", None)).await, 409).await;
    assert_eq!(clash["existing_id"], created["id"]);

    let no_account = official(&app, "Trần Thị Ánh", &tree.commune_a, "052190001246", "none").await;
    let refused =
        problem(app.post("/api/v1/grants", &app.admin, &grant(&no_account, "2021-07-01", None)).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "no_portal_account");

    let leaving = official(&app, "Lê Văn Bình", &tree.commune_a, "052090001247", "verified").await;
    app.post(&format!("/api/v1/officials/{}/deactivate", id_of(&leaving)), &app.admin, &json!({"reason": "nghỉ hưu"}))
        .await;
    let refused =
        problem(app.post("/api/v1/grants", &app.admin, &grant(&leaving, "2021-07-01", None)).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "official_inactive");
    let backwards = grant(&ready, "2021-07-02", Some("2021-07-01"));
    problem(app.post("/api/v1/grants", &app.admin, &backwards).await, 422).await;
}

#[tokio::test]
async fn only_admins_grant_and_managers_read_their_subtree() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let mine = official(&app, "Nguyễn Văn An", &tree.commune_a, "052090001245", "created").await;
    let theirs = official(&app, "Trần Thị Ánh", &tree.commune_b, "052190001246", "created").await;
    let my_grant = body(app.post("/api/v1/grants", &app.admin, &grant(&mine, "2021-07-01", None)).await).await;
    let their_grant = body(app.post("/api/v1/grants", &app.admin, &grant(&theirs, "2021-07-01", None)).await).await;

    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let clerk = app.user("clerk.a", "clerk", Some(&tree.commune_a)).await;
    problem(app.post("/api/v1/grants", &manager, &grant(&mine, "2022-07-01", None)).await, 403).await;
    problem(app.post("/api/v1/grants", &clerk, &grant(&mine, "2022-07-01", None)).await, 403).await;
    let revoke = json!({"reason": "thu hồi"});
    problem(app.post(&format!("/api/v1/grants/{}/revoke", id_of(&my_grant)), &manager, &revoke).await, 403).await;

    assert_eq!(app.get(&format!("/api/v1/grants/{}", id_of(&my_grant)), &manager).await.status(), 200);
    problem(app.get(&format!("/api/v1/grants/{}", id_of(&their_grant)), &manager).await, 404).await;
    problem(app.get(&format!("/api/v1/officials/{}/grants", id_of(&theirs)), &manager).await, 404).await;
    let listed = body(app.get("/api/v1/grants", &manager).await).await;
    assert_eq!(ids(&listed), vec![id_of(&my_grant)]);
    problem(app.get("/api/v1/grants", &clerk).await, 403).await;
}

#[tokio::test]
async fn grants_allow_recording_only_within_their_period_and_until_revoked() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let an = official(&app, "Nguyễn Văn An", &tree.commune_a, "052090001245", "created").await;
    let issued =
        body(app.post("/api/v1/grants", &app.admin, &grant(&an, "2021-07-01", Some("2021-12-31"))).await).await;
    let at = |moment: &str| format!("/api/v1/officials/{}/grants?active_at={moment}", id_of(&an));
    let count = |value: Value| value["items"].as_array().unwrap().len();

    assert_eq!(count(body(app.get(&at("2021-06-30T16:00:00Z"), &app.admin).await).await), 0, "30/6 in Vietnam");
    assert_eq!(count(body(app.get(&at("2021-06-30T17:00:00Z"), &app.admin).await).await), 1, "1/7 in Vietnam");
    assert_eq!(count(body(app.get(&at("2021-12-31T16:59:59Z"), &app.admin).await).await), 1, "31/12 in Vietnam");
    assert_eq!(count(body(app.get(&at("2022-01-01T10:00:00Z"), &app.admin).await).await), 0, "after valid_until");
    problem(app.get(&at("yesterday"), &app.admin).await, 400).await;

    let open = body(app.post("/api/v1/grants", &app.admin, &grant(&an, "2022-01-01", None)).await).await;
    let now = chrono::Utc::now();
    let revoked =
        app.post(&format!("/api/v1/grants/{}/revoke", id_of(&open)), &app.admin, &json!({"reason": "sai sót"})).await;
    let revoked = body(revoked).await;
    assert_eq!(revoked["active"], false);
    assert_eq!(revoked["revoke_reason"], "sai sót");
    let before = (now - chrono::TimeDelta::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let after = (now + chrono::TimeDelta::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(count(body(app.get(&at(&before), &app.admin).await).await), 1, "before the revocation");
    assert_eq!(count(body(app.get(&at(&after), &app.admin).await).await), 0, "after the revocation");
    problem(
        app.post(&format!("/api/v1/grants/{}/revoke", id_of(&open)), &app.admin, &json!({"reason": "sai sót"})).await,
        409,
    )
    .await;

    let all = body(app.get(&format!("/api/v1/officials/{}/grants", id_of(&an)), &app.admin).await).await;
    assert_eq!(ids(&all), vec![id_of(&issued), id_of(&open)], "history is kept");
}

#[tokio::test]
async fn deactivating_an_official_ends_its_grants() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let an = official(&app, "Nguyễn Văn An", &tree.commune_a, "052090001245", "created").await;
    let issued = body(app.post("/api/v1/grants", &app.admin, &grant(&an, "2021-07-01", None)).await).await;
    app.post(
        &format!("/api/v1/officials/{}/deactivate", id_of(&an)),
        &app.admin,
        &json!({"reason": "chuyển công tác"}),
    )
    .await;
    let ended = body(app.get(&format!("/api/v1/grants/{}", id_of(&issued)), &app.admin).await).await;
    assert_eq!(ended["active"], false);
    assert!(ended["revoked_at"].is_string());
    let active = body(app.get("/api/v1/grants?active=true", &app.admin).await).await;
    assert!(ids(&active).is_empty());
}

#[tokio::test]
async fn an_accepted_roster_is_granted_in_one_go() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let entries = json!([
        {"full_name": "Nguyễn Văn An", "unit_name": "Xã An Hưng", "id_number": "052090001245", "phone": "0972123588"},
        {"full_name": "Trần Thị Ánh", "unit_name": "Xã An Hưng", "id_number": "052190001246", "phone": "0972123589"},
    ]);
    let roster =
        body(app.post("/api/v1/rosters", &app.admin, &json!({"unit_id": tree.district_a, "entries": entries})).await)
            .await;
    let path = format!("/api/v1/rosters/{}", id_of(&roster));
    let request = json!({"basis": "125/QĐ-TTPVHCC", "valid_from": "2021-06-28"});
    problem(app.post(&format!("{path}/grants"), &app.admin, &request).await, 409).await;
    app.request(Method::POST, &format!("{path}/submit"), &app.admin).send().await.unwrap();
    app.request(Method::POST, &format!("{path}/accept"), &app.admin).send().await.unwrap();

    // Only An has opened a portal account so far.
    let officials = body(app.get("/api/v1/officials?q=nguyen%20van%20an", &app.admin).await).await;
    let an = id_of(&officials["items"][0]);
    let officials = body(app.get("/api/v1/officials?q=tran%20thi%20anh", &app.admin).await).await;
    let anh = id_of(&officials["items"][0]);
    app.patch(&format!("/api/v1/officials/{an}"), &app.admin, &json!({"portal_account": "created"})).await;

    let result = body(app.post(&format!("{path}/grants"), &app.admin, &request).await).await;
    assert_eq!(result["granted"].as_array().unwrap().len(), 1);
    assert_eq!(result["granted"][0]["official_id"], an.as_str());
    assert_eq!(result["skipped"], json!([{"row": 2, "official_id": anh, "reason": "no_portal_account"}]));

    let again = body(app.post(&format!("{path}/grants"), &app.admin, &request).await).await;
    assert!(again["granted"].as_array().unwrap().is_empty());
    assert_eq!(again["skipped"][0]["reason"], "already_granted");
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    problem(app.post(&format!("{path}/grants"), &manager, &request).await, 403).await;
}
