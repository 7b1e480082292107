//! Searching names as people type them: ignoring case, diacritics and đ/d, and matching `%`, `_` and
//! `\` as themselves rather than as patterns.

use dvc_domain::text::fold;
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{LikeExpr, SimpleExpr};

/// The escape character of the patterns built here.
const ESCAPE: char = '\\';

/// "The folded name in `column` contains `q`": `column` holds names folded with [`fold`].
pub(crate) fn name_contains(column: impl ColumnTrait, q: &str) -> SimpleExpr {
    column.like(LikeExpr::new(format!("%{}%", escape(&fold(q)))).escape(ESCAPE))
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
