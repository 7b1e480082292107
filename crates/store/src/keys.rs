//! Token signing keys, kept in the database so that every API process signs and checks with the
//! same keys and tokens survive a restart.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};

use crate::StoreError;
use crate::entity::signing_key::{self, Column, Entity};

#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn decode(model: signing_key::Model) -> Result<SigningKey, StoreError> {
    let secret = hex::decode(&model.secret).map_err(|_| StoreError::Corrupt(format!("signing key {}", model.kid)))?;
    Ok(SigningKey { kid: model.kid, secret })
}

/// Every stored key, newest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<SigningKey>, StoreError> {
    Entity::find()
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Kid)
        .all(db)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// Adds a new random key, which every process signs with once it has read it; tokens signed with
/// the older keys stay valid until they expire, since the older keys are still accepted.
pub async fn rotate(db: &impl ConnectionTrait) -> Result<SigningKey, StoreError> {
    insert_random(db).await?;
    all(db).await?.into_iter().next().ok_or(StoreError::NotFound)
}

async fn insert_random(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    let secret: [u8; 32] = rand::random();
    let kid = hex::encode(rand::random::<[u8; 8]>());
    let model =
        signing_key::ActiveModel { kid: Set(kid), secret: Set(hex::encode(secret)), created_at: Set(crate::now()) };
    Entity::insert(model).exec(db).await?;
    Ok(())
}

/// The stored keys, creating a first random one when there is none. Two processes starting at once
/// may both create one; both then sign with the newest and accept either.
pub async fn ensure(db: &impl ConnectionTrait) -> Result<Vec<SigningKey>, StoreError> {
    let keys = all(db).await?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    let secret: [u8; 32] = rand::random();
    let kid = hex::encode(rand::random::<[u8; 8]>());
    let model =
        signing_key::ActiveModel { kid: Set(kid), secret: Set(hex::encode(secret)), created_at: Set(crate::now()) };
    Entity::insert(model).exec(db).await?;
    all(db).await
}
