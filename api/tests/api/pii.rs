use dvc_api::startup::{Application, rotate_pii_key};
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, admin_token, body, id_of, settings_for, spawn_app, start};

const NEW_KEY: [u8; 32] = [0x5a; 32];

/// Logs in as the admin on a server and reads an official there, unmasked.
async fn read_official(address: &str, id: &str) -> serde_json::Value {
    let client = reqwest::Client::new();
    let token = admin_token(&client, address).await;
    let response = client.get(format!("{address}/api/v1/officials/{id}")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    body(response).await
}

#[tokio::test]
async fn a_changed_key_stops_the_start_and_a_rotation_moves_every_number_to_the_new_key() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let official = json!({"full_name": "Nguyễn Văn An", "unit_id": tree.commune_a, "id_number": "052090001245",
        "phone": "0972123588"});
    let official = id_of(&body(app.post("/api/v1/officials", &app.admin, &official).await).await);
    let entry = json!({"full_name": "Trần Thị Ánh", "unit_name": "Xã An Hưng", "id_number": "052190001246",
        "phone": "0972123589"});
    let roster =
        app.post("/api/v1/rosters", &app.admin, &json!({"unit_id": tree.district_a, "entries": [entry]})).await;
    let roster = id_of(&body(roster).await);

    // The database's numbers are sealed with the generated key: another key stops the start at once.
    let mut with_new_key = settings_for(&app.database_url);
    with_new_key.pii_key = Some(NEW_KEY);
    let refused = Application::build(&with_new_key).await.expect_err("a start with another key is refused");
    let message = format!("{refused:#}");
    assert!(message.contains("DVC_PII_KEY") && message.contains("rotate-pii-key"), "{message}");

    // Re-sealed under the operator's new key, the numbers read back with it, and only with it.
    let resealed = rotate_pii_key(&settings_for(&app.database_url), Some(NEW_KEY)).await.unwrap();
    assert_eq!((resealed.officials, resealed.roster_entries), (1, 1));
    let second = start(&with_new_key).await;
    let read = read_official(&second, &official).await;
    assert_eq!((read["id_number"].as_str(), read["phone"].as_str()), (Some("052090001245"), Some("0972123588")));
    let client = reqwest::Client::new();
    let admin = app.login("admin", ADMIN_PASSWORD).await;
    let entries = client.get(format!("{second}/api/v1/rosters/{roster}")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(body(entries).await["entries"][0]["id_number"], "052190001246");
    // The lookup fingerprints moved too: the same ID number is still recognised as taken.
    let again = json!({"full_name": "Nguyễn Văn An", "unit_id": tree.commune_a, "id_number": "052090001245",
        "phone": "0972123588"});
    let clash =
        client.post(format!("{second}/api/v1/officials")).bearer_auth(&admin).json(&again).send().await.unwrap();
    assert_eq!(clash.status(), 409);
    let without_key = Application::build(&settings_for(&app.database_url)).await;
    assert!(without_key.is_err(), "the new key is no longer stored in the database");

    // Rotating while a key is configured needs the new one to be given.
    assert!(rotate_pii_key(&with_new_key, None).await.is_err());
}
