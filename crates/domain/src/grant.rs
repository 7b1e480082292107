//! Permission grants (R3): the Service Center gives an official the portal's function of creating
//! citizen accounts, on the basis of a decision, for a period, until it is revoked.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::named::named_values;
use crate::text::{check_length, normalize};
use crate::time::vietnam_date;
use crate::{Official, ParseError, PortalAccount};

named_values! {
    /// A function of the national portal that can be granted.
    GrantFunction {
        CreateCitizenAccount => "create_citizen_account",
    }
}

/// The letter or decision a grant rests on (`123/QĐ-TTPVHCC`).
pub fn parse_basis(raw: &str) -> Result<String, ParseError> {
    let basis = normalize(raw);
    check_length(&basis, 1, 200).map_err(|why| ParseError::new("invalid_basis", format!("a basis {why}")))?;
    Ok(basis)
}

/// The days a grant covers: from `from` to `until`, both included; an open end runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantPeriod {
    from: NaiveDate,
    until: Option<NaiveDate>,
}

impl GrantPeriod {
    pub fn new(from: NaiveDate, until: Option<NaiveDate>) -> Result<Self, ParseError> {
        if until.is_some_and(|until| until < from) {
            return Err(ParseError::new("invalid_period", "valid_until cannot be before valid_from"));
        }
        Ok(Self { from, until })
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn until(&self) -> Option<NaiveDate> {
        self.until
    }

    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|until| day <= until)
    }

    pub fn overlaps(&self, other: &GrantPeriod) -> bool {
        self.until.is_none_or(|until| other.from <= until) && other.until.is_none_or(|until| self.from <= until)
    }
}

/// A grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: Uuid,
    pub official_id: Uuid,
    pub function: GrantFunction,
    pub basis: String,
    pub period: GrantPeriod,
    pub granted_by: Option<Uuid>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Grant {
    /// Whether the grant was in force at `at`: within its period (days in Vietnam), and not yet
    /// revoked. A revocation ends a grant from then on; what was done before it stays valid.
    pub fn is_active_at(&self, at: DateTime<Utc>) -> bool {
        self.period.covers(vietnam_date(at)) && self.revoked_at.is_none_or(|revoked| at < revoked)
    }
}

/// What a caller supplies to grant a function.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub official_id: Uuid,
    pub function: GrantFunction,
    pub basis: String,
    pub period: GrantPeriod,
}

/// Why an official cannot be granted a function, or cannot use one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRefusal {
    OfficialInactive,
    NoPortalAccount,
    NoActiveGrant,
}

impl GrantRefusal {
    pub fn code(self) -> &'static str {
        match self {
            GrantRefusal::OfficialInactive => "official_inactive",
            GrantRefusal::NoPortalAccount => "no_portal_account",
            GrantRefusal::NoActiveGrant => "no_active_grant",
        }
    }

    pub fn detail(self) -> &'static str {
        match self {
            GrantRefusal::OfficialInactive => "the official is no longer active",
            GrantRefusal::NoPortalAccount => "the official has not opened an account on the national portal yet",
            GrantRefusal::NoActiveGrant => "the official holds no grant to create citizen accounts at that time",
        }
    }
}

/// Whether `official` may be granted a function now: only an active official who has opened an
/// account on the national portal (R1), since the function is assigned to that account.
pub fn may_be_granted(official: &Official) -> Result<(), GrantRefusal> {
    if !official.active {
        return Err(GrantRefusal::OfficialInactive);
    }
    if official.portal_account == PortalAccount::None {
        return Err(GrantRefusal::NoPortalAccount);
    }
    Ok(())
}

/// Why a row of an accepted roster got no grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// No active official has the row's ID number.
    OfficialNotFound,
    /// The official may not be granted the function (see [`may_be_granted`]).
    Refused(GrantRefusal),
    /// The official holds the function for these days already.
    AlreadyGranted,
}

impl SkipReason {
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::OfficialNotFound => "official_not_found",
            SkipReason::Refused(refusal) => refusal.code(),
            SkipReason::AlreadyGranted => "already_granted",
        }
    }
}

/// A roster row that got no grant: its number, its official when one was found, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    pub row: u32,
    pub official_id: Option<Uuid>,
    pub reason: SkipReason,
}

/// What granting an accepted roster did: the grants made, and the rows skipped.
#[derive(Debug, Clone, Default)]
pub struct RosterGrants {
    pub granted: Vec<Grant>,
    pub skipped: Vec<SkippedRow>,
}

/// The one answer to "may this official record a citizen account at `at`?": the grant that allows
/// it, among the official's grants, or why not. Every path that records citizen accounts asks here.
pub fn grant_for_recording(grants: &[Grant], at: DateTime<Utc>) -> Result<&Grant, GrantRefusal> {
    grants
        .iter()
        .find(|grant| grant.function == GrantFunction::CreateCitizenAccount && grant.is_active_at(at))
        .ok_or(GrantRefusal::NoActiveGrant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").expect("a date")
    }

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).expect("a moment").with_timezone(&Utc)
    }

    fn grant(from: &str, until: Option<&str>, revoked: Option<&str>) -> Grant {
        Grant {
            id: Uuid::now_v7(),
            official_id: Uuid::now_v7(),
            function: GrantFunction::CreateCitizenAccount,
            basis: "123/QĐ-TTPVHCC".into(),
            period: GrantPeriod::new(day(from), until.map(day)).expect("a period"),
            granted_by: None,
            revoked_at: revoked.map(at),
            revoke_reason: None,
            version: 1,
            created_at: at("2021-06-28T00:00:00Z"),
            updated_at: at("2021-06-28T00:00:00Z"),
        }
    }

    #[test]
    fn a_grant_covers_its_days_in_vietnam_time() {
        let june = grant("2021-07-01", Some("2021-07-31"), None);
        assert!(!june.is_active_at(at("2021-06-30T16:59:59Z")), "still 30/6 in Vietnam");
        assert!(june.is_active_at(at("2021-06-30T17:00:00Z")), "already 1/7 in Vietnam");
        assert!(june.is_active_at(at("2021-07-31T16:59:59Z")));
        assert!(!june.is_active_at(at("2021-07-31T17:00:00Z")), "1/8 in Vietnam");
    }

    #[test]
    fn revocation_ends_a_grant_from_then_on() {
        let revoked = grant("2021-07-01", None, Some("2021-09-01T03:00:00Z"));
        assert!(revoked.is_active_at(at("2021-09-01T02:59:59Z")));
        assert!(!revoked.is_active_at(at("2021-09-01T03:00:00Z")));
    }

    #[test]
    fn recording_needs_a_grant_in_force() {
        let grants = vec![grant("2021-07-01", Some("2021-12-31"), None)];
        assert!(grant_for_recording(&grants, at("2021-08-01T03:00:00Z")).is_ok());
        assert_eq!(grant_for_recording(&grants, at("2022-01-05T03:00:00Z")), Err(GrantRefusal::NoActiveGrant));
        assert_eq!(grant_for_recording(&[], at("2021-08-01T03:00:00Z")), Err(GrantRefusal::NoActiveGrant));
    }

    #[test]
    fn periods_are_ordered_and_overlap_inclusively() {
        assert!(GrantPeriod::new(day("2021-07-02"), Some(day("2021-07-01"))).is_err());
        let july = GrantPeriod::new(day("2021-07-01"), Some(day("2021-07-31"))).expect("valid");
        let from_august = GrantPeriod::new(day("2021-08-01"), None).expect("valid");
        let last_day = GrantPeriod::new(day("2021-07-31"), None).expect("valid");
        assert!(!july.overlaps(&from_august));
        assert!(july.overlaps(&last_day));
        assert!(last_day.overlaps(&july));
    }
}
