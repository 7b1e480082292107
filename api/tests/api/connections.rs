//! The connections a store keeps between statements (a server worker's on PostgreSQL, SQLite's
//! readers): a statement cut off half-way leaves nothing for the next one, and whatever takes a
//! connection from the pool itself never waits for one that sits kept.

use std::time::Duration;

use dvc_store::Store;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::TestDb;

/// One worker's store with a single connection on PostgreSQL (the pool of 16 divided among 16
/// workers); on SQLite, the store whose readers every worker shares.
async fn worker_with_one_connection(url: &str) -> Store {
    let store = Store::open(url, None).await.unwrap();
    store.for_workers(16).await.unwrap().remove(0)
}

/// A statement that the database answers only after a while (about a second), so that a
/// transaction cut off during it on SQLite's one writer is soon followed by the next.
fn slow(backend: DbBackend) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => "SELECT pg_sleep(1) IS NULL AS slow",
        _ => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT max(x) FROM c",
    };
    Statement::from_string(backend, sql)
}

async fn number(store: &Store, n: i32) -> i32 {
    let db = store.conn();
    let statement = Statement::from_string(db.get_database_backend(), format!("SELECT {n} AS n"));
    let row = db.query_one_raw(statement).await.unwrap().unwrap();
    row.try_get::<i32>("", "n").unwrap()
}

#[tokio::test]
async fn a_statement_cut_off_half_way_leaves_nothing_for_the_next() {
    let (_db, url) = TestDb::create().await;
    let worker = worker_with_one_connection(&url).await;
    assert_eq!(number(&worker, 1).await, 1);
    let db = worker.conn();
    let cut_off = tokio::time::timeout(Duration::from_millis(100), db.query_all_raw(slow(db.get_database_backend())));
    assert!(cut_off.await.is_err(), "the slow statement is cut off");
    for n in 2..6 {
        assert_eq!(number(&worker, n).await, n, "each statement reads its own answer");
    }
}

#[tokio::test]
async fn a_failed_statement_leaves_its_connection_usable() {
    let (_db, url) = TestDb::create().await;
    let worker = worker_with_one_connection(&url).await;
    let db = worker.conn();
    let wrong = Statement::from_string(db.get_database_backend(), "SELECT no_such_column FROM units");
    assert!(db.query_all_raw(wrong).await.is_err());
    assert_eq!(number(&worker, 7).await, 7);
}

#[tokio::test]
async fn queries_waiting_for_the_pool_get_the_connections_others_let_go() {
    let (_db, url) = TestDb::create().await;
    let worker = worker_with_one_connection(&url).await;
    // Twenty queries at once for one connection: all but one wait for it in the pool, which would
    // fail them after 5 s if the connection stayed kept instead of going back there.
    let mut queries = tokio::task::JoinSet::new();
    for n in 0..20 {
        let worker = worker.clone();
        queries.spawn(async move { number(&worker, n).await });
    }
    let answers = tokio::time::timeout(Duration::from_secs(3), queries.join_all()).await;
    let mut answers = answers.expect("every query gets the connection in turn");
    answers.sort_unstable();
    assert_eq!(answers, (0..20).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_transaction_never_waits_for_a_kept_connection() {
    let (_db, url) = TestDb::create().await;
    let worker = worker_with_one_connection(&url).await;
    // The worker's only connection answered a statement and may now be kept for the next one.
    assert_eq!(number(&worker, 1).await, 1);
    // The pool would make a transaction wait 5 s for a connection before failing.
    let tx = tokio::time::timeout(Duration::from_secs(2), worker.begin()).await;
    let tx = tx.expect("the transaction gets the kept connection at once").unwrap();
    tx.commit().await.unwrap();
    let ping = tokio::time::timeout(Duration::from_secs(2), worker.ping()).await;
    ping.expect("the readiness check gets a connection at once").unwrap();
    assert_eq!(number(&worker, 2).await, 2);
}

#[tokio::test]
async fn a_transaction_cut_off_half_way_leaves_nothing_for_the_next() {
    let (_db, url) = TestDb::create().await;
    let worker = worker_with_one_connection(&url).await;
    let tx = worker.begin().await.unwrap();
    let backend = tx.get_database_backend();
    tx.execute_unprepared("CREATE TABLE cut_off (n INTEGER)").await.unwrap();
    let cut_off = tokio::time::timeout(Duration::from_millis(100), tx.query_all_raw(slow(backend)));
    assert!(cut_off.await.is_err(), "the slow statement is cut off");
    drop(tx);
    for n in 2..6 {
        assert_eq!(number(&worker, n).await, n, "each statement reads its own answer");
    }
    // The transaction was rolled back, and the next one starts afresh on the same connection.
    let tx = worker.begin().await.unwrap();
    let table = Statement::from_string(backend, "SELECT n FROM cut_off");
    assert!(tx.query_all_raw(table).await.is_err(), "the table was never created");
    drop(tx);
    assert_eq!(number(&worker, 7).await, 7);
}
