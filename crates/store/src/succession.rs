//! Where a unit's records count after it closed: a unit closed by a reorganisation hands its counts
//! to its first successor (the smallest id, the first listed) for every month from its closing on,
//! so that the new tree's reports include what desks still recorded under an old unit's name.

use std::collections::HashMap;

use chrono::NaiveDate;
use dvc_domain::{Period, UnitPath};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{unit, unit_successor};

/// How deep a chain of successors is followed: a unit closed, its successor closed in turn.
const MAX_CHAIN: usize = 4;

/// The closing day and first successor of the units that records were made at, and the paths of
/// those units and their successors: what the counters need to place a record in the tree, read
/// in the same statements.
#[derive(Debug, Default)]
pub(crate) struct Succession {
    closed: HashMap<Uuid, (NaiveDate, Uuid)>,
    paths: HashMap<Uuid, UnitPath>,
}

impl Succession {
    /// Loads what is needed to place records of `units`, following successors of successors.
    pub(crate) async fn load(
        db: &impl ConnectionTrait,
        units: impl IntoIterator<Item = Uuid>,
    ) -> Result<Self, StoreError> {
        let mut succession = Self::default();
        let mut pending: Vec<Uuid> = units.into_iter().collect();
        for _ in 0..MAX_CHAIN {
            pending.sort_unstable();
            pending.dedup();
            if pending.is_empty() {
                break;
            }
            let units: Vec<(Uuid, String, Option<NaiveDate>)> = unit::Entity::find()
                .select_only()
                .columns([unit::Column::Id, unit::Column::Path, unit::Column::ValidTo])
                .filter(unit::Column::Id.is_in(pending.clone()))
                .into_tuple()
                .all(db)
                .await?;
            let mut closed: HashMap<Uuid, NaiveDate> = HashMap::new();
            for (id, path, valid_to) in units {
                succession.paths.insert(id, UnitPath::parse(&path)?);
                if let Some(to) = valid_to {
                    closed.insert(id, to);
                }
            }
            if closed.is_empty() {
                break;
            }
            let links = unit_successor::Entity::find()
                .filter(unit_successor::Column::UnitId.is_in(closed.keys().copied()))
                .all(db)
                .await?;
            let mut first: HashMap<Uuid, Uuid> = HashMap::new();
            for link in links {
                let successor = first.entry(link.unit_id).or_insert(link.successor_id);
                *successor = (*successor).min(link.successor_id);
            }
            pending = first.values().copied().filter(|id| !succession.closed.contains_key(id)).collect();
            for (unit_id, successor) in first {
                if let Some(to) = closed.get(&unit_id) {
                    succession.closed.insert(unit_id, (*to, successor));
                }
            }
        }
        Ok(succession)
    }

    /// The path of a unit looked at: one asked about or a successor of one (unless the chain was
    /// longer than [`MAX_CHAIN`]).
    pub(crate) fn path(&self, unit_id: Uuid) -> Option<&UnitPath> {
        self.paths.get(&unit_id)
    }

    /// The unit whose figures a record of `unit_id` in `period` counts in.
    pub(crate) fn reporting_unit(&self, unit_id: Uuid, period: Period) -> Uuid {
        let mut unit = unit_id;
        for _ in 0..MAX_CHAIN {
            match self.closed.get(&unit) {
                Some((closed_on, successor)) if period.first_day() >= *closed_on => unit = *successor,
                _ => break,
            }
        }
        unit
    }
}
