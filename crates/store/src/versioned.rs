//! Optimistic concurrency, shared by every mutable record: a row carries a `version`, a write names
//! the version it read, and applies only if the row is still at that version.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, UpdateMany};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{directive, grant, official, roster, support_request, unit, user, webhook};

/// A table whose rows are versioned: an id, a version and the moment of the last change.
pub(crate) trait Versioned: EntityTrait {
    fn id_column() -> Self::Column;
    fn version_column() -> Self::Column;
    fn updated_at_column() -> Self::Column;
}

macro_rules! versioned {
    ($($entity:ident),+) => {$(
        impl Versioned for $entity::Entity {
            fn id_column() -> Self::Column {
                $entity::Column::Id
            }
            fn version_column() -> Self::Column {
                $entity::Column::Version
            }
            fn updated_at_column() -> Self::Column {
                $entity::Column::UpdatedAt
            }
        }
    )+};
}

versioned!(directive, grant, official, roster, support_request, unit, user, webhook);

/// Refuses a write whose caller read another version than `current` (`If-Match`).
pub(crate) fn expect(current: i64, expected: Option<i64>) -> Result<(), StoreError> {
    match expected {
        Some(version) if version != current => Err(StoreError::VersionMismatch),
        _ => Ok(()),
    }
}

/// Moves every row `update` matches to its next version, whatever version it is at: for changes that
/// are not an edit of a version a client read (a comment, a move of the subtree above, an import), so
/// that readers holding the old `ETag` still see that the row changed.
pub(crate) fn bump<E: Versioned>(update: UpdateMany<E>) -> UpdateMany<E> {
    update
        .col_expr(E::version_column(), Expr::col(E::version_column()).add(1))
        .col_expr(E::updated_at_column(), Expr::value(crate::now()))
}

/// Applies `update` to row `id` only while it is still at `version`, and moves it to the next one:
/// of two concurrent writers, the second fails instead of overwriting the first.
pub(crate) async fn apply<E: Versioned>(
    db: &impl ConnectionTrait,
    update: UpdateMany<E>,
    id: Uuid,
    version: i64,
) -> Result<(), StoreError> {
    let applied = update
        .col_expr(E::version_column(), Expr::value(version + 1))
        .col_expr(E::updated_at_column(), Expr::value(crate::now()))
        .filter(E::id_column().eq(id))
        .filter(E::version_column().eq(version))
        .exec(db)
        .await?;
    if applied.rows_affected != 1 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}
