//! The officials at the one-stop desks (R1): who they are, where they work, and whether they have
//! opened their own account on the national portal.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::named::named_values;
use crate::text::{check_length, normalize};
use crate::{IdNumber, ParseError, PersonName, PhoneNumber};

named_values! {
    /// An official's own account on the national portal (R1): none yet, created, or verified by the
    /// Service Center. A permission to create citizen accounts can only be granted to an account.
    PortalAccount {
        None => "none",
        Created => "created",
        Verified => "verified",
    }
}

impl PortalAccount {}

/// An e-mail address, checked only for its shape: whether it reaches anyone is not knowable here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let email = raw.trim();
        let shaped = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            });
        if !shaped {
            return Err(ParseError::new("invalid_email", "an e-mail address looks like name@example.vn"));
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A job title as the unit writes it (`Chuyên viên`, `Công chức Văn phòng - Thống kê`).
pub fn parse_position(raw: &str) -> Result<String, ParseError> {
    let position = normalize(raw);
    check_length(&position, 1, 100).map_err(|why| ParseError::new("invalid_position", format!("a position {why}")))?;
    Ok(position)
}

/// A reason given for a change that cannot be undone quietly (a deactivation, a return).
pub fn parse_reason(raw: &str) -> Result<String, ParseError> {
    let reason = normalize(raw);
    check_length(&reason, 3, 500).map_err(|why| ParseError::new("invalid_reason", format!("a reason {why}")))?;
    Ok(reason)
}

/// An official as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Official {
    pub id: Uuid,
    pub full_name: PersonName,
    pub unit_id: Uuid,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub position: Option<String>,
    pub portal_account: PortalAccount,
    pub portal_account_at: Option<DateTime<Utc>>,
    pub active: bool,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub deactivation_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller supplies to record an official.
#[derive(Debug, Clone)]
pub struct NewOfficial {
    pub full_name: PersonName,
    pub unit_id: Uuid,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub position: Option<String>,
    pub portal_account: PortalAccount,
    pub portal_account_at: Option<DateTime<Utc>>,
}

/// A change to an official; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OfficialChanges {
    pub full_name: Option<PersonName>,
    pub unit_id: Option<Uuid>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Option<Email>>,
    pub position: Option<Option<String>>,
    pub portal_account: Option<PortalAccount>,
    pub portal_account_at: Option<Option<DateTime<Utc>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_account_statuses_round_trip() {
        for status in PortalAccount::ALL {
            assert_eq!(PortalAccount::parse(status.as_str()), Some(status));
        }
        assert_eq!(PortalAccount::parse("pending"), None);
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse(" canbo@binhdinh.gov.vn ").is_ok());
        assert!(Email::parse("canbo@localhost").is_err());
        assert!(Email::parse("@binhdinh.gov.vn").is_err());
        assert!(Email::parse("can bo@binhdinh.gov.vn").is_err());
    }

    #[test]
    fn reasons_and_positions_are_normalised_and_bounded() {
        assert_eq!(parse_reason("  nghỉ   hưu "), Ok("nghỉ hưu".to_owned()));
        assert!(parse_reason("x").is_err());
        assert!(parse_position(&"a".repeat(101)).is_err());
    }
}
