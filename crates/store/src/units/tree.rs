//! Where units stand in the tree, and the subtree conditions every scoped query uses.

use std::collections::HashMap;

use dvc_domain::{Scope, UnitPath};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::unit::{Column, Entity};

/// The path of a unit, for deciding whether it lies in a caller's scope.
pub async fn path_of(db: &impl ConnectionTrait, id: Uuid) -> Result<UnitPath, StoreError> {
    Ok(UnitPath::parse(&super::find_model(db, id).await?.path)?)
}

/// The paths of the units `ids`, by id; ids of no unit are left out.
pub(crate) async fn paths_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, UnitPath>, StoreError> {
    let ids: std::collections::BTreeSet<Uuid> = ids.into_iter().collect();
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let mut paths = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(crate::INSERT_CHUNK) {
        let rows: Vec<(Uuid, String)> = Entity::find()
            .select_only()
            .columns([Column::Id, Column::Path])
            .filter(Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, path) in rows {
            paths.insert(id, UnitPath::parse(&path)?);
        }
    }
    Ok(paths)
}

/// Restricts a query on a table with a unit path column to a scope; every scoped list goes through
/// here so that the scope is applied by the database, before any row is loaded.
pub(crate) fn subtree_condition(path_column: impl ColumnTrait, scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Subtree(root) => {
            Condition::all().add(path_column.gte(root.as_str())).add(path_column.lt(root.upper_bound()))
        }
    }
}

/// The ids of the units in `scope`, as a subquery for tables that refer to units.
pub(crate) fn unit_ids_in(scope: &Scope) -> SelectStatement {
    Query::select().column(Column::Id).from(Entity).cond_where(subtree_condition(Column::Path, scope)).to_owned()
}
