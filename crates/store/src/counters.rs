//! Per-unit, per-month, per-kind counts of created and failed citizen-account records, moved in the
//! transaction of every record and every void, so that reports read a few counter rows instead of
//! scanning the records. `rebuild` and `differences` recompute them from the records, as a check.

use std::collections::{BTreeMap, HashMap};

use dvc_domain::{AccountKind, CitizenAccount, NewCitizenAccount, Outcome, Period};
use sea_orm::sea_query::{Alias, Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, Statement};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::citizen_account_counter::{self, Column, Entity};
use crate::succession::Succession;

/// Where a record counts: its unit, its month in Vietnam and its kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    pub unit_id: Uuid,
    pub period: String,
    pub account_kind: String,
}

/// A change to the counts under one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: i64,
    pub failed: i64,
}

/// One record's change to the counts, at the unit the record was made at.
#[derive(Debug, Clone)]
pub(crate) struct Delta {
    unit_id: Uuid,
    period: Period,
    kind: AccountKind,
    counts: Counts,
}

impl Delta {
    fn new(unit_id: Uuid, period: Period, kind: AccountKind, outcome: Outcome, sign: i64) -> Self {
        let counts = match outcome {
            Outcome::Created => Counts { created: sign, failed: 0 },
            Outcome::Failed(_) => Counts { created: 0, failed: sign },
        };
        Self { unit_id, period, kind, counts }
    }

    pub(crate) fn of_new(new: &NewCitizenAccount, sign: i64) -> Self {
        Self::new(new.unit_id, new.period(), new.account_kind, new.outcome, sign)
    }

    pub(crate) fn of_record(record: &CitizenAccount, sign: i64) -> Self {
        Self::new(record.unit_id, Period::of(record.registered_at), record.account_kind, record.outcome, sign)
    }
}

/// Adds the deltas to the counters, one upsert per key touched. A record made at a unit that had
/// closed by its month counts at the unit's successor ([`Succession`]).
pub(crate) async fn add(db: &impl ConnectionTrait, deltas: Vec<Delta>) -> Result<(), StoreError> {
    if deltas.is_empty() {
        return Ok(());
    }
    let succession = Succession::load(db, deltas.iter().map(|delta| delta.unit_id)).await?;
    let mut summed: BTreeMap<CounterKey, Counts> = BTreeMap::new();
    for delta in deltas {
        let key = CounterKey {
            unit_id: succession.reporting_unit(delta.unit_id, delta.period),
            period: delta.period.to_string(),
            account_kind: delta.kind.as_str().to_owned(),
        };
        let counts = summed.entry(key).or_default();
        counts.created += delta.counts.created;
        counts.failed += delta.counts.failed;
    }
    let rows = summed.into_iter().map(|(key, counts)| citizen_account_counter::ActiveModel {
        unit_id: Set(key.unit_id),
        period: Set(key.period),
        account_kind: Set(key.account_kind),
        created: Set(counts.created),
        failed: Set(counts.failed),
    });
    let excluded = |column: Column| Expr::col((Alias::new("excluded"), column));
    let stored = |column: Column| Expr::col((Entity, column));
    let upsert = OnConflict::columns([Column::UnitId, Column::Period, Column::AccountKind])
        .value(Column::Created, stored(Column::Created).add(excluded(Column::Created)))
        .value(Column::Failed, stored(Column::Failed).add(excluded(Column::Failed)))
        .to_owned();
    Entity::insert_many(rows).on_conflict(upsert).exec_without_returning(db).await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct CountedRow {
    unit_id: Uuid,
    period: String,
    account_kind: String,
    created: i64,
    failed: i64,
}

/// What the records say the counters should hold: live records only, counted by key.
const RECOUNT: &str = "SELECT unit_id, period, account_kind, \
     CAST(SUM(CASE WHEN outcome = 'created' THEN 1 ELSE 0 END) AS BIGINT) AS created, \
     CAST(SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed \
     FROM citizen_accounts WHERE voided_at IS NULL GROUP BY unit_id, period, account_kind";

/// What the records say, placed as [`add`] places them.
async fn recount(db: &impl ConnectionTrait) -> Result<HashMap<CounterKey, Counts>, StoreError> {
    let rows =
        CountedRow::find_by_statement(Statement::from_string(db.get_database_backend(), RECOUNT)).all(db).await?;
    let succession = Succession::load(db, rows.iter().map(|row| row.unit_id)).await?;
    let mut counted: HashMap<CounterKey, Counts> = HashMap::new();
    for row in rows {
        let period = Period::parse(&row.period)?;
        let unit_id = succession.reporting_unit(row.unit_id, period);
        let counts =
            counted.entry(CounterKey { unit_id, period: row.period, account_kind: row.account_kind }).or_default();
        counts.created += row.created;
        counts.failed += row.failed;
    }
    Ok(counted)
}

async fn stored(db: &impl ConnectionTrait) -> Result<HashMap<CounterKey, Counts>, StoreError> {
    Ok(Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            let key = CounterKey { unit_id: row.unit_id, period: row.period, account_kind: row.account_kind };
            (key, Counts { created: row.created, failed: row.failed })
        })
        .collect())
}

/// A key whose stored counts differ from the records'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub key: CounterKey,
    pub stored: Counts,
    pub recounted: Counts,
}

/// Every key whose counters disagree with the records, in key order.
pub async fn differences(db: &impl ConnectionTrait) -> Result<Vec<Difference>, StoreError> {
    let recounted = recount(db).await?;
    let stored = stored(db).await?;
    let mut keys: Vec<&CounterKey> = recounted.keys().chain(stored.keys()).collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .filter_map(|key| {
            let recounted = recounted.get(key).copied().unwrap_or_default();
            let stored = stored.get(key).copied().unwrap_or_default();
            (recounted != stored).then(|| Difference { key: key.clone(), stored, recounted })
        })
        .collect())
}

/// Replaces every counter with a recount of the records; answers how many counter rows it wrote.
pub async fn rebuild(db: &impl ConnectionTrait) -> Result<usize, StoreError> {
    let counted: Vec<(CounterKey, Counts)> = recount(db).await?.into_iter().collect();
    Entity::delete_many().exec(db).await?;
    for chunk in counted.chunks(crate::INSERT_CHUNK) {
        let rows = chunk.iter().map(|(key, counts)| citizen_account_counter::ActiveModel {
            unit_id: Set(key.unit_id),
            period: Set(key.period.clone()),
            account_kind: Set(key.account_kind.clone()),
            created: Set(counts.created),
            failed: Set(counts.failed),
        });
        Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(counted.len())
}
