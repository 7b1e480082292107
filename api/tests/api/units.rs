use reqwest::Method;
use serde_json::json;

use crate::helpers::{body, id_of, ids, problem, spawn_app};

const UNITS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/dvhc/units-2025-01-04.csv");

#[tokio::test]
async fn units_form_a_tree_with_levels_and_paths() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let commune = body(app.get(&format!("/api/v1/units/{}", tree.commune_a), &app.admin).await).await;
    assert_eq!(commune["kind"], "commune");
    assert_eq!(commune["level"], 3);
    assert_eq!(commune["parent_id"], tree.district_a.as_str());
    let path = commune["path"].as_str().unwrap();
    assert!(path.contains(&tree.province.replace('-', "")) && path.contains(&tree.district_a.replace('-', "")));

    let children = body(app.get(&format!("/api/v1/units/{}/children", tree.province), &app.admin).await).await;
    assert_eq!(ids(&children), vec![tree.district_a.clone(), tree.district_b.clone()]);
}

#[tokio::test]
async fn units_carry_the_names_of_their_parent_and_province() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let commune = body(app.get(&format!("/api/v1/units/{}", tree.commune_a), &app.admin).await).await;
    assert_eq!(
        (commune["parent_name"].as_str(), commune["province_name"].as_str()),
        (Some("Huyện An Lão"), Some("Tỉnh Bình Định"))
    );
    let listed = body(app.get("/api/v1/units?q=an%20hung", &app.admin).await).await;
    assert_eq!(listed["items"][0]["parent_name"], "Huyện An Lão");
    assert_eq!(listed["items"][0]["province_name"], "Tỉnh Bình Định");
    let province = body(app.get(&format!("/api/v1/units/{}", tree.province), &app.admin).await).await;
    assert!(province["parent_name"].is_null() && province["province_name"].is_null(), "{province}");
    let created = app
        .post(
            "/api/v1/units",
            &app.admin,
            &json!({"code": "21611", "name": "Xã An Hòa", "kind": "commune", "parent_id": tree.district_a}),
        )
        .await;
    let created = body(created).await;
    assert_eq!(created["parent_name"], "Huyện An Lão");
    assert_eq!(created["province_name"], "Tỉnh Bình Định");
}

#[tokio::test]
async fn a_unit_must_fit_the_shape_of_the_tree() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let under_commune = json!({"code": "99999", "name": "Xã Thử", "kind": "commune", "parent_id": tree.commune_a});
    let value = problem(app.post("/api/v1/units", &app.admin, &under_commune).await, 422).await;
    assert_eq!(value["errors"][0]["pointer"], "/parent_id");
    let orphan = json!({"code": "998", "name": "Huyện Thử", "kind": "district"});
    problem(app.post("/api/v1/units", &app.admin, &orphan).await, 422).await;
    let bad =
        json!({"code": "a b", "name": " ", "kind": "province", "valid_from": "2025-07-01", "valid_to": "2025-01-01"});
    let value = problem(app.post("/api/v1/units", &app.admin, &bad).await, 422).await;
    let pointers: Vec<_> = value["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, vec!["/code", "/name", "/valid_to"]);
}

#[tokio::test]
async fn codes_are_unique_within_overlapping_validity() {
    let app = spawn_app().await;
    let old = app
        .post(
            "/api/v1/units",
            &app.admin,
            &json!({"code": "52", "name": "Tỉnh Bình Định", "kind": "province", "valid_to": "2025-07-01"}),
        )
        .await;
    let old = id_of(&body(old).await);
    let clash = json!({"code": "52", "name": "Tỉnh Gia Lai", "kind": "province", "valid_from": "2025-06-01"});
    let value = problem(app.post("/api/v1/units", &app.admin, &clash).await, 409).await;
    assert_eq!(value["existing_id"], old.as_str());

    let successor = json!({"code": "52", "name": "Tỉnh Gia Lai", "kind": "province", "valid_from": "2025-07-01"});
    let response = app.post("/api/v1/units", &app.admin, &successor).await;
    assert_eq!(response.status(), 201, "the code is free again after the old unit ends");
    let new = id_of(&body(response).await);

    let unit = format!("/api/v1/units/{old}");
    let itself = problem(app.patch(&unit, &app.admin, &json!({"successor_ids": [old]})).await, 422).await;
    assert_eq!(itself["errors"][0]["pointer"], "/successor_ids");
    let unknown = json!({"successor_ids": ["0193a1c2-7d5e-7a6b-9c0d-1e2f3a4b5c6d"]});
    let unknown = problem(app.patch(&unit, &app.admin, &unknown).await, 422).await;
    assert_eq!(unknown["errors"][0]["pointer"], "/successor_ids");
    let linked = app.patch(&unit, &app.admin, &json!({"successor_ids": [new]})).await;
    assert_eq!(body(linked).await["successor_ids"], json!([new]));
    let on_day = body(app.get("/api/v1/units?code=52&valid_on=2025-08-01", &app.admin).await).await;
    assert_eq!(ids(&on_day), vec![new.clone()]);
    let before = body(app.get("/api/v1/units?code=52&valid_on=2021-06-01", &app.admin).await).await;
    assert_eq!(ids(&before), vec![old]);
}

#[tokio::test]
async fn patch_honours_if_match_and_moves_subtrees() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let response = app.get(&format!("/api/v1/units/{}", tree.district_a), &app.admin).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();

    let renamed = app
        .request(Method::PATCH, &format!("/api/v1/units/{}", tree.district_a), &app.admin)
        .header("if-match", &etag)
        .json(&json!({"name": "  Huyện   An Lão ", "category": "Huyện"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert_ne!(renamed.headers()["etag"].to_str().unwrap(), etag);
    let renamed = body(renamed).await;
    assert_eq!(renamed["name"], "Huyện An Lão");
    assert_eq!(renamed["category"], "Huyện");

    let stale = app
        .request(Method::PATCH, &format!("/api/v1/units/{}", tree.district_a), &app.admin)
        .header("if-match", &etag)
        .json(&json!({"name": "Huyện Khác"}))
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;

    // Move district A's commune under district B: its path follows.
    let moved = app
        .patch(&format!("/api/v1/units/{}", tree.commune_a), &app.admin, &json!({"parent_id": tree.district_b}))
        .await;
    let moved = body(moved).await;
    assert!(moved["path"].as_str().unwrap().contains(&tree.district_b.replace('-', "")));
    let children = body(app.get(&format!("/api/v1/units/{}/children", tree.district_b), &app.admin).await).await;
    assert_eq!(ids(&children).len(), 2);

    let cycle = app
        .patch(&format!("/api/v1/units/{}", tree.province), &app.admin, &json!({"parent_id": tree.district_b}))
        .await;
    problem(cycle, 422).await;
    let unknown_field =
        app.patch(&format!("/api/v1/units/{}", tree.province), &app.admin, &json!({"kind": "commune"})).await;
    problem(unknown_field, 422).await;
}

#[tokio::test]
async fn moving_a_district_rewrites_the_paths_below_it() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let other = app.unit("64", "Tỉnh Gia Lai", "province", None).await;
    let response =
        app.patch(&format!("/api/v1/units/{}", tree.district_a), &app.admin, &json!({"parent_id": other})).await;
    assert_eq!(response.status(), 200);
    let commune = body(app.get(&format!("/api/v1/units/{}", tree.commune_a), &app.admin).await).await;
    assert!(commune["path"].as_str().unwrap().starts_with(&format!("/{}/", other.replace('-', ""))));
    assert_eq!(commune["level"], 3);
}

#[tokio::test]
async fn delete_is_refused_while_children_users_or_officials_depend_on_a_unit() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let refused =
        app.request(Method::DELETE, &format!("/api/v1/units/{}", tree.district_a), &app.admin).send().await.unwrap();
    let value = problem(refused, 409).await;
    assert_eq!(value["existing_id"], tree.commune_a.as_str());

    app.user("viewer.commune", "viewer", Some(&tree.commune_b)).await;
    let refused =
        app.request(Method::DELETE, &format!("/api/v1/units/{}", tree.commune_b), &app.admin).send().await.unwrap();
    problem(refused, 409).await;

    let staffed = app.unit("21612", "Xã An Toàn", "commune", Some(&tree.district_a)).await;
    let official =
        json!({"full_name": "Nguyễn Văn An", "unit_id": staffed, "id_number": "052090001245", "phone": "0972123588"});
    let official = body(app.post("/api/v1/officials", &app.admin, &official).await).await;
    let refused = app.request(Method::DELETE, &format!("/api/v1/units/{staffed}"), &app.admin).send().await.unwrap();
    assert_eq!(problem(refused, 409).await["existing_id"], official["id"]);

    let deleted =
        app.request(Method::DELETE, &format!("/api/v1/units/{}", tree.commune_a), &app.admin).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    problem(app.get(&format!("/api/v1/units/{}", tree.commune_a), &app.admin).await, 404).await;
}

#[tokio::test]
async fn managers_see_their_subtree_only_and_cannot_change_units() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;

    let listed = body(app.get("/api/v1/units", &manager).await).await;
    assert_eq!(ids(&listed), vec![tree.district_a.clone(), tree.commune_a.clone()]);
    assert_eq!(app.get(&format!("/api/v1/units/{}", tree.commune_a), &manager).await.status(), 200);
    problem(app.get(&format!("/api/v1/units/{}", tree.commune_b), &manager).await, 404).await;
    problem(app.get(&format!("/api/v1/units/{}", tree.province), &manager).await, 404).await;
    problem(app.get(&format!("/api/v1/units/{}/children", tree.district_b), &manager).await, 404).await;

    let create = json!({"code": "21611", "name": "Xã Mới", "kind": "commune", "parent_id": tree.district_a});
    problem(app.post("/api/v1/units", &manager, &create).await, 403).await;
    problem(app.patch(&format!("/api/v1/units/{}", tree.commune_a), &manager, &json!({"name": "X"})).await, 403).await;
}

#[tokio::test]
async fn lists_page_with_cursors_and_search_ignores_diacritics() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let first = body(app.get("/api/v1/units?limit=2", &app.admin).await).await;
    assert_eq!(ids(&first), vec![tree.province.clone(), tree.district_a.clone()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = body(app.get(&format!("/api/v1/units?limit=2&cursor={cursor}"), &app.admin).await).await;
    assert_eq!(ids(&rest), vec![tree.district_b.clone(), tree.commune_a.clone()]);
    let cursor = rest["next_cursor"].as_str().unwrap();
    let last = body(app.get(&format!("/api/v1/units?limit=2&cursor={cursor}"), &app.admin).await).await;
    assert_eq!(ids(&last), vec![tree.commune_b.clone()]);
    assert!(last["next_cursor"].is_null());

    for bad in ["limit=0", "limit=501", "limit=x", "cursor=garbage"] {
        problem(app.get(&format!("/api/v1/units?{bad}"), &app.admin).await, 400).await;
    }

    let found = body(app.get("/api/v1/units?q=bong%20son", &app.admin).await).await;
    assert_eq!(ids(&found), vec![tree.commune_b.clone()]);
    let found = body(app.get("/api/v1/units?q=HUYEN%20AN%20LAO&kind=district", &app.admin).await).await;
    assert_eq!(ids(&found), vec![tree.district_a]);
}

#[tokio::test]
async fn the_official_list_imports_idempotently() {
    let app = spawn_app().await;
    let csv = std::fs::read(UNITS_CSV).unwrap();
    let import = |csv: Vec<u8>| {
        app.request(Method::POST, "/api/v1/units/import?province=52", &app.admin)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };
    let first = body(import(csv.clone()).await.unwrap()).await;
    // Bình Định: the province, 11 districts and 155 communes.
    assert_eq!(first, json!({"created": 167, "updated": 0, "unchanged": 0}));
    let second = body(import(csv).await.unwrap()).await;
    assert_eq!(second, json!({"created": 0, "updated": 0, "unchanged": 167}));

    let provinces = body(app.get("/api/v1/units?kind=province", &app.admin).await).await;
    let province = &provinces["items"][0];
    assert_eq!(province["name"], "Tỉnh Bình Định");
    let districts =
        body(app.get(&format!("/api/v1/units/{}/children?limit=500", id_of(province)), &app.admin).await).await;
    assert_eq!(districts["items"].as_array().unwrap().len(), 11);

    let broken = app
        .request(Method::POST, "/api/v1/units/import", &app.admin)
        .header("content-type", "text/csv")
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap();
    problem(broken, 422).await;
}

#[tokio::test]
async fn the_command_line_imports_a_province_with_progress() {
    let app = spawn_app().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"))
        .args(["import-units", UNITS_CSV, "--province", "52"])
        .env("DVC_DATABASE_URL", &app.database_url)
        .env("DVC_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("167/167 units"), "{stderr}");
    assert!(stderr.contains("167 created"), "{stderr}");
    let communes = body(app.get("/api/v1/units?kind=commune&limit=500", &app.admin).await).await;
    assert_eq!(communes["items"].as_array().unwrap().len(), 155);
}

#[tokio::test]
async fn every_change_is_audited_and_only_admins_read_the_trail() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    app.patch(&format!("/api/v1/units/{}", tree.commune_a), &app.admin, &json!({"name": "Xã An Hưng Mới"})).await;
    let events =
        body(app.get(&format!("/api/v1/audit-events?entity=unit&entity_id={}", tree.commune_a), &app.admin).await)
            .await;
    let actions: Vec<_> = events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["unit.create", "unit.update"]);
    assert_eq!(events["items"][1]["before"]["name"], "Xã An Hưng");
    assert_eq!(events["items"][1]["after"]["name"], "Xã An Hưng Mới");
    assert_eq!(events["items"][1]["actor"], "admin");

    let viewer = app.user("viewer.p", "viewer", Some(&tree.province)).await;
    problem(app.get("/api/v1/audit-events", &viewer).await, 403).await;
}
