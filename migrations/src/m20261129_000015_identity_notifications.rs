//! Servers keep their callers' principals between requests (`dvc_store::principals`); on
//! PostgreSQL, where several processes share the database, each must hear at once when another
//! changes a user or moves a unit, since a principal is the user's role and scope with its unit's
//! path. Triggers notify [`IDENTITIES_CHANNEL`] at the commit of every statement that can, whatever
//! process or command runs it. SQLite has one server process, which hears its own commits.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The PostgreSQL channel notified when users or units' paths change.
pub const IDENTITIES_CHANNEL: &str = "dvc_identities";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(&format!(
            "CREATE FUNCTION dvc_identities_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_notify('{IDENTITIES_CHANNEL}', ''); RETURN NULL; END $$"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER tr_users_identities AFTER UPDATE OR DELETE ON users \
             FOR EACH STATEMENT EXECUTE FUNCTION dvc_identities_changed()",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER tr_units_identities AFTER UPDATE OF path OR DELETE ON units \
             FOR EACH STATEMENT EXECUTE FUNCTION dvc_identities_changed()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared("DROP TRIGGER tr_units_identities ON units").await?;
        db.execute_unprepared("DROP TRIGGER tr_users_identities ON users").await?;
        db.execute_unprepared("DROP FUNCTION dvc_identities_changed()").await?;
        Ok(())
    }
}
