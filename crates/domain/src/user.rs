//! What identifies a user and what a user chooses.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::text::{check_length, normalize};
use crate::{Official, ParseError, Role, UnitPath};

/// Refuses a user of `role` without a scope unit when the role needs one.
pub fn check_scope_unit(role: Role, unit_id: Option<Uuid>) -> Result<(), ParseError> {
    if role.needs_scope_unit() && unit_id.is_none() {
        return Err(ParseError::new("unit_required", "every role but admin needs a scope unit"));
    }
    Ok(())
}

/// A user as stored, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: Username,
    pub display_name: DisplayName,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub official_id: Option<Uuid>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller supplies to create a user; the password arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: DisplayName,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    /// A clerk's official (see [`check_official_link`]).
    pub official_id: Option<Uuid>,
    pub password_hash: String,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<DisplayName>,
    pub password_hash: Option<String>,
    pub active: Option<bool>,
    /// Links a clerk to another official, or (`Some(None)`) to none.
    pub official_id: Option<Option<Uuid>>,
}

/// Whether a user of `role` acting in `scope_unit` may be linked to `official` (at `official_path`):
/// only a clerk is, to an active official who works in the clerk's unit or below it, since the clerk
/// records citizen accounts in that official's name.
pub fn check_official_link(
    role: Role,
    scope_unit: Option<&UnitPath>,
    official: &Official,
    official_path: &UnitPath,
) -> Result<(), ParseError> {
    if role != Role::Clerk {
        return Err(ParseError::new("official_for_clerks_only", "only a clerk is linked to an official"));
    }
    if !official.active {
        return Err(ParseError::new("official_inactive", "the official is no longer active"));
    }
    if !scope_unit.is_some_and(|unit| official_path.is_within(unit)) {
        return Err(ParseError::new("official_outside_unit", "the official does not work in the clerk's unit"));
    }
    Ok(())
}

/// A login name, also the `client_id` of a service account: lower-case ASCII so that it is typed the
/// same on every keyboard and compared without case folding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = raw.trim();
        let well_formed = (3..=64).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
        if !well_formed {
            return Err(ParseError::new(
                "invalid_username",
                "a username is 3 to 64 lower-case ASCII letters, digits, dots, dashes or underscores",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = normalize(raw);
        check_length(&name, 1, 100)
            .map_err(|why| ParseError::new("invalid_display_name", format!("a display name {why}")))?;
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password or client secret as given, before hashing. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_LENGTH: usize = 12;
    pub const MAX_LENGTH: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        check_length(raw, Self::MIN_LENGTH, Self::MAX_LENGTH)
            .map_err(|why| ParseError::new("weak_password", format!("a password {why}")))?;
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_case_ascii() {
        assert!(Username::parse("portal.sync-01").is_ok());
        assert!(Username::parse("Admin").is_err());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("nguyễn").is_err());
    }

    #[test]
    fn passwords_have_a_minimum_length_and_hide_in_debug() {
        assert!(Password::parse("short").is_err());
        let password = Password::parse("correct horse battery").expect("long enough");
        assert_eq!(format!("{password:?}"), "Password(…)");
    }

    #[test]
    fn display_names_are_normalised() {
        assert_eq!(DisplayName::parse(" Trần  Thị B ").map(|n| n.0), Ok("Trần Thị B".to_owned()));
        assert!(DisplayName::parse("").is_err());
    }
}
