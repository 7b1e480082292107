//! Personal numbers at rest: sealed (XChaCha20-Poly1305) so that a copy of the database does not
//! reveal them, and fingerprinted (HMAC-SHA256) so that they can still be looked up and kept unique
//! without being decrypted. Nothing outside this crate sees a sealed value or a fingerprint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use sha2::Sha256;

use crate::StoreError;
use crate::entity::server_secret::{self, Entity};

/// The name under which a generated key is stored when none is configured.
const STORED_KEY_NAME: &str = "pii_key";
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
        mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// The configured master key, or the one stored in the database (generated on first use), so that
/// every process sharing the database seals with the same key.
pub(crate) async fn load(db: &impl ConnectionTrait, configured: Option<&[u8; 32]>) -> Result<PiiKey, StoreError> {
    if let Some(master) = configured {
        return PiiKey::new(master);
    }
    if let Some(stored) = Entity::find_by_id(STORED_KEY_NAME).one(db).await? {
        return PiiKey::new(&decode_master(&stored.value)?);
    }
    let master: [u8; 32] = rand::random();
    let row = server_secret::ActiveModel {
        name: Set(STORED_KEY_NAME.to_owned()),
        value: Set(master.iter().map(|byte| format!("{byte:02x}")).collect()),
        created_at: Set(crate::now()),
    };
    match Entity::insert(row).exec(db).await.map_err(StoreError::from) {
        Ok(_) => PiiKey::new(&master),
        // Another process stored its key first: use that one.
        Err(StoreError::Conflict { .. }) => {
            let stored = Entity::find_by_id(STORED_KEY_NAME).one(db).await?.ok_or(StoreError::NotFound)?;
            PiiKey::new(&decode_master(&stored.value)?)
        }
        Err(other) => Err(other),
    }
}

fn decode_master(hex: &str) -> Result<[u8; 32], StoreError> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|at| hex.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect();
    bytes
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt("the stored personal-data key".into()))
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
    fn stored_keys_decode() {
        assert_eq!(decode_master(&"ab".repeat(32)).expect("valid"), [0xab; 32]);
        assert!(decode_master("zz").is_err());
    }
}
