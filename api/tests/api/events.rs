//! The change feed: every change once, in commit order, masked and within the reader's scope.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, body, id_of, problem, spawn_app};

async fn official(app: &TestApp, unit: &str, id_number: &str) -> String {
    let official = json!({"full_name": "Nguyễn Văn An", "unit_id": unit, "id_number": id_number, "phone": "0972123588", "portal_account": "created"});
    let response = app.post("/api/v1/officials", &app.admin, &official).await;
    assert_eq!(response.status(), 201);
    id_of(&body(response).await)
}

/// Reads the feed after `after` as `token` until `count` events came, as a consumer does: an empty
/// page only means that nothing is released yet (a concurrent transaction may hold events back), so
/// it waits and asks again. Returns the events and the last cursor, and checks that nothing follows.
pub async fn read(
    app: &TestApp,
    token: &str,
    query: &str,
    after: Option<String>,
    count: usize,
) -> (Vec<Value>, String) {
    let mut events = Vec::new();
    let mut cursor = after;
    let deadline = Instant::now() + Duration::from_secs(30);
    while events.len() < count && Instant::now() < deadline {
        let mut path = format!("/api/v1/events?limit=7&wait=1{query}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&after={cursor}"));
        }
        let response = app.get(&path, token).await;
        assert_eq!(response.status(), 200);
        let page = body(response).await;
        events.extend(page["items"].as_array().unwrap().iter().cloned());
        cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
    }
    let cursor = cursor.unwrap();
    let rest = body(app.get(&format!("/api/v1/events?after={cursor}{query}"), token).await).await;
    assert_eq!(rest["items"], json!([]), "nothing more than {count} events");
    (events, cursor)
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|event| event["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_feed_tells_each_change_once_masked_and_within_scope() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;

    let mine = official(&app, &tree.commune_a, "052090001245").await;
    let theirs = official(&app, &tree.commune_b, "052090001246").await;
    let grant = json!({"official_id": mine, "basis": "125/QĐ-TTPVHCC", "valid_from": "2021-07-01"});
    let grant = id_of(&body(app.post("/api/v1/grants", &app.admin, &grant).await).await);
    app.post(&format!("/api/v1/grants/{grant}/revoke"), &app.admin, &json!({"reason": "thu hồi"})).await;
    app.post(&format!("/api/v1/officials/{mine}/deactivate"), &app.admin, &json!({"reason": "nghỉ hưu"})).await;

    // The manager reads from the beginning: its district and commune, then what happened there; users
    // are not in the feed.
    let (events, _) = read(&app, &manager, "", None, 6).await;
    assert_eq!(
        types(&events),
        ["unit.created", "unit.created", "official.created", "grant.created", "grant.revoked", "official.deactivated"]
    );
    let units: Vec<&str> = events.iter().map(|event| event["unit_id"].as_str().unwrap()).collect();
    assert_eq!(units[..2], [tree.district_a.as_str(), tree.commune_a.as_str()]);
    assert!(units[2..].iter().all(|unit| *unit == tree.commune_a), "only the manager's subtree");
    let created = &events[2];
    assert_eq!(created["data"]["id"], mine.as_str());
    assert!(created["occurred_at"].is_string() && created["id"].is_string());
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("052090001245") && !text.contains("0972123588"), "personal numbers are masked");

    // The admin sees every unit; a filter narrows by type and by subtree.
    let (all, _) = read(&app, &app.admin, "&types=official.created", None, 2).await;
    let officials: Vec<&str> = all.iter().map(|event| event["data"]["id"].as_str().unwrap()).collect();
    assert_eq!(officials, [mine.as_str(), theirs.as_str()]);
    let (theirs_only, _) = read(&app, &app.admin, &format!("&unit_id={}", tree.district_b), None, 3).await;
    assert_eq!(types(&theirs_only), ["unit.created", "unit.created", "official.created"]);

    // Viewers never read it; a unit outside the manager's subtree is as if it did not exist.
    let viewer = app.user("viewer.a", "viewer", Some(&tree.district_a)).await;
    problem(app.get("/api/v1/events", &viewer).await, 403).await;
    problem(app.get(&format!("/api/v1/events?unit_id={}", tree.district_b), &manager).await, 404).await;
    for bad in ["after=nonsense", "limit=0", "limit=501", "wait=31", "types=grant.create"] {
        problem(app.get(&format!("/api/v1/events?{bad}"), &manager).await, 400).await;
    }
}

#[tokio::test]
async fn a_waiting_reader_is_answered_as_soon_as_a_change_commits() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (_, cursor) = read(&app, &app.admin, "", None, 5).await;
    let started = Instant::now();
    let waiting = {
        let (client, url, token) =
            (app.client.clone(), app.url(&format!("/api/v1/events?wait=20&after={cursor}")), app.admin.clone());
        tokio::spawn(
            async move { client.get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() },
        )
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    official(&app, &tree.commune_a, "052090001245").await;
    let page = waiting.await.unwrap();
    assert_eq!(types(page["items"].as_array().unwrap()), ["official.created"]);
    assert!(started.elapsed() < Duration::from_secs(10), "answered at once, not at the end of the wait");

    // With nothing to tell, the answer comes when the time is up, with the same cursor.
    let next = page["next_cursor"].as_str().unwrap();
    let started = Instant::now();
    let empty = body(app.get(&format!("/api/v1/events?wait=1&after={next}"), &app.admin).await).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["next_cursor"], next);
}

/// Parallel writers and a reader polling with its cursor: every change is seen once, none is
/// skipped, and the reader's order is the feed's order, which keeps each writer's own order.
#[tokio::test]
async fn a_polling_reader_sees_every_concurrent_change_once_and_in_order() {
    const WRITERS: usize = 6;
    const EACH: usize = 15;
    let app = spawn_app().await;
    let province = app.unit("52", "Tỉnh Bình Định", "province", None).await;
    let (_, start) = read(&app, &app.admin, "", None, 1).await;

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (client, url, token, province) =
                (app.client.clone(), app.url("/api/v1/units"), app.admin.clone(), province.clone());
            tokio::spawn(async move {
                let mut created = Vec::new();
                for n in 0..EACH {
                    let unit = json!({"code": format!("W{writer}N{n}"), "name": format!("Xã {writer} {n}"), "kind": "commune", "parent_id": province});
                    let response = client.post(&url).bearer_auth(&token).json(&unit).send().await.unwrap();
                    assert_eq!(response.status(), 201);
                    created.push(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
                }
                created
            })
        })
        .collect();

    let mut seen: Vec<String> = Vec::new();
    let mut cursor = start.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < WRITERS * EACH && Instant::now() < deadline {
        let page = body(app.get(&format!("/api/v1/events?limit=5&after={cursor}"), &app.admin).await).await;
        for event in page["items"].as_array().unwrap() {
            seen.push(event["data"]["id"].as_str().unwrap().to_owned());
        }
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
    }
    let mut written = Vec::new();
    for writer in writers {
        written.push(writer.await.unwrap());
    }

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    assert_eq!(seen.len(), WRITERS * EACH, "no event missed");
    let (again, _) = read(&app, &app.admin, "", Some(start), WRITERS * EACH).await;
    let again: Vec<String> = again.iter().map(|event| event["data"]["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, again, "the poller's order is the feed's order");
    for own in written {
        let positions: Vec<usize> = own.iter().map(|id| seen.iter().position(|seen| seen == id).unwrap()).collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "each writer's changes keep their order");
    }
}
