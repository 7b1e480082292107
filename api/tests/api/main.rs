//! The API tested through HTTP, against a fresh database per test: SQLite by default, PostgreSQL
//! when `TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod auth;
mod authorization;
mod citizen_accounts;
mod connections;
mod directives;
mod errors;
mod events;
mod grants;
mod guide;
mod helpers;
mod idempotency;
mod officials;
mod openapi;
mod operations;
mod pii;
mod plans;
mod reorganisations;
mod reports;
mod rosters;
mod seed;
mod shutdown;
mod support;
mod units;
mod users;
mod webhooks;
