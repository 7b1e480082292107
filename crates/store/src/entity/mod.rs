//! sea-orm entities, one a table. They never leave this crate: repositories turn them into domain
//! records.

pub mod audit_event;
pub mod citizen_account;
pub mod citizen_account_counter;
pub mod directive;
pub mod event;
pub mod grant;
pub mod idempotency_key;
pub mod login_attempt;
pub mod official;
pub mod official_standing;
pub mod report_snapshot;
pub mod roster;
pub mod roster_entry;
pub mod server_secret;
pub mod signing_key;
pub mod support_comment;
pub mod support_request;
pub mod unit;
pub mod unit_successor;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
