//! Cursor pagination shared by every list: `?limit=` (1 to 500, default 50) and an opaque `?cursor=`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dvc_store::{Cursor, Page, PageRequest};
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

/// A cursor is the id of the last item (16 bytes), then the sort key of lists ordered by one.
fn decode_cursor(cursor: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::BadRequest("the cursor is not one this server issued".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    if bytes.len() < 16 {
        return Err(bad());
    }
    let (id, key) = bytes.split_at(16);
    let id = Uuid::from_slice(id).map_err(|_| bad())?;
    let key = if key.is_empty() { None } else { Some(String::from_utf8(key.to_vec()).map_err(|_| bad())?) };
    Ok(Cursor { key, id })
}

fn encode_cursor(cursor: Cursor) -> String {
    let mut bytes = cursor.id.as_bytes().to_vec();
    bytes.extend_from_slice(cursor.key.unwrap_or_default().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> ListResponse<T> {
    pub fn empty() -> Self {
        Self { items: Vec::new(), next_cursor: None }
    }

    pub fn from_page<S>(page: Page<S>, convert: impl FnMut(S) -> T) -> Self {
        Self { items: page.items.into_iter().map(convert).collect(), next_cursor: page.next.map(encode_cursor) }
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
        for key in [None, Some("LAN01".to_owned())] {
            let cursor = Cursor { key, id: Uuid::now_v7() };
            let encoded = encode_cursor(cursor.clone());
            assert_eq!(query(None, Some(&encoded)).request().ok().and_then(|r| r.after), Some(cursor));
        }
        assert!(query(None, Some("not-a-cursor")).request().is_err());
    }
}
