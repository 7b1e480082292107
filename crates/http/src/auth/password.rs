//! Password and client-secret hashes: argon2id with the crate's recommended parameters.
//!
//! Hashing is deliberately slow and takes 19 MiB of memory, so in the server it runs on a few
//! threads of its own, never on an async worker, and requests pass through a [`HashGate`]: a few
//! hashes at a time, a bounded queue, and beyond it an immediate 503, so that a flood of logins
//! slows down politely instead of taking the machine. Each hashing thread keeps its argon2 memory
//! and reuses it: the process holds a few such blocks, whatever the flood, instead of one in every
//! thread of a blocking pool that the allocator keeps after the burst.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, Block, Params};
use dvc_domain::Password;

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// How many password hashes run at once in this process, and how many may wait for a turn. It is
/// the process's own CPU and memory it protects, so the bound is per process.
#[derive(Debug, Clone)]
pub struct HashGate {
    turns: Arc<tokio::sync::Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
    /// The hashing threads' work; they end when the last gate is dropped.
    jobs: mpsc::Sender<Job>,
}

/// A turn to hash; the next request may go once it is dropped.
#[derive(Debug)]
pub struct HashTurn(#[allow(dead_code, reason = "held for its Drop")] tokio::sync::OwnedSemaphorePermit);

impl HashGate {
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = concurrency.max(1);
        let (jobs, work) = mpsc::channel::<Job>();
        let work = Arc::new(Mutex::new(work));
        for index in 0..concurrency {
            let work = Arc::clone(&work);
            let spawned = std::thread::Builder::new().name(format!("password-hash-{index}")).spawn(move || {
                loop {
                    // The lock is held only to take the next job, never while hashing.
                    let next = work.lock().map_err(|_| ()).and_then(|work| work.recv().map_err(|_| ()));
                    let Ok(job) = next else { return };
                    job();
                }
            });
            if let Err(error) = spawned {
                tracing::error!(%error, "a password-hashing thread could not start");
            }
        }
        Self {
            turns: Arc::new(tokio::sync::Semaphore::new(concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue,
            jobs,
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

    /// Runs `work` on a hashing thread in its turn. Work whose request was dropped meanwhile (the
    /// client left) is skipped.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let turn = self.enter().await?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _turn = turn;
            if !reply.is_closed() {
                // The requester may have left since: then nobody needs the answer.
                let _ = reply.send(work());
            }
        });
        self.jobs.send(job).map_err(|_| ApiError::internal("the password-hashing threads have stopped"))?;
        answer.await.map_err(ApiError::internal)
    }

    /// A new hash of `password`.
    pub async fn hash(&self, password: Password) -> Result<String, ApiError> {
        self.run(move || hash_now(password.expose())).await?
    }

    /// Whether `password` matches `stored`. With no stored hash (an unknown user) it still spends
    /// the time of one verification, so that response times do not tell which usernames exist.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        self.run(move || {
            let decoy = stored.is_none();
            let hash = match stored {
                Some(hash) => hash,
                None => decoy_hash()?.to_owned(),
            };
            Ok(matches(password.as_bytes(), &hash)? && !decoy)
        })
        .await?
    }
}

thread_local! {
    /// The argon2 memory of this hashing thread, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Whether `password` hashes to `stored` (a PHC string), computed in this thread's kept memory.
fn matches(password: &[u8], stored: &str) -> Result<bool, ApiError> {
    let parsed = PasswordHash::new(stored).map_err(ApiError::internal)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(ApiError::internal("a stored password hash lacks its salt or output"));
    };
    let params = Params::try_from(&parsed).map_err(ApiError::internal)?;
    let algorithm = argon2::Algorithm::try_from(parsed.algorithm).map_err(ApiError::internal)?;
    let version = parsed.version.map(argon2::Version::try_from).transpose().map_err(ApiError::internal)?;
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let mut salt_bytes = [0_u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(ApiError::internal)?;
    let mut output = vec![0_u8; expected.len()];
    MEMORY
        .with_borrow_mut(|memory| {
            memory.resize(params.block_count(), Block::default());
            argon2.hash_password_into_with_memory(password, salt, &mut output, &mut memory[..])
        })
        .map_err(ApiError::internal)?;
    // `Output`'s equality takes the same time wherever the bytes differ.
    Ok(argon2::password_hash::Output::new(&output).is_ok_and(|output| output == expected))
}

/// A new hash of a password, outside the server (the command line, the first start).
pub async fn hash(password: Password) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_now(password.expose())).await.map_err(ApiError::internal)?
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

fn hash_now(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(ApiError::internal)
}

fn decoy_hash() -> Result<&'static str, ApiError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return Ok(hash);
    }
    let hash = hash_now("decoy password that matches nothing")?;
    Ok(DECOY.get_or_init(|| hash))
}
