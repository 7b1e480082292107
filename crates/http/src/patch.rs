//! JSON merge patch (RFC 7396) fields: absent leaves a value, `null` clears it, a value sets it.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    /// `None` when absent, `Some(None)` when cleared, `Some(Some(v))` when set.
    pub fn into_change(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(value) => Some(Some(value)),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Patch::Null, Patch::Value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default)]
        note: Patch<String>,
    }

    fn parse(json: &str) -> Patch<String> {
        serde_json::from_str::<Body>(json).map(|body| body.note).unwrap_or(Patch::Absent)
    }

    #[test]
    fn tells_absent_null_and_value_apart() {
        assert_eq!(parse("{}"), Patch::Absent);
        assert_eq!(parse(r#"{"note": null}"#), Patch::Null);
        assert_eq!(parse(r#"{"note": "x"}"#), Patch::Value("x".to_owned()));
    }
}
