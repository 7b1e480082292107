//! Access tokens: HS256 JWTs carrying who the caller is, checked strictly on the way in (RFC 8725):
//! the algorithm is pinned, and `iss`, `aud`, `exp`, `nbf` and `sub` are required.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use dvc_domain::Role;
use dvc_store::Store;
use dvc_store::keys::{self, SigningKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

pub const ISSUER: &str = "dvc";
pub const AUDIENCE: &str = "dvc-api";
/// Clock difference tolerated between API processes, in seconds: enough for clocks kept by NTP,
/// short enough that an expired token stops working when a client expects it to.
const LEEWAY: u64 = 5;
/// How often a process looks for a newer signing key, so that a rotation reaches every process
/// within this time.
const KEY_REFRESH: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
    pub role: Role,
    /// The scope unit, absent for an admin without one.
    pub unit: Option<Uuid>,
}

/// The keys tokens are signed and checked with: the newest signs, all are accepted, so that a key
/// can be rotated without ending the tokens signed with the one before.
#[derive(Debug, Clone)]
pub struct TokenKeys {
    keys: Arc<RwLock<Arc<Vec<SigningKey>>>>,
    loaded_at: Arc<Mutex<Instant>>,
    ttl_seconds: i64,
    /// Set when the key comes from configuration: nothing is then read from the database.
    configured: bool,
}

impl TokenKeys {
    /// Keys from configuration (`DVC_JWT_SECRET`), or else the ones stored in the database, a first
    /// one generated and stored when there is none.
    pub async fn load(store: &Store, configured_secret: Option<&[u8]>, ttl_seconds: i64) -> Result<Self, ApiError> {
        let (keys, configured) = match configured_secret {
            Some(secret) => (vec![SigningKey { kid: configured_kid(secret), secret: secret.to_vec() }], true),
            None => (keys::ensure(store.writer()).await?, false),
        };
        Ok(Self {
            keys: Arc::new(RwLock::new(Arc::new(keys))),
            loaded_at: Arc::new(Mutex::new(Instant::now())),
            ttl_seconds,
            configured,
        })
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    fn current(&self) -> Arc<Vec<SigningKey>> {
        self.keys.read().map(|keys| Arc::clone(&keys)).unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// Signs a token for a user with the newest key, first looking for a newer one when the keys
    /// were read more than [`KEY_REFRESH`] ago.
    pub async fn issue(
        &self,
        store: &Store,
        user_id: Uuid,
        role: Role,
        unit: Option<Uuid>,
    ) -> Result<String, ApiError> {
        let stale = self.loaded_at.lock().map_or(true, |loaded_at| loaded_at.elapsed() > KEY_REFRESH);
        if stale && !self.configured {
            self.reload(store).await?;
        }
        let keys = self.current();
        let key = keys.first().ok_or_else(|| ApiError::internal("no signing key"))?;
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user_id,
            exp: now + self.ttl_seconds,
            nbf: now,
            iat: now,
            jti: Uuid::now_v7(),
            role,
            unit,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        encode(&header, &claims, &EncodingKey::from_secret(&key.secret)).map_err(ApiError::internal)
    }

    /// The claims of a valid token, or 401. A key id this process has not seen yet is looked up in
    /// the database once, since another process may have created it.
    pub async fn verify(&self, store: &Store, token: &str) -> Result<Claims, ApiError> {
        let kid = decode_header(token).ok().and_then(|header| header.kid).ok_or(ApiError::Unauthorized)?;
        let key = match self.find(&kid) {
            Some(key) => key,
            None if !self.configured => {
                self.reload(store).await?;
                self.find(&kid).ok_or(ApiError::Unauthorized)?
            }
            None => return Err(ApiError::Unauthorized),
        };
        decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &validation()).map(|data| data.claims).map_err(
            |error| {
                tracing::debug!(%error, "token rejected");
                ApiError::Unauthorized
            },
        )
    }

    fn find(&self, kid: &str) -> Option<SigningKey> {
        self.current().iter().find(|key| key.kid == kid).cloned()
    }

    async fn reload(&self, store: &Store) -> Result<(), ApiError> {
        let fresh = keys::all(store.conn()).await?;
        if let Ok(mut keys) = self.keys.write() {
            *keys = Arc::new(fresh);
        }
        if let Ok(mut loaded_at) = self.loaded_at.lock() {
            *loaded_at = Instant::now();
        }
        Ok(())
    }
}

fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY;
    validation
}

/// A configured secret's key id: a digest prefix, so that it names the key without revealing it.
fn configured_kid(secret: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(secret);
    format!("cfg-{}", hex::encode(&digest[..6]))
}
