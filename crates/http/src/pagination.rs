//! Cursor pagination shared by every list: `?limit=` (1 to 500, default 50) and an opaque `?cursor=`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dvc_store::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return, 1 to 500 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl PageQuery {
    /// The store's page request, or 400 for a limit out of range or a cursor this server did not issue.
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        let limit = match &self.limit {
            None => DEFAULT_LIMIT,
            Some(raw) => {
                raw.parse::<u64>().ok().filter(|limit| (1..=MAX_LIMIT).contains(limit)).ok_or_else(|| {
                    ApiError::BadRequest(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))
                })?
            }
        };
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageRequest { after, limit })
    }
}

fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::BadRequest("the cursor is not one this server issued".to_owned()))
}

fn encode_cursor(after: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(after.as_bytes())
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> ListResponse<T> {
    pub fn from_page<S>(page: Page<S>, convert: impl FnMut(S) -> T) -> Self {
        Self { items: page.items.into_iter().map(convert).collect(), next_cursor: page.next_after.map(encode_cursor) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<&str>, cursor: Option<&str>) -> PageQuery {
        PageQuery { limit: limit.map(str::to_owned), cursor: cursor.map(str::to_owned) }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(query(None, None).request().map(|r| r.limit).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(query(Some("500"), None).request().map(|r| r.limit).ok(), Some(500));
        assert!(query(Some("0"), None).request().is_err());
        assert!(query(Some("501"), None).request().is_err());
        assert!(query(Some("ten"), None).request().is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::now_v7();
        let cursor = encode_cursor(id);
        assert_eq!(query(None, Some(&cursor)).request().ok().and_then(|r| r.after), Some(id));
        assert!(query(None, Some("not-a-cursor")).request().is_err());
    }
}
