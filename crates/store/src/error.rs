use dvc_domain::ParseError;
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

/// What can go wrong in a repository, in terms the HTTP layer can answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a dependent record stands in the way; `existing_id` names the record.
    #[error("conflict: {detail}")]
    Conflict { detail: String, existing_id: Option<Uuid> },
    /// The record changed since the caller read it (`If-Match`).
    #[error("the record changed since it was read")]
    VersionMismatch,
    /// A value is well-formed but does not fit what is stored (an unknown parent, say); `subject`
    /// says which value, and the HTTP layer says where in its request that value was.
    #[error("invalid {subject:?}: {error}")]
    Invalid { subject: Subject, error: ParseError },
    /// A cursor that does not belong to the list it is used on.
    #[error("the cursor does not fit this list")]
    BadCursor,
    /// The database cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] DbErr),
    #[error("database error: {0}")]
    Database(#[source] DbErr),
    /// The personal-data key is not the one the stored personal numbers are sealed with.
    #[error(
        "DVC_PII_KEY is not the key this database's ID and phone numbers are sealed with: start with the \
         key used until now (or without DVC_PII_KEY if it was never set); to change keys, run \
         `dvc-api rotate-pii-key` with the current key and the new one in DVC_NEW_PII_KEY"
    )]
    PiiKeyMismatch,
    /// Stored data that no longer parses: a bug or a manual edit, never the caller's fault.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// The value a refused write names, in the store's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A unit's parent, named by its id.
    Parent,
    /// A listed unit's parent, named by its code in the statistics office's list.
    ListedParent,
    /// The units that succeed a closed one.
    Successors,
    /// The end of a unit's validity.
    ValidTo,
    /// The rows of a roster.
    RosterEntries,
    /// The snapshot a correction amends.
    AmendedSnapshot,
}

impl StoreError {
    pub(crate) fn invalid(subject: Subject, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid { subject, error: ParseError::new(code, detail) }
    }

    pub(crate) fn conflict(detail: impl Into<String>, existing_id: Option<Uuid>) -> Self {
        Self::Conflict { detail: detail.into(), existing_id }
    }
}

impl From<DbErr> for StoreError {
    fn from(error: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
            return Self::conflict("a record with the same key exists", None);
        }
        match error {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Self::Unavailable(error),
            DbErr::RecordNotFound(_) => Self::NotFound,
            other if is_connection_lost(&other) => Self::Unavailable(other),
            other => Self::Database(other),
        }
    }
}

/// A query that fails because the server went away surfaces as an execution error whose source is
/// an IO error; the caller should hear "unavailable", not "internal error".
fn is_connection_lost(error: &DbErr) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<std::io::Error>() {
            return true;
        }
        source = current.source();
    }
    false
}

impl From<ParseError> for StoreError {
    fn from(error: ParseError) -> Self {
        Self::Corrupt(error.detail)
    }
}
