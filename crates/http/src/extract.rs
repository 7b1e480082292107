//! How requests are read: rejected bodies, paths and queries become problem+json, and the headers
//! that steer writes (`If-Match`, `Idempotency-Key`) are parsed once here.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;

/// The largest JSON body accepted; larger ones get 413 before they are parsed.
pub const JSON_LIMIT: usize = 256 * 1024;

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(JSON_LIMIT).error_handler(|error, _| json_error(error).into())
}

fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => ApiError::PayloadTooLarge,
        JsonPayloadError::ContentType => ApiError::BadRequest("the body must be application/json".to_owned()),
        // Well-formed JSON with a value of the wrong type or an unknown field is an invalid value;
        // anything else is not JSON at all.
        JsonPayloadError::Deserialize(error) if error.is_data() => {
            ApiError::invalid("", "invalid_body", &error.to_string())
        }
        other => ApiError::BadRequest(format!("the body is not valid JSON: {other}")),
    }
}

/// A JSON body allowed up to the upload limit rather than [`JSON_LIMIT`]: a roster of thousands of
/// rows is one request. Errors are answered as for ordinary JSON bodies.
#[derive(Debug)]
pub struct LargeJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for LargeJson<T> {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
                value.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(json_error(JsonPayloadError::ContentType));
            }
            let bytes = bytes.await.map_err(|_| ApiError::PayloadTooLarge)?;
            serde_json::from_slice(&bytes)
                .map(LargeJson)
                .map_err(|error| json_error(JsonPayloadError::Deserialize(error)))
        })
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        let detail = match error {
            QueryPayloadError::Deserialize(error) => format!("invalid query: {error}"),
            other => format!("invalid query: {other}"),
        };
        ApiError::BadRequest(detail).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _| {
        let detail = match error {
            PathError::Deserialize(error) => format!("invalid path: {error}"),
            other => format!("invalid path: {other}"),
        };
        ApiError::BadRequest(detail).into()
    })
}

/// The version an `If-Match` header expects, if the request carries one. `*` (or no header) asks
/// for no check; an entity tag of another shape can never match, so the write fails with 412.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return ready(Ok(IfMatch(None)));
        };
        let value = value.to_str().unwrap_or("").trim();
        if value == "*" {
            return ready(Ok(IfMatch(None)));
        }
        let version = value.split(',').find_map(|tag| parse_etag(tag.trim())).unwrap_or(-1);
        ready(Ok(IfMatch(Some(version))))
    }
}

/// The entity tag of a record's version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn parse_etag(tag: &str) -> Option<i64> {
    tag.strip_prefix("\"v")?.strip_suffix('"')?.parse().ok()
}

/// The `Idempotency-Key` header of a creating request, if it has one: 1 to 255 visible ASCII
/// characters. A malformed key is a 400, never silently ignored.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get("idempotency-key") else {
            return ready(Ok(IdempotencyKey(None)));
        };
        let key = value.to_str().unwrap_or("");
        let valid = (1..=255).contains(&key.len()) && key.bytes().all(|byte| byte.is_ascii_graphic());
        ready(if valid {
            Ok(IdempotencyKey(Some(key.to_owned())))
        } else {
            Err(ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".to_owned()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("W/\"v7\""), None);
        assert_eq!(parse_etag("\"abc\""), None);
    }
}
