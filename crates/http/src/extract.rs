//! How requests are read: rejected bodies, paths and queries become problem+json, and the headers
//! that steer writes (`If-Match`, `Idempotency-Key`) are parsed once here.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError};
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
        // Bodies are read as any JSON value first, so a failure here means the body is not JSON at
        // all; values of the wrong type are answered by `from_object`, at their pointer.
        other => ApiError::BadRequest(format!("the body is not valid JSON: {other}")),
    }
}

/// A JSON request body that must be an object. serde would also read a struct from an array of its
/// fields (`[null, null]`); the contract says bodies are objects, so anything else is refused (422).
/// Errors are answered as by [`json_config`]: 400 for what is not JSON, 413 past the limit.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Reads a body already parsed as JSON into `T`. Every refusal is a 422 that points at the value
/// at fault (`/unit_id`, `/entries/0/phone`), or at the body itself (`""`) for a missing field or
/// an unknown one.
fn from_object<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid("", "invalid_body", "the body must be a JSON object"));
    }
    if let Some(pointer) = control_character(&value, String::new()) {
        return Err(ApiError::invalid(
            &pointer,
            "control_character",
            "text may not contain NUL or other control characters (line breaks and tabs are allowed)",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let pointer = json_pointer(error.path());
        let code = if pointer.is_empty() { "invalid_body" } else { "invalid_value" };
        ApiError::invalid(&pointer, code, &error.into_inner().to_string())
    })
}

/// The pointer of the first string in `value` holding a control character other than a line break
/// or a tab. Such text is refused rather than stored changed, so that what is stored is what was
/// sent (and a NUL, which PostgreSQL cannot store in text, never reaches the database).
fn control_character(value: &serde_json::Value, pointer: String) -> Option<String> {
    match value {
        serde_json::Value::String(text) => {
            text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')).then_some(pointer)
        }
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| control_character(item, format!("{pointer}/{index}")))
        }
        serde_json::Value::Object(fields) => {
            fields.iter().find_map(|(key, item)| control_character(item, format!("{pointer}/{}", escape_pointer(key))))
        }
        _ => None,
    }
}

/// A JSON pointer token (RFC 6901): `~` and `/` escaped.
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The JSON pointer of the value serde failed on: `/entries/3/id_number`, or `""` for the body.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(escape_pointer(key)),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .map(|token| format!("/{token}"))
        .collect()
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Reading goes through `web::Json`, whose configured error handler answers rejections.
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move { Ok(JsonBody(from_object(value.await?.into_inner())?)) })
    }
}

/// A JSON object body allowed up to the upload limit rather than [`JSON_LIMIT`]: a roster of
/// thousands of rows is one request. Errors are answered as for [`JsonBody`].
#[derive(Debug)]
pub struct LargeJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for LargeJson<T> {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(json_error(JsonPayloadError::ContentType));
            }
            let bytes = bytes.await.map_err(|_| ApiError::PayloadTooLarge)?;
            let value =
                serde_json::from_slice(&bytes).map_err(|error| json_error(JsonPayloadError::Deserialize(error)))?;
            from_object(value).map(LargeJson)
        })
    }
}

/// A query string read into `T`. A parameter that does not parse is a 400 that names it
/// (`active_at: premature end of input`), which actix's own extractor cannot say.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string().as_bytes();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query));
        ready(serde_path_to_error::deserialize(deserializer).map(Query).map_err(|error| {
            let detail = match error.path().iter().next() {
                Some(serde_path_to_error::Segment::Map { key }) => {
                    format!("invalid query parameter `{key}`: {}", error.inner())
                }
                _ => format!("invalid query: {}", error.inner()),
            };
            ApiError::BadRequest(detail)
        }))
    }
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
