//! The plans of the hot queries: each is answered from an index on both databases, so that its cost
//! does not grow with the tables. PostgreSQL is told to avoid table scans, which only win on the
//! empty tables of a test.

use sea_orm::ConnectionTrait;

use crate::helpers::{plan, spawn_app};

const ID: &str = "0193a1c2-7d5e-7a6b-9c0d-1e2f3a4b5c6d";

async fn plan_names(sql: &str, indexes: &[&str]) {
    let app = spawn_app().await;
    let text = plan(&app, sql, &["enable_seqscan"]).await;
    assert!(indexes.iter().any(|index| text.contains(index)), "{sql}\n{text}");
    assert!(!text.contains("SCAN officials") && !text.contains("Seq Scan"), "{sql}\n{text}");
}

/// A new official's ID number is checked against the active officials through an index.
#[tokio::test]
async fn the_duplicate_id_number_check_of_officials_uses_an_index() {
    let sql = "SELECT id FROM officials WHERE id_number_hash = 'abc' AND active = true";
    plan_names(sql, &["ix_officials_id_number", "ux_officials_active_id_number"]).await;
}

/// Every authenticated request reads its caller and the caller's unit by primary key.
#[tokio::test]
async fn the_caller_is_read_by_primary_key() {
    let sql = format!(
        "SELECT users.id, units.path FROM users LEFT JOIN units ON units.id = users.unit_id \
         WHERE users.id = '{ID}' AND users.active = true"
    );
    plan_names(&sql, &["users_pkey", "sqlite_autoindex_users_1", "PRIMARY KEY"]).await;
}

/// A subtree is a range of the path index.
#[tokio::test]
async fn a_subtree_is_a_range_of_the_path_index() {
    let sql = format!("SELECT id FROM units WHERE path >= '/{ID}/' AND path < '/{ID}0'");
    plan_names(&sql, &["ux_units_path"]).await;
}

/// A report row's counts are a range of the subtree counters' primary key.
#[tokio::test]
async fn a_report_reads_the_subtree_counters_by_key() {
    let sql = format!(
        "SELECT unit_id, account_kind, SUM(created) FROM citizen_account_rollups \
         WHERE unit_id IN ('{ID}') AND period <= '2025-10' GROUP BY unit_id, account_kind"
    );
    plan_names(&sql, &["citizen_account_rollups_pkey", "sqlite_autoindex_citizen_account_rollups_1"]).await;
}

/// A unit is read with its parent's and province's names and its successors in one statement,
/// every join through an index: the province by the first segment of the unit's path.
#[tokio::test]
async fn a_unit_is_read_with_its_relations_through_indexes() {
    let app = spawn_app().await;
    let sql = format!(
        "SELECT units.id, parent.name, province.name, unit_successors.successor_id FROM units \
         LEFT JOIN units AS parent ON parent.id = units.parent_id \
         LEFT JOIN units AS province ON province.path = SUBSTR(units.path, 1, 34) AND province.id <> units.id \
         LEFT JOIN unit_successors ON unit_successors.unit_id = units.id \
         WHERE units.id = '{ID}'"
    );
    let text = plan(&app, &sql, &["enable_seqscan", "enable_hashjoin", "enable_mergejoin"]).await;
    assert!(text.contains("ux_units_path"), "{text}");
    assert!(!text.contains("Seq Scan") && !text.contains("SCAN "), "{text}");
}

/// A page of units reads the names of its units' parents and provinces and the units' successors
/// apart, in one statement whose two parts are each a lookup by primary key.
#[tokio::test]
async fn a_page_of_units_reads_its_relations_by_key() {
    let app = spawn_app().await;
    let sql = format!(
        "SELECT id, name, NULL FROM units WHERE id IN ('{ID}') \
         UNION ALL SELECT unit_id, NULL, successor_id FROM unit_successors WHERE unit_id IN ('{ID}')"
    );
    let text = plan(&app, &sql, &["enable_seqscan"]).await;
    let by_key =
        [("units_pkey", "unit_successors_pkey"), ("sqlite_autoindex_units_1", "sqlite_autoindex_unit_successors_1")];
    assert!(by_key.iter().any(|(units, successors)| text.contains(units) && text.contains(successors)), "{text}");
    assert!(!text.contains("Seq Scan") && !text.contains("SCAN "), "{text}");
}

/// The SQLite built in keeps a prepared statement for every value bound to it: without the planner's
/// stability guarantee, a statement with `LIMIT ?` (every page, every `.one()`) was prepared again
/// on each execution. And it counts no memory, which took a process-wide lock per allocation.
#[tokio::test]
async fn sqlite_keeps_its_plans_and_counts_no_memory() {
    let app = spawn_app().await;
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let backend = db.get_database_backend();
    if backend != sea_orm::DbBackend::Sqlite {
        return;
    }
    let rows = db.query_all_raw(sea_orm::Statement::from_string(backend, "PRAGMA compile_options")).await.unwrap();
    let options: Vec<String> = rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect();
    for option in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        assert!(options.iter().any(|compiled| compiled == option), "{option} in {options:?}");
    }
}
