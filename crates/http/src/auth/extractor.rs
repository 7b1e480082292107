use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use dvc_domain::Principal;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a request. A handler that takes it requires a valid bearer token of
/// an active user. The role and scope come from the database, not the token, so that a change to a
/// user takes effect at once (the store keeps them between requests only while it is sure of that).
#[derive(Debug)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or(ApiError::Unauthorized)?;
            let claims = state.tokens.verify(&state.store, &token).await?;
            let principal = state.store.principal(claims.sub).await?;
            principal.map(Caller).ok_or(ApiError::Unauthorized)
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}
