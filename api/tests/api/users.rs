use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, body, id_of, ids, problem, spawn_app};

fn new_user(username: &str, role: &str, unit_id: &str) -> serde_json::Value {
    json!({"username": username, "display_name": "Trần Thị B", "role": role, "unit_id": unit_id, "password": PASSWORD})
}

#[tokio::test]
async fn managers_create_desk_staff_in_their_subtree_only() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;

    let created = app.post("/api/v1/users", &manager, &new_user("clerk.a", "clerk", &tree.commune_a)).await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert_eq!(created["role"], "clerk");
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());

    // More rights than its own, or a wider scope: refused.
    problem(app.post("/api/v1/users", &manager, &new_user("manager.b", "manager", &tree.commune_a)).await, 403).await;
    problem(app.post("/api/v1/users", &manager, &new_user("admin.b", "admin", &tree.commune_a)).await, 403).await;
    let outside =
        problem(app.post("/api/v1/users", &manager, &new_user("clerk.b", "clerk", &tree.commune_b)).await, 422).await;
    assert_eq!(outside["errors"][0]["pointer"], "/unit_id");
    problem(app.post("/api/v1/users", &manager, &new_user("viewer.p", "viewer", &tree.province)).await, 422).await;

    let clerk = app.login("clerk.a", PASSWORD).await;
    problem(app.post("/api/v1/users", &clerk, &new_user("clerk.c", "clerk", &tree.commune_a)).await, 403).await;
}

#[tokio::test]
async fn users_are_listed_and_read_within_scope() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    app.user("clerk.a", "clerk", Some(&tree.commune_a)).await;
    app.user("clerk.b", "clerk", Some(&tree.commune_b)).await;

    let listed = body(app.get("/api/v1/users", &manager).await).await;
    let names: Vec<_> = listed["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["manager.a", "clerk.a"]);

    let everyone = body(app.get("/api/v1/users", &app.admin).await).await;
    assert_eq!(ids(&everyone).len(), 4);
    let clerk_b = everyone["items"].as_array().unwrap().iter().find(|u| u["username"] == "clerk.b").unwrap();
    problem(app.get(&format!("/api/v1/users/{}", id_of(clerk_b)), &manager).await, 404).await;
    let admin = everyone["items"].as_array().unwrap().iter().find(|u| u["username"] == "admin").unwrap();
    problem(app.get(&format!("/api/v1/users/{}", id_of(admin)), &manager).await, 404).await;

    let clerk = app.login("clerk.a", PASSWORD).await;
    problem(app.get("/api/v1/users", &clerk).await, 403).await;
}

#[tokio::test]
async fn usernames_are_unique() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let first = body(app.post("/api/v1/users", &app.admin, &new_user("clerk.a", "clerk", &tree.commune_a)).await).await;
    let clash =
        problem(app.post("/api/v1/users", &app.admin, &new_user("clerk.a", "viewer", &tree.commune_b)).await, 409)
            .await;
    assert_eq!(clash["existing_id"], first["id"]);
}

#[tokio::test]
async fn patch_changes_only_writable_fields() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let clerk = body(app.post("/api/v1/users", &manager, &new_user("clerk.a", "clerk", &tree.commune_a)).await).await;
    let path = format!("/api/v1/users/{}", id_of(&clerk));

    for escalation in [json!({"role": "admin"}), json!({"unit_id": tree.province}), json!({"active": true})] {
        problem(app.patch(&path, &manager, &escalation).await, 422).await;
    }
    let unchanged = body(app.get(&path, &app.admin).await).await;
    assert_eq!(unchanged["role"], "clerk");
    assert_eq!(unchanged["unit_id"], tree.commune_a.as_str());

    let renamed = app.patch(&path, &manager, &json!({"display_name": "Lê Văn C"})).await;
    assert_eq!(body(renamed).await["display_name"], "Lê Văn C");

    // A user changes its own password and logs in with the new one.
    let own = app.login("clerk.a", PASSWORD).await;
    assert_eq!(app.patch(&path, &own, &json!({"password": "another-good-password"})).await.status(), 200);
    app.login("clerk.a", "another-good-password").await;
    problem(app.patch(&path, &own, &json!({"password": "short"})).await, 422).await;
}

#[tokio::test]
async fn deactivation_respects_roles_and_scope() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    let other = app.user("clerk.b", "clerk", Some(&tree.commune_b)).await;
    let other_id = id_of(&body(app.get("/api/v1/auth/me", &other).await).await);
    let peer = app.user("manager.a2", "manager", Some(&tree.district_a)).await;
    let peer_id = id_of(&body(app.get("/api/v1/auth/me", &peer).await).await);

    let deactivate = |id: String, token: String| {
        let request = app.request(Method::POST, &format!("/api/v1/users/{id}/deactivate"), &token);
        async move { request.send().await.unwrap() }
    };
    problem(deactivate(other_id, manager.clone()).await, 404).await;
    problem(deactivate(peer_id, manager.clone()).await, 403).await;
    let own_id = id_of(&body(app.get("/api/v1/auth/me", &manager).await).await);
    problem(deactivate(own_id, manager).await, 422).await;
}
