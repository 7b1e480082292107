use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::Value;

use crate::helpers::{TestApp, body, spawn_app};

const UNITS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/dvhc/units-2025-01-04.csv");
const CONVERSION_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/dvhc/conversion-2025-07-01.csv");

/// Runs the command line against the app's database; answers whether it succeeded and what it said.
/// It runs off the test's thread, so that the client meanwhile notices the server closing idle
/// connections.
async fn command(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"));
    command.args(args).env("DVC_DATABASE_URL", &app.database_url).env("DVC_LOG", "warn").env("RUST_BACKTRACE", "0");
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

async fn seed(app: &TestApp, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["seed", "--units-file", UNITS_CSV, "--conversion-file", CONVERSION_CSV];
    args.extend_from_slice(extra);
    command(app, &args).await
}

async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    body(app.get(path, &app.admin).await).await["items"].as_array().unwrap().clone()
}

async fn province(app: &TestApp, valid_on: &str) -> String {
    let found = items(app, &format!("/api/v1/units?code=52&kind=province&valid_on={valid_on}")).await;
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]["id"].as_str().unwrap().to_owned()
}

/// The month's totals of the province: records created and failed.
async fn monthly(app: &TestApp, period: &str, unit_id: &str) -> (i64, i64) {
    let report =
        body(app.get(&format!("/api/v1/reports/monthly?period={period}&unit_id={unit_id}"), &app.admin).await).await;
    let row = report["rows"].as_array().unwrap().iter().find(|row| row["unit_id"] == unit_id).unwrap().clone();
    (row["created"].as_i64().unwrap(), row["failed"].as_i64().unwrap())
}

/// The statistics the seed left for the planner: tables described, and SQLite's samples of index
/// values (none on PostgreSQL, whose samples do not make it prepare statements again).
async fn planner_statistics(app: &TestApp) -> (i64, i64) {
    let db = Database::connect(&app.database_url).await.unwrap();
    let backend = db.get_database_backend();
    let count = async |sql: &str| {
        let row = db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    if backend == DbBackend::Postgres {
        let described = count("SELECT count(*) AS n FROM pg_stats WHERE tablename = 'citizen_accounts'").await;
        return (described, 0);
    }
    (count("SELECT count(*) AS n FROM sqlite_stat1").await, count("SELECT count(*) AS n FROM sqlite_stat4").await)
}

#[tokio::test]
async fn the_demo_fills_an_empty_database_that_the_api_reports_on_and_is_not_seeded_twice() {
    let app = spawn_app().await;
    let (ok, said) = seed(&app, &["--profile", "demo"]).await;
    assert!(ok, "{said}");
    assert!(said.contains("3000 of 3000 records (100%)"), "progress is shown: {said}");
    assert!(said.contains("create-user"), "says how to log in: {said}");

    let province = province(&app, "2021-07-01").await;
    assert!(!items(&app, "/api/v1/units?kind=service_center").await.is_empty(), "the Service Center");
    let officials = items(&app, &format!("/api/v1/officials?unit_id={province}&limit=5")).await;
    assert_eq!(officials.len(), 5, "officials at the province's desks");
    assert!(officials.iter().all(|official| official["portal_account"] != "none"));
    let official = officials[0]["id"].as_str().unwrap();
    let grants = items(&app, &format!("/api/v1/officials/{official}/grants?active_at=2021-07-15T03:00:00Z")).await;
    assert_eq!(grants.len(), 1, "each official holds a grant in force: {grants:?}");
    assert_eq!(items(&app, "/api/v1/directives").await.len(), 1, "the 2021 directive");
    let records = items(&app, "/api/v1/citizen-accounts?limit=3").await;
    assert_eq!(records.len(), 3);

    let (created, failed) = monthly(&app, "2021-07", &province).await;
    assert!(created > 100 && failed > 0, "July 2021: {created} created, {failed} failed");
    let (ok, said) = command(&app, &["check-counters"]).await;
    assert!(ok && said.contains("the counters agree"), "{said}");

    let statistics = planner_statistics(&app).await;
    assert!(statistics.0 > 0, "the planner knows the tables' sizes");
    assert_eq!(statistics.1, 0, "no samples that would make SQLite prepare statements again for each value");

    let (ok, said) = seed(&app, &["--profile", "demo"]).await;
    assert!(!ok, "a second run is refused");
    assert!(said.contains("already holds units"), "{said}");
    assert_eq!(items(&app, "/api/v1/citizen-accounts?limit=500").await.len(), 500);
}

#[tokio::test]
async fn a_province_goes_through_the_2025_reform() {
    let app = spawn_app().await;
    let (ok, said) = seed(&app, &["--profile", "province", "--records", "2000"]).await;
    assert!(ok, "{said}");
    assert!(said.contains("2000 of 2000 records (100%)"), "{said}");

    let old = province(&app, "2021-07-01").await;
    let new = province(&app, "2025-08-01").await;
    assert_ne!(old, new, "Bình Định closed and the new Gia Lai opened");
    let (before, _) = monthly(&app, "2022-03", &old).await;
    assert!(before > 0, "records before the reform at the old units");
    let (after, _) = monthly(&app, "2025-09", &new).await;
    assert!(after > 0, "records after the reform at the new units");
    let (ok, said) = command(&app, &["check-counters"]).await;
    assert!(ok && said.contains("the counters agree"), "{said}");
}
