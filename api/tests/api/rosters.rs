use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tree, body, id_of, problem, spawn_app};

fn entry(name: &str, unit: &str, id_number: &str, phone: &str) -> Value {
    json!({"full_name": name, "unit_name": unit, "id_number": id_number, "phone": phone})
}

async fn create(app: &TestApp, token: &str, unit_id: &str, entries: Vec<Value>) -> Value {
    let response = app.post("/api/v1/rosters", token, &json!({"unit_id": unit_id, "entries": entries})).await;
    assert_eq!(response.status(), 201, "create roster");
    body(response).await
}

async fn act(app: &TestApp, token: &str, roster: &Value, verb: &str) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/rosters/{}/{verb}", id_of(roster)), token).send().await.unwrap()
}

fn valid_entries() -> Vec<Value> {
    vec![
        entry("Nguyễn Văn An", "BPMC xã An Hưng", "052090001245", "0972123588"),
        entry("Trần Thị Ánh", "Bộ phận một cửa huyện An Lão", "052190001246", "0972123589"),
    ]
}

async fn manager_of_a(app: &TestApp) -> (Tree, String) {
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    (tree, manager)
}

#[tokio::test]
async fn every_row_is_checked_and_rows_in_error_block_submission() {
    let app = spawn_app().await;
    let (tree, manager) = manager_of_a(&app).await;
    let mut entries = valid_entries();
    entries.push(entry("Lê Văn Bình", "Phường Bồng Sơn", "123", "0243123456"));
    let roster = create(&app, &manager, &tree.district_a, entries).await;
    assert_eq!(roster["status"], "draft");
    assert_eq!(roster["entry_count"], 3);
    assert_eq!(roster["error_count"], 1);
    let rows = roster["entries"].as_array().unwrap();
    assert_eq!(rows[0]["unit_id"], tree.commune_a.as_str());
    assert_eq!(rows[0]["errors"], json!([]));
    assert_eq!(rows[1]["unit_id"], tree.district_a.as_str());
    let columns: Vec<_> = rows[2]["errors"].as_array().unwrap().iter().map(|e| e["column"].as_str().unwrap()).collect();
    assert_eq!(columns, vec!["id_number", "phone", "unit"], "a commune of another district is not on this roster");
    assert_eq!(rows[2]["row"], 3);

    let refused = problem(act(&app, &manager, &roster, "submit").await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "roster_has_errors");

    // Corrected, the draft can be submitted.
    let path = format!("/api/v1/rosters/{}", id_of(&roster));
    let corrected = body(app.patch(&path, &manager, &json!({"entries": valid_entries()})).await).await;
    assert_eq!((corrected["entry_count"].as_u64(), corrected["error_count"].as_u64()), (Some(2), Some(0)));
    assert_eq!(act(&app, &manager, &roster, "submit").await.status(), 200);
    problem(app.patch(&path, &manager, &json!({"entries": valid_entries()})).await, 409).await;
}

#[tokio::test]
async fn the_workflow_runs_draft_submitted_returned_accepted() {
    let app = spawn_app().await;
    let (tree, manager) = manager_of_a(&app).await;
    let roster = create(&app, &manager, &tree.district_a, valid_entries()).await;

    let submitted = body(act(&app, &manager, &roster, "submit").await).await;
    assert_eq!(submitted["status"], "submitted");
    assert!(submitted["submitted_at"].is_string());
    problem(act(&app, &manager, &roster, "submit").await, 409).await;
    problem(act(&app, &manager, &roster, "accept").await, 403).await;

    let path = format!("/api/v1/rosters/{}/return", id_of(&roster));
    problem(app.post(&path, &app.admin, &json!({"reason": ""})).await, 422).await;
    let returned = body(app.post(&path, &app.admin, &json!({"reason": "thiếu số điện thoại"})).await).await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["return_reason"], "thiếu số điện thoại");

    assert_eq!(act(&app, &manager, &roster, "submit").await.status(), 200, "a returned roster is submitted again");
    let accepted = body(act(&app, &app.admin, &roster, "accept").await).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["officials_created"], 2);
    problem(act(&app, &app.admin, &roster, "accept").await, 409).await;

    let officials = body(app.get("/api/v1/officials", &manager).await).await;
    let names: Vec<_> =
        officials["items"].as_array().unwrap().iter().map(|o| o["full_name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Nguyễn Văn An", "Trần Thị Ánh"]);

    // A later roster updates the officials it names again.
    let moved = vec![entry("Nguyễn Văn An", "Xã An Hưng", "052090001245", "0972000111")];
    let second = create(&app, &manager, &tree.district_a, moved).await;
    act(&app, &manager, &second, "submit").await;
    let accepted = body(act(&app, &app.admin, &second, "accept").await).await;
    assert_eq!((accepted["officials_created"].as_u64(), accepted["officials_updated"].as_u64()), (Some(0), Some(1)));

    let events =
        body(app.get(&format!("/api/v1/audit-events?entity=roster&entity_id={}", id_of(&roster)), &app.admin).await)
            .await;
    let actions: Vec<_> = events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["roster.create", "roster.submit", "roster.return", "roster.submit", "roster.accept"]);
}

#[tokio::test]
async fn managers_keep_to_their_district() {
    let app = spawn_app().await;
    let (tree, manager) = manager_of_a(&app).await;
    let other = vec![entry("Lê Văn Bình", "Phường Bồng Sơn", "052090001247", "0972123590")];
    let refused = app.post("/api/v1/rosters", &manager, &json!({"unit_id": tree.district_b, "entries": other})).await;
    problem(refused, 422).await;

    let theirs = create(&app, &app.admin, &tree.district_b, other).await;
    problem(app.get(&format!("/api/v1/rosters/{}", id_of(&theirs)), &manager).await, 404).await;
    problem(act(&app, &manager, &theirs, "submit").await, 404).await;
    let listed = body(app.get("/api/v1/rosters", &manager).await).await;
    assert!(listed["items"].as_array().unwrap().is_empty());
    let all = body(app.get("/api/v1/rosters", &app.admin).await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert!(all["items"][0].get("entries").is_none(), "lists leave the rows out");

    let viewer = app.user("viewer.a", "viewer", Some(&tree.district_a)).await;
    problem(app.get("/api/v1/rosters", &viewer).await, 403).await;
    problem(app.post("/api/v1/rosters", &manager, &json!({"unit_id": tree.district_a, "entries": []})).await, 422)
        .await;
}

#[tokio::test]
async fn a_roster_of_five_thousand_rows_is_stored_and_accepted() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let entries: Vec<Value> = (0..5000)
        .map(|index| entry("Nguyễn Văn An", "Xã An Hưng", &format!("0520900{index:05}"), &format!("0972{index:06}")))
        .collect();
    let roster = create(&app, &app.admin, &tree.district_a, entries).await;
    assert_eq!((roster["entry_count"].as_u64(), roster["error_count"].as_u64()), (Some(5000), Some(0)));
    act(&app, &app.admin, &roster, "submit").await;
    let accepted = body(act(&app, &app.admin, &roster, "accept").await).await;
    assert_eq!(accepted["officials_created"], 5000);
    let read = body(app.get(&format!("/api/v1/rosters/{}", id_of(&roster)), &app.admin).await).await;
    assert_eq!(read["entries"].as_array().unwrap().len(), 5000);
    assert_eq!(read["entries"][4999]["row"], 5000);
}

async fn import(app: &TestApp, token: &str, query: &str, content_type: &str, form: Vec<u8>) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/rosters/import{query}"), token)
        .header("content-type", content_type)
        .body(form)
        .send()
        .await
        .unwrap()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[tokio::test]
async fn a_csv_form_is_imported_and_its_heading_names_the_district() {
    let app = spawn_app().await;
    let (tree, manager) = manager_of_a(&app).await;
    let form = "\u{feff}Phụ lục 2;;;;\nĐơn vị cung cấp: UBND huyện An Lão;;;;\nSTT;Họ và tên;Đơn vị;CMND/CCCD;Số điện thoại\n\
                1;Nguyễn Văn An;BPMC xã An Hưng;052090001245;0972 123 588\n2;Trần Thị Ánh;BPMC huyện An Lão;052190001246;+84972123589\n";
    let response = import(&app, &manager, "", "text/csv", form.as_bytes().to_vec()).await;
    assert_eq!(response.status(), 201);
    let roster = body(response).await;
    assert_eq!(roster["unit_id"], tree.district_a.as_str());
    assert_eq!(roster["source"], "csv");
    assert_eq!((roster["entry_count"].as_u64(), roster["error_count"].as_u64()), (Some(2), Some(0)));
    assert_eq!(roster["entries"][1]["phone"], "0972123589");

    // The heading of another district is not the manager's to send.
    let foreign = form.replace("huyện An Lão", "huyện Hoài Nhơn");
    problem(import(&app, &manager, "", "text/csv", foreign.into_bytes()).await, 422).await;
    problem(import(&app, &manager, "", "text/csv", b"a,b\n1,2\n".to_vec()).await, 422).await;
    problem(import(&app, &manager, "", "application/pdf", form.as_bytes().to_vec()).await, 400).await;
}

#[tokio::test]
async fn the_xlsx_template_round_trips_through_an_import() {
    let app = spawn_app().await;
    let (tree, manager) = manager_of_a(&app).await;
    let response = app.get("/api/v1/rosters/template.xlsx", &manager).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], XLSX);
    let template = response.bytes().await.unwrap();
    let empty = dvc_sheets::read_xlsx(&template).unwrap();
    assert!(empty.rows.is_empty());
    assert!(empty.provider.unwrap().starts_with("UBND huyện"));

    let filled = dvc_sheets::Sheet {
        provider: Some("UBND huyện An Lão".to_owned()),
        rows: vec![
            dvc_sheets::SheetRow {
                row: 1,
                full_name: "Nguyễn Văn An".into(),
                unit_name: "BPMC xã An Hưng".into(),
                id_number: "052090001245".into(),
                phone: "0972123588".into(),
            },
            dvc_sheets::SheetRow {
                row: 2,
                full_name: "Trần Thị Ánh".into(),
                unit_name: "BPMC xã Không Có".into(),
                id_number: "052190001246".into(),
                phone: "0972123589".into(),
            },
        ],
    };
    let form = dvc_sheets::write_xlsx(&filled).unwrap();
    let response = import(&app, &manager, &format!("?unit_id={}", tree.district_a), XLSX, form).await;
    assert_eq!(response.status(), 201);
    let roster = body(response).await;
    assert_eq!(roster["source"], "xlsx");
    assert_eq!(roster["entries"][0]["unit_id"], tree.commune_a.as_str());
    assert_eq!(roster["entries"][1]["errors"][0]["code"], "unknown_unit");

    problem(import(&app, &manager, "", XLSX, b"not a spreadsheet".to_vec()).await, 422).await;
}

const UNITS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/dvhc/units-2025-01-04.csv");

/// Imports one province of the statistics office's list, as the admin.
async fn import_province(app: &TestApp, code: &str) {
    let response = app
        .request(Method::POST, &format!("/api/v1/units/import?province={code}"), &app.admin)
        .header("content-type", "text/csv")
        .body(std::fs::read(UNITS_CSV).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "import province {code}");
}

/// The id of the unit with this statistics office code.
async fn unit_with_code(app: &TestApp, code: &str) -> String {
    let listed = body(app.get(&format!("/api/v1/units?code={code}"), &app.admin).await).await;
    id_of(&listed["items"][0])
}

#[tokio::test]
async fn a_heading_names_its_district_within_the_importers_scope() {
    let app = spawn_app().await;
    // More than a page of namesakes created first, so that a lookup that stops at the first 50
    // candidates never reaches the real district.
    let elsewhere = app.unit("99", "Tỉnh Thử Nghiệm", "province", None).await;
    for index in 0..55 {
        app.unit(&format!("9{index:02}"), &format!("Huyện An Lão Số {index}"), "district", Some(&elsewhere)).await;
    }
    import_province(&app, "52").await;
    let an_lao = unit_with_code(&app, "542").await;
    let town = unit_with_code(&app, "21609").await;
    let form = "Phụ lục 2;;;;\nĐơn vị cung cấp: UBND huyện An Lão;;;;\nSTT;Họ và tên;Đơn vị;CMND/CCCD;Số điện thoại\n\
                1;Nguyễn Văn An;Thị trấn An Lão;052090001245;0972123588\n2;Trần Thị Ánh;UBND huyện An Lão;052190001246;0972123589\n";
    let roster = body(import(&app, &app.admin, "", "text/csv", form.as_bytes().to_vec()).await).await;
    assert_eq!(roster["unit_id"], an_lao.as_str());
    assert_eq!(roster["entries"][0]["unit_id"], town.as_str(), "the town, not the district of the same name");
    assert_eq!(roster["entries"][1]["unit_id"], an_lao.as_str());
    assert_eq!(roster["error_count"], 0);

    // Hải Phòng has an An Lão district too: the whole country's admin must say which is meant.
    import_province(&app, "31").await;
    let refused = problem(import(&app, &app.admin, "", "text/csv", form.as_bytes().to_vec()).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "ambiguous_provider");
    assert!(refused["errors"][0]["detail"].as_str().unwrap().contains("ambiguous"));
    let named = import(&app, &app.admin, &format!("?unit_id={an_lao}"), "text/csv", form.as_bytes().to_vec()).await;
    let named = body(named).await;
    assert_eq!(named["entries"][0]["unit_id"], town.as_str());
    assert_eq!(named["error_count"], 0);

    // A manager of Bình Định means the one in Bình Định.
    let province = unit_with_code(&app, "52").await;
    let manager = app.user("manager.binhdinh", "manager", Some(&province)).await;
    let roster = body(import(&app, &manager, "", "text/csv", form.as_bytes().to_vec()).await).await;
    assert_eq!(roster["unit_id"], an_lao.as_str());
    assert_eq!(roster["error_count"], 0);
}

#[tokio::test]
async fn an_illegal_transition_is_409_naming_the_current_status() {
    let app = spawn_app().await;
    let (tree, manager) = manager_of_a(&app).await;
    let roster = create(&app, &manager, &tree.district_a, valid_entries()).await;
    let refused = problem(act(&app, &app.admin, &roster, "accept").await, 409).await;
    assert!(refused["detail"].as_str().unwrap().contains("the roster is draft"), "{refused}");
    assert!(refused.get("existing_id").is_none());
    assert_eq!(act(&app, &manager, &roster, "submit").await.status(), 200);
    let refused = problem(act(&app, &manager, &roster, "submit").await, 409).await;
    assert!(refused["detail"].as_str().unwrap().contains("the roster is submitted"), "{refused}");
}

#[tokio::test]
async fn a_draft_roster_can_be_discarded_until_it_is_submitted() {
    let app = spawn_app().await;
    let (tree, manager) = manager_of_a(&app).await;
    let draft = create(&app, &manager, &tree.district_a, valid_entries()).await;
    let path = format!("/api/v1/rosters/{}", id_of(&draft));
    let viewer = app.user("viewer.a", "viewer", Some(&tree.district_a)).await;
    problem(app.request(Method::DELETE, &path, &viewer).send().await.unwrap(), 403).await;
    let discarded = app.request(Method::DELETE, &path, &manager).send().await.unwrap();
    assert_eq!(discarded.status(), 204);
    problem(app.get(&path, &manager).await, 404).await;
    let events =
        body(app.get(&format!("/api/v1/audit-events?entity=roster&entity_id={}", id_of(&draft)), &app.admin).await)
            .await;
    let actions: Vec<_> = events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["roster.create", "roster.discard"]);

    let submitted = create(&app, &manager, &tree.district_a, valid_entries()).await;
    assert_eq!(act(&app, &manager, &submitted, "submit").await.status(), 200);
    let path = format!("/api/v1/rosters/{}", id_of(&submitted));
    let refused = problem(app.request(Method::DELETE, &path, &manager).send().await.unwrap(), 409).await;
    assert!(refused["detail"].as_str().unwrap().contains("submitted"));
    assert_eq!(app.get(&path, &manager).await.status(), 200);
}
