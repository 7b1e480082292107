//! Adjustments that make the generated OpenAPI document read well in generated clients: list items
//! named by reference, and each problem response shown with an example of its own status.

use chrono::TimeDelta;
use dvc_domain::ParseError;
use utoipa::Modify;
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{OpenApi, Ref, RefOr};
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

/// Applies the adjustments to the document collected from the routes. They run after the routes
/// are collected, since the modifiers of `#[openapi]` run before any route is added.
pub fn finish(mut openapi: OpenApi) -> OpenApi {
    ListItemsByReference.modify(&mut openapi);
    ProblemExamples.modify(&mut openapi);
    openapi
}

/// The prefix utoipa gives the schema of `ListResponse<T>`: `ListResponse_OfficialResponse`.
const LIST_PREFIX: &str = "ListResponse_";
const PROBLEM: &str = "application/problem+json";

/// Makes every list schema refer to its item schema (`$ref: OfficialResponse`) instead of repeating
/// it inline, as utoipa does for a generic argument: a generated client then has one class per
/// resource, not one more per list.
pub struct ListItemsByReference;

impl Modify for ListItemsByReference {
    fn modify(&self, openapi: &mut OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        for (name, schema) in &mut components.schemas {
            let Some(item) = name.strip_prefix(LIST_PREFIX) else { continue };
            let RefOr::T(Schema::Object(list)) = schema else { continue };
            if let Some(RefOr::T(Schema::Array(items))) = list.properties.get_mut("items") {
                items.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
            }
        }
    }
}

/// Gives every problem response the example of a problem of its own status, made by the same code
/// that answers requests, so that the example cannot disagree with what the server sends.
pub struct ProblemExamples;

impl Modify for ProblemExamples {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let issuing_token = operation.operation_id.as_deref() == Some("issue_token");
                for (status, response) in &mut operation.responses.responses {
                    let RefOr::T(response) = response else { continue };
                    let Some(RefOr::T(content)) = response.content.get_mut(PROBLEM) else { continue };
                    let Some(error) = example_error(status, issuing_token) else { continue };
                    content.example = serde_json::to_value(error.problem()).ok();
                }
            }
        }
    }
}

/// A typical error answered with `status`; a refused login for the token endpoint's 401.
fn example_error(status: &str, issuing_token: bool) -> Option<ApiError> {
    Some(match status {
        "400" => ApiError::BadRequest("invalid query parameter `limit`: invalid digit found in string".to_owned()),
        "401" if issuing_token => ApiError::InvalidCredentials,
        "401" => ApiError::Unauthorized,
        "403" => ApiError::Forbidden,
        "404" => ApiError::NotFound,
        "409" => ApiError::Conflict {
            detail: "a record with the same key exists".to_owned(),
            existing_id: Some(Uuid::from_u128(0x0190_c0de_0000_7000_8000_0000_0000_0000)),
        },
        "412" => ApiError::PreconditionFailed,
        "413" => ApiError::PayloadTooLarge,
        "422" => ApiError::Validation(vec![FieldError::new(
            "/unit_id",
            ParseError::new("invalid_value", "UUID parsing failed: invalid character"),
        )]),
        "429" => ApiError::TooManyRequests { retry_after: TimeDelta::seconds(60) },
        "500" => ApiError::internal(""),
        "503" if issuing_token => ApiError::Busy,
        "503" => ApiError::Unavailable(String::new()),
        _ => return None,
    })
}
