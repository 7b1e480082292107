//! Bulk loading, for filling a database with generated data (`dvc-api seed`): officials, grants and
//! citizen-account records written many at a time, exactly as the repositories would write them one
//! by one (numbers sealed, fingerprints, periods), but with one audit event for the whole load
//! instead of one per row. Citizen-account records go through `COPY` on PostgreSQL and large
//! multi-row `INSERT`s on SQLite; they are not checked for duplicates, so the caller must generate
//! records that keep the uniqueness rules.

use chrono::{DateTime, NaiveDate, Utc};
use dvc_domain::{NewCitizenAccount, NewGrant, NewOfficial};
use sea_orm::sqlx::postgres::PgPoolCopyExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, Statement,
};
use serde_json::Value;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::{citizen_account, grant, official, unit};
use crate::{Actor, Store, StoreError};

/// Rows per multi-row `INSERT` of citizen-account records on SQLite: 23 columns each, under its
/// limit of 32,766 bound parameters.
const SQLITE_RECORD_ROWS: usize = 1_000;

/// Whether the tree holds any unit at all.
pub async fn holds_units(db: &impl ConnectionTrait) -> Result<bool, StoreError> {
    Ok(unit::Entity::find().count(db).await? > 0)
}

/// A unit as a loader needs to know it: where it sits and whether it is still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRef {
    pub id: Uuid,
    pub code: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub valid_to: Option<NaiveDate>,
}

/// Every unit of the tree, open or closed.
pub async fn units(db: &impl ConnectionTrait) -> Result<Vec<UnitRef>, StoreError> {
    Ok(unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|model| UnitRef {
            id: model.id,
            code: model.code,
            kind: model.kind,
            parent_id: model.parent_id,
            valid_to: model.valid_to,
        })
        .collect())
}

/// Records active officials, each at its unit and as recorded at the moment given with it (so that
/// reports of earlier months count them), and answers their ids in the same order. ID numbers must
/// differ from each other and from the active officials' already stored.
pub async fn insert_officials(
    db: &impl ConnectionTrait,
    store: &Store,
    officials: Vec<(NewOfficial, DateTime<Utc>)>,
) -> Result<Vec<Uuid>, StoreError> {
    let mut ids = Vec::with_capacity(officials.len());
    let mut officials = officials.into_iter().peekable();
    while officials.peek().is_some() {
        let mut models = Vec::with_capacity(crate::INSERT_CHUNK);
        for (new, at) in officials.by_ref().take(crate::INSERT_CHUNK) {
            let id = Uuid::now_v7();
            let hash = store.pii().fingerprint(new.id_number.as_str());
            models.push(crate::officials::new_model(store.pii(), id, hash, new, at)?);
            ids.push(id);
        }
        official::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(ids)
}

/// Records grants made by `actor`, each at the moment given with it.
pub async fn insert_grants(
    db: &impl ConnectionTrait,
    actor: &Actor,
    grants: Vec<(NewGrant, DateTime<Utc>)>,
) -> Result<(), StoreError> {
    let mut grants = grants.into_iter().peekable();
    while grants.peek().is_some() {
        let models: Vec<grant::ActiveModel> = grants
            .by_ref()
            .take(crate::INSERT_CHUNK)
            .map(|(new, at)| crate::grants::new_model(Uuid::now_v7(), new, actor, at))
            .collect();
        grant::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(())
}

/// An active official and the unit it works at now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desk {
    pub official_id: Uuid,
    pub unit_id: Uuid,
}

/// The active officials and their units.
pub async fn desks(db: &impl ConnectionTrait) -> Result<Vec<Desk>, StoreError> {
    Ok(official::Entity::find()
        .filter(official::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|model| Desk { official_id: model.id, unit_id: model.unit_id })
        .collect())
}

/// Citizen-account records made ready to write: sealed and laid out for the database at hand. The
/// work is all CPU, so that a loader can prepare one batch while the previous one is written.
#[derive(Debug)]
pub struct RecordBatch {
    rows: usize,
    laid_out: LaidOut,
}

#[derive(Debug)]
enum LaidOut {
    /// `COPY … FROM STDIN` text: one line per row, tab-separated, `\N` for null.
    Copy(String),
    Rows(Vec<citizen_account::Model>),
}

/// The columns a `COPY` of citizen-account records names, in the order each line gives them.
const COPY_RECORDS: &str = "COPY citizen_accounts (id, full_name, name_folded, id_number_sealed, id_number_hash, \
     phone_sealed, email, birth_date, account_kind, outcome, failure_reason, otp_resends, unit_id, official_id, \
     registered_at, period, source, external_ref, recorded_by, voided_at, voided_by, void_reason, created_at) \
     FROM STDIN";

impl RecordBatch {
    /// Seals and lays out `records` as recorded by `actor`.
    pub fn prepare(store: &Store, actor: &Actor, records: Vec<NewCitizenAccount>) -> Result<Self, StoreError> {
        let now = crate::now();
        let rows = records.len();
        let models = records.iter().map(|new| {
            let hash = store.pii().fingerprint(new.id_number.as_str());
            crate::citizen_accounts::new_model(store.pii(), Uuid::now_v7(), &hash, new, actor, now)
        });
        let laid_out = match store.conn().get_database_backend() {
            DbBackend::Postgres => {
                let mut text = String::with_capacity(rows * 400);
                for model in models {
                    copy_line(&mut text, &model?);
                }
                LaidOut::Copy(text)
            }
            _ => LaidOut::Rows(models.collect::<Result<_, _>>()?),
        };
        Ok(Self { rows, laid_out })
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Writes the batch in a transaction of its own and answers how many records it wrote.
    pub async fn write(self, store: &Store) -> Result<usize, StoreError> {
        match self.laid_out {
            LaidOut::Copy(text) => {
                let pool = store.writer().inner().get_postgres_connection_pool();
                let mut copy = pool.copy_in_raw(COPY_RECORDS).await.map_err(copy_failed)?;
                copy.send(text.into_bytes()).await.map_err(copy_failed)?;
                copy.finish().await.map_err(copy_failed)?;
            }
            LaidOut::Rows(models) => {
                let tx = store.writer().begin().await?;
                let mut models = models.into_iter().peekable();
                while models.peek().is_some() {
                    let chunk: Vec<citizen_account::ActiveModel> =
                        models.by_ref().take(SQLITE_RECORD_ROWS).map(Into::into).collect();
                    citizen_account::Entity::insert_many(chunk).exec_without_returning(&tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(self.rows)
    }
}

fn copy_failed(error: sea_orm::sqlx::Error) -> StoreError {
    sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(error))).into()
}

/// Appends one record as a line of `COPY` text, in the order of [`COPY_RECORDS`].
fn copy_line(text: &mut String, model: &citizen_account::Model) {
    let moment = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
    let fields: [Option<String>; 23] = [
        Some(model.id.to_string()),
        Some(model.full_name.clone()),
        Some(model.name_folded.clone()),
        Some(model.id_number_sealed.clone()),
        Some(model.id_number_hash.clone()),
        Some(model.phone_sealed.clone()),
        model.email.clone(),
        model.birth_date.map(|day| day.format("%Y-%m-%d").to_string()),
        Some(model.account_kind.clone()),
        Some(model.outcome.clone()),
        model.failure_reason.clone(),
        Some(model.otp_resends.to_string()),
        Some(model.unit_id.to_string()),
        Some(model.official_id.to_string()),
        Some(moment(model.registered_at)),
        Some(model.period.clone()),
        Some(model.source.clone()),
        model.external_ref.clone(),
        model.recorded_by.map(|id| id.to_string()),
        model.voided_at.map(moment),
        model.voided_by.map(|id| id.to_string()),
        model.void_reason.clone(),
        Some(moment(model.created_at)),
    ];
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            text.push('\t');
        }
        match field {
            None => text.push_str("\\N"),
            Some(value) => escape_into(text, value),
        }
    }
    text.push('\n');
}

/// `COPY` text escapes the backslash and the characters that separate fields and rows.
fn escape_into(text: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => text.push_str("\\\\"),
            '\t' => text.push_str("\\t"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            other => text.push(other),
        }
    }
}

/// The table bulk loads write most rows into.
const RECORDS_TABLE: &str = "citizen_accounts";

#[derive(Debug, FromQueryResult)]
struct Definition {
    kind: String,
    name: String,
    definition: String,
}

/// The secondary indexes (and, on SQLite, the triggers) of the citizen-account records, taken off
/// for a bulk load and put back by [`SuspendedIndexes::restore`]. Building an index once over
/// millions of sorted rows is many times faster than updating it row by row; the unique indexes are
/// checked again as they are rebuilt. A load interrupted in between leaves the table without them:
/// seeding starts from an empty database, which is then dropped and seeded again.
#[derive(Debug)]
#[must_use = "the indexes stay off until restored"]
pub struct SuspendedIndexes {
    definitions: Vec<Definition>,
}

/// What the secondary indexes and triggers of `table` are, as statements that create them again.
/// Indexes behind constraints (the primary key) stay.
async fn definitions(db: &impl ConnectionTrait, table: &str) -> Result<Vec<Definition>, StoreError> {
    let backend = db.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT 'index' AS kind, indexname AS name, indexdef AS definition FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename = $1 \
             AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            [table.into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "SELECT type AS kind, name, sql AS definition FROM sqlite_master \
             WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name",
            [table.into()],
        ),
    };
    Ok(Definition::find_by_statement(statement).all(db).await?)
}

/// Takes the secondary indexes and triggers off the citizen-account records.
pub async fn suspend_record_indexes(store: &Store) -> Result<SuspendedIndexes, StoreError> {
    let tx = store.begin().await?;
    let definitions = definitions(&tx, RECORDS_TABLE).await?;
    for definition in &definitions {
        let kind = if definition.kind == "trigger" { "TRIGGER" } else { "INDEX" };
        tx.execute_unprepared(&format!("DROP {kind} {}", definition.name)).await?;
    }
    tx.commit().await?;
    Ok(SuspendedIndexes { definitions })
}

impl SuspendedIndexes {
    /// Builds the indexes again over the loaded rows, fills SQLite's name-search table that the
    /// triggers would have kept, and puts the triggers back.
    pub async fn restore(self, store: &Store) -> Result<(), StoreError> {
        let tx = store.begin().await?;
        allow_long_statements(&tx).await?;
        if tx.get_database_backend() == DbBackend::Postgres {
            // Index builds sort in memory up to this much instead of spilling to disk.
            tx.execute_unprepared("SET LOCAL maintenance_work_mem = '1GB'").await?;
        }
        for definition in &self.definitions {
            tx.execute_unprepared(&definition.definition).await?;
        }
        crate::search::refill(&tx, RECORDS_TABLE).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Lets the statements of this transaction run as long as they need (PostgreSQL otherwise stops
/// each after the pool's statement timeout): recounting millions of records takes longer.
pub async fn allow_long_statements(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("SET LOCAL statement_timeout = 0").await?;
    }
    Ok(())
}

/// Gathers the planner's statistics of every table after a bulk load. Without them the planner
/// takes a table of millions for an empty one: an ID-number lookup then walked the whole list
/// index of 10 million records (2 s) instead of the fingerprint index (1 ms).
///
/// On SQLite only the row counts are kept (`sqlite_stat1`), not the samples of index values
/// (`sqlite_stat4`). Samples fit a plan to the values in a statement; every statement here binds its
/// values, and the SQLite built in plans without looking at bound values (`.cargo/config.toml`), so
/// samples would serve nothing. A SQLite built without that guarantee prepares a statement again
/// whenever a sampled parameter is bound anew (a primary-key read fell from 8,000 to 5,400
/// requests/s).
pub async fn analyze(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    db.execute_unprepared("ANALYZE").await?;
    if db.get_database_backend() == DbBackend::Sqlite && holds_samples_table(db).await? {
        db.execute_unprepared("DELETE FROM sqlite_stat4").await?;
        // Makes this connection's planner read the statistics again; others read them when they open.
        db.execute_unprepared("ANALYZE sqlite_schema").await?;
    }
    Ok(())
}

/// Whether SQLite's `ANALYZE` wrote samples of index values: only a build with STAT4 has the table.
async fn holds_samples_table(db: &impl ConnectionTrait) -> Result<bool, StoreError> {
    let statement = Statement::from_string(
        DbBackend::Sqlite,
        "SELECT count(*) AS tables FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat4'",
    );
    let row = db.query_one_raw(statement).await?;
    Ok(row.map(|row| row.try_get::<i64>("", "tables")).transpose()?.unwrap_or(0) > 0)
}

/// Records one audit event for a whole load: what was loaded, in `detail`.
pub async fn record_load(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    detail: Value,
) -> Result<(), StoreError> {
    audit::record(db, actor, Change::noted(action, "database", Uuid::now_v7(), detail)).await
}
