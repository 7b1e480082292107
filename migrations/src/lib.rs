//! The schema. Each migration is a file of its own and is never edited once it has landed: a change
//! to the schema is a new migration.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_foundation;
mod m20261127_000002_officials;
mod m20261127_000003_rosters;
mod m20261127_000004_grants_directives_support;
mod m20261127_000005_login_attempts;
mod m20261129_000006_citizen_accounts;
mod m20261129_000007_report_snapshots;
mod m20261129_000008_name_search;
mod m20261129_000009_events_webhooks;
mod m20261129_000010_counter_rollups;
mod m20261129_000011_officials_id_number;
mod m20261129_000012_official_standings;
mod m20261129_000013_created_to_date;
mod m20261129_000014_units_level;
mod m20261129_000015_identity_notifications;

pub use m20261129_000015_identity_notifications::IDENTITIES_CHANNEL;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_foundation::Migration),
            Box::new(m20261127_000002_officials::Migration),
            Box::new(m20261127_000003_rosters::Migration),
            Box::new(m20261127_000004_grants_directives_support::Migration),
            Box::new(m20261127_000005_login_attempts::Migration),
            Box::new(m20261129_000006_citizen_accounts::Migration),
            Box::new(m20261129_000007_report_snapshots::Migration),
            Box::new(m20261129_000008_name_search::Migration),
            Box::new(m20261129_000009_events_webhooks::Migration),
            Box::new(m20261129_000010_counter_rollups::Migration),
            Box::new(m20261129_000011_officials_id_number::Migration),
            Box::new(m20261129_000012_official_standings::Migration),
            Box::new(m20261129_000013_created_to_date::Migration),
            Box::new(m20261129_000014_units_level::Migration),
            Box::new(m20261129_000015_identity_notifications::Migration),
        ]
    }
}
