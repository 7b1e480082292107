use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{TimeDelta, Utc};
use dvc_store::throttle::{self, Limit};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problems::{IssuingToken, SignedIn};
use super::users::UserResponse;
use crate::auth::password;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::{AppState, Caller};

/// A person's username and password, or a service account's client id and secret.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "admin")]
    username: Option<String>,
    password: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: i64,
}

impl TokenRequest {
    fn credentials(self) -> Result<(String, String), ApiError> {
        match (self.username, self.password, self.client_id, self.client_secret) {
            (Some(username), Some(password), None, None) | (None, None, Some(username), Some(password)) => {
                Ok((username, password))
            }
            _ => Err(ApiError::invalid(
                "",
                "invalid_credentials_shape",
                "send either username and password, or client_id and client_secret",
            )),
        }
    }
}

/// Issues an access token. Unknown users, wrong passwords and deactivated users get the same 401.
#[utoipa::path(
    tag = "auth",
    operation_id = "issue_token",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The access token", body = TokenResponse),
        IssuingToken,
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let (username, secret) = body.into_inner().credentials()?;
    let username = username.trim().to_lowercase();
    let keys = ThrottleKeys::new(&username, &request);
    let now = Utc::now();
    if let Some(until) = throttle::blocked_until(state.store.conn(), &keys.limits(), now).await? {
        return Err(ApiError::TooManyRequests { retry_after: until - now });
    }
    let found = dvc_store::users::find_credentials(state.store.conn(), &username).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let matches = password::verify(&state.hashing, secret, hash).await?;
    let Some(user) = user.filter(|user| matches && user.active) else {
        for (key, limit) in keys.limits() {
            throttle::record_failure(state.store.writer(), key, limit, now).await?;
        }
        return Err(ApiError::InvalidCredentials);
    };
    throttle::clear(state.store.writer(), &keys.user).await?;
    let access_token = state.tokens.issue(&state.store, user.id, user.role, user.unit_id).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_seconds(),
    }))
}

/// Failed logins allowed per username, then per client address, in a window: a person mistyping
/// is not stopped, a script guessing passwords is, for one username or across many.
const PER_USERNAME: Limit = Limit { failures: 5, window: TimeDelta::minutes(15) };
const PER_ADDRESS: Limit = Limit { failures: 50, window: TimeDelta::minutes(15) };

/// What failed logins are counted by. Unknown usernames count like known ones, so that the answers
/// do not tell which exist. The address is the connection's peer, not a header a client can forge.
struct ThrottleKeys {
    user: String,
    address: String,
}

impl ThrottleKeys {
    fn new(username: &str, request: &HttpRequest) -> Self {
        let peer = request.peer_addr().map_or_else(|| "unknown".to_owned(), |address| address.ip().to_string());
        Self { user: throttle::user_key(username), address: format!("address:{peer}") }
    }

    fn limits(&self) -> [(&str, Limit); 2] {
        [(self.user.as_str(), PER_USERNAME), (self.address.as_str(), PER_ADDRESS)]
    }
}

/// Who the caller is.
#[utoipa::path(
    tag = "auth",
    operation_id = "get_me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        SignedIn,
    )
)]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, Caller(principal): Caller) -> Result<HttpResponse, ApiError> {
    let user = dvc_store::users::get(state.store.conn(), principal.user_id).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}
