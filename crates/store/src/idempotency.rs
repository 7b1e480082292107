//! Stored answers to creating requests, so that a retried request with the same `Idempotency-Key`
//! gets the first answer instead of creating a second record.
//!
//! Keys live in the database, in the transaction of the write they guard: every API process sees
//! them, and a key is stored exactly when its write is.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::idempotency_key::{self, Entity};

/// The first answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

pub async fn find(db: &impl ConnectionTrait, user_id: Uuid, key: &str) -> Result<Option<StoredResponse>, StoreError> {
    let stored = Entity::find_by_id((user_id, key.to_owned())).one(db).await?;
    Ok(stored.map(|stored| StoredResponse {
        request_hash: stored.request_hash,
        status: u16::try_from(stored.status).unwrap_or(500),
        body: stored.body,
    }))
}

/// Stores the answer; a concurrent request that stored the same key first makes this a conflict.
pub async fn save(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    let model = idempotency_key::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.to_owned()),
        request_hash: Set(response.request_hash.clone()),
        status: Set(i16::try_from(response.status).unwrap_or(i16::MAX)),
        body: Set(response.body.clone()),
        created_at: Set(crate::now()),
    };
    Entity::insert(model).exec(db).await?;
    Ok(())
}
