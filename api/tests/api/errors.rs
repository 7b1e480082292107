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
    problem(send_raw(deep.into_bytes()).await.unwrap(), 400).await;
    let huge = json!({"code": "52", "name": "x", "kind": "province", "valid_from": 1e308});
    problem(app.post("/api/v1/units", &app.admin, &huge).await, 422).await;

    // A NUL byte never reaches the database: the text is refused, not stored changed; a query
    // cannot carry one either.
    let with_nul = app
        .post("/api/v1/units", &app.admin, &json!({"code": "53", "name": "Tỉnh\u{0} Thử", "kind": "province"}))
        .await;
    assert_eq!(problem(with_nul, 422).await["errors"][0]["pointer"], "/name");
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

#[tokio::test]
async fn values_of_the_wrong_type_point_at_their_field() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let official = json!({"full_name": "Nguyễn Văn An", "unit_id": tree.commune_a, "id_number": "052090001245",
        "phone": "0972123588"});
    let cases = [
        ("/unit_id", json!({"unit_id": "not-a-uuid"})),
        ("/portal_account", json!({"portal_account": "maybe"})),
        ("/portal_account_at", json!({"portal_account": "created", "portal_account_at": "2021-07-01"})),
    ];
    for (pointer, change) in cases {
        let mut body = official.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let refused = problem(app.post("/api/v1/officials", &app.admin, &body).await, 422).await;
        assert_eq!(refused["errors"][0]["pointer"], pointer, "{refused}");
        assert_eq!(refused["errors"][0]["code"], "invalid_value");
    }
    // Deeper values are pointed at too.
    let roster = json!({"unit_id": tree.district_a, "entries": [{"full_name": "A", "id_number": "1", "phone": 2}]});
    let refused = problem(app.post("/api/v1/rosters", &app.admin, &roster).await, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/entries/0/phone");
}

#[tokio::test]
async fn text_with_control_characters_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let unit = json!({"code": "21611", "name": "Xã\u{0}Nul", "kind": "commune", "parent_id": tree.district_a});
    let refused = problem(app.post("/api/v1/units", &app.admin, &unit).await, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/name");
    assert_eq!(refused["errors"][0]["code"], "control_character");
    let bell = json!({"unit_id": tree.commune_a, "subject": "Chuông\u{7}", "body": "dòng 1\ndòng 2"});
    let refused = problem(app.post("/api/v1/support-requests", &app.admin, &bell).await, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/subject");
    // Line breaks and tabs are text.
    let lines = json!({"unit_id": tree.commune_a, "subject": "Cần hỗ trợ", "body": "dòng 1\n\tdòng 2"});
    assert_eq!(app.post("/api/v1/support-requests", &app.admin, &lines).await.status(), 201);
    let listed = crate::helpers::body(app.get("/api/v1/units?code=21611", &app.admin).await).await;
    assert!(listed["items"].as_array().unwrap().is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_query_parameter_that_does_not_parse_is_named() {
    let app = spawn_app().await;
    let official = uuid::Uuid::now_v7();
    let refused =
        problem(app.get(&format!("/api/v1/officials/{official}/grants?active_at=2027-01-01"), &app.admin).await, 400)
            .await;
    assert!(refused["detail"].as_str().unwrap().contains("`active_at`"), "{refused}");
    let refused = problem(app.get("/api/v1/audit-events?from=yesterday", &app.admin).await, 400).await;
    assert!(refused["detail"].as_str().unwrap().contains("`from`"), "{refused}");
}

#[tokio::test]
async fn messages_cite_no_requirement_codes() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let official = json!({"full_name": "Nguyễn Văn An", "unit_id": tree.commune_a, "id_number": "052090001245",
        "phone": "0972123588"});
    let official = crate::helpers::body(app.post("/api/v1/officials", &app.admin, &official).await).await;
    let grant = json!({"official_id": official["id"], "function": "create_citizen_account", "basis": "123/QĐ-UBND",
        "valid_from": "2021-07-01", "valid_until": "2021-12-31"});
    let refused = problem(app.post("/api/v1/grants", &app.admin, &grant).await, 422).await;
    let detail = refused["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("national portal") && !detail.contains("(R"), "{detail}");
}
