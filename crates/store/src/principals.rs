//! Callers' principals kept between requests, so that an authenticated request spends no statement
//! on finding out who its caller is; reading the caller's row was half the statements of a read.
//!
//! A kept principal must never outlive a change to its user: a deactivated user's token stops
//! working at once. So every entry carries the *generation* read before its statement ran, and is
//! good only while the generation has not moved since. The generation moves
//! - after every transaction this process commits that may have changed a user or a unit's path
//!   ([`crate::Store::committed`]; told by its statements' text, see `tx.rs`), so that a change
//!   takes effect at the caller's next request;
//! - on PostgreSQL, whenever any process changes a user or a unit's path: triggers notify a channel
//!   at commit and [`crate::Store::listen`] hears it.
//!
//! On PostgreSQL nothing is kept while the listener is not connected (before it first is, and from
//! a lost connection until it listens again), since a change could then go unheard. SQLite has one
//! server process; a command run beside it (an import that moves units) is seen once the entries
//! it left stale expire, after [`TIME_TO_LIVE`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dvc_domain::Principal;
use uuid::Uuid;

/// How long an entry is kept at most, whatever else happens.
pub(crate) const TIME_TO_LIVE: Duration = Duration::from_secs(10);
/// The most principals kept; beyond it the cache starts over, which bounds its memory.
const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub(crate) struct Principals {
    generation: AtomicU64,
    /// Whether every change that could make an entry stale is heard.
    hearing: AtomicBool,
    entries: RwLock<HashMap<Uuid, Entry>>,
}

#[derive(Debug)]
struct Entry {
    generation: u64,
    kept_at: Instant,
    principal: Principal,
}

impl Principals {
    /// A cache that keeps nothing until [`Principals::hearing`] says changes are heard.
    pub(crate) fn new(hearing: bool) -> Self {
        Self { generation: AtomicU64::new(0), hearing: AtomicBool::new(hearing), entries: RwLock::default() }
    }

    /// Something that may change principals has committed: every entry kept so far is stale.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether changes are heard from now on; entries kept before a gap in hearing are stale.
    pub(crate) fn hearing(&self, hearing: bool) {
        self.hearing.store(hearing, Ordering::SeqCst);
        self.changed();
    }

    /// The generation to keep a principal under, read before the statement that reads it; `None`
    /// when nothing may be kept.
    pub(crate) fn generation(&self) -> Option<u64> {
        self.hearing.load(Ordering::SeqCst).then(|| self.generation.load(Ordering::SeqCst))
    }

    /// The principal kept for `user_id`, if it is still good at `current`, the generation now.
    pub(crate) fn get(&self, user_id: Uuid, current: u64) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(&user_id)?;
        (entry.generation == current && entry.kept_at.elapsed() < TIME_TO_LIVE).then(|| entry.principal.clone())
    }

    /// Keeps `principal`, read after `generation` was.
    pub(crate) fn keep(&self, generation: u64, principal: Principal) {
        let Ok(mut entries) = self.entries.write() else { return };
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(principal.user_id, Entry { generation, kept_at: Instant::now(), principal });
    }
}

#[cfg(test)]
mod tests {
    use dvc_domain::{Role, Scope};

    use super::*;

    /// What a request would find kept for `user_id` now.
    fn found(principals: &Principals, user_id: Uuid) -> Option<Principal> {
        principals.generation().and_then(|current| principals.get(user_id, current))
    }

    fn admin() -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            username: "admin".to_owned(),
            role: Role::Admin,
            unit_id: None,
            official_id: None,
            scope: Scope::All,
        }
    }

    #[test]
    fn a_kept_principal_is_found_until_something_changes() {
        let principals = Principals::new(true);
        let caller = admin();
        principals.keep(principals.generation().unwrap(), caller.clone());
        assert_eq!(found(&principals, caller.user_id), Some(caller.clone()));
        principals.changed();
        assert_eq!(found(&principals, caller.user_id), None);
    }

    #[test]
    fn a_principal_read_across_a_change_is_not_kept_as_good() {
        let principals = Principals::new(true);
        let caller = admin();
        // The statement started before the change committed and may have seen the old row.
        let before = principals.generation().unwrap();
        principals.changed();
        principals.keep(before, caller.clone());
        assert_eq!(found(&principals, caller.user_id), None);
    }

    #[test]
    fn nothing_is_kept_while_changes_go_unheard() {
        let principals = Principals::new(false);
        assert_eq!(principals.generation(), None);
        principals.hearing(true);
        let caller = admin();
        principals.keep(principals.generation().unwrap(), caller.clone());
        principals.hearing(false);
        assert_eq!(found(&principals, caller.user_id), None);
        principals.hearing(true);
        assert_eq!(found(&principals, caller.user_id), None, "an entry kept before the gap stays stale");
    }

    #[test]
    fn the_cache_starts_over_when_full() {
        let principals = Principals::new(true);
        let generation = principals.generation().unwrap();
        let first = admin();
        principals.keep(generation, first.clone());
        for _ in 1..CAPACITY {
            principals.keep(generation, admin());
        }
        assert_eq!(found(&principals, first.user_id), Some(first));
        principals.keep(generation, admin());
        assert_eq!(principals.entries.read().unwrap().len(), 1);
    }
}
