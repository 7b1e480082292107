//! Password and client-secret hashes: argon2id with the crate's recommended parameters.
//!
//! Hashing is deliberately slow, so it runs on the blocking pool, never on an async worker, and
//! requests pass through a [`HashGate`]: a few hashes at a time, a bounded queue, and beyond it an
//! immediate 503, so that a flood of logins slows down politely instead of taking the machine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use dvc_domain::Password;

use crate::error::ApiError;

/// How many password hashes run at once in this process, and how many may wait for a turn. It is
/// the process's own CPU it protects, so the bound is per process.
#[derive(Debug, Clone)]
pub struct HashGate {
    turns: Arc<tokio::sync::Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
}

/// A turn to hash; the next request may go once it is dropped.
#[derive(Debug)]
pub struct HashTurn(#[allow(dead_code, reason = "held for its Drop")] tokio::sync::OwnedSemaphorePermit);

impl HashGate {
    pub fn new(concurrency: usize, queue: usize) -> Self {
        Self {
            turns: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue,
        }
    }

    /// Waits for a turn, or refuses at once (503 with `Retry-After`) when the queue is full. A
    /// request whose client gave up is dropped while it waits, and never hashes.
    pub async fn enter(&self) -> Result<HashTurn, ApiError> {
        if let Ok(permit) = self.turns.clone().try_acquire_owned() {
            return Ok(HashTurn(permit));
        }
        let place = InQueue::join(&self.waiting);
        if place.ahead >= self.queue {
            return Err(ApiError::Busy);
        }
        let permit = self.turns.clone().acquire_owned().await;
        drop(place);
        permit.map(HashTurn).map_err(ApiError::internal)
    }
}

/// A place in the queue, given back however the wait ends (a turn, a refusal, or the client
/// leaving, which drops the waiting future).
struct InQueue<'a> {
    waiting: &'a AtomicUsize,
    ahead: usize,
}

impl<'a> InQueue<'a> {
    fn join(waiting: &'a AtomicUsize) -> Self {
        Self { ahead: waiting.fetch_add(1, Ordering::SeqCst), waiting }
    }
}

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

pub async fn hash(password: Password) -> Result<String, ApiError> {
    actix_web::web::block(move || hash_now(password.expose())).await.map_err(ApiError::internal)?
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(ApiError::internal)
}

/// Whether `password` matches `stored`. With no stored hash (an unknown user) it still spends the
/// time of one verification, so that response times do not tell which usernames exist.
pub async fn verify(gate: &HashGate, password: String, stored: Option<String>) -> Result<bool, ApiError> {
    let turn = gate.enter().await?;
    actix_web::web::block(move || {
        let _turn = turn;
        let decoy = stored.is_none();
        let hash = match stored {
            Some(hash) => hash,
            None => decoy_hash()?.to_owned(),
        };
        let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(matches && !decoy)
    })
    .await
    .map_err(ApiError::internal)?
}

fn decoy_hash() -> Result<&'static str, ApiError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return Ok(hash);
    }
    let hash = hash_now("decoy password that matches nothing")?;
    Ok(DECOY.get_or_init(|| hash))
}
