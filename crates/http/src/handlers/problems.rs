//! The problem responses the handlers document, in a few shared sets. A handler names one set next
//! to its success response, as in `responses((status = 200, description = "The unit", body = UnitResponse), Reading)`. A set
//! may document a status that a particular endpoint never sends, but never leaves one out.
#![allow(dead_code, reason = "the sets are never built; only what IntoResponses derives from them is used")]

use utoipa::IntoResponses;

use crate::Problem;

const PROBLEM: &str = "application/problem+json";

const MALFORMED: &str = "Malformed request: bad JSON, path or query";
const UNAUTHORIZED: &str = "No valid bearer token";
const FORBIDDEN: &str = "The caller's role may not do this";
const NOT_FOUND: &str = "No such resource in the caller's scope";
const CONFLICT: &str = "Conflicts with an existing resource, named by existing_id";
const PRECONDITION_FAILED: &str = "If-Match does not match the current ETag";
const INVALID: &str = "Invalid values, listed in errors";
const TOO_LARGE: &str = "The request body is too large";

/// The problems of reading a record or listing records.
#[derive(IntoResponses)]
pub enum Reading {
    #[response(status = 400, description = MALFORMED, content_type = PROBLEM)]
    BadRequest(Problem),
    #[response(status = 401, description = UNAUTHORIZED, content_type = PROBLEM)]
    Unauthorized(Problem),
    #[response(status = 403, description = FORBIDDEN, content_type = PROBLEM)]
    Forbidden(Problem),
    #[response(status = 404, description = NOT_FOUND, content_type = PROBLEM)]
    NotFound(Problem),
}

/// The problems of changing, deleting or moving an existing record, or acting on it.
#[derive(IntoResponses)]
pub enum Changing {
    #[response(status = 400, description = MALFORMED, content_type = PROBLEM)]
    BadRequest(Problem),
    #[response(status = 401, description = UNAUTHORIZED, content_type = PROBLEM)]
    Unauthorized(Problem),
    #[response(status = 403, description = FORBIDDEN, content_type = PROBLEM)]
    Forbidden(Problem),
    #[response(status = 404, description = NOT_FOUND, content_type = PROBLEM)]
    NotFound(Problem),
    #[response(status = 409, description = CONFLICT, content_type = PROBLEM)]
    Conflict(Problem),
    #[response(status = 412, description = PRECONDITION_FAILED, content_type = PROBLEM)]
    PreconditionFailed(Problem),
    #[response(status = 422, description = INVALID, content_type = PROBLEM)]
    Invalid(Problem),
}

/// The problems of creating a record, from JSON or from an uploaded file.
#[derive(IntoResponses)]
pub enum Creating {
    #[response(status = 400, description = MALFORMED, content_type = PROBLEM)]
    BadRequest(Problem),
    #[response(status = 401, description = UNAUTHORIZED, content_type = PROBLEM)]
    Unauthorized(Problem),
    #[response(status = 403, description = FORBIDDEN, content_type = PROBLEM)]
    Forbidden(Problem),
    #[response(status = 409, description = CONFLICT, content_type = PROBLEM)]
    Conflict(Problem),
    #[response(status = 413, description = TOO_LARGE, content_type = PROBLEM)]
    TooLarge(Problem),
    #[response(status = 422, description = INVALID, content_type = PROBLEM)]
    Invalid(Problem),
}

/// The problems of adding a record under an existing one, such as a comment on a support request.
#[derive(IntoResponses)]
pub enum Commenting {
    #[response(status = 400, description = MALFORMED, content_type = PROBLEM)]
    BadRequest(Problem),
    #[response(status = 401, description = UNAUTHORIZED, content_type = PROBLEM)]
    Unauthorized(Problem),
    #[response(status = 403, description = FORBIDDEN, content_type = PROBLEM)]
    Forbidden(Problem),
    #[response(status = 404, description = NOT_FOUND, content_type = PROBLEM)]
    NotFound(Problem),
    #[response(status = 413, description = TOO_LARGE, content_type = PROBLEM)]
    TooLarge(Problem),
    #[response(status = 422, description = INVALID, content_type = PROBLEM)]
    Invalid(Problem),
}

/// The problems of a request any signed-in caller may make: only a missing or bad token.
#[derive(IntoResponses)]
pub enum SignedIn {
    #[response(status = 401, description = UNAUTHORIZED, content_type = PROBLEM)]
    Unauthorized(Problem),
}

/// The problems of asking for an access token.
#[derive(IntoResponses)]
pub enum IssuingToken {
    #[response(status = 400, description = MALFORMED, content_type = PROBLEM)]
    BadRequest(Problem),
    #[response(
        status = 401,
        description = "Unknown user, wrong password or secret, or deactivated user",
        content_type = PROBLEM
    )]
    Unauthorized(Problem),
    #[response(status = 422, description = INVALID, content_type = PROBLEM)]
    Invalid(Problem),
    #[response(
        status = 429,
        description = "Too many failed logins for this username or address; retry after the Retry-After seconds",
        content_type = PROBLEM
    )]
    TooManyRequests(Problem),
    #[response(
        status = 503,
        description = "Too many logins wait for a password check already; retry after the Retry-After seconds",
        content_type = PROBLEM
    )]
    Busy(Problem),
}
