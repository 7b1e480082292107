//! The one error type of the HTTP layer and its problem+json form (RFC 9457).
//!
//! Handlers return `Result<_, ApiError>`. A variant says what the client may know; the cause of an
//! internal or database error is logged here, with the request's span, and never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use dvc_domain::{Denied, ParseError};
use dvc_store::{StoreError, Subject};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One invalid value: where it is in the request (a JSON pointer), a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    #[schema(example = "/entries/3/id_number")]
    pub pointer: String,
    #[schema(example = "invalid_id_number")]
    pub code: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: &str, error: ParseError) -> Self {
        Self { pointer: pointer.to_owned(), code: error.code.to_owned(), detail: error.detail }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "https://dvc.invalid/problems/validation")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The invalid values, for a 422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The record that stands in the way, for a 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub existing_id: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    /// A login refused: unknown user, wrong password or secret, or a deactivated user, told apart
    /// from a missing token so that a person sees what to correct.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {detail}")]
    Conflict { detail: String, existing_id: Option<Uuid> },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("too many requests")]
    TooManyRequests { retry_after: chrono::TimeDelta },
    #[error("invalid values")]
    Validation(Vec<FieldError>),
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Too much expensive work waits already (password hashes); the client should come back.
    #[error("busy")]
    Busy,
    /// A failure the client can do nothing about; the cause, with its sources, goes to the log.
    #[error("internal: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn invalid(pointer: &str, code: &'static str, detail: &str) -> Self {
        Self::Validation(vec![FieldError::new(pointer, ParseError::new(code, detail))])
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad-request", "Bad request"),
            ApiError::Unauthorized => ("unauthorized", "Authentication required"),
            ApiError::InvalidCredentials => ("invalid-credentials", "Invalid credentials"),
            ApiError::Forbidden => ("forbidden", "Not allowed for this role"),
            ApiError::NotFound => ("not-found", "Not found"),
            ApiError::Conflict { .. } => ("conflict", "Conflict"),
            ApiError::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            ApiError::PayloadTooLarge => ("payload-too-large", "Request body too large"),
            ApiError::TooManyRequests { .. } => ("too-many-requests", "Too many attempts"),
            ApiError::Validation(_) => ("validation", "Invalid values"),
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::Busy => ("busy", "Busy"),
            ApiError::Internal(_) => ("internal", "Internal error"),
        }
    }

    /// The problem document answering this error.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        Problem {
            kind: format!("https://dvc.invalid/problems/{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
            existing_id: match self {
                ApiError::Conflict { existing_id, .. } => *existing_id,
                _ => None,
            },
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest(detail) => detail.clone(),
            ApiError::Unauthorized => "a valid bearer token is required".to_owned(),
            ApiError::InvalidCredentials => "invalid username or password".to_owned(),
            ApiError::Forbidden => "your role may not do this".to_owned(),
            ApiError::NotFound => "no such resource".to_owned(),
            ApiError::Conflict { detail, .. } => detail.clone(),
            ApiError::PreconditionFailed => "the resource changed since it was read; read it again".to_owned(),
            ApiError::PayloadTooLarge => "the request body exceeds the limit".to_owned(),
            ApiError::TooManyRequests { .. } => "too many failed attempts; wait before trying again".to_owned(),
            ApiError::Validation(_) => "some values are invalid; see errors".to_owned(),
            ApiError::Unavailable(_) => "the database is unreachable; retry shortly".to_owned(),
            ApiError::Busy => {
                "too many requests are waiting for the same work; retry after Retry-After seconds".to_owned()
            }
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
        }
    }
}

/// The problem+json response for a status and detail, for answers given outside a handler
/// (unknown routes, rejected extractors).
pub fn problem_response(status: StatusCode, slug: &str, title: &str, detail: String) -> HttpResponse {
    let problem = Problem {
        kind: format!("https://dvc.invalid/problems/{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        existing_id: None,
    };
    HttpResponse::build(status).content_type("application/problem+json").json(problem)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(cause = %source_chain(cause.as_ref()), "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let problem = self.problem();
        let mut response =
            HttpResponse::build(self.status_code()).content_type("application/problem+json").json(problem);
        match self {
            ApiError::Unauthorized => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unavailable(_) | ApiError::Busy => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::TooManyRequests { retry_after } => {
                // Whole seconds, rounded up, and at least one: a client that waits this long gets in.
                let seconds = (retry_after.num_milliseconds() + 999).div_euclid(1000).max(1);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}

/// An error and each of its sources, outermost first, so that the log shows why as well as what.
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |error| error.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": caused by: ")
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { detail, existing_id } => ApiError::Conflict { detail, existing_id },
            StoreError::VersionMismatch => ApiError::PreconditionFailed,
            StoreError::BadCursor => ApiError::BadRequest("the cursor does not belong to this list".to_owned()),
            StoreError::Invalid { subject, error } => {
                ApiError::Validation(vec![FieldError::new(pointer_to(subject), error)])
            }
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause.to_string()),
            other @ (StoreError::Database(_) | StoreError::Corrupt(_) | StoreError::PiiKeyMismatch) => {
                ApiError::internal(other)
            }
        }
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::RoleNotAllowed => ApiError::Forbidden,
            Denied::OutOfScope => ApiError::NotFound,
        }
    }
}

/// Collects the invalid values of one request, so that the client hears of all of them at once.
#[derive(Debug, Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// Keeps a parsed value, or notes why it is invalid.
    pub fn check<T>(&mut self, pointer: &str, parsed: Result<T, ParseError>) -> Option<T> {
        parsed.map_err(|error| self.0.push(FieldError::new(pointer, error))).ok()
    }

    /// Notes every constraint that `value`'s `#[derive(Validate)]` declares and that it breaks, each
    /// at `prefix` followed by the field's name. The declarations carry the code and the sentence.
    pub fn validate(&mut self, prefix: &str, value: &impl validator::Validate) {
        let Err(errors) = value.validate() else { return };
        let mut found: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, errors)| {
                errors.iter().map(move |error| FieldError {
                    pointer: format!("{prefix}/{field}"),
                    code: error.code.to_string(),
                    detail: error.message.as_deref().map_or_else(|| format!("{field} is not allowed"), str::to_owned),
                })
            })
            .collect();
        // The map has no order; the answer should not change from one request to the next.
        found.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        self.0.extend(found);
    }

    /// Notes an invalid value found by a check other than parsing.
    pub fn reject(&mut self, pointer: &str, error: ParseError) {
        self.0.push(FieldError::new(pointer, error));
    }

    /// The errors noted so far, leaving none.
    pub fn take(&mut self) -> Vec<FieldError> {
        std::mem::take(&mut self.0)
    }

    /// The value `build` makes of the checked values, or a 422 listing every invalid one.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        if !self.0.is_empty() {
            return Err(ApiError::Validation(self.0));
        }
        build().ok_or_else(|| ApiError::internal("a checked value is missing"))
    }
}

/// Where in its request a caller gave the value the store refused.
fn pointer_to(subject: Subject) -> &'static str {
    match subject {
        Subject::Parent => "/parent_id",
        Subject::ListedParent => "/parent_code",
        Subject::Successors => "/successor_ids",
        Subject::ValidTo => "/valid_to",
        Subject::RosterEntries => "/entries",
        Subject::AmendedSnapshot => "/amends",
    }
}
