use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use dvc_store::login::{self, Login};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problems::{IssuingToken, SignedIn};
use super::users::UserResponse;
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
#[post("/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let (username, secret) = body.into_inner().credentials()?;
    let address = request.peer_addr().map(|address| address.ip());
    let verify = async |hash| state.hashing.verify(secret, hash).await;
    let user = match login::log_in(state.store.writer(), &username, address, Utc::now(), verify).await? {
        Login::Throttled { retry_after } => return Err(ApiError::TooManyRequests { retry_after }),
        Login::Refused => return Err(ApiError::InvalidCredentials),
        Login::Accepted(user) => user,
    };
    let access_token = state.tokens.issue(&state.store, user.id, user.role, user.unit_id).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_seconds(),
    }))
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
#[get("/me")]
pub async fn me(state: web::Data<AppState>, Caller(principal): Caller) -> Result<HttpResponse, ApiError> {
    let user = dvc_store::users::get(state.store.conn(), principal.user_id).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}
