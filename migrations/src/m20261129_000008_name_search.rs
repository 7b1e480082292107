//! Name search that does not scan: `q=` looks for a substring of a folded name, which an ordinary
//! index cannot answer. PostgreSQL answers it from trigram GIN indexes (`pg_trgm`, which `LIKE
//! '%…%'` uses as it is); SQLite from FTS5 trigram tables kept in step by triggers, whose `LIKE`
//! the trigram index answers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose folded names are searched.
const TABLES: [&str; 3] = ["units", "officials", "citizen_accounts"];

/// An FTS5 trigram table beside `table`, holding each row's id and folded name. The id is a column
/// of its own rather than the row's rowid, which SQLite may renumber when it vacuums a table whose key
/// is not an integer. Names change seldom (records never), so the triggers' lookups by id are cheap
/// enough.
fn sqlite_statements(table: &str) -> Vec<String> {
    let fts = format!("{table}_name_search");
    vec![
        format!("CREATE VIRTUAL TABLE {fts} USING fts5(id UNINDEXED, name_folded, tokenize='trigram')"),
        format!("INSERT INTO {fts} (id, name_folded) SELECT id, name_folded FROM {table}"),
        format!(
            "CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN \
             INSERT INTO {fts} (id, name_folded) VALUES (new.id, new.name_folded); END"
        ),
        format!("CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN DELETE FROM {fts} WHERE id = old.id; END"),
        format!(
            "CREATE TRIGGER {fts}_update AFTER UPDATE OF name_folded ON {table} BEGIN \
             UPDATE {fts} SET name_folded = new.name_folded WHERE id = old.id; END"
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        let statements: Vec<String> = match manager.get_database_backend() {
            DbBackend::Postgres => std::iter::once("CREATE EXTENSION IF NOT EXISTS pg_trgm".to_owned())
                .chain(TABLES.iter().map(|table| {
                    format!("CREATE INDEX ix_{table}_name_trigram ON {table} USING gin (name_folded gin_trgm_ops)")
                }))
                .collect(),
            _ => TABLES.iter().flat_map(|table| sqlite_statements(table)).collect(),
        };
        for statement in statements {
            connection.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        for table in TABLES {
            let statement = match manager.get_database_backend() {
                DbBackend::Postgres => format!("DROP INDEX ix_{table}_name_trigram"),
                _ => format!("DROP TABLE {table}_name_search"),
            };
            connection.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
