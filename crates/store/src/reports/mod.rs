//! The figures of the reports, read from the counters (never by scanning the records) and from the
//! officials, grants, rosters and snapshots of a subtree.

mod compliance;
mod monthly;
mod officials;
mod timeseries;

use dvc_domain::report::ReportUnit;
use dvc_domain::{Scope, UnitPath};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};

pub use compliance::compliance;
pub use monthly::monthly;
pub use officials::officials;
pub use timeseries::timeseries;

use crate::StoreError;
use crate::entity::unit;
use crate::units::subtree_condition;

/// The units of `root`'s subtree, as reports name them.
pub(crate) async fn subtree_units(db: &impl ConnectionTrait, root: &UnitPath) -> Result<Vec<ReportUnit>, StoreError> {
    let models = unit::Entity::find()
        .filter(subtree_condition(unit::Column::Path, &Scope::Subtree(root.clone())))
        .all(db)
        .await?;
    models.into_iter().map(report_unit).collect()
}

/// A unit as reports name it.
pub(crate) fn report_unit(model: unit::Model) -> Result<ReportUnit, StoreError> {
    Ok(ReportUnit {
        path: UnitPath::parse(&model.path)?,
        id: model.id,
        code: model.code,
        name: model.name,
        level: model.level,
        parent_id: model.parent_id,
    })
}

/// The unit a report is about and its children, in report order, with every unit of the subtree:
/// the rows of the reports that show one level.
pub(crate) struct RowUnits {
    pub units: Vec<ReportUnit>,
    pub rows: Vec<ReportUnit>,
}

impl RowUnits {
    pub(crate) async fn load(db: &impl ConnectionTrait, root_id: uuid::Uuid) -> Result<Self, StoreError> {
        let root = crate::units::path_of(db, root_id).await?;
        let units: Vec<ReportUnit> = subtree_units(db, &root).await?;
        let rows = dvc_domain::report::tree_order(&units, Some(root_id), 1).into_iter().cloned().collect();
        Ok(Self { units, rows })
    }
}
