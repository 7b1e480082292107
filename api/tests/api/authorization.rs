//! The authorization matrix: every role, against objects in its own district, in the sibling
//! district and above its unit, on the endpoints that take an object. A role that may never act
//! gets 403; a role that may act but not on that object gets 404; otherwise the action succeeds.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, body, id_of, spawn_app};

const ROLES: [&str; 5] = ["admin", "manager", "clerk", "viewer", "integration"];

/// Where an object lies relative to a user of district A.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Own,
    Sibling,
    Above,
}

/// Who may act, and whether the unit scope applies to them.
struct Endpoint {
    method: Method,
    /// The path, with `{id}` for the object's id.
    path: &'static str,
    body: Option<Value>,
    allowed: &'static [&'static str],
    /// The status of a successful call.
    success: u16,
    /// Roles that reach only the objects they made themselves (a clerk's own records): the
    /// objects here, made by an admin, are not found for them anywhere.
    mine_only: &'static [&'static str],
}

/// Objects of each kind, one per place.
struct Objects {
    units: [String; 3],
    officials: [String; 3],
    grants: [String; 3],
    rosters: [String; 3],
    support: [String; 3],
    records: [String; 3],
}

fn index(place: Place) -> usize {
    match place {
        Place::Own => 0,
        Place::Sibling => 1,
        Place::Above => 2,
    }
}

async fn created(app: &TestApp, path: &str, value: Value) -> String {
    let response = app.post(path, &app.admin, &value).await;
    assert!(response.status().is_success(), "{path}: {}", response.status());
    id_of(&body(response).await)
}

async fn objects(app: &TestApp, units: [&str; 3]) -> Objects {
    let mut officials = Vec::new();
    let mut grants = Vec::new();
    let mut rosters = Vec::new();
    let mut support = Vec::new();
    let mut records = Vec::new();
    for (number, unit) in units.iter().enumerate() {
        let official = json!({"full_name": "Nguyễn Văn An", "unit_id": unit, "id_number": format!("05209000124{number}"),
            "phone": "0972123588", "portal_account": "created"});
        let official = created(app, "/api/v1/officials", official).await;
        grants.push(
            created(
                app,
                "/api/v1/grants",
                json!({"official_id": official, "basis": "1/QĐ", "valid_from": "2021-07-01"}),
            )
            .await,
        );
        let record = json!({"full_name": "Lê Thị Cúc", "id_number": format!("05218500000{number}"), "phone": "0905123456",
            "account_kind": "vneid_level1", "outcome": "created", "official_id": official, "registered_at": "2021-08-01T02:00:00Z"});
        records.push(created(app, "/api/v1/citizen-accounts", record).await);
        officials.push(official);
        let entry = json!({"full_name": "Trần Thị Ánh", "unit_id": unit, "id_number": format!("05219000124{number}"), "phone": "0972123589"});
        rosters.push(created(app, "/api/v1/rosters", json!({"unit_id": unit, "entries": [entry]})).await);
        support.push(
            created(app, "/api/v1/support-requests", json!({"unit_id": unit, "subject": "Hỏi", "body": "Nội dung"}))
                .await,
        );
    }
    let three = |list: Vec<String>| -> [String; 3] { list.try_into().unwrap() };
    Objects {
        units: units.map(str::to_owned),
        officials: three(officials),
        grants: three(grants),
        rosters: three(rosters),
        support: three(support),
        records: three(records),
    }
}

/// Picks the objects an endpoint acts on.
type Pick = fn(&Objects) -> &[String; 3];

fn endpoints() -> Vec<(Endpoint, Pick)> {
    let units: Pick = |objects| &objects.units;
    let officials: Pick = |objects| &objects.officials;
    let grants: Pick = |objects| &objects.grants;
    let rosters: Pick = |objects| &objects.rosters;
    let support: Pick = |objects| &objects.support;
    let records: Pick = |objects| &objects.records;
    let correction = json!({"full_name": "Lê Văn Bình", "unit_name": "Xã An Hưng", "id_number": "052090009999", "phone": "0972123580"});
    let everyone: &[&str] = &ROLES;
    let managers: &[&str] = &["admin", "manager"];
    let readers_of_officials: &[&str] = &["admin", "manager", "integration"];
    let admins: &[&str] = &["admin"];
    let desk_users: &[&str] = &["admin", "manager", "clerk", "viewer"];
    let endpoint =
        |method: Method, path: &'static str, body: Option<Value>, allowed: &'static [&'static str], success: u16| {
            Endpoint { method, path, body, allowed, success, mine_only: &[] }
        };
    vec![
        (endpoint(Method::GET, "/api/v1/units/{id}", None, everyone, 200), units),
        (endpoint(Method::GET, "/api/v1/units/{id}/children", None, everyone, 200), units),
        (endpoint(Method::PATCH, "/api/v1/units/{id}", Some(json!({})), admins, 200), units),
        (endpoint(Method::GET, "/api/v1/officials/{id}", None, readers_of_officials, 200), officials),
        (
            endpoint(Method::PATCH, "/api/v1/officials/{id}", Some(json!({"position": "Chuyên viên"})), managers, 200),
            officials,
        ),
        (endpoint(Method::GET, "/api/v1/officials/{id}/grants", None, managers, 200), officials),
        (endpoint(Method::GET, "/api/v1/grants/{id}", None, managers, 200), grants),
        (endpoint(Method::GET, "/api/v1/rosters/{id}", None, managers, 200), rosters),
        (
            endpoint(Method::PATCH, "/api/v1/rosters/{id}", Some(json!({"entries": [correction]})), managers, 200),
            rosters,
        ),
        (endpoint(Method::POST, "/api/v1/rosters/{id}/return", Some(json!({"reason": "sai"})), admins, 409), rosters),
        (endpoint(Method::GET, "/api/v1/support-requests/{id}", None, desk_users, 200), support),
        (
            endpoint(
                Method::POST,
                "/api/v1/support-requests/{id}/comments",
                Some(json!({"body": "x"})),
                desk_users,
                201,
            ),
            support,
        ),
        (
            Endpoint {
                mine_only: &["clerk"],
                ..endpoint(Method::GET, "/api/v1/citizen-accounts/{id}", None, &["admin", "manager", "clerk"], 200)
            },
            records,
        ),
        (
            endpoint(
                Method::POST,
                "/api/v1/citizen-accounts/{id}/reveal",
                Some(json!({"reason": "kiểm tra"})),
                admins,
                200,
            ),
            records,
        ),
    ]
}

fn expected(endpoint: &Endpoint, role: &str, place: Place) -> u16 {
    if !endpoint.allowed.contains(&role) {
        return 403;
    }
    if endpoint.mine_only.contains(&role) {
        return 404;
    }
    match (role, place) {
        ("admin", _) | (_, Place::Own) => endpoint.success,
        _ => 404,
    }
}

#[tokio::test]
async fn every_role_gets_the_contracts_answer_for_every_place() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let objects = objects(&app, [&tree.commune_a, &tree.commune_b, &tree.province]).await;
    // Everyone works in district A; a clerk and a viewer at its commune would see less, so all are
    // scoped to the district to compare roles on the same ground.
    let mut tokens = Vec::new();
    for role in ROLES {
        let unit = if role == "admin" { None } else { Some(tree.district_a.as_str()) };
        tokens.push((role, app.user(&format!("{role}.a"), role, unit).await));
    }
    let mut mismatches = Vec::new();
    for (endpoint, pick) in endpoints() {
        for (role, token) in &tokens {
            for place in [Place::Own, Place::Sibling, Place::Above] {
                let path = endpoint.path.replace("{id}", &pick(&objects)[index(place)]);
                let mut request = app.request(endpoint.method.clone(), &path, token);
                if let Some(body) = &endpoint.body {
                    request = request.json(body);
                }
                let status = request.send().await.unwrap().status().as_u16();
                let want = expected(&endpoint, role, place);
                if status != want {
                    mismatches.push(format!(
                        "{} {} as {role} ({place:?}): {status}, want {want}",
                        endpoint.method, endpoint.path
                    ));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Lists: a role that may not list gets 403; one that may sees the objects of its subtree and no
/// others (an admin sees all).
#[tokio::test]
async fn every_role_lists_exactly_its_subtree() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let objects = objects(&app, [&tree.commune_a, &tree.commune_b, &tree.province]).await;
    // A clerk lists only the records it made, and the admin made these.
    let lists: Vec<(&str, &[&str], Pick)> = vec![
        ("/api/v1/citizen-accounts?limit=500", &["admin", "manager", "clerk"], |objects| &objects.records),
        ("/api/v1/units?limit=500", &ROLES, |objects| &objects.units),
        ("/api/v1/officials?limit=500", &["admin", "manager", "integration"], |objects| &objects.officials),
        ("/api/v1/grants?limit=500", &["admin", "manager"], |objects| &objects.grants),
        ("/api/v1/rosters?limit=500", &["admin", "manager"], |objects| &objects.rosters),
        ("/api/v1/support-requests?limit=500", &["admin", "manager", "clerk", "viewer"], |objects| &objects.support),
    ];
    let mut mismatches = Vec::new();
    for role in ROLES {
        let unit = if role == "admin" { None } else { Some(tree.district_a.as_str()) };
        let token = app.user(&format!("{role}.a"), role, unit).await;
        for (path, allowed, pick) in &lists {
            let response = app.get(path, &token).await;
            let status = response.status().as_u16();
            if !allowed.contains(&role) {
                if status != 403 {
                    mismatches.push(format!("GET {path} as {role}: {status}, want 403"));
                }
                continue;
            }
            let listed: Vec<String> = body(response).await["items"].as_array().unwrap().iter().map(id_of).collect();
            for place in [Place::Own, Place::Sibling, Place::Above] {
                let mine_only = role == "clerk" && path.starts_with("/api/v1/citizen-accounts");
                let visible = (role == "admin" || place == Place::Own) && !mine_only;
                if listed.contains(&pick(&objects)[index(place)]) != visible {
                    mismatches.push(format!("GET {path} as {role}: {place:?} object listed is {}", !visible));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Creates that name a unit: a role that may not create gets 403; one that may succeeds in its
/// subtree, and a unit outside it is answered like a unit that does not exist (422 at `/unit_id`).
#[tokio::test]
async fn every_role_creates_only_in_its_subtree() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let places = [
        (Place::Own, tree.commune_a.clone()),
        (Place::Sibling, tree.commune_b.clone()),
        (Place::Above, tree.province.clone()),
    ];
    let mut serial = 0;
    let mut mismatches = Vec::new();
    for role in ROLES {
        let unit = if role == "admin" { None } else { Some(tree.district_a.as_str()) };
        let token = app.user(&format!("{role}.a"), role, unit).await;
        for (place, unit_id) in &places {
            serial += 1;
            let creates: Vec<(&str, &[&str], Value)> = vec![
                (
                    "/api/v1/officials",
                    &["admin", "manager"],
                    json!({"full_name": "Nguyễn Văn An", "unit_id": unit_id, "id_number": format!("0520900{serial:05}"), "phone": "0972123588"}),
                ),
                (
                    "/api/v1/users",
                    &["admin", "manager"],
                    json!({"username": format!("user.{serial}"), "display_name": "A", "role": "viewer", "unit_id": unit_id, "password": "a-good-password"}),
                ),
                (
                    "/api/v1/support-requests",
                    &["admin", "manager", "clerk", "viewer"],
                    json!({"unit_id": unit_id, "subject": "Hỏi", "body": "Nội dung"}),
                ),
                (
                    "/api/v1/rosters",
                    &["admin", "manager"],
                    json!({"unit_id": unit_id, "entries": [{"full_name": "Trần Thị Ánh", "unit_id": unit_id, "id_number": format!("0521900{serial:05}"), "phone": "0972123589"}]}),
                ),
            ];
            for (path, allowed, request) in creates {
                let status = app.post(path, &token, &request).await.status().as_u16();
                let want = match (allowed.contains(&role), role, place) {
                    (false, _, _) => 403,
                    (true, "admin", _) | (true, _, Place::Own) => 201,
                    (true, _, _) => 422,
                };
                if status != want {
                    mismatches.push(format!("POST {path} as {role} ({place:?}): {status}, want {want}"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
