use std::collections::BTreeMap;

use calamine::{Data, Reader, Xlsx};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, TestApp, Tree, body, cli, id_of, problem, spawn_app};

/// A province with two districts of one commune each; a granted official and its clerk in each
/// commune, and the records of July 2021 with their expected figures.
struct Drive {
    tree: Tree,
    clerk_a: String,
    clerk_b: String,
    voidable: String,
}

async fn desk_official(app: &TestApp, unit: &str, id_number: &str, portal: &str) -> String {
    let official = json!({"full_name": "Nguyễn Văn An", "unit_id": unit, "id_number": id_number, "phone": "0972123588", "portal_account": portal});
    id_of(&body(app.post("/api/v1/officials", &app.admin, &official).await).await)
}

async fn granted_clerk(app: &TestApp, name: &str, unit: &str, id_number: &str) -> String {
    let official = desk_official(app, unit, id_number, "created").await;
    let grant = json!({"official_id": official, "basis": "125/QĐ-TTPVHCC", "valid_from": "2021-06-01"});
    assert_eq!(app.post("/api/v1/grants", &app.admin, &grant).await.status(), 201);
    let user = json!({"username": name, "display_name": name, "role": "clerk", "unit_id": unit, "official_id": official, "password": PASSWORD});
    assert_eq!(app.post("/api/v1/users", &app.admin, &user).await.status(), 201);
    app.login(name, PASSWORD).await
}

async fn record(app: &TestApp, clerk: &str, id_number: &str, outcome: &str, kind: &str, at: &str) -> Value {
    let mut record = json!({"full_name": "Trần Thị Bích", "id_number": id_number, "phone": "0905123456",
        "account_kind": kind, "outcome": outcome, "registered_at": at});
    if outcome == "failed" {
        record["failure_reason"] = json!("phone_not_owner");
    }
    let response = app.post("/api/v1/citizen-accounts", clerk, &record).await;
    assert_eq!(response.status(), 201);
    body(response).await
}

async fn drive(app: &TestApp) -> Drive {
    let tree = app.tree().await;
    let clerk_a = granted_clerk(app, "clerk.a", &tree.commune_a, "052090001245").await;
    let clerk_b = granted_clerk(app, "clerk.b", &tree.commune_b, "052090001246").await;
    // 23:30 on 31 July in Hanoi: July. 00:00 on 1 August in Hanoi: August.
    record(app, &clerk_a, "052185000001", "created", "vneid_level2", "2021-07-31T16:30:00Z").await;
    record(app, &clerk_a, "052185000002", "failed", "vneid_level2", "2021-07-15T03:00:00Z").await;
    record(app, &clerk_a, "052185000003", "created", "vneid_level1", "2021-07-31T17:00:00Z").await;
    let voidable = record(app, &clerk_b, "052185000004", "created", "dvc_portal", "2021-07-02T03:00:00Z").await;
    record(app, &clerk_b, "052185000005", "created", "vneid_level1", "2021-06-30T03:00:00Z").await;
    Drive { tree, clerk_a, clerk_b, voidable: id_of(&voidable) }
}

fn row<'a>(report: &'a Value, unit: &str) -> &'a Value {
    report["rows"].as_array().unwrap().iter().find(|row| row["unit_id"] == unit).unwrap()
}

/// (created, failed, created_cumulative) of a row.
fn counts(row: &Value) -> (i64, i64, i64) {
    let number = |field: &str| row[field].as_i64().unwrap();
    (number("created"), number("failed"), number("created_cumulative"))
}

#[tokio::test]
async fn the_monthly_report_counts_each_subtree_in_vietnam_months() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let july = |depth: u8| format!("/api/v1/reports/monthly?period=2021-07&unit_id={}&depth={depth}", tree.province);
    let report = body(app.get(&july(2), &app.admin).await).await;
    let order: Vec<&str> =
        report["rows"].as_array().unwrap().iter().map(|row| row["unit_code"].as_str().unwrap()).collect();
    assert_eq!(order, vec!["52", "542", "21610", "543", "21640"]);
    // Independently: commune A has the 23:30 record (created) and the failed one in July; commune B
    // the one of 2 July; the 1 August one is August's and the 30 June one June's.
    assert_eq!(counts(row(&report, &tree.commune_a)), (1, 1, 1));
    assert_eq!(counts(row(&report, &tree.district_a)), (1, 1, 1));
    assert_eq!(counts(row(&report, &tree.commune_b)), (1, 0, 2));
    assert_eq!(counts(row(&report, &tree.province)), (2, 1, 3));
    assert_eq!(row(&report, &tree.province)["by_account_kind"]["dvc_portal"], json!({"created": 1, "failed": 0}));
    assert_eq!(row(&report, &tree.province)["by_account_kind"]["vneid_level2"], json!({"created": 1, "failed": 1}));
    assert_eq!(row(&report, &tree.province)["level"], 1);
    assert_eq!(row(&report, &tree.district_a)["parent_id"], tree.province.as_str());
    let shallow = body(app.get(&july(1), &app.admin).await).await;
    assert_eq!(shallow["rows"].as_array().unwrap().len(), 3, "the unit and its children by default");

    app.post(&format!("/api/v1/citizen-accounts/{}/void", drive.voidable), &app.admin, &json!({"reason": "trùng"}))
        .await;
    let after = body(app.get(&july(2), &app.admin).await).await;
    assert_eq!(counts(row(&after, &tree.province)), (1, 1, 2), "a voided record never counts");
    let august =
        body(app.get(&format!("/api/v1/reports/monthly?period=2021-08&unit_id={}", tree.province), &app.admin).await)
            .await;
    assert_eq!(counts(row(&august, &tree.province)), (1, 0, 3));
}

#[tokio::test]
async fn officials_are_counted_as_they_stand() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    desk_official(&app, &tree.commune_a, "052090001247", "none").await;
    let leaving = desk_official(&app, &tree.commune_a, "052090001248", "verified").await;
    app.post(&format!("/api/v1/officials/{leaving}/deactivate"), &app.admin, &json!({"reason": "nghỉ hưu"})).await;
    let this_month = (chrono::Utc::now() + chrono::TimeDelta::hours(7)).format("%Y-%m").to_string();
    let path = format!("/api/v1/reports/monthly?period={this_month}&unit_id={}", tree.district_a);
    let report = body(app.get(&path, &app.admin).await).await;
    let district = row(&report, &tree.district_a);
    let officials = |field: &str| district[field].as_i64().unwrap();
    assert_eq!(officials("officials"), 3);
    assert_eq!(officials("officials_active"), 2);
    assert_eq!(officials("officials_with_portal_account"), 1);
    assert_eq!(officials("officials_granted"), 1);
    let july =
        body(app.get(&format!("/api/v1/reports/monthly?period=2021-07&unit_id={}", tree.district_a), &app.admin).await)
            .await;
    assert_eq!(row(&july, &tree.district_a)["officials"], 0, "nobody was recorded yet in 2021");
}

#[tokio::test]
async fn each_role_reads_the_reports_of_its_scope_only() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let own = body(app.get("/api/v1/reports/monthly?period=2021-07", &drive.clerk_a).await).await;
    assert_eq!(own["unit_id"], tree.commune_a.as_str(), "a clerk's report is its unit's");
    let province = format!("/api/v1/reports/monthly?period=2021-07&unit_id={}", tree.province);
    problem(app.get(&province, &drive.clerk_b).await, 404).await;
    let viewer = app.user("viewer.a", "viewer", Some(&tree.district_a)).await;
    assert_eq!(
        app.get(&format!("/api/v1/reports/monthly?period=2021-07&unit_id={}", tree.commune_a), &viewer).await.status(),
        200
    );
    problem(
        app.get(&format!("/api/v1/reports/monthly?period=2021-07&unit_id={}", tree.district_b), &viewer).await,
        404,
    )
    .await;
    let bad = problem(app.get("/api/v1/reports/monthly?period=2021-7", &viewer).await, 400).await;
    assert!(bad["detail"].as_str().unwrap().starts_with("period"), "{bad}");
    let deep = problem(app.get("/api/v1/reports/monthly?period=2021-07&depth=9", &viewer).await, 400).await;
    assert!(deep["detail"].as_str().unwrap().contains("depth"));
    problem(app.get("/api/v1/reports/monthly?period=2021-07&format=pdf", &viewer).await, 400).await;
}

#[tokio::test]
async fn the_monthly_report_downloads_as_csv_xlsx_and_svg_with_the_same_figures() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let base = format!("/api/v1/reports/monthly?period=2021-07&unit_id={}", tree.province);
    let csv = app.request(Method::GET, &base, &app.admin).header("accept", "text/csv").send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.bytes().await.unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a BOM, so that Excel reads UTF-8");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("unit_code,unit_name,level,created,failed,created_cumulative"));
    assert!(lines[1].starts_with("52,Tỉnh Bình Định,1,2,1,3,"), "{}", lines[1]);
    assert!(lines[2].starts_with("542,Huyện An Lão,2,1,1,1,"), "{}", lines[2]);

    let xlsx = app.get(&format!("{base}&format=xlsx"), &app.admin).await;
    assert_eq!(xlsx.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = book.worksheet_range("Báo cáo").unwrap();
    let text = |row: u32, col: u32| sheet.get_value((row, col)).cloned();
    assert!(
        matches!(text(0, 0), Some(Data::String(title)) if title.contains("2021-07") && title.contains("Tỉnh Bình Định"))
    );
    assert_eq!(text(2, 1), Some(Data::String("Đơn vị".into())));
    assert_eq!(text(3, 1), Some(Data::String("Huyện An Lão".into())));
    assert_eq!(text(3, 3), Some(Data::Float(1.0)));
    assert_eq!(text(5, 0), Some(Data::String("Tổng cộng".into())));
    assert_eq!(text(5, 3), Some(Data::Float(2.0)));
    assert_eq!(text(5, 5), Some(Data::Float(3.0)));

    let svg = app.get(&format!("{base}&format=svg"), &app.admin).await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Huyện An Lão") && svg.contains("Huyện Hoài Nhơn"));
}

/// The canonical JSON of a value, written here independently of the server: keys sorted, no
/// white space.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, String> = map.iter().map(|(key, value)| (key, canonical(value))).collect();
            let entries: Vec<String> =
                sorted.into_iter().map(|(key, value)| format!("{}:{value}", json!(key))).collect();
            format!("{{{}}}", entries.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        scalar => scalar.to_string(),
    }
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn snapshots_freeze_a_report_that_never_changes_and_corrections_amend_it() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let freeze = json!({"period": "2021-07", "unit_id": tree.province, "depth": 2});
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    problem(app.post("/api/v1/report-snapshots", &manager, &freeze).await, 403).await;
    let created = app.post("/api/v1/report-snapshots", &app.admin, &freeze).await;
    assert_eq!(created.status(), 201);
    let snapshot = body(created).await;
    assert_eq!(snapshot["sha256"], sha256(&canonical(&snapshot["report"])), "anyone can check the hash");
    assert_eq!(snapshot["period"], "2021-07");
    assert_eq!(snapshot["amends"], Value::Null);
    assert_eq!(counts(row(&snapshot["report"], &tree.province)), (2, 1, 3));

    app.post(&format!("/api/v1/citizen-accounts/{}/void", drive.voidable), &app.admin, &json!({"reason": "trùng"}))
        .await;
    let path = format!("/api/v1/report-snapshots/{}", id_of(&snapshot));
    let again = body(app.get(&path, &app.admin).await).await;
    assert_eq!(again["report"], snapshot["report"], "a frozen report never changes");
    assert_eq!(again["sha256"], snapshot["sha256"]);
    assert!(again.get("differences").is_none());
    let compared = body(app.get(&format!("{path}?compare=live"), &app.admin).await).await;
    let differences = compared["differences"].as_array().unwrap();
    let created_province = differences
        .iter()
        .find(|difference| difference["unit_id"] == tree.province.as_str() && difference["field"] == "created")
        .unwrap();
    assert_eq!((created_province["frozen"].as_i64(), created_province["live"].as_i64()), (Some(2), Some(1)));
    assert!(differences.iter().all(|difference| difference["unit_id"] != tree.commune_a.as_str()));

    let correction = json!({"period": "2021-07", "unit_id": tree.province, "depth": 2, "amends": snapshot["id"]});
    let amended = body(app.post("/api/v1/report-snapshots", &app.admin, &correction).await).await;
    assert_eq!(amended["amends"], snapshot["id"]);
    assert_eq!(counts(row(&amended["report"], &tree.province)), (1, 1, 2));
    assert_eq!(body(app.get(&path, &app.admin).await).await["sha256"], snapshot["sha256"], "the old one stays");
    let wrong = json!({"period": "2021-07", "unit_id": tree.district_a, "amends": snapshot["id"]});
    let refused = problem(app.post("/api/v1/report-snapshots", &app.admin, &wrong).await, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/amends");

    let this_month = (chrono::Utc::now() + chrono::TimeDelta::hours(7)).format("%Y-%m").to_string();
    let early = json!({"period": this_month, "unit_id": tree.province});
    let refused = problem(app.post("/api/v1/report-snapshots", &app.admin, &early).await, 422).await;
    assert_eq!(refused["errors"][0]["code"], "period_not_ended");

    let listed = body(app.get("/api/v1/report-snapshots?period=2021-07", &app.admin).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let theirs = body(app.get("/api/v1/report-snapshots", &manager).await).await;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "the province's snapshots are above a district");
    problem(app.get(&path, &manager).await, 404).await;
    assert_eq!(app.get(&path, &drive.clerk_a).await.status(), 404);
}

#[tokio::test]
async fn the_time_series_counts_each_month_for_the_unit_and_its_children() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let path = format!("/api/v1/reports/timeseries?unit_id={}&from=2021-06&to=2021-08", tree.province);
    let series = body(app.get(&path, &app.admin).await).await;
    let rows = series["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9, "three months of the province and its two districts");
    let point = |period: &str, unit: &str| {
        let row = rows.iter().find(|row| row["period"] == period && row["unit_id"] == unit).unwrap();
        (row["created"].as_i64().unwrap(), row["failed"].as_i64().unwrap())
    };
    assert_eq!(point("2021-06", &tree.province), (1, 0));
    assert_eq!(point("2021-06", &tree.district_b), (1, 0));
    assert_eq!(point("2021-07", &tree.province), (2, 1));
    assert_eq!(point("2021-07", &tree.district_a), (1, 1));
    assert_eq!(point("2021-08", &tree.district_a), (1, 0));
    assert_eq!(point("2021-08", &tree.district_b), (0, 0));

    let backwards = format!("/api/v1/reports/timeseries?unit_id={}&from=2021-08&to=2021-06", tree.province);
    let refused = problem(app.get(&backwards, &app.admin).await, 400).await;
    assert!(refused["detail"].as_str().unwrap().starts_with("to"), "{refused}");
    let long = format!("/api/v1/reports/timeseries?unit_id={}&from=2011-01&to=2021-06", tree.province);
    problem(app.get(&long, &app.admin).await, 400).await;
    let csv = app.get(&format!("{path}&format=csv"), &app.admin).await.text().await.unwrap();
    assert!(csv.contains("2021-07,52,Tỉnh Bình Định,2,1"), "{csv}");
}

#[tokio::test]
async fn the_officials_report_gives_each_officials_figures_in_roster_order() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let official_of = async |token: &str| body(app.get("/api/v1/auth/me", token).await).await["official_id"].clone();
    let (a, b) = (official_of(&drive.clerk_a).await, official_of(&drive.clerk_b).await);
    let path = format!("/api/v1/reports/officials?period=2021-07&unit_id={}", drive.tree.province);
    let report = body(app.get(&path, &app.admin).await).await;
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let of = |official: &Value| rows.iter().find(|row| row["official_id"] == *official).unwrap().clone();
    assert_eq!((of(&a)["created"].as_i64(), of(&a)["failed"].as_i64()), (Some(1), Some(1)));
    assert_eq!(of(&a)["success_rate"].as_f64(), Some(0.5));
    assert_eq!(of(&b)["success_rate"].as_f64(), Some(1.0));
    let quiet = body(app.get(&path.replace("2021-07", "2021-09"), &app.admin).await).await;
    assert_eq!(quiet["rows"][0]["success_rate"], Value::Null, "no attempts, no rate");
    let xlsx = app.get(&format!("{path}&format=xlsx"), &app.admin).await;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = book.worksheet_range("Báo cáo").unwrap();
    assert_eq!(sheet.get_value((2, 0)), Some(&Data::String("Họ và tên".into())));
    assert_eq!(sheet.get_value((3, 0)), Some(&Data::String("Nguyễn Văn An".into())));
}

#[tokio::test]
async fn compliance_tells_each_unit_where_it_stands_on_each_deadline() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let directive = json!({"code": "3102/UBND-KSTT", "title": "Về việc tăng cường hỗ trợ", "issued_on": "2021-05-31",
        "milestones": [
            {"key": "official_portal_accounts", "due_on": "2021-06-20"},
            {"key": "rosters_submitted", "due_on": "2021-06-24"},
            {"key": "grants_completed", "due_on": "2099-12-31"},
            {"key": "assisted_registration_start", "due_on": "2021-07-01"},
            {"key": "monthly_report", "due_on": "2099-12-31"}]});
    let directive = id_of(&body(app.post("/api/v1/directives", &app.admin, &directive).await).await);
    let freeze = json!({"period": "2021-07", "unit_id": tree.province});
    assert_eq!(app.post("/api/v1/report-snapshots", &app.admin, &freeze).await.status(), 201);
    let path = format!("/api/v1/reports/compliance?directive_id={directive}&unit_id={}", tree.province);
    let report = body(app.get(&path, &app.admin).await).await;
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 15, "five milestones for the province and its two districts");
    let status = |unit: &str, milestone: &str| {
        let row = rows.iter().find(|row| row["unit_id"] == unit && row["milestone"] == milestone).unwrap();
        (row["status"].as_str().unwrap().to_owned(), row["done_on"].as_str().map(str::to_owned))
    };
    assert_eq!(status(&tree.district_a, "official_portal_accounts").0, "done_late", "accounts opened today");
    assert_eq!(status(&tree.district_a, "rosters_submitted"), ("overdue".to_owned(), None));
    assert_eq!(status(&tree.district_a, "grants_completed").0, "done_on_time");
    assert_eq!(
        status(&tree.district_a, "assisted_registration_start"),
        ("done_late".to_owned(), Some("2021-07-15".to_owned()))
    );
    assert_eq!(
        status(&tree.district_b, "assisted_registration_start"),
        ("done_on_time".to_owned(), Some("2021-06-30".to_owned()))
    );
    assert_eq!(status(&tree.district_b, "monthly_report").0, "done_on_time", "the province's snapshot covers it");
    let unknown = format!("/api/v1/reports/compliance?directive_id={}&unit_id={}", uuid_like(), tree.province);
    problem(app.get(&unknown, &app.admin).await, 400).await;
    problem(app.get(&path, &drive.clerk_a).await, 404).await;
}

fn uuid_like() -> String {
    "0193a8f0-0000-7000-8000-000000000000".to_owned()
}

/// An official who left in the middle of a month counts as working in the months before and not
/// at the end of that month; one who joined later does not count before joining.
#[tokio::test]
async fn an_official_who_left_mid_month_counts_until_then() {
    use sea_orm::ExprTrait;
    use sea_orm::sea_query::{Alias, Expr, Query};
    use sea_orm::{ConnectionTrait, Database};
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let leaving = desk_official(&app, &tree.commune_a, "052090001248", "verified").await;
    app.post(&format!("/api/v1/officials/{leaving}/deactivate"), &app.admin, &json!({"reason": "chuyển công tác"}))
        .await;
    let db = Database::connect(&app.database_url).await.unwrap();
    let at = |raw: &str| chrono::DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&chrono::Utc);
    // Joined on 1 June 2021, opened its portal account the next day, left on 15 August at noon in Hanoi.
    let backdate = Query::update()
        .table(Alias::new("officials"))
        .value(Alias::new("created_at"), at("2021-06-01T02:00:00Z"))
        .value(Alias::new("portal_account_at"), at("2021-06-02T02:00:00Z"))
        .value(Alias::new("deactivated_at"), at("2021-08-15T05:00:00Z"))
        .and_where(Expr::col(Alias::new("id")).eq(Expr::val(uuid::Uuid::parse_str(&leaving).unwrap())))
        .to_owned();
    db.execute(&backdate).await.unwrap();
    let (stale, _) = cli(&app, "check-counters");
    assert!(!stale, "the officials' standing no longer agrees with an official changed behind its back");
    assert!(cli(&app, "rebuild-counters").0);
    let figures = async |period: &str| {
        let path = format!("/api/v1/reports/monthly?period={period}&unit_id={}", tree.commune_a);
        let report = body(app.get(&path, &app.admin).await).await;
        let own = row(&report, &tree.commune_a).clone();
        ["officials", "officials_active", "officials_with_portal_account"].map(|field| own[field].as_i64().unwrap())
    };
    // The clerk's own official was recorded today, so before today only the leaving one counts.
    assert_eq!(figures("2021-05").await, [0, 0, 0], "not yet joined");
    assert_eq!(figures("2021-07").await, [1, 1, 1], "working through July");
    assert_eq!(figures("2021-08").await, [1, 0, 0], "gone by the end of August, still on the books");
}

/// The whole country's report, for a caller without a unit: a row per province (each counting its
/// subtree, exactly as the province's own report), no row of its own, and the country's totals in
/// the spreadsheet.
#[tokio::test]
async fn an_admin_reads_the_whole_country() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let other = json!({"code": "64", "name": "Tỉnh Gia Lai", "kind": "province", "category": "Tỉnh"});
    let other = id_of(&body(app.post("/api/v1/units", &app.admin, &other).await).await);
    let country = body(app.get("/api/v1/reports/monthly?period=2021-07", &app.admin).await).await;
    assert_eq!(country["unit_id"], Value::Null);
    let codes: Vec<&str> =
        country["rows"].as_array().unwrap().iter().map(|row| row["unit_code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["52", "64"], "the provinces, by code");
    let province =
        body(app.get(&format!("/api/v1/reports/monthly?period=2021-07&unit_id={}", tree.province), &app.admin).await)
            .await;
    assert_eq!(row(&country, &tree.province), row(&province, &tree.province));
    assert_eq!(counts(row(&country, &other)), (0, 0, 0));
    let deeper = body(app.get("/api/v1/reports/monthly?period=2021-07&depth=2", &app.admin).await).await;
    assert_eq!(deeper["rows"].as_array().unwrap().len(), 4, "two provinces and the districts of one");

    let response = app.get("/api/v1/reports/monthly?period=2021-07&format=xlsx", &app.admin).await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = workbook.worksheet_range_at(0).unwrap().unwrap();
    let title = sheet.get_value((0, 0)).unwrap().to_string();
    assert!(title.contains("cả nước"), "{title}");
    let totals = sheet.rows().find(|cells| cells[0] == "Tổng cộng").expect("a totals row");
    assert_eq!(totals[3], Data::Float(2.0), "July's accounts of the whole country");
    assert_eq!(totals[5], Data::Float(3.0), "created up to July");

    let viewer = app.user("viewer.province", "viewer", Some(&tree.province)).await;
    let own = body(app.get("/api/v1/reports/monthly?period=2021-07", &viewer).await).await;
    assert_eq!(own["unit_id"], tree.province.as_str(), "a caller with a unit reads its unit's report");
}

/// The subtree counters and the officials' standing of a database that had records and officials
/// before them are filled exactly as the writes fill them (the counters by their migration, the
/// standing when the database is next opened): undone and applied again, the reports and the check
/// agree.
#[tokio::test]
async fn the_counters_of_an_older_database_are_filled_as_the_writes_do() {
    use dvc_migrations::{Migrator, MigratorTrait};
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let this_month = (chrono::Utc::now() + chrono::TimeDelta::hours(7)).format("%Y-%m").to_string();
    let reports: Vec<String> = ["2021-07", "2022-07", &this_month]
        .iter()
        .map(|period| format!("/api/v1/reports/monthly?period={period}&unit_id={}&depth=2", drive.tree.province))
        .collect();
    let mut before = Vec::new();
    for report in &reports {
        before.push(body(app.get(report, &app.admin).await).await["rows"].clone());
    }
    assert_eq!(before[2][0]["officials_granted"], 2);
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let applied_after_the_rollups = 4;
    Migrator::down(&db, Some(applied_after_the_rollups + 1)).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db.close().await.unwrap();
    // The command opens the database, which fills the standing, and then checks everything.
    let (agree, said) = cli(&app, "check-counters");
    assert!(agree, "{said}");
    for (report, before) in reports.iter().zip(before) {
        assert_eq!(body(app.get(report, &app.admin).await).await["rows"], before, "{report}");
    }
}

/// A unit moved to another parent takes its records and officials along: the units above it at its
/// old place stop counting them, those at its new place count them.
#[tokio::test]
async fn a_unit_moved_in_the_tree_takes_its_figures_along() {
    let app = spawn_app().await;
    let drive = drive(&app).await;
    let tree = &drive.tree;
    let this_month = (chrono::Utc::now() + chrono::TimeDelta::hours(7)).format("%Y-%m").to_string();
    let report = async |period: &str| {
        let path = format!("/api/v1/reports/monthly?period={period}&unit_id={}", tree.province);
        body(app.get(&path, &app.admin).await).await
    };
    let july = report("2021-07").await;
    assert_eq!(counts(row(&july, &tree.district_a)), (1, 1, 1));
    assert_eq!(counts(row(&july, &tree.district_b)), (1, 0, 2));
    let moved = app
        .patch(&format!("/api/v1/units/{}", tree.commune_a), &app.admin, &json!({"parent_id": tree.district_b}))
        .await;
    assert_eq!(moved.status(), 200);
    let july = report("2021-07").await;
    assert_eq!(counts(row(&july, &tree.district_a)), (0, 0, 0));
    assert_eq!(counts(row(&july, &tree.district_b)), (2, 1, 3));
    assert_eq!(counts(row(&july, &tree.province)), (2, 1, 3), "the province counts the same");
    let now = report(&this_month).await;
    assert_eq!(row(&now, &tree.district_a)["officials"], 0);
    assert_eq!(row(&now, &tree.district_b)["officials"], 2);
    let (agree, said) = cli(&app, "check-counters");
    assert!(agree, "{said}");
}
