/// Why a raw value could not become a domain value.
///
/// `code` is a stable machine-readable word (`invalid_unit_code`); `detail` is a sentence a person can
/// act on. Neither repeats the rejected value, because that value may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ParseError {
    pub code: &'static str,
    pub detail: String,
}

impl ParseError {
    pub fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into() }
    }
}
