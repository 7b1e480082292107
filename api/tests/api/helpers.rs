use std::net::SocketAddr;

use dvc_api::settings::Settings;
use dvc_api::startup::Application;
use reqwest::{Client, Method, RequestBuilder, Response};
use sea_orm::{ConnectionTrait, Database};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const PASSWORD: &str = "a-good-password";

/// A database made for one test and removed after it.
pub enum TestDb {
    Sqlite { path: std::path::PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) => {
                let name = format!("dvc_test_{}", Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url).await.expect("TEST_DATABASE_URL is reachable");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.expect("close admin connection");
                let (server, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL names a database");
                let url = format!("{server}/{name}");
                (TestDb::Postgres { admin_url, name }, url)
            }
            Err(_) => {
                let path = std::env::temp_dir().join(format!("dvc-test-{}.sqlite", Uuid::now_v7().simple()));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (TestDb::Sqlite { path }, url)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // The test's runtime is shutting down; drop the database from a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ =
                                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub fn settings_for(database_url: &str) -> Settings {
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: database_url.to_owned(),
        admin_password: Some(ADMIN_PASSWORD.to_owned()),
        jwt_secret: None,
        pii_key: None,
        token_ttl_seconds: 900,
        log: "warn".to_owned(),
        // Tests send webhooks to receivers on 127.0.0.1.
        webhooks: dvc_http::DeliveryConfig { allow_private: true, ..dvc_http::DeliveryConfig::default() },
        password_hashing: dvc_http::password::HashGate::new(2, 64),
    }
}

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub admin: String,
    pub database_url: String,
    /// Kept for its `Drop`, which removes the database (`None` when the caller keeps it).
    _db: Option<TestDb>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        dvc_api::telemetry::init("debug");
    }
    let (db, database_url) = TestDb::create().await;
    let mut settings = settings_for(&database_url);
    configure(&mut settings);
    let address = start(&settings).await;
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut app = TestApp { address, client, admin: String::new(), database_url, _db: Some(db) };
    app.admin = app.login("admin", ADMIN_PASSWORD).await;
    app
}

impl TestApp {
    /// A test app for a server that runs elsewhere (a process of its own) at `address`.
    pub async fn attach(address: String, client: Client, database_url: String) -> Self {
        let mut app = TestApp { address, client, admin: String::new(), database_url, _db: None };
        app.admin = app.login("admin", ADMIN_PASSWORD).await;
        app
    }
}

/// Starts an application on `settings` and returns its base address.
pub async fn start(settings: &Settings) -> String {
    let application = Application::build(settings).await.expect("the application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    address
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, token).send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, token).json(body).send().await.expect("request sent")
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, token).json(body).send().await.expect("request sent")
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        token(&self.client, &self.address, &json!({ "username": username, "password": password })).await.access_token
    }

    /// Creates a unit as admin and returns its id.
    pub async fn unit(&self, code: &str, name: &str, kind: &str, parent: Option<&str>) -> String {
        let response = self
            .post(
                "/api/v1/units",
                &self.admin,
                &json!({ "code": code, "name": name, "kind": kind, "parent_id": parent }),
            )
            .await;
        assert_eq!(response.status(), 201, "create unit {code}");
        id_of(&body(response).await)
    }

    /// Creates a user as admin and returns a token for it.
    pub async fn user(&self, username: &str, role: &str, unit_id: Option<&str>) -> String {
        let response = self
            .post(
                "/api/v1/users",
                &self.admin,
                &json!({ "username": username, "display_name": username, "role": role, "unit_id": unit_id, "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status(), 201, "create user {username}");
        self.login(username, PASSWORD).await
    }

    /// A province with two districts, each with a commune.
    pub async fn tree(&self) -> Tree {
        let province = self.unit("52", "Tỉnh Bình Định", "province", None).await;
        let district_a = self.unit("542", "Huyện An Lão", "district", Some(&province)).await;
        let district_b = self.unit("543", "Huyện Hoài Nhơn", "district", Some(&province)).await;
        let commune_a = self.unit("21610", "Xã An Hưng", "commune", Some(&district_a)).await;
        let commune_b = self.unit("21640", "Phường Bồng Sơn", "commune", Some(&district_b)).await;
        Tree { province, district_a, district_b, commune_a, commune_b }
    }
}

#[derive(Debug)]
pub struct Tree {
    pub province: String,
    pub district_a: String,
    pub district_b: String,
    pub commune_a: String,
    pub commune_b: String,
}

/// The answer to `POST /auth/token`.
#[derive(Debug, Deserialize)]
pub struct Token {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

/// Asks the server at `address` for a token with `credentials` (a username and a password, or a
/// client id and a secret), which must be granted.
pub async fn token(client: &Client, address: &str, credentials: &Value) -> Token {
    let response =
        client.post(format!("{address}/api/v1/auth/token")).json(credentials).send().await.expect("request sent");
    assert_eq!(response.status(), 200, "a token for {credentials}");
    response.json().await.expect("a token")
}

/// The admin's access token on the server at `address`.
pub async fn admin_token(client: &Client, address: &str) -> String {
    token(client, address, &json!({"username": "admin", "password": ADMIN_PASSWORD})).await.access_token
}

pub async fn body(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

/// Asserts a problem+json answer with `status`, and returns its body.
pub async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let value = body(response).await;
    assert_eq!(value["status"], status);
    assert!(value["type"].is_string() && value["title"].is_string() && value["detail"].is_string());
    value
}

/// The ids of a list answer's items.
pub fn ids(list: &Value) -> Vec<String> {
    list["items"].as_array().expect("items").iter().map(id_of).collect()
}

/// The plan each database makes for `sql`, as text. PostgreSQL is told to avoid the ways of reading
/// (`avoid`: a table scan, a sort…) that only win on the empty table of a test and would hide the
/// index it chooses on a large one.
pub async fn plan(app: &TestApp, sql: &str, avoid: &[&str]) -> String {
    let pool = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let backend = pool.get_database_backend();
    // One connection for the setting and the plan.
    let db = sea_orm::TransactionTrait::begin(&pool).await.unwrap();
    let explain = match backend {
        sea_orm::DbBackend::Postgres => {
            for setting in avoid {
                db.execute_unprepared(&format!("SET LOCAL {setting} = off")).await.unwrap();
            }
            format!("EXPLAIN {sql}")
        }
        _ => format!("EXPLAIN QUERY PLAN {sql}"),
    };
    let rows = db.query_all_raw(sea_orm::Statement::from_string(backend, explain)).await.unwrap();
    let text: Vec<String> = rows
        .iter()
        .map(|row| {
            row.try_get::<String>("", "QUERY PLAN").or_else(|_| row.try_get::<String>("", "detail")).unwrap_or_default()
        })
        .collect();
    db.rollback().await.unwrap();
    pool.close().await.unwrap();
    text.join("\n")
}

/// Runs a `dvc-api` command against the app's database: whether it succeeded, and what it said.
pub fn cli(app: &TestApp, command: &str) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"))
        .arg(command)
        .env("DVC_DATABASE_URL", &app.database_url)
        .env("DVC_LOG", "warn")
        .output()
        .unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}
