use std::process::Command;

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, Tree, body, cli, id_of, ids, plan, problem, spawn_app};

/// A commune desk ready to record: an official with a portal account and a grant from 1 July 2021,
/// and a clerk linked to it.
struct Desk {
    tree: Tree,
    official: String,
    clerk: String,
}

async fn official(app: &TestApp, unit: &str, id_number: &str) -> String {
    let body_ = json!({"full_name": "Nguyễn Văn An", "unit_id": unit, "id_number": id_number, "phone": "0972123588", "portal_account": "created"});
    let response = app.post("/api/v1/officials", &app.admin, &body_).await;
    assert_eq!(response.status(), 201);
    id_of(&body(response).await)
}

async fn grant(app: &TestApp, official: &str, from: &str, until: Option<&str>) {
    let grant = json!({"official_id": official, "basis": "125/QĐ-TTPVHCC", "valid_from": from, "valid_until": until});
    assert_eq!(app.post("/api/v1/grants", &app.admin, &grant).await.status(), 201);
}

/// Creates a clerk of `unit` linked to `official` and returns its token.
async fn clerk(app: &TestApp, username: &str, unit: &str, official: &str) -> String {
    let user = json!({"username": username, "display_name": username, "role": "clerk", "unit_id": unit, "official_id": official, "password": PASSWORD});
    let response = app.post("/api/v1/users", &app.admin, &user).await;
    assert_eq!(response.status(), 201, "{:?}", body(response).await);
    app.login(username, PASSWORD).await
}

async fn desk(app: &TestApp) -> Desk {
    let tree = app.tree().await;
    let official = official(app, &tree.commune_a, "052090001245").await;
    grant(app, &official, "2021-07-01", None).await;
    let clerk = clerk(app, "clerk.a", &tree.commune_a, &official).await;
    Desk { tree, official, clerk }
}

fn record(id_number: &str, outcome: &str) -> Value {
    let mut record = json!({
        "full_name": "Trần Thị Bích",
        "id_number": id_number,
        "phone": "+84 905 123 456",
        "account_kind": "vneid_level2",
        "outcome": outcome,
        "otp_resends": 1,
        "registered_at": "2021-07-31T16:30:00Z",
    });
    if outcome == "failed" {
        record["failure_reason"] = json!("otp_expired");
    }
    record
}

async fn record_as(app: &TestApp, token: &str, record: &Value) -> reqwest::Response {
    app.post("/api/v1/citizen-accounts", token, record).await
}

#[tokio::test]
async fn clerks_are_users_linked_to_an_active_official_of_their_unit() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let mine = official(&app, &tree.commune_a, "052090001245").await;
    let elsewhere = official(&app, &tree.commune_b, "052090001246").await;
    let token = clerk(&app, "clerk.a", &tree.commune_a, &mine).await;
    let me = body(app.get("/api/v1/auth/me", &token).await).await;
    assert_eq!(me["official_id"], mine.as_str());

    let user = |name: &str, role: &str, official: &str| json!({"username": name, "display_name": name, "role": role, "unit_id": tree.commune_a, "official_id": official, "password": PASSWORD});
    let refused =
        problem(app.post("/api/v1/users", &app.admin, &user("clerk.b", "clerk", &elsewhere)).await, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/official_id");
    assert_eq!(refused["errors"][0]["code"], "official_outside_unit");
    let refused = problem(app.post("/api/v1/users", &app.admin, &user("viewer.a", "viewer", &mine)).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "official_for_clerks_only");

    let leaving = official(&app, &tree.commune_a, "052090001247").await;
    app.post(&format!("/api/v1/officials/{leaving}/deactivate"), &app.admin, &json!({"reason": "nghỉ hưu"})).await;
    let refused = problem(app.post("/api/v1/users", &app.admin, &user("clerk.c", "clerk", &leaving)).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "official_inactive");

    let me_id = me["id"].as_str().unwrap();
    let other = official(&app, &tree.commune_a, "052090001248").await;
    let patched = app.patch(&format!("/api/v1/users/{me_id}"), &app.admin, &json!({"official_id": other})).await;
    assert_eq!(patched.status(), 200);
    assert_eq!(body(patched).await["official_id"], other.as_str());
    // A clerk cannot move itself to another official's name.
    problem(app.patch(&format!("/api/v1/users/{me_id}"), &token, &json!({"official_id": mine})).await, 403).await;
}

#[tokio::test]
async fn a_clerk_records_attempts_at_its_desk_and_sees_its_own_numbers() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let created = record_as(&app, &desk.clerk, &record("052185000001", "created")).await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert_eq!(created["official_id"], desk.official.as_str());
    assert_eq!(created["unit_id"], desk.tree.commune_a.as_str());
    assert_eq!(created["source"], "desk");
    assert_eq!(created["outcome"], "created");
    assert_eq!(created["failure_reason"], Value::Null);
    assert_eq!(created["account_kind"], "vneid_level2");
    assert_eq!(created["otp_resends"], 1);
    assert_eq!(created["id_number"], "052185000001", "the recording clerk sees the number");
    assert_eq!(created["phone"], "0905123456", "stored in its national form");
    assert_eq!(created["voided_at"], Value::Null);

    let read = body(app.get(&format!("/api/v1/citizen-accounts/{}", id_of(&created)), &app.admin).await).await;
    assert_eq!(read["id_number"], "052*******01", "masked for everyone else");
    assert_eq!(read["phone"], "0905***456");

    let failed = body(record_as(&app, &desk.clerk, &record("052185000002", "failed")).await).await;
    assert_eq!(failed["failure_reason"], "otp_expired");
    let mut retried = record("052185000002", "failed");
    retried["registered_at"] = json!("2021-08-01T02:00:00Z");
    let again = record_as(&app, &desk.clerk, &retried).await;
    assert_eq!(again.status(), 201, "failed attempts are kept, any number");
}

#[tokio::test]
async fn each_invalid_value_is_named_in_plain_words() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let pointers = async |record: Value| -> Vec<(String, String)> {
        let answer = problem(record_as(&app, &desk.clerk, &record).await, 422).await;
        answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| {
                let detail = error["detail"].as_str().unwrap();
                assert!(!detail.contains("R1") && !detail.contains("R5"), "{detail}");
                (error["pointer"].as_str().unwrap().to_owned(), error["code"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let mut no_reason = record("052185000001", "failed");
    no_reason.as_object_mut().unwrap().remove("failure_reason");
    assert_eq!(pointers(no_reason).await, vec![("/failure_reason".to_owned(), "failure_reason_required".to_owned())]);
    let mut reason_for_success = record("052185000001", "created");
    reason_for_success["failure_reason"] = json!("other");
    assert_eq!(pointers(reason_for_success).await[0].0, "/failure_reason");
    let mut future = record("052185000001", "created");
    future["registered_at"] = json!((chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339());
    assert_eq!(pointers(future).await, vec![("/registered_at".to_owned(), "in_future".to_owned())]);
    let mut many = record("052185000001", "created");
    many["otp_resends"] = json!(101);
    assert_eq!(pointers(many).await, vec![("/otp_resends".to_owned(), "invalid_otp_resends".to_owned())]);
    let mut wrong = record("12345", "created");
    wrong["phone"] = json!("0241234567");
    wrong["source"] = json!("portal_sync");
    let found = pointers(wrong).await;
    let found: Vec<&str> = found.iter().map(|(pointer, _)| pointer.as_str()).collect();
    assert_eq!(found, vec!["/id_number", "/phone", "/source"]);
    let negative = problem(record_as(&app, &desk.clerk, &json!({"otp_resends": -1})).await, 422).await;
    assert_eq!(negative["status"], 422);
    let listed = body(app.get("/api/v1/citizen-accounts", &app.admin).await).await;
    assert!(ids(&listed).is_empty(), "nothing was written");
}

#[tokio::test]
async fn recording_needs_a_grant_in_force_and_an_official_in_scope() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let yesterday = (chrono::Utc::now() + chrono::TimeDelta::hours(7) - chrono::TimeDelta::days(1)).date_naive();
    let expired = official(&app, &tree.commune_a, "052090001245").await;
    grant(&app, &expired, "2021-07-01", Some(&yesterday.to_string())).await;
    let late = clerk(&app, "clerk.late", &tree.commune_a, &expired).await;
    let mut today = record("052185000001", "created");
    today.as_object_mut().unwrap().remove("registered_at");
    let refused = problem(record_as(&app, &late, &today).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "no_active_grant");
    assert_eq!(refused["errors"][0]["pointer"], "/official_id");
    assert_eq!(record_as(&app, &late, &record("052185000001", "created")).await.status(), 201, "in 2021 it held");

    let other = official(&app, &tree.commune_b, "052090001246").await;
    grant(&app, &other, "2021-07-01", None).await;
    let theirs = clerk(&app, "clerk.b", &tree.commune_b, &other).await;
    let mut foreign = record("052185000002", "created");
    foreign["official_id"] = json!(expired);
    problem(record_as(&app, &theirs, &foreign).await, 404).await;

    let viewer = app.user("viewer.p", "viewer", Some(&tree.province)).await;
    problem(record_as(&app, &viewer, &record("052185000003", "created")).await, 403).await;
    problem(app.get("/api/v1/citizen-accounts", &viewer).await, 403).await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    problem(record_as(&app, &manager, &record("052185000003", "created")).await, 403).await;

    let unlinked = app.user("clerk.none", "clerk", Some(&tree.commune_a)).await;
    let refused = problem(record_as(&app, &unlinked, &record("052185000003", "created")).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "no_official");
    let refused = problem(record_as(&app, &app.admin, &record("052185000003", "created")).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "official_required");

    // A clerk or the portal records only under a grant; the Service Center may record without one.
    let ungranted = official(&app, &tree.commune_a, "052090001249").await;
    let mut named = record("052185000004", "created");
    named["official_id"] = json!(ungranted);
    let portal = app.user("portal.sync", "integration", Some(&tree.province)).await;
    let refused = problem(record_as(&app, &portal, &named).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "no_active_grant");
    assert_eq!(record_as(&app, &app.admin, &named).await.status(), 201);
}

#[tokio::test]
async fn one_live_account_per_citizen_and_kind_and_voiding_frees_it() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let first = body(record_as(&app, &desk.clerk, &record("052185000001", "created")).await).await;
    let mut later = record("052185000001", "created");
    later["registered_at"] = json!("2021-09-01T01:00:00Z");
    let clash = problem(record_as(&app, &desk.clerk, &later).await, 409).await;
    assert_eq!(clash["existing_id"], first["id"]);
    let mut other_kind = later.clone();
    other_kind["account_kind"] = json!("dvc_portal");
    assert_eq!(record_as(&app, &desk.clerk, &other_kind).await.status(), 201);

    let void_path = format!("/api/v1/citizen-accounts/{}/void", id_of(&first));
    problem(app.post(&void_path, &desk.clerk, &json!({"reason": "ghi nhầm"})).await, 403).await;
    let manager = app.user("manager.b", "manager", Some(&desk.tree.district_b)).await;
    problem(app.post(&void_path, &manager, &json!({"reason": "ghi nhầm"})).await, 404).await;
    problem(app.post(&void_path, &app.admin, &json!({})).await, 422).await;
    let manager = app.user("manager.a", "manager", Some(&desk.tree.district_a)).await;
    let voided = app.post(&void_path, &manager, &json!({"reason": "ghi nhầm số định danh"})).await;
    assert_eq!(voided.status(), 200);
    let voided = body(voided).await;
    assert!(voided["voided_at"].is_string());
    assert_eq!(voided["void_reason"], "ghi nhầm số định danh");
    problem(app.post(&void_path, &manager, &json!({"reason": "lần nữa"})).await, 409).await;

    assert_eq!(record_as(&app, &desk.clerk, &later).await.status(), 201, "the slot is free again");
    let still = body(app.get(&format!("/api/v1/citizen-accounts/{}", id_of(&first)), &manager).await).await;
    assert_eq!(still["void_reason"], "ghi nhầm số định danh");
}

#[tokio::test]
async fn identical_requests_at_the_same_instant_give_one_record() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let same = record("052185000001", "created");
    let (a, b) = tokio::join!(record_as(&app, &desk.clerk, &same), record_as(&app, &desk.clerk, &same));
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409]);
    let listed = body(app.get("/api/v1/citizen-accounts", &app.admin).await).await;
    assert_eq!(ids(&listed).len(), 1);
}

#[tokio::test]
async fn the_portal_resending_a_transaction_gets_the_first_record() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let portal = app.user("portal.sync", "integration", Some(&desk.tree.province)).await;
    let mut synced = record("052185000001", "failed");
    synced["official_id"] = json!(desk.official);
    synced["external_ref"] = json!("DVC-2021-000123");
    let first = record_as(&app, &portal, &synced).await;
    assert_eq!(first.status(), 201);
    let first = body(first).await;
    assert_eq!(first["source"], "portal_sync");
    assert_eq!(first["id_number"], "052*******01", "only a clerk sees its own numbers");
    let again = record_as(&app, &portal, &synced).await;
    assert_eq!(again.status(), 200);
    assert_eq!(body(again).await["id"], first["id"]);
}

#[tokio::test]
async fn a_retried_record_with_its_idempotency_key_creates_nothing_new() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let send = |record: Value| {
        app.request(Method::POST, "/api/v1/citizen-accounts", &desk.clerk)
            .header("idempotency-key", "desk-42")
            .json(&record)
            .send()
    };
    let first = send(record("052185000001", "failed")).await.unwrap();
    assert_eq!(first.status(), 201);
    let first = body(first).await;
    let retry = send(record("052185000001", "failed")).await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(body(retry).await, first);
    let reused = problem(send(record("052185000009", "failed")).await.unwrap(), 422).await;
    assert_eq!(reused["errors"][0]["code"], "idempotency_key_reused");
    assert_eq!(ids(&body(app.get("/api/v1/citizen-accounts", &app.admin).await).await).len(), 1);
}

#[tokio::test]
async fn a_batch_answers_each_record_in_order_and_twice_creates_nothing() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let portal = app.user("portal.sync", "integration", Some(&desk.tree.province)).await;
    let item = |id_number: &str, outcome: &str| {
        let mut item = record(id_number, outcome);
        item["official_id"] = json!(desk.official);
        item
    };
    let mut bad = item("052185000003", "created");
    bad["id_number"] = json!("123");
    let batch = json!([
        item("052185000001", "created"),
        item("052185000002", "failed"),
        bad,
        item("052185000001", "created"),
        "not a record",
    ]);
    let send = |body: String, content_type: &'static str| {
        app.request(Method::POST, "/api/v1/citizen-accounts/batch", &portal)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let answer = send(batch.to_string(), "application/json").await.unwrap();
    assert_eq!(answer.status(), 200);
    let answer = body(answer).await;
    let statuses: Vec<&str> =
        answer["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["created", "created", "invalid", "duplicate", "invalid"]);
    assert_eq!(answer["items"][3]["id"], answer["items"][0]["id"], "a duplicate names the record it repeats");
    assert_eq!(answer["items"][2]["errors"][0]["pointer"], "/items/2/id_number");
    assert_eq!(answer["items"][4]["errors"][0]["pointer"], "/items/4");
    assert_eq!(
        (answer["created"].as_u64(), answer["duplicates"].as_u64(), answer["invalid"].as_u64()),
        (Some(2), Some(1), Some(2))
    );

    let lines: Vec<String> = batch.as_array().unwrap().iter().map(Value::to_string).collect();
    let again = body(send(lines.join("\n"), "application/x-ndjson").await.unwrap()).await;
    assert_eq!(again["created"], 0, "the same batch again creates nothing");
    assert_eq!(again["duplicates"], 3);
    assert_eq!(again["items"][1]["id"], answer["items"][1]["id"]);

    let too_many: Vec<Value> = (0..10_001).map(|_| json!({})).collect();
    problem(send(json!(too_many).to_string(), "application/json").await.unwrap(), 413).await;
    problem(send("{".to_owned(), "application/json").await.unwrap(), 400).await;
    let listed = body(app.get("/api/v1/citizen-accounts", &app.admin).await).await;
    assert_eq!(ids(&listed).len(), 2);
}

#[tokio::test]
async fn lists_filter_search_and_page_newest_first_within_scope() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let names = ["Nguyễn Văn Đức", "Trần Thị Bích", "Lê Văn Tám"];
    for (index, name) in names.iter().enumerate() {
        let mut item = record(&format!("05218500000{index}"), if index == 1 { "failed" } else { "created" });
        item["full_name"] = json!(name);
        item["registered_at"] = json!(format!("2021-08-0{}T02:00:00Z", index + 1));
        assert_eq!(record_as(&app, &desk.clerk, &item).await.status(), 201);
    }
    let list =
        async |query: &str, token: &str| body(app.get(&format!("/api/v1/citizen-accounts{query}"), token).await).await;
    let names_of = |list: &Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|i| i["full_name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names_of(&list("", &app.admin).await), vec!["Lê Văn Tám", "Trần Thị Bích", "Nguyễn Văn Đức"]);
    assert_eq!(names_of(&list("?q=nguyen%20van%20duc", &app.admin).await), vec!["Nguyễn Văn Đức"]);
    assert!(names_of(&list("?q=%25", &app.admin).await).is_empty(), "% matches itself, not everything");
    assert!(names_of(&list("?q=_", &app.admin).await).is_empty(), "_ matches itself, not any letter");
    assert_eq!(names_of(&list("?id_number=052185000001", &app.admin).await), vec!["Trần Thị Bích"]);
    assert_eq!(names_of(&list("?outcome=failed", &app.admin).await), vec!["Trần Thị Bích"]);
    let august_2 = "?registered_from=2021-08-02T00:00:00Z&registered_to=2021-08-03T00:00:00Z";
    assert_eq!(names_of(&list(august_2, &app.admin).await), vec!["Trần Thị Bích"]);
    assert_eq!(names_of(&list(&format!("?unit_id={}", desk.tree.commune_b), &app.admin).await).len(), 0);

    let first = list("?limit=2", &app.admin).await;
    assert_eq!(names_of(&first).len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(&format!("?limit=2&cursor={cursor}"), &app.admin).await;
    assert_eq!(names_of(&second), vec!["Nguyễn Văn Đức"]);
    assert_eq!(second["next_cursor"], Value::Null);

    let manager_b = app.user("manager.b", "manager", Some(&desk.tree.district_b)).await;
    assert!(names_of(&list("", &manager_b).await).is_empty());
    let other = official(&app, &desk.tree.commune_a, "052090001246").await;
    grant(&app, &other, "2021-07-01", None).await;
    let colleague = clerk(&app, "clerk.a2", &desk.tree.commune_a, &other).await;
    assert!(names_of(&list("", &colleague).await).is_empty(), "a clerk lists only its own records");
    let own = list("", &desk.clerk).await;
    assert_eq!(own["items"][0]["id_number"], "052185000002", "unmasked for its clerk");
    problem(app.get(&format!("/api/v1/citizen-accounts/{}", id_of(&own["items"][0])), &colleague).await, 404).await;
    problem(app.get("/api/v1/citizen-accounts?id_number=12", &app.admin).await, 400).await;
}

#[tokio::test]
async fn only_admins_reveal_numbers_and_each_look_is_audited() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let created = body(record_as(&app, &desk.clerk, &record("052185000001", "created")).await).await;
    let reveal = format!("/api/v1/citizen-accounts/{}/reveal", id_of(&created));
    let manager = app.user("manager.a", "manager", Some(&desk.tree.district_a)).await;
    problem(app.post(&reveal, &manager, &json!({"reason": "kiểm tra"})).await, 403).await;
    problem(app.post(&reveal, &app.admin, &json!({})).await, 422).await;
    let shown = body(app.post(&reveal, &app.admin, &json!({"reason": "công dân khiếu nại"})).await).await;
    assert_eq!(shown["id_number"], "052185000001");
    assert_eq!(shown["phone"], "0905123456");
    let trail = format!("/api/v1/audit-events?entity=citizen_account&entity_id={}", id_of(&created));
    let events = body(app.get(&trail, &app.admin).await).await;
    let actions: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["citizen_account.create", "citizen_account.reveal"]);
    assert_eq!(events["items"][1]["after"]["reason"], "công dân khiếu nại");
    assert_eq!(events["items"][0]["after"]["id_number"], "052*******01");
}

/// Counts per month (Vietnam time) and kind, read from the counters table.
async fn counters(app: &TestApp) -> Vec<(String, String, i64, i64)> {
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT period, account_kind, created, failed FROM citizen_account_counters \
             WHERE created <> 0 OR failed <> 0 ORDER BY period, account_kind",
        ))
        .await
        .unwrap();
    let counted = rows
        .iter()
        .map(|row| {
            (
                row.try_get::<String>("", "period").unwrap(),
                row.try_get::<String>("", "account_kind").unwrap(),
                row.try_get::<i64>("", "created").unwrap(),
                row.try_get::<i64>("", "failed").unwrap(),
            )
        })
        .collect();
    db.close().await.unwrap();
    counted
}

#[tokio::test]
async fn counters_move_with_every_record_and_void_and_can_be_checked_and_rebuilt() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    // 23:30 in Hanoi on 31 July is 16:30 UTC: still July.
    let july_end = body(record_as(&app, &desk.clerk, &record("052185000001", "created")).await).await;
    let mut august = record("052185000002", "failed");
    august["registered_at"] = json!("2021-07-31T17:00:00Z");
    record_as(&app, &desk.clerk, &august).await;
    let mut voided = record("052185000003", "created");
    voided["registered_at"] = json!("2021-07-10T03:00:00Z");
    let voided = body(record_as(&app, &desk.clerk, &voided).await).await;
    app.post(&format!("/api/v1/citizen-accounts/{}/void", id_of(&voided)), &app.admin, &json!({"reason": "trùng"}))
        .await;
    assert_eq!(july_end["registered_at"], "2021-07-31T16:30:00Z");

    let expected = vec![
        ("2021-07".to_owned(), "vneid_level2".to_owned(), 1, 0),
        ("2021-08".to_owned(), "vneid_level2".to_owned(), 0, 1),
    ];
    assert_eq!(counters(&app).await, expected);
    let (agree, said) = cli(&app, "check-counters");
    assert!(agree, "{said}");

    let db = Database::connect(&app.database_url).await.unwrap();
    db.execute_unprepared("UPDATE citizen_account_counters SET created = created + 5").await.unwrap();
    db.close().await.unwrap();
    let (agree, said) = cli(&app, "check-counters");
    assert!(!agree, "a difference exits with 1");
    assert!(said.contains("counters say 6 created"), "{said}");
    let (rebuilt, said) = cli(&app, "rebuild-counters");
    assert!(rebuilt, "{said}");
    assert_eq!(counters(&app).await, expected);
    assert!(cli(&app, "check-counters").0);

    let db = Database::connect(&app.database_url).await.unwrap();
    db.execute_unprepared("UPDATE citizen_account_to_date SET created_to_date = created_to_date + 2").await.unwrap();
    db.close().await.unwrap();
    let (agree, said) = cli(&app, "check-counters");
    assert!(!agree && said.contains("accounts created to date"), "{said}");
    assert!(cli(&app, "rebuild-counters").0);
    assert!(cli(&app, "check-counters").0);
}

/// A whole day at a desk, run against a server process logging at debug level: no ID or phone
/// number, plain or sealed, reaches a log line or the audit trail.
#[tokio::test]
async fn personal_numbers_never_reach_the_logs_or_the_audit_trail() {
    let (_db, url) = crate::helpers::TestDb::create().await;
    let log_path = std::env::temp_dir().join(format!("dvc-pii-{}.log", uuid::Uuid::now_v7().simple()));
    let log = std::fs::File::create(&log_path).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"))
        .env("DVC_DATABASE_URL", &url)
        .env("DVC_LISTEN", address.to_string())
        .env("DVC_ADMIN_PASSWORD", crate::helpers::ADMIN_PASSWORD)
        .env("DVC_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://{address}");
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let app = TestApp::attach(base, client, url).await;
    let desk = desk(&app).await;
    let numbers = ["052185000001", "052185000002", "0905123456", "052090001245", "0972123588"];
    let created = body(record_as(&app, &desk.clerk, &record(numbers[0], "created")).await).await;
    let mut item = record(numbers[1], "failed");
    item["official_id"] = json!(desk.official);
    let batch = app
        .request(Method::POST, "/api/v1/citizen-accounts/batch", &app.admin)
        .json(&json!([item, {"id_number": numbers[1]}]));
    assert_eq!(batch.send().await.unwrap().status(), 200);
    problem(record_as(&app, &desk.clerk, &record(numbers[0], "created")).await, 409).await;
    problem(record_as(&app, &desk.clerk, &json!({"id_number": numbers[0], "phone": "09051234567"})).await, 422).await;
    app.get(&format!("/api/v1/citizen-accounts?id_number={}", numbers[0]), &app.admin).await;
    let reveal = format!("/api/v1/citizen-accounts/{}/reveal", id_of(&created));
    app.post(&reveal, &app.admin, &json!({"reason": "công dân khiếu nại"})).await;
    let void = format!("/api/v1/citizen-accounts/{}/void", id_of(&created));
    app.post(&void, &app.admin, &json!({"reason": "ghi nhầm"})).await;
    let trail = app.get("/api/v1/audit-events?limit=500", &app.admin).await.text().await.unwrap();

    let db = Database::connect(&app.database_url).await.unwrap();
    let mut secrets: Vec<String> = numbers.iter().map(|number| (*number).to_owned()).collect();
    for table in ["citizen_accounts", "officials"] {
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT id_number_sealed, id_number_hash, phone_sealed FROM {table}"),
            ))
            .await
            .unwrap();
        for row in rows {
            for column in ["id_number_sealed", "id_number_hash", "phone_sealed"] {
                secrets.push(row.try_get::<String>("", column).unwrap());
            }
        }
    }
    db.close().await.unwrap();
    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    server.wait().unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(logs.lines().count() > 10, "the server logged the scenario");
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a log line holds {}…", &secret[..4]);
        assert!(!trail.contains(secret.as_str()), "the audit trail holds {}…", &secret[..4]);
    }
}

/// The name search the list runs (`q=`) is answered from a trigram index on both databases, not by
/// reading every record: the plan of the same query shape names the index.
#[tokio::test]
async fn name_search_uses_a_trigram_index() {
    let app = spawn_app().await;
    let postgres = app.database_url.starts_with("postgres");
    let sql = if postgres {
        "SELECT id FROM citizen_accounts WHERE name_folded LIKE '%van duc%'"
    } else {
        "SELECT id FROM citizen_accounts WHERE id IN \
         (SELECT id FROM citizen_accounts_name_search WHERE name_folded LIKE '%van duc%')"
    };
    let text = plan(&app, sql, &["enable_seqscan"]).await;
    let uses_index = text.contains("ix_citizen_accounts_name_trigram") || text.contains("VIRTUAL TABLE INDEX 0:L");
    assert!(uses_index, "{text}");
}

/// A page of the list, newest registration first, is read from the index in that order and stops
/// after the page: its cost does not grow with the number of records.
#[tokio::test]
async fn a_page_of_the_list_reads_the_registration_index_in_order() {
    let app = spawn_app().await;
    let sql = "SELECT id FROM citizen_accounts WHERE registered_at < '2025-01-01T00:00:00Z' \
               ORDER BY registered_at DESC, id DESC LIMIT 51";
    let text = plan(&app, sql, &["enable_seqscan", "enable_bitmapscan", "enable_sort"]).await;
    assert!(text.contains("ix_citizen_accounts_registered"), "{text}");
    assert!(!text.contains("TEMP B-TREE") && !text.contains("Sort"), "no sort of the whole table: {text}");
}

/// The same key sent twice at the same instant records once: the second request either waits for
/// the first and gets its answer (SQLite serialises writers) or meets the key stored by a
/// transaction still running and is refused with 409 (PostgreSQL).
#[tokio::test]
async fn the_same_key_at_the_same_instant_records_once() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let send = || {
        app.request(Method::POST, "/api/v1/citizen-accounts", &desk.clerk)
            .header("idempotency-key", "desk-43")
            .json(&record("052185000001", "failed"))
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    let (a, b) = (a.unwrap(), b.unwrap());
    let replayed = |response: &reqwest::Response| response.headers().contains_key("idempotent-replayed");
    let mut answers = vec![(a.status().as_u16(), replayed(&a)), (b.status().as_u16(), replayed(&b))];
    answers.sort_unstable();
    assert!(answers == vec![(201, false), (201, true)] || answers == vec![(201, false), (409, false)], "{answers:?}");
    assert_eq!(ids(&body(app.get("/api/v1/citizen-accounts", &app.admin).await).await).len(), 1);
}
