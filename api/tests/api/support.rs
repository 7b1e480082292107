use serde_json::json;

use crate::helpers::{body, id_of, ids, problem, spawn_app};

#[tokio::test]
async fn a_unit_asks_for_help_and_the_service_center_answers() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let clerk = app.user("clerk.a", "clerk", Some(&tree.commune_a)).await;
    let opened = app
        .post("/api/v1/support-requests", &clerk, &json!({"unit_id": tree.commune_a, "subject": "Không nhận được OTP", "body": "Công dân không nhận được mã OTP."}))
        .await;
    assert_eq!(opened.status(), 201);
    let opened = body(opened).await;
    assert_eq!(opened["status"], "open");
    let me = body(app.get("/api/v1/auth/me", &clerk).await).await;
    assert_eq!(opened["created_by"], me["id"], "a request says who opened it");
    let path = format!("/api/v1/support-requests/{}", id_of(&opened));

    problem(app.patch(&path, &clerk, &json!({"status": "resolved"})).await, 403).await;
    let progressing = body(app.patch(&path, &app.admin, &json!({"status": "in_progress"})).await).await;
    assert_eq!(progressing["status"], "in_progress");

    let answered =
        app.post(&format!("{path}/comments"), &app.admin, &json!({"body": "Nhắn TTTB gửi 1414 để kiểm tra."})).await;
    assert_eq!(answered.status(), 201);
    let replied = app.post(&format!("{path}/comments"), &clerk, &json!({"body": "Đã kiểm tra, cảm ơn."})).await;
    let replied = body(replied).await;
    let authors: Vec<_> =
        replied["comments"].as_array().unwrap().iter().map(|c| c["author"].as_str().unwrap()).collect();
    assert_eq!(authors, vec!["admin", "clerk.a"]);
    problem(app.post(&format!("{path}/comments"), &clerk, &json!({"body": "  "})).await, 422).await;

    let resolved = body(app.patch(&path, &app.admin, &json!({"status": "resolved"})).await).await;
    assert_eq!(resolved["status"], "resolved");
}

#[tokio::test]
async fn support_requests_are_seen_within_scope() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let clerk_a = app.user("clerk.a", "clerk", Some(&tree.commune_a)).await;
    let clerk_b = app.user("clerk.b", "clerk", Some(&tree.commune_b)).await;
    let open = |unit: &str| json!({"unit_id": unit, "subject": "Hỏi", "body": "Nội dung"});

    let mine = body(app.post("/api/v1/support-requests", &clerk_a, &open(&tree.commune_a)).await).await;
    let district = body(app.post("/api/v1/support-requests", &manager, &open(&tree.district_a)).await).await;
    let theirs = body(app.post("/api/v1/support-requests", &clerk_b, &open(&tree.commune_b)).await).await;
    problem(app.post("/api/v1/support-requests", &clerk_a, &open(&tree.district_a)).await, 422).await;

    assert_eq!(
        ids(&body(app.get("/api/v1/support-requests", &manager).await).await),
        vec![id_of(&mine), id_of(&district)]
    );
    assert_eq!(ids(&body(app.get("/api/v1/support-requests", &clerk_a).await).await), vec![id_of(&mine)]);
    assert_eq!(ids(&body(app.get("/api/v1/support-requests", &app.admin).await).await).len(), 3);
    problem(app.get(&format!("/api/v1/support-requests/{}", id_of(&theirs)), &manager).await, 404).await;
    problem(app.get(&format!("/api/v1/support-requests/{}", id_of(&district)), &clerk_a).await, 404).await;
    let comment = json!({"body": "x"});
    problem(app.post(&format!("/api/v1/support-requests/{}/comments", id_of(&theirs)), &clerk_a, &comment).await, 404)
        .await;

    let service = app.user("portal.sync", "integration", Some(&tree.province)).await;
    problem(app.get("/api/v1/support-requests", &service).await, 403).await;
}
