//! The login policy: attempts are throttled per username and per client address, in the database,
//! so that every API process applies the same rule to the same counts.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use dvc_domain::User;
use sea_orm::ConnectionTrait;

use crate::throttle::{self, Limit};
use crate::{StoreError, users};

/// Failed logins allowed per username, then per client address, in a window: a person mistyping
/// is not stopped, a script guessing passwords is, for one username or across many.
const PER_USERNAME: Limit = Limit { failures: 5, window: TimeDelta::minutes(15) };
const PER_ADDRESS: Limit = Limit { failures: 50, window: TimeDelta::minutes(15) };

/// How a login attempt ended.
#[derive(Debug)]
pub enum Login {
    /// Too many failures for the username or the address; the next try is allowed after `retry_after`.
    Throttled {
        retry_after: TimeDelta,
    },
    /// An unknown user, a wrong password or secret, or a deactivated user, never told apart.
    Refused,
    Accepted(User),
}

/// Logs in `username` (trimmed, in lower case) from `address`: refused at once while throttled,
/// else `verify` is given the stored password hash (`None` for an unknown user, which it must check
/// as long as a real one) and answers whether the secret matches it. A refusal counts against the
/// username and the address; a success forgets the username's failures.
pub async fn log_in<E: From<StoreError>>(
    db: &impl ConnectionTrait,
    username: &str,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
    verify: impl AsyncFnOnce(Option<String>) -> Result<bool, E>,
) -> Result<Login, E> {
    let username = username.trim().to_lowercase();
    let keys = ThrottleKeys::new(&username, address);
    if let Some(until) = throttle::blocked_until(db, &keys.limits(), now).await? {
        return Ok(Login::Throttled { retry_after: until - now });
    }
    let (user, hash) = match users::find_credentials(db, &username).await? {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let matches = verify(hash).await?;
    let Some(user) = user.filter(|user| matches && user.active) else {
        for (key, limit) in keys.limits() {
            throttle::record_failure(db, key, limit, now).await?;
        }
        return Ok(Login::Refused);
    };
    throttle::clear(db, &keys.user).await?;
    Ok(Login::Accepted(user))
}

/// What failed logins are counted by. Unknown usernames count like known ones, so that the answers
/// do not tell which exist. The address is the connection's peer, not a header a client can forge.
struct ThrottleKeys {
    user: String,
    address: String,
}

impl ThrottleKeys {
    fn new(username: &str, address: Option<IpAddr>) -> Self {
        let peer = address.map_or_else(|| "unknown".to_owned(), |address| address.to_string());
        Self { user: throttle::user_key(username), address: format!("address:{peer}") }
    }

    fn limits(&self) -> [(&str, Limit); 2] {
        [(self.user.as_str(), PER_USERNAME), (self.address.as_str(), PER_ADDRESS)]
    }
}
