//! Where units stand in the tree, and the subtree conditions every scoped query uses.

use dvc_domain::{Scope, UnitPath};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::unit::{Column, Entity};

/// The path of a unit, for deciding whether it lies in a caller's scope.
pub async fn path_of(db: &impl ConnectionTrait, id: Uuid) -> Result<UnitPath, StoreError> {
    Ok(UnitPath::parse(&super::find_model(db, id).await?.path)?)
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
