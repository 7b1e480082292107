//! Personal numbers at rest: sealed (XChaCha20-Poly1305) so that a copy of the database does not
//! reveal them, and fingerprinted (HMAC-SHA256) so that they can still be looked up and kept unique
//! without being decrypted. Nothing outside this crate sees a sealed value or a fingerprint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use sha2::Sha256;

use crate::StoreError;
use crate::audit::{self, Actor, Change};
use crate::entity::server_secret::{self, Column, Entity};
use crate::entity::{citizen_account, official, roster_entry};

/// The name under which a generated key is stored when none is configured.
const STORED_KEY_NAME: &str = "pii_key";
/// The name under which the check of the key in use is stored.
const KEY_CHECK_NAME: &str = "pii_key_check";
/// Marks the sealing scheme, so that a later scheme can be told apart from this one.
const SEALED_PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 24;

/// The key that seals personal numbers. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct PiiKey {
    cipher: XChaCha20Poly1305,
    lookup: Hmac<Sha256>,
}

impl std::fmt::Debug for PiiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiKey(…)")
    }
}

fn derive(master: &[u8; 32], purpose: &str) -> Result<[u8; 32], StoreError> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(master).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    mac.update(purpose.as_bytes());
    Ok(mac.finalize().into_bytes().into())
}

impl PiiKey {
    /// Derives separate keys for sealing and for fingerprints from one master key.
    pub fn new(master: &[u8; 32]) -> Result<Self, StoreError> {
        let sealing = derive(master, "dvc personal numbers: sealing")?;
        let lookup = derive(master, "dvc personal numbers: lookup")?;
        Ok(Self {
            cipher: XChaCha20Poly1305::new(&sealing.into()),
            lookup: <Hmac<Sha256> as Mac>::new_from_slice(&lookup)
                .map_err(|error| StoreError::Corrupt(error.to_string()))?,
        })
    }

    pub(crate) fn seal(&self, plain: &str) -> Result<String, StoreError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed =
            self.cipher.encrypt(&nonce, plain.as_bytes()).map_err(|_| StoreError::Corrupt("sealing failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub(crate) fn open(&self, sealed: &str) -> Result<String, StoreError> {
        let corrupt = || StoreError::Corrupt("a sealed personal number does not open with the configured key".into());
        let bytes = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|body| URL_SAFE_NO_PAD.decode(body).ok())
            .ok_or_else(corrupt)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(corrupt());
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| corrupt())?;
        let plain = self.cipher.decrypt(&XNonce::from(nonce), body).map_err(|_| corrupt())?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }

    /// The lookup fingerprint of a value: equal values, equal fingerprints; nothing else learnt.
    pub(crate) fn fingerprint(&self, plain: &str) -> String {
        let mut mac = self.lookup.clone();
        mac.update(plain.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The configured master key, or the one stored in the database (generated on first use), so that
/// every process sharing the database seals with the same key.
///
/// A check of the key in use is stored at first use. A later start with another key is refused with
/// [`StoreError::PiiKeyMismatch`] before it seals anything: it could open none of the stored numbers.
pub(crate) async fn load(db: &impl ConnectionTrait, configured: Option<&[u8; 32]>) -> Result<PiiKey, StoreError> {
    let stored = secret(db, STORED_KEY_NAME).await?.map(|hex| decode_master(&hex)).transpose()?;
    // A database sealed before checks were stored is checked against its stored key, if it has one.
    let recorded = match secret(db, KEY_CHECK_NAME).await? {
        Some(check) => Some(check),
        None => stored.as_ref().map(key_check).transpose()?,
    };
    let master = match (configured, stored) {
        (Some(master), _) => *master,
        (None, Some(stored)) => stored,
        (None, None) if recorded.is_none() => generate(db).await?,
        (None, None) => return Err(StoreError::PiiKeyMismatch),
    };
    let check = key_check(&master)?;
    if recorded.is_some_and(|recorded| recorded != check) {
        return Err(StoreError::PiiKeyMismatch);
    }
    if !insert_secret(db, KEY_CHECK_NAME, &check).await? && secret(db, KEY_CHECK_NAME).await?.as_ref() != Some(&check) {
        // Another process recorded the check of another key first.
        return Err(StoreError::PiiKeyMismatch);
    }
    PiiKey::new(&master)
}

/// A new random key, stored; or the key another process stored first.
async fn generate(db: &impl ConnectionTrait) -> Result<[u8; 32], StoreError> {
    let master: [u8; 32] = rand::random();
    if insert_secret(db, STORED_KEY_NAME, &hex::encode(master)).await? {
        return Ok(master);
    }
    decode_master(&secret(db, STORED_KEY_NAME).await?.ok_or(StoreError::NotFound)?)
}

/// The check stored for a master key: a value derived from it for this purpose alone, which tells
/// whether a key is the one in use and nothing about the key.
fn key_check(master: &[u8; 32]) -> Result<String, StoreError> {
    Ok(hex::encode(derive(master, "dvc personal numbers: key check")?))
}

async fn secret(db: &impl ConnectionTrait, name: &str) -> Result<Option<String>, StoreError> {
    Ok(Entity::find_by_id(name).one(db).await?.map(|row| row.value))
}

/// Stores a secret unless one of that name exists; whether it was stored.
async fn insert_secret(db: &impl ConnectionTrait, name: &str, value: &str) -> Result<bool, StoreError> {
    let row = server_secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value.to_owned()),
        created_at: Set(crate::now()),
    };
    match Entity::insert(row).exec(db).await.map_err(StoreError::from) {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// How many records a key rotation re-sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resealed {
    pub officials: usize,
    pub roster_entries: usize,
    pub citizen_accounts: usize,
}

/// Where the new key of a rotation is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewKeyKept {
    /// In the database, as a generated key is: no key needs to be configured.
    InDatabase,
    /// With the operator (`DVC_PII_KEY`): a key stored in the database is removed, so that the key
    /// no longer lives beside the data it protects.
    ByOperator,
}

/// Re-seals every personal number under `new_master` (and recomputes its lookup fingerprint), then
/// records the new key's check, in the caller's transaction: either every number moves to the new
/// key or none does. Versions are left as they are, since no record's content changes.
pub async fn rotate(
    db: &impl ConnectionTrait,
    actor: &Actor,
    old: &PiiKey,
    new_master: &[u8; 32],
    kept: NewKeyKept,
) -> Result<Resealed, StoreError> {
    let new = PiiKey::new(new_master)?;
    let mut resealed = Resealed::default();
    for row in official::Entity::find().all(db).await? {
        let id_number = old.open(&row.id_number_sealed)?;
        let phone = old.open(&row.phone_sealed)?;
        official::ActiveModel {
            id: Set(row.id),
            id_number_sealed: Set(new.seal(&id_number)?),
            id_number_hash: Set(new.fingerprint(&id_number)),
            phone_sealed: Set(new.seal(&phone)?),
            ..Default::default()
        }
        .update(db)
        .await?;
        resealed.officials += 1;
    }
    for row in roster_entry::Entity::find().all(db).await? {
        let id_number = old.open(&row.id_number_sealed)?;
        let phone = old.open(&row.phone_sealed)?;
        roster_entry::ActiveModel {
            id: Set(row.id),
            id_number_sealed: Set(new.seal(&id_number)?),
            phone_sealed: Set(new.seal(&phone)?),
            ..Default::default()
        }
        .update(db)
        .await?;
        resealed.roster_entries += 1;
    }
    resealed.citizen_accounts = reseal_citizen_accounts(db, old, &new).await?;
    Entity::delete_many().filter(Column::Name.is_in([STORED_KEY_NAME, KEY_CHECK_NAME])).exec(db).await?;
    insert_secret(db, KEY_CHECK_NAME, &key_check(new_master)?).await?;
    if kept == NewKeyKept::InDatabase {
        insert_secret(db, STORED_KEY_NAME, &hex::encode(new_master)).await?;
    }
    let change = Change {
        action: "pii_key.rotate",
        entity: "pii_key",
        entity_id: None,
        unit_id: None,
        before: None,
        after: Some(json!({
            "officials": resealed.officials,
            "roster_entries": resealed.roster_entries,
            "citizen_accounts": resealed.citizen_accounts,
        })),
    };
    audit::record(db, actor, change).await?;
    Ok(resealed)
}

/// Citizen-account records are many: they are read a page at a time, in id order, so that memory
/// stays bounded whatever their number.
async fn reseal_citizen_accounts(db: &impl ConnectionTrait, old: &PiiKey, new: &PiiKey) -> Result<usize, StoreError> {
    const PAGE: u64 = 1_000;
    let mut resealed = 0;
    let mut after: Option<uuid::Uuid> = None;
    loop {
        let mut select = citizen_account::Entity::find().order_by_asc(citizen_account::Column::Id).limit(PAGE);
        if let Some(last) = after {
            select = select.filter(citizen_account::Column::Id.gt(last));
        }
        let rows = select.all(db).await?;
        let Some(last) = rows.last() else { return Ok(resealed) };
        after = Some(last.id);
        for row in rows {
            let id_number = old.open(&row.id_number_sealed)?;
            let phone = old.open(&row.phone_sealed)?;
            citizen_account::ActiveModel {
                id: Set(row.id),
                id_number_sealed: Set(new.seal(&id_number)?),
                id_number_hash: Set(new.fingerprint(&id_number)),
                phone_sealed: Set(new.seal(&phone)?),
                ..Default::default()
            }
            .update(db)
            .await?;
            resealed += 1;
        }
    }
}

fn decode_master(text: &str) -> Result<[u8; 32], StoreError> {
    let mut master = [0; 32];
    hex::decode_to_slice(text, &mut master).map_err(|_| StoreError::Corrupt("the stored personal-data key".into()))?;
    Ok(master)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PiiKey {
        PiiKey::new(&[byte; 32]).expect("a key")
    }

    #[test]
    fn sealed_values_open_only_with_their_key() {
        let sealed = key(1).seal("052012345645").expect("sealed");
        assert!(!sealed.contains("052012345645"));
        assert_eq!(key(1).open(&sealed).expect("opens"), "052012345645");
        assert!(key(2).open(&sealed).is_err());
        assert_ne!(key(1).seal("052012345645").expect("sealed"), sealed, "each seal uses a fresh nonce");
    }

    #[test]
    fn fingerprints_are_stable_per_key() {
        assert_eq!(key(1).fingerprint("0972123588"), key(1).fingerprint("0972123588"));
        assert_ne!(key(1).fingerprint("0972123588"), key(2).fingerprint("0972123588"));
        assert_ne!(key(1).fingerprint("0972123588"), key(1).fingerprint("0972123589"));
    }

    #[test]
    fn key_checks_tell_keys_apart_without_revealing_them() {
        let check = key_check(&[1; 32]).expect("a check");
        assert_eq!(check, key_check(&[1; 32]).expect("a check"));
        assert_ne!(check, key_check(&[2; 32]).expect("a check"));
        assert_ne!(check, hex::encode([1; 32]));
    }

    #[test]
    fn stored_keys_decode() {
        assert_eq!(decode_master(&"ab".repeat(32)).expect("valid"), [0xab; 32]);
        assert!(decode_master("zz").is_err());
    }
}
