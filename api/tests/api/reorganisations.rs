use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, body, ids, problem, spawn_app};

const UNITS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/dvhc/units-2025-01-04.csv");
const CONVERSION_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/dvhc/conversion-2025-07-01.csv");

async fn import_province(app: &TestApp, code: &str) {
    let response = app
        .request(Method::POST, &format!("/api/v1/units/import?province={code}"), &app.admin)
        .header("content-type", "text/csv")
        .body(std::fs::read(UNITS_CSV).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn reorganise(app: &TestApp, query: &str) -> Value {
    let response = app
        .request(Method::POST, &format!("/api/v1/units/reorganisations?province=52{query}"), &app.admin)
        .header("content-type", "text/csv")
        .body(std::fs::read(CONVERSION_CSV).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    body(response).await
}

async fn unit(app: &TestApp, query: &str) -> Value {
    let found = body(app.get(&format!("/api/v1/units?{query}"), &app.admin).await).await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{query}: {found}");
    items[0].clone()
}

/// Bình Định (52) and Gia Lai (64) merge into the new Gia Lai (52): its 135 communes replace the
/// 373 old ones of 28 districts, as the official list says.
#[tokio::test]
async fn the_2025_reform_closes_old_units_opens_new_ones_and_links_them() {
    let app = spawn_app().await;
    import_province(&app, "52").await;
    import_province(&app, "64").await;
    let counts = |answer: &Value| {
        ["units_closed", "units_created", "successors_linked", "unchanged"].map(|field| answer[field].as_u64().unwrap())
    };

    let dry = reorganise(&app, "&dry_run=true").await;
    assert_eq!(counts(&dry), [403, 136, 378, 0]);
    assert_eq!(dry["dry_run"], true);
    let still = unit(&app, "code=52").await;
    assert_eq!(
        (still["name"].as_str(), still["valid_to"].as_str()),
        (Some("Tỉnh Bình Định"), None),
        "a dry run writes nothing"
    );

    let applied = reorganise(&app, "").await;
    assert_eq!(counts(&applied), [403, 136, 378, 0]);
    let again = reorganise(&app, "").await;
    assert_eq!(counts(&again), [0, 0, 0, 539], "a second run changes nothing");

    let new_province = unit(&app, "code=52&valid_on=2025-08-01").await;
    assert_eq!(new_province["name"], "Tỉnh Gia Lai");
    assert_eq!(new_province["valid_from"], "2025-07-01");
    let old_province = unit(&app, "code=52&valid_on=2021-06-01").await;
    assert_eq!(old_province["name"], "Tỉnh Bình Định");
    assert_eq!(old_province["valid_to"], "2025-07-01");
    assert_eq!(old_province["successor_ids"], json!([new_province["id"]]));

    // Thị trấn An Lão (21609) merged whole into the new Xã An Lão, which took its code.
    let old_town = unit(&app, "code=21609&valid_on=2025-06-30").await;
    let new_commune = unit(&app, "code=21609&valid_on=2025-07-01").await;
    assert_eq!(new_commune["name"], "Xã An Lão");
    assert_eq!(new_commune["parent_id"], new_province["id"], "no district level after the reform");
    assert_eq!(old_town["successor_ids"], json!([new_commune["id"]]));
    let old_district = unit(&app, "code=542&valid_on=2025-06-30").await;
    assert_eq!(old_district["valid_to"], "2025-07-01");
    assert!(ids(&body(app.get("/api/v1/units?code=542&valid_on=2025-07-01", &app.admin).await).await).is_empty());
    let children = body(
        app.get(&format!("/api/v1/units/{}/children?limit=500", old_district["id"].as_str().unwrap()), &app.admin)
            .await,
    )
    .await;
    assert!(!ids(&children).is_empty(), "the old tree stays as it was");

    let manager = app.user("manager.p", "manager", old_province["id"].as_str()).await;
    let refused = app
        .request(Method::POST, "/api/v1/units/reorganisations", &manager)
        .header("content-type", "text/csv")
        .body("x")
        .send()
        .await
        .unwrap();
    problem(refused, 403).await;
    let garbage = app
        .request(Method::POST, "/api/v1/units/reorganisations", &app.admin)
        .header("content-type", "text/csv")
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap();
    problem(garbage, 422).await;
}

#[tokio::test]
async fn the_command_line_applies_the_reform_and_a_dry_run_writes_nothing() {
    let app = spawn_app().await;
    import_province(&app, "52").await;
    import_province(&app, "64").await;
    let run = |dry_run: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"));
        command.args(["apply-reorganisation", CONVERSION_CSV, "--province", "52"]);
        if dry_run {
            command.arg("--dry-run");
        }
        let output = command.env("DVC_DATABASE_URL", &app.database_url).env("DVC_LOG", "warn").output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let said = run(true);
    assert!(said.contains("would change: 403 units closed, 136 created, 378 successors linked"), "{said}");
    let said = run(false);
    assert!(said.contains("done: 403 units closed"), "{said}");
    assert!(run(false).contains("done: 0 units closed, 0 created, 0 successors linked, 539 unchanged"));
}

/// Records made at an old unit count toward its successor from July 2025 on; the old tree still
/// reports as before for earlier months; officials move to the successor in one call.
#[tokio::test]
async fn records_at_an_old_unit_count_toward_its_successor_after_the_reform() {
    let app = spawn_app().await;
    import_province(&app, "52").await;
    import_province(&app, "64").await;
    let old_town = unit(&app, "code=21609").await;
    let old_town_id = old_town["id"].as_str().unwrap().to_owned();
    let official = json!({"full_name": "Nguyễn Văn An", "unit_id": old_town_id, "id_number": "052090001245", "phone": "0972123588", "portal_account": "created"});
    let official = body(app.post("/api/v1/officials", &app.admin, &official).await).await;
    let grant = json!({"official_id": official["id"], "basis": "125/QĐ-TTPVHCC", "valid_from": "2025-06-01"});
    assert_eq!(app.post("/api/v1/grants", &app.admin, &grant).await.status(), 201);
    let record = async |id_number: &str, at: &str| {
        let record = json!({"full_name": "Trần Thị Bích", "id_number": id_number, "phone": "0905123456", "account_kind": "vneid_level2",
            "outcome": "created", "official_id": official["id"], "registered_at": at});
        assert_eq!(app.post("/api/v1/citizen-accounts", &app.admin, &record).await.status(), 201);
    };
    record("052185000001", "2025-06-20T03:00:00Z").await;
    record("052185000002", "2025-07-10T03:00:00Z").await;
    reorganise(&app, "").await;
    record("052185000003", "2025-07-11T03:00:00Z").await;
    let new_province = unit(&app, "code=52&valid_on=2025-08-01").await;
    let new_commune = unit(&app, "code=21609&valid_on=2025-08-01").await;
    let old_province = unit(&app, "code=52&valid_on=2021-06-01").await;
    let created = async |period: &str, province: &Value, row_unit: &Value| {
        let path =
            format!("/api/v1/reports/monthly?period={period}&unit_id={}&depth=2", province["id"].as_str().unwrap());
        let report = body(app.get(&path, &app.admin).await).await;
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["unit_id"] == row_unit["id"])
            .map(|row| row["created"].as_i64().unwrap())
    };
    assert_eq!(
        created("2025-07", &new_province, &new_commune).await,
        Some(2),
        "July counts at the successor, whether recorded before the reform was applied or after"
    );
    assert_eq!(created("2025-07", &new_province, &new_province).await, Some(2));
    assert_eq!(created("2025-06", &old_province, &old_province).await, Some(1), "June stays in the old tree");
    assert_eq!(created("2025-07", &old_province, &old_province).await, Some(0));
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"))
        .arg("check-counters")
        .env("DVC_DATABASE_URL", &app.database_url)
        .env("DVC_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "a recount places records as the writes did: {}",
        String::from_utf8_lossy(&check.stderr)
    );

    let moved = body(app.post("/api/v1/units/reorganisations/officials", &app.admin, &json!({})).await).await;
    assert_eq!(moved["officials_moved"], 1);
    let read =
        body(app.get(&format!("/api/v1/officials/{}", official["id"].as_str().unwrap()), &app.admin).await).await;
    assert_eq!(read["unit_id"], new_commune["id"]);
    let again = body(app.post("/api/v1/units/reorganisations/officials", &app.admin, &json!({})).await).await;
    assert_eq!(again["officials_moved"], 0);
}

/// A page of units reads its parents' and provinces' names and its successors apart from the
/// units themselves; every unit of every page must read as it does alone, old tree and new, a
/// commune split in several successors included.
#[tokio::test]
async fn every_unit_of_a_page_reads_as_it_does_alone() {
    let app = spawn_app().await;
    import_province(&app, "52").await;
    reorganise(&app, "").await;
    let (mut listed, mut path) = (Vec::new(), "/api/v1/units?limit=200".to_owned());
    loop {
        let page = body(app.get(&path, &app.admin).await).await;
        listed.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/units?limit=200&cursor={cursor}"),
            None => break,
        }
    }
    assert!(listed.iter().any(|unit| unit["successor_ids"].as_array().unwrap().len() > 1));
    for unit in &listed {
        let alone = body(app.get(&format!("/api/v1/units/{}", unit["id"].as_str().unwrap()), &app.admin).await).await;
        assert_eq!(unit, &alone);
    }
}
