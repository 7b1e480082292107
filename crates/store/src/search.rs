//! Searching names as people type them: ignoring case, diacritics and đ/d, and matching `%`, `_` and
//! `\` as themselves rather than as patterns, from a trigram index rather than by scanning (see the
//! `name_search` migration): PostgreSQL's `pg_trgm` answers `LIKE '%…%'` on the column itself, and
//! SQLite's FTS5 trigram table beside each searched table answers it there.

use dvc_domain::text::fold;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait};

use crate::StoreError;

/// The escape character of the patterns built here.
const ESCAPE: char = '\\';

/// "The folded name of the row contains `q`", for an entity with `id` and `name_folded` columns
/// (names folded with [`fold`]).
pub(crate) fn name_contains<E: EntityTrait>(backend: DbBackend, id: E::Column, name: E::Column, q: &str) -> SimpleExpr {
    let folded = fold(q);
    let escaped = escape(&folded);
    let pattern = LikeExpr::new(format!("%{escaped}%"));
    // An ESCAPE clause keeps SQLite's trigram index from answering, so it is added only when a
    // pattern character needs it (names hardly ever hold one).
    let pattern = if escaped == folded { pattern } else { pattern.escape(ESCAPE) };
    match backend {
        DbBackend::Sqlite => {
            let index = Alias::new(index_table(E::default().table_name()));
            let matching = Query::select()
                .column(Alias::new("id"))
                .from(index)
                .and_where(Expr::col(Alias::new("name_folded")).like(pattern))
                .to_owned();
            Expr::col(id).in_subquery(matching)
        }
        _ => name.like(pattern),
    }
}

/// SQLite's FTS5 trigram table beside `table`.
fn index_table(table: &str) -> String {
    format!("{table}_name_search")
}

/// Fills SQLite's trigram table of `table` anew from the table's rows, for a bulk load that wrote
/// them without its triggers. PostgreSQL's trigram index is an index of the table: nothing to do.
pub(crate) async fn refill(db: &impl ConnectionTrait, table: &str) -> Result<(), StoreError> {
    if db.get_database_backend() == DbBackend::Sqlite {
        let index = index_table(table);
        db.execute_unprepared(&format!("DELETE FROM {index}")).await?;
        db.execute_unprepared(&format!("INSERT INTO {index} (id, name_folded) SELECT id, name_folded FROM {table}"))
            .await?;
    }
    Ok(())
}

/// `text` with the pattern characters of LIKE escaped, so that it matches only itself.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | ESCAPE) {
            escaped.push(ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_characters_match_themselves() {
        assert_eq!(escape("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(escape("nguyen van a"), "nguyen van a");
    }
}
