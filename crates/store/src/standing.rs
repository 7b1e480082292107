//! The officials' standing per unit and month (see `dvc_domain::standing`), moved in the transaction
//! of every change to an official or its grants: [`before`] takes the official's changes as they
//! were, [`settle`] replaces them with the official's changes as they are now, at the unit it works
//! at and at every unit above it. `rebuild` and `differences` recompute them from the officials.

use std::collections::{BTreeMap, HashMap};

use dvc_domain::standing::{OfficialFacts, Standing};
use dvc_domain::{Grant, Period, PortalAccount, UnitPath};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter};
use uuid::Uuid;

use crate::StoreError;
use crate::counters::{Ledger, Ledgers, SubtreeMove, disagreements, rebuild_ledgers};
use crate::entity::official_standing::Column;
use crate::entity::{grant, official};

/// The changes of every unit's figures, by unit and month.
type Tallies = BTreeMap<(Uuid, Period), Standing>;

/// The table of a ledger of standings.
pub(crate) fn table(ledger: Ledger) -> Alias {
    Alias::new(match ledger {
        Ledger::Unit => "official_standings",
        Ledger::Subtree => "official_standing_rollups",
    })
}

/// An official's changes, at the unit it works at.
#[derive(Debug)]
struct Placed {
    unit_id: Uuid,
    changes: Vec<(Period, Standing)>,
}

impl Placed {
    fn of(model: &official::Model, grants: &[Grant]) -> Result<Self, StoreError> {
        let portal_account = PortalAccount::parse(&model.portal_account)
            .ok_or_else(|| StoreError::Corrupt(format!("portal account {}", model.portal_account)))?;
        let facts = OfficialFacts {
            created_at: model.created_at,
            deactivated_at: model.deactivated_at,
            portal_account,
            portal_account_at: model.portal_account_at,
        };
        Ok(Self { unit_id: model.unit_id, changes: facts.changes(grants) })
    }

    fn add_to(&self, tallies: &mut Tallies, sign: i64) {
        for (period, change) in &self.changes {
            let change = if sign < 0 { -*change } else { *change };
            *tallies.entry((self.unit_id, *period)).or_default() += change;
        }
    }
}

/// Officials' standing as it was before a change, to be replaced by [`settle`].
#[derive(Debug)]
#[must_use = "the standing moves only when settled"]
pub(crate) struct Before {
    official_ids: Vec<Uuid>,
    placed: Vec<Placed>,
}

/// Each official's standing from its row and its grants, in any order.
fn place(officials: Vec<official::Model>, grants: Vec<grant::Model>) -> Result<Vec<Placed>, StoreError> {
    let mut held: HashMap<Uuid, Vec<Grant>> = HashMap::new();
    for model in grants {
        held.entry(model.official_id).or_default().push(crate::grants::to_domain(model)?);
    }
    officials.iter().map(|model| Placed::of(model, held.get(&model.id).map_or(&[][..], Vec::as_slice))).collect()
}

/// The officials' standing as it is.
async fn placed(db: &impl ConnectionTrait, official_ids: &[Uuid]) -> Result<Vec<Placed>, StoreError> {
    let mut placed = Vec::with_capacity(official_ids.len());
    for chunk in official_ids.chunks(crate::INSERT_CHUNK) {
        let officials =
            official::Entity::find().filter(official::Column::Id.is_in(chunk.iter().copied())).all(db).await?;
        let grants =
            grant::Entity::find().filter(grant::Column::OfficialId.is_in(chunk.iter().copied())).all(db).await?;
        placed.extend(place(officials, grants)?);
    }
    Ok(placed)
}

/// Takes the officials' standing before a change to them or to their grants.
pub(crate) async fn before(db: &impl ConnectionTrait, official_ids: Vec<Uuid>) -> Result<Before, StoreError> {
    let placed = placed(db, &official_ids).await?;
    Ok(Before { official_ids, placed })
}

/// Moves the ledgers from the officials' standing before the change to their standing now. Called
/// last in a transaction, as [`crate::counters::add`] is and for the same reason: it locks rows that
/// every other writer in the province locks too, until the transaction commits.
pub(crate) async fn settle(db: &impl ConnectionTrait, before: Before) -> Result<(), StoreError> {
    let mut own = Tallies::new();
    for placed in &before.placed {
        placed.add_to(&mut own, -1);
    }
    for placed in placed(db, &before.official_ids).await? {
        placed.add_to(&mut own, 1);
    }
    own.retain(|_, change| !change.is_zero());
    add(db, &own).await
}

/// Adds an official just recorded to the ledgers: its row is at hand, no grant names it yet, and
/// `unit` is its unit's path as the caller read it, so nothing needs reading. Called last in a
/// transaction, as [`settle`] is.
pub(crate) async fn add_recorded(
    db: &impl ConnectionTrait,
    official: &official::Model,
    unit: &UnitPath,
) -> Result<(), StoreError> {
    let mut own = Tallies::new();
    Placed::of(official, &[])?.add_to(&mut own, 1);
    own.retain(|_, change| !change.is_zero());
    add_at(db, &own, &HashMap::from([(official.unit_id, unit.clone())])).await
}

/// Adds changes at their units to both ledgers: at the unit and at each unit above it.
async fn add(db: &impl ConnectionTrait, own: &Tallies) -> Result<(), StoreError> {
    add_at(db, own, &paths_of_units(db, own).await?).await
}

/// The paths of the units the changes are at.
async fn paths_of_units(db: &impl ConnectionTrait, own: &Tallies) -> Result<HashMap<Uuid, UnitPath>, StoreError> {
    crate::units::paths_of(db, own.keys().map(|(unit_id, _)| *unit_id)).await
}

/// [`add`], with the paths of the units the changes are at.
async fn add_at(db: &impl ConnectionTrait, own: &Tallies, paths: &HashMap<Uuid, UnitPath>) -> Result<(), StoreError> {
    if own.is_empty() {
        return Ok(());
    }
    let subtree = spread(own, paths)?;
    Officials::upsert(db, Ledger::Unit, own).await?;
    Officials::upsert(db, Ledger::Subtree, &subtree).await
}

/// The changes of every unit's subtree, from the changes at each unit.
fn spread(own: &Tallies, paths: &HashMap<Uuid, UnitPath>) -> Result<Tallies, StoreError> {
    let mut subtree = Tallies::new();
    for ((unit_id, period), change) in own {
        let path = paths.get(unit_id).ok_or_else(|| StoreError::Corrupt(format!("standing unit {unit_id}")))?;
        for ancestor in path.ids() {
            *subtree.entry((ancestor, *period)).or_default() += *change;
        }
    }
    Ok(subtree)
}

const FIGURES: [Column; 4] =
    [Column::Officials, Column::OfficialsActive, Column::OfficialsWithPortalAccount, Column::OfficialsGranted];

fn figures(standing: &Standing) -> [i64; 4] {
    [standing.officials, standing.active, standing.with_portal_account, standing.granted]
}

#[derive(Debug, FromQueryResult)]
struct StoredRow {
    unit_id: Uuid,
    period: String,
    officials: i64,
    officials_active: i64,
    officials_with_portal_account: i64,
    officials_granted: i64,
}

impl StoredRow {
    fn standing(&self) -> Standing {
        Standing {
            officials: self.officials,
            active: self.officials_active,
            with_portal_account: self.officials_with_portal_account,
            granted: self.officials_granted,
        }
    }
}

/// The standing of each of `units`' subtrees at the end of `period`: the sum of its changes up to it.
pub(crate) async fn subtree_standings(
    db: &impl ConnectionTrait,
    units: &[Uuid],
    period: Period,
) -> Result<HashMap<Uuid, Standing>, StoreError> {
    let mut standings = HashMap::with_capacity(units.len());
    for chunk in units.chunks(crate::INSERT_CHUNK) {
        let mut select = Query::select();
        select.column(Column::UnitId).expr_as(Expr::val(period.to_string()), Alias::new("period"));
        for column in FIGURES {
            select.expr_as(crate::sum(Expr::col(column)), column);
        }
        select
            .from(table(Ledger::Subtree))
            .and_where(Expr::col(Column::UnitId).is_in(chunk.iter().copied()))
            .and_where(Expr::col(Column::Period).lte(period.to_string()))
            .group_by_col(Column::UnitId);
        let rows = StoredRow::find_by_statement(db.get_database_backend().build(&select)).all(db).await?;
        standings.extend(rows.into_iter().map(|row| (row.unit_id, row.standing())));
    }
    Ok(standings)
}

/// Moves a unit's subtree standing along with it in the tree.
pub(crate) async fn move_subtree(db: &impl ConnectionTrait, moving: SubtreeMove<'_>) -> Result<(), StoreError> {
    let select = Query::select()
        .column(Column::UnitId)
        .column(Column::Period)
        .columns(FIGURES)
        .from(table(Ledger::Subtree))
        .and_where(Expr::col(Column::UnitId).eq(moving.unit_id))
        .to_owned();
    let rows = StoredRow::find_by_statement(db.get_database_backend().build(&select)).all(db).await?;
    let ancestors = moving.ancestors();
    let mut moved = Tallies::new();
    for row in rows {
        let period = Period::parse(&row.period)?;
        for &(ancestor, sign) in &ancestors {
            let change = if sign < 0 { -row.standing() } else { row.standing() };
            *moved.entry((ancestor, period)).or_default() += change;
        }
    }
    Officials::upsert(db, Ledger::Subtree, &moved).await
}

/// A unit and month whose stored change of standing differs from the officials'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub ledger: Ledger,
    pub unit_id: Uuid,
    pub period: Period,
    pub stored: Standing,
    pub recounted: Standing,
}

/// Every unit and month whose standing disagrees with the officials, by ledger and in key order.
pub async fn differences(db: &impl ConnectionTrait) -> Result<Vec<Difference>, StoreError> {
    Ok(disagreements::<Officials>(db)
        .await?
        .into_iter()
        .map(|(ledger, (unit_id, period), stored, recounted)| Difference { ledger, unit_id, period, stored, recounted })
        .collect())
}

/// Replaces both ledgers with a recount of the officials; answers how many rows it wrote.
pub async fn rebuild(db: &impl ConnectionTrait) -> Result<usize, StoreError> {
    rebuild_ledgers::<Officials>(db).await
}

/// The officials' standing, counted from the officials and their grants.
struct Officials;

impl Ledgers for Officials {
    type Key = (Uuid, Period);
    type Value = Standing;

    fn table(ledger: Ledger) -> Alias {
        table(ledger)
    }

    /// Adds `tallies` to a ledger's stored changes, creating the rows it lacks.
    async fn upsert(db: &impl ConnectionTrait, ledger: Ledger, tallies: &Tallies) -> Result<(), StoreError> {
        let table = table(ledger);
        let rows: Vec<(&(Uuid, Period), &Standing)> = tallies.iter().collect();
        for chunk in rows.chunks(crate::INSERT_CHUNK) {
            let mut insert = Query::insert();
            insert.into_table(table.clone()).columns([Column::UnitId, Column::Period].into_iter().chain(FIGURES));
            for ((unit_id, period), standing) in chunk {
                let mut values = vec![(*unit_id).into(), period.to_string().into()];
                values.extend(figures(standing).map(Into::into));
                insert.values_panic(values);
            }
            let mut on_conflict = OnConflict::columns([Column::UnitId, Column::Period]);
            for column in FIGURES {
                let sum = Expr::col((table.clone(), column)).add(Expr::col((Alias::new("excluded"), column)));
                on_conflict.value(column, sum);
            }
            insert.on_conflict(on_conflict);
            db.execute(&insert).await?;
        }
        Ok(())
    }

    /// What the officials say each ledger should hold.
    async fn recount(db: &impl ConnectionTrait) -> Result<BTreeMap<Ledger, Tallies>, StoreError> {
        let mut own = Tallies::new();
        for placed in place(official::Entity::find().all(db).await?, grant::Entity::find().all(db).await?)? {
            placed.add_to(&mut own, 1);
        }
        own.retain(|_, change| !change.is_zero());
        let subtree = spread(&own, &paths_of_units(db, &own).await?)?;
        Ok(BTreeMap::from([(Ledger::Unit, own), (Ledger::Subtree, subtree)]))
    }

    /// What a ledger holds.
    async fn stored(db: &impl ConnectionTrait, ledger: Ledger) -> Result<Tallies, StoreError> {
        let select = Query::select()
            .column(Column::UnitId)
            .column(Column::Period)
            .columns(FIGURES)
            .from(table(ledger))
            .to_owned();
        let rows = StoredRow::find_by_statement(db.get_database_backend().build(&select)).all(db).await?;
        rows.into_iter()
            .filter(|row| !row.standing().is_zero())
            .map(|row| Ok(((row.unit_id, Period::parse(&row.period)?), row.standing())))
            .collect()
    }
}

/// Fills the ledgers of a database whose officials have none yet (one that had officials before
/// the ledgers existed). Several processes may open the database at once: the first to lock the
/// ledger fills it, the others find it filled.
pub(crate) async fn fill_if_missing(db: &crate::Db) -> Result<(), StoreError> {
    // Every recorded official has a standing, so officials without any row mean a ledger that was
    // never filled. Looked at first without a lock: a filled ledger is the usual case.
    if !missing(db).await? {
        return Ok(());
    }
    let tx = db.begin().await?;
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        tx.execute_unprepared("LOCK TABLE official_standings IN SHARE ROW EXCLUSIVE MODE").await?;
    }
    if missing(&tx).await? {
        crate::bulk::allow_long_statements(&tx).await?;
        let rows = rebuild(&tx).await?;
        tracing::info!(rows, "filled the officials' standing per unit and month");
    }
    tx.commit().await?;
    Ok(())
}

/// Whether officials are recorded but the ledger holds nothing.
async fn missing(db: &impl ConnectionTrait) -> Result<bool, StoreError> {
    let filled = Query::select().column(Column::UnitId).from(table(Ledger::Unit)).limit(1).to_owned();
    let staffed = official::Entity::find().one(db).await?.is_some();
    Ok(staffed && db.query_one(&filled).await?.is_none())
}
