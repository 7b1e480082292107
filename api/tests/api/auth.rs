use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    ADMIN_PASSWORD, PASSWORD, TestApp, admin_token, body, id_of, problem, settings_for, spawn_app, spawn_app_with,
    start, token,
};

const SECRET: &str = "a-configured-secret-that-is-long-enough";

#[tokio::test]
async fn admin_logs_in_and_learns_who_it_is() {
    let app = spawn_app().await;
    let token = token(&app.client, &app.address, &json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.expires_in, 900);

    let me = body(app.get("/api/v1/auth/me", &token.access_token).await).await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    let unknown = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "nobody", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    let wrong = problem(wrong, 401).await;
    let unknown = problem(unknown, 401).await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["detail"], "invalid username or password");
}

#[tokio::test]
async fn token_request_needs_one_pair_of_credentials() {
    let app = spawn_app().await;
    let response =
        app.client.post(app.url("/api/v1/auth/token")).json(&json!({"username": "admin"})).send().await.unwrap();
    problem(response, 422).await;
}

#[tokio::test]
async fn service_accounts_log_in_with_client_credentials() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    app.user("portal.sync", "integration", Some(&tree.province)).await;
    let credentials = json!({"client_id": "portal.sync", "client_secret": PASSWORD});
    let token = token(&app.client, &app.address, &credentials).await.access_token;
    let me = body(app.get("/api/v1/auth/me", &token).await).await;
    assert_eq!(me["role"], "integration");
    assert_eq!(me["unit_id"], tree.province.as_str());
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/v1/units")).send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    problem(response, 401).await;
    problem(app.get("/api/v1/units", "not.a.token").await, 401).await;
}

fn claims(overrides: serde_json::Value) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": "dvc", "aud": "dvc-api", "sub": uuid::Uuid::now_v7(), "exp": now + 600, "nbf": now, "iat": now,
        "jti": uuid::Uuid::now_v7(), "role": "admin", "unit": null
    });
    for (key, value) in overrides.as_object().unwrap() {
        claims[key] = value.clone();
    }
    claims
}

fn sign(claims: &serde_json::Value, secret: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let app = spawn_app_with(|settings| settings.jwt_secret = Some(SECRET.as_bytes().to_vec())).await;
    let me = body(app.get("/api/v1/auth/me", &app.admin).await).await;
    let kid = jsonwebtoken::decode_header(&app.admin).unwrap().kid;
    let kid = kid.as_deref();
    let admin = json!({ "sub": me["id"] });
    let valid = sign(&claims(admin.clone()), SECRET, kid);
    assert_eq!(app.get("/api/v1/auth/me", &valid).await.status(), 200, "a well-made token is accepted");

    let now = chrono::Utc::now().timestamp();
    let mut rejected = vec![
        ("another secret", sign(&claims(admin.clone()), "another-secret-that-is-long-enough!!", kid)),
        ("expired", sign(&claims(json!({ "sub": me["id"], "exp": now - 3600 })), SECRET, kid)),
        ("expired ten seconds ago", sign(&claims(json!({ "sub": me["id"], "exp": now - 10 })), SECRET, kid)),
        ("not yet valid", sign(&claims(json!({ "sub": me["id"], "nbf": now + 3600 })), SECRET, kid)),
        ("wrong issuer", sign(&claims(json!({ "sub": me["id"], "iss": "elsewhere" })), SECRET, kid)),
        ("wrong audience", sign(&claims(json!({ "sub": me["id"], "aud": "elsewhere" })), SECRET, kid)),
        ("unknown key id", sign(&claims(admin.clone()), SECRET, Some("unknown"))),
        ("unknown user", sign(&claims(json!({})), SECRET, kid)),
    ];
    // `alg: none`: a header and claims with an empty signature.
    let unsigned = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = engine.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
        let payload = engine.encode(claims(admin).to_string());
        format!("{header}.{payload}.")
    };
    rejected.push(("alg none", unsigned));
    for (what, token) in rejected {
        assert_eq!(app.get("/api/v1/auth/me", &token).await.status(), 401, "{what}");
    }
}

#[tokio::test]
async fn tokens_survive_a_restart_and_work_on_every_process() {
    let app = spawn_app().await;
    // A second process on the same database, as after a restart or behind a load balancer.
    let second = start(&settings_for(&app.database_url)).await;
    let response = app.client.get(format!("{second}/api/v1/auth/me")).bearer_auth(&app.admin).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_deactivated_users_token_stops_working() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let token = app.user("viewer.a", "viewer", Some(&tree.district_a)).await;
    let me = body(app.get("/api/v1/auth/me", &token).await).await;
    let response = app
        .request(Method::POST, &format!("/api/v1/users/{}/deactivate", id_of(&me)), &app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(body(response).await["active"], false);
    problem(app.get("/api/v1/auth/me", &token).await, 401).await;
    let login = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "viewer.a", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    problem(login, 401).await;
}

/// How long a change made by another process may take to reach a server that keeps its callers'
/// principals: PostgreSQL notifies it at the commit; an SQLite server, meant to be the one process
/// on its file, catches up when the principals it keeps expire (after 10 s).
fn heard_within(app: &TestApp) -> std::time::Duration {
    std::time::Duration::from_secs(if app.database_url.starts_with("postgres") { 5 } else { 12 })
}

/// Whether `GET path` with `token` answers `status` before `within` has passed.
async fn answers_within(app: &TestApp, path: &str, token: &str, status: u16, within: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if app.get(path, token).await.status() == status {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_user_deactivated_by_another_process_loses_access() {
    let app = spawn_app().await;
    let second = start(&settings_for(&app.database_url)).await;
    let tree = app.tree().await;
    let token = app.user("viewer.b", "viewer", Some(&tree.district_a)).await;
    // Twice, so that the first process keeps the caller's principal.
    let me = body(app.get("/api/v1/auth/me", &token).await).await;
    assert_eq!(app.get("/api/v1/auth/me", &token).await.status(), 200);

    let deactivated = app
        .client
        .post(format!("{second}/api/v1/users/{}/deactivate", id_of(&me)))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deactivated.status(), 200);
    assert!(answers_within(&app, "/api/v1/auth/me", &token, 401, heard_within(&app)).await);
}

#[tokio::test]
async fn a_unit_moved_by_another_process_moves_its_users_scope() {
    let app = spawn_app().await;
    let second = start(&settings_for(&app.database_url)).await;
    let tree = app.tree().await;
    let other = app.unit("64", "Tỉnh Gia Lai", "province", None).await;
    let token = app.user("viewer.c", "viewer", Some(&tree.district_a)).await;
    let commune = format!("/api/v1/units/{}", tree.commune_a);
    assert_eq!(app.get(&commune, &token).await.status(), 200);
    assert_eq!(app.get(&commune, &token).await.status(), 200);

    let moved = app
        .client
        .patch(format!("{second}/api/v1/units/{}", tree.district_a))
        .bearer_auth(&app.admin)
        .json(&json!({"parent_id": other}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    // A principal kept with the district's old path would no longer find the commune in its scope.
    assert!(answers_within(&app, &commune, &token, 200, heard_within(&app)).await);
    assert_eq!(app.get(&commune, &token).await.status(), 200);
}

#[tokio::test]
async fn repeated_failures_are_throttled_for_every_process() {
    let app = spawn_app().await;
    let attempt = |address: String, username: &'static str, password: &'static str| {
        let client = app.client.clone();
        async move {
            client
                .post(format!("{address}/api/v1/auth/token"))
                .json(&json!({"username": username, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        problem(attempt(app.address.clone(), "admin", "not-the-password").await, 401).await;
    }
    // Another process on the same database counts the same failures.
    let second = start(&settings_for(&app.database_url)).await;
    let throttled = attempt(second, "admin", ADMIN_PASSWORD).await;
    let retry_after: i64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    problem(throttled, 429).await;

    // An unknown username is throttled the same way, so the answers do not tell which exist.
    for _ in 0..5 {
        problem(attempt(app.address.clone(), "nobody", "not-the-password").await, 401).await;
    }
    problem(attempt(app.address.clone(), "nobody", "not-the-password").await, 429).await;
}

#[tokio::test]
async fn a_successful_login_forgets_earlier_failures() {
    let app = spawn_app().await;
    // Four failures, a success, four more: without the reset the second round would be throttled.
    for _ in 0..2 {
        for _ in 0..4 {
            let wrong = json!({"username": "admin", "password": "wrong-password!"});
            let response = app.client.post(app.url("/api/v1/auth/token")).json(&wrong).send().await.unwrap();
            problem(response, 401).await;
        }
        app.login("admin", ADMIN_PASSWORD).await;
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn a_rotated_key_signs_new_tokens_while_old_ones_stay_valid() {
    let app = spawn_app().await;
    let old_token = app.admin.clone();
    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_dvc-api"))
        .arg("rotate-signing-key")
        .env("DVC_DATABASE_URL", &app.database_url)
        .env("DVC_LOG", "warn")
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));

    // A process that starts now signs with the new key and still accepts the old one.
    let second = start(&settings_for(&app.database_url)).await;
    let login = |address: String| {
        let client = app.client.clone();
        async move { admin_token(&client, &address).await }
    };
    let new_token = login(second.clone()).await;
    assert_ne!(kid_of(&new_token), kid_of(&old_token));
    let me = |address: String, token: String| {
        let client = app.client.clone();
        async move { client.get(format!("{address}/api/v1/auth/me")).bearer_auth(token).send().await.unwrap().status() }
    };
    assert_eq!(me(second.clone(), old_token.clone()).await, 200, "the old key is still accepted");
    // The first process learns the new key from the first token signed with it, and signs with it.
    assert_eq!(me(app.address.clone(), new_token.clone()).await, 200);
    assert_eq!(kid_of(&login(app.address.clone()).await), kid_of(&new_token));
}

#[tokio::test]
async fn an_admin_clears_a_login_lockout() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let manager = app.user("manager.a", "manager", Some(&tree.district_a)).await;
    app.user("clerk.a", "clerk", Some(&tree.commune_a)).await;
    let login = |password: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/token"))
            .json(&json!({"username": "clerk.a", "password": password}))
            .send()
    };
    for _ in 0..5 {
        problem(login("not-the-password").await.unwrap(), 401).await;
    }
    problem(login(PASSWORD).await.unwrap(), 429).await;

    let users = body(app.get("/api/v1/users?limit=500", &app.admin).await).await;
    let clerk = users["items"].as_array().unwrap().iter().find(|user| user["username"] == "clerk.a").unwrap();
    let path = format!("/api/v1/users/{}/unlock", id_of(clerk));
    problem(app.request(Method::POST, &path, &manager).send().await.unwrap(), 403).await;
    problem(login(PASSWORD).await.unwrap(), 429).await;
    let unlocked = app.request(Method::POST, &path, &app.admin).send().await.unwrap();
    assert_eq!(unlocked.status(), 200);
    assert_eq!(body(unlocked).await["username"], "clerk.a");
    assert_eq!(login(PASSWORD).await.unwrap().status(), 200);

    let events =
        body(app.get(&format!("/api/v1/audit-events?entity=user&entity_id={}", id_of(clerk)), &app.admin).await).await;
    let unlock = events["items"].as_array().unwrap().iter().find(|event| event["action"] == "user.unlock").unwrap();
    assert_eq!(unlock["before"]["failed_logins"], 5);
}

/// A flood of logins meets a bound: one hash at a time and one waiting here; the rest are told at
/// once to come back (503 with Retry-After) instead of queueing without end, and the server keeps
/// answering everything else.
#[tokio::test]
async fn a_login_flood_is_refused_politely_beyond_the_hashing_queue() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.password_hashing = dvc_http::password::HashGate::new(1, 1);
    })
    .await;
    let attempt = || {
        app.client
            .post(app.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"username": "admin", "password": crate::helpers::ADMIN_PASSWORD}))
            .send()
    };
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..12 {
        flood.spawn(attempt());
    }
    let answers: Vec<_> = flood.join_all().await;
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.as_ref().unwrap().status().as_u16()).collect();
    assert!(statuses.iter().all(|status| matches!(status, 200 | 503)), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    let refused = answers.into_iter().map(Result::unwrap).find(|answer| answer.status() == 503).expect("a refusal");
    assert_eq!(refused.headers()["retry-after"], "1");
    let problem = crate::helpers::problem(refused, 503).await;
    assert_eq!(problem["title"], "Busy");
    assert_eq!(app.get("/api/v1/auth/me", &app.admin).await.status(), 200, "other requests are answered");
    assert_eq!(attempt().await.unwrap().status(), 200, "once the flood is over, logins go through");
}
