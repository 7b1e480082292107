//! Password and client-secret hashes: argon2id with the crate's recommended parameters.
//!
//! Hashing is deliberately slow, so it runs on the blocking pool, never on an async worker.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use dvc_domain::Password;

use crate::error::ApiError;

pub async fn hash(password: Password) -> Result<String, ApiError> {
    actix_web::web::block(move || hash_now(password.expose())).await.map_err(ApiError::internal)?
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(ApiError::internal)
}

/// Whether `password` matches `stored`. With no stored hash (an unknown user) it still spends the
/// time of one verification, so that response times do not tell which usernames exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    actix_web::web::block(move || {
        let decoy = stored.is_none();
        let hash = match stored {
            Some(hash) => hash,
            None => decoy_hash()?.to_owned(),
        };
        let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(matches && !decoy)
    })
    .await
    .map_err(ApiError::internal)?
}

fn decoy_hash() -> Result<&'static str, ApiError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return Ok(hash);
    }
    let hash = hash_now("decoy password that matches nothing")?;
    Ok(DECOY.get_or_init(|| hash))
}
