//! Accounts created to date: `citizen_account_to_date` holds, for each unit and month with any
//! subtree counter, the accounts its subtree created in that month (`created`) and in that month and
//! every month before (`created_to_date`), every kind together, so that a report reads a row's cumulative count from one row instead of adding up
//! every month since the drive began.
//!
//! A change in month `p` adds to that month's total and to every later total of the same unit; a
//! total created for `p` starts from the unit's total before it. Changes are applied month by month
//! in order, so that each month starts from totals that already hold the months before it.

use std::collections::{BTreeMap, HashMap};

use dvc_domain::Period;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use uuid::Uuid;

use super::Tallies;
use crate::StoreError;

/// Each unit's months with the accounts created in them and up to them, summed from the subtree
/// counters.
/// (PostgreSQL sums integers as NUMERIC: the casts keep them integers on both databases.)
const SUMMED: &str = "SELECT unit_id, period, CAST(SUM(created) AS BIGINT) AS created, \
     CAST(SUM(SUM(created)) OVER (PARTITION BY unit_id ORDER BY period) AS BIGINT) AS created_to_date \
     FROM citizen_account_rollups GROUP BY unit_id, period";

/// Fills the totals from the subtree counters, for a ledger written without them.
pub(crate) async fn fill(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    db.execute_unprepared("DELETE FROM citizen_account_to_date").await?;
    db.execute_unprepared(&format!(
        "INSERT INTO citizen_account_to_date (unit_id, period, created, created_to_date) {SUMMED}"
    ))
    .await?;
    Ok(())
}

/// `count` numbered placeholders from the `first`, as the backend writes them: numbered, so that
/// the values bind in the order given whatever the order the statement names them in.
fn placeholders(backend: DbBackend, first: usize, count: usize) -> Vec<String> {
    (first..first + count)
        .map(|index| if backend == DbBackend::Postgres { format!("${index}") } else { format!("?{index}") })
        .collect()
}

/// `(VALUES (…), (…))` of `rows` rows of `width` placeholders each, from placeholder `first`.
fn values(backend: DbBackend, first: usize, rows: usize, width: usize) -> String {
    let rows: Vec<String> =
        (0..rows).map(|row| format!("({})", placeholders(backend, first + row * width, width).join(", "))).collect();
    format!("(VALUES {})", rows.join(", "))
}

/// Moves the totals by the subtree changes `tallies`.
pub(crate) async fn add(db: &impl ConnectionTrait, tallies: &Tallies) -> Result<(), StoreError> {
    let mut by_month: BTreeMap<&str, BTreeMap<Uuid, i64>> = BTreeMap::new();
    for (key, counts) in tallies {
        *by_month.entry(key.period.as_str()).or_default().entry(key.unit_id).or_default() += counts.created;
    }
    for (period, changes) in by_month {
        let changes: Vec<(Uuid, i64)> = changes.into_iter().collect();
        for chunk in changes.chunks(crate::INSERT_CHUNK) {
            shift_later_months(db, period, chunk).await?;
            add_to_month(db, period, chunk).await?;
        }
    }
    Ok(())
}

/// Adds the accounts created in `period` to the later totals of each unit.
async fn shift_later_months(
    db: &impl ConnectionTrait,
    period: &str,
    changes: &[(Uuid, i64)],
) -> Result<(), StoreError> {
    let created: Vec<&(Uuid, i64)> = changes.iter().filter(|(_, created)| *created != 0).collect();
    if created.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let sql = format!(
        "UPDATE citizen_account_to_date SET created_to_date = citizen_account_to_date.created_to_date + change.column2 \
         FROM {} AS change \
         WHERE citizen_account_to_date.unit_id = change.column1 AND citizen_account_to_date.period > {}",
        values(backend, 2, created.len(), 2),
        placeholders(backend, 1, 1).remove(0),
    );
    let mut bound: Vec<Value> = vec![period.into()];
    for (unit_id, created) in created {
        bound.extend([(*unit_id).into(), (*created).into()]);
    }
    db.execute_raw(Statement::from_sql_and_values(backend, sql, bound)).await?;
    Ok(())
}

/// Adds the changes to their month's totals; a new total starts from the unit's total before it.
async fn add_to_month(db: &impl ConnectionTrait, period: &str, changes: &[(Uuid, i64)]) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let period_placeholder = placeholders(backend, 1, 1).remove(0);
    let sql = format!(
        "INSERT INTO citizen_account_to_date (unit_id, period, created, created_to_date) \
         SELECT change.column1, {period_placeholder}, change.column2, change.column2 + COALESCE(( \
           SELECT earlier.created_to_date FROM citizen_account_to_date earlier \
           WHERE earlier.unit_id = change.column1 AND earlier.period < {period_placeholder} \
           ORDER BY earlier.period DESC LIMIT 1), 0) \
         FROM {} AS change WHERE TRUE \
         ON CONFLICT (unit_id, period) DO UPDATE SET \
         created = citizen_account_to_date.created + excluded.created, \
         created_to_date = citizen_account_to_date.created_to_date + excluded.created",
        values(backend, 2, changes.len(), 2)
    );
    let mut bound: Vec<Value> = vec![period.into()];
    for (unit_id, created) in changes {
        bound.extend([(*unit_id).into(), (*created).into()]);
    }
    db.execute_raw(Statement::from_sql_and_values(backend, sql, bound)).await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct ToDate {
    unit_id: Uuid,
    created_to_date: Option<i64>,
}

/// The accounts each of `units`' subtrees created up to the end of `period`, every kind together:
/// the unit's total of that month or, for a unit that counted nothing that month, its last total
/// before it.
pub(crate) async fn created_to_date(
    db: &impl ConnectionTrait,
    units: &[Uuid],
    period: Period,
) -> Result<HashMap<Uuid, i64>, StoreError> {
    let backend = db.get_database_backend();
    let mut totals = HashMap::with_capacity(units.len());
    for chunk in units.chunks(crate::INSERT_CHUNK) {
        let sql = format!(
            "SELECT unit_id, created_to_date FROM citizen_account_to_date WHERE period = {} AND unit_id IN ({})",
            placeholders(backend, 1, 1).remove(0),
            placeholders(backend, 2, chunk.len()).join(", ")
        );
        let mut bound: Vec<Value> = vec![period.to_string().into()];
        bound.extend(chunk.iter().map(|id| Value::from(*id)));
        let rows = ToDate::find_by_statement(Statement::from_sql_and_values(backend, sql, bound)).all(db).await?;
        totals.extend(rows.into_iter().map(|row| (row.unit_id, row.created_to_date.unwrap_or(0))));
    }
    let quiet: Vec<Uuid> = units.iter().copied().filter(|id| !totals.contains_key(id)).collect();
    for chunk in quiet.chunks(crate::INSERT_CHUNK) {
        let sql = format!(
            "SELECT unit.column1 AS unit_id, (SELECT latest.created_to_date FROM citizen_account_to_date latest \
               WHERE latest.unit_id = unit.column1 AND latest.period < {} \
               ORDER BY latest.period DESC LIMIT 1) AS created_to_date \
             FROM {} AS unit",
            placeholders(backend, 1, 1).remove(0),
            values(backend, 2, chunk.len(), 1),
        );
        let mut bound: Vec<Value> = vec![period.to_string().into()];
        bound.extend(chunk.iter().map(|id| Value::from(*id)));
        let rows = ToDate::find_by_statement(Statement::from_sql_and_values(backend, sql, bound)).all(db).await?;
        totals.extend(rows.into_iter().map(|row| (row.unit_id, row.created_to_date.unwrap_or(0))));
    }
    Ok(totals)
}

#[derive(Debug, FromQueryResult)]
struct Total {
    unit_id: Uuid,
    period: String,
    created_to_date: i64,
}

/// A unit and month whose stored total to date differs from the subtree counters' sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub unit_id: Uuid,
    pub period: String,
    pub stored: i64,
    pub summed: i64,
}

/// Every unit and month whose total to date disagrees with its subtree counters.
pub async fn differences(db: &impl ConnectionTrait) -> Result<Vec<Difference>, StoreError> {
    let backend = db.get_database_backend();
    let totals = async |sql: &str| -> Result<BTreeMap<(Uuid, String), i64>, StoreError> {
        let rows = Total::find_by_statement(Statement::from_string(backend, sql)).all(db).await?;
        Ok(rows.into_iter().map(|row| ((row.unit_id, row.period), row.created_to_date)).collect())
    };
    let stored = totals("SELECT unit_id, period, created_to_date FROM citizen_account_to_date").await?;
    let summed = totals(SUMMED).await?;
    Ok(super::disagreements_between(&stored, &summed)
        .into_iter()
        .map(|((unit_id, period), stored, summed)| Difference { unit_id, period, stored, summed })
        .collect())
}
