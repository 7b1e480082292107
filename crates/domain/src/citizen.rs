//! Citizen-account records (R4, R5): every attempt at a desk, or on the portal, to open a citizen's
//! account, whether it succeeded or not.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use uuid::Uuid;

use crate::named::named_values;
use crate::time::{Period, vietnam_date};
use crate::{Email, IdNumber, ParseError, PersonName, PhoneNumber, Role};

named_values! {
    /// Which account was opened: the portal's own, or (since 1 July 2024) a VNeID identity at level 1
    /// (in the app) or level 2 (verified at the police).
    AccountKind {
        DvcPortal => "dvc_portal",
        VneidLevel1 => "vneid_level1",
        VneidLevel2 => "vneid_level2",
    }
}

named_values! {
    /// Why a registration failed; the portal refuses one unless the phone and the ID number are
    /// right and belong to the citizen (R5).
    FailureReason {
        PhoneNotOwner => "phone_not_owner",
        IdMismatch => "id_mismatch",
        OtpNotReceived => "otp_not_received",
        OtpExpired => "otp_expired",
        AlreadyRegistered => "already_registered",
        CitizenLeft => "citizen_left",
        Other => "other",
    }
}

named_values! {
    /// Where a record comes from: a clerk at a desk, the provincial portal's synchronisation, or an
    /// import by the Service Center.
    RecordSource {
        Desk => "desk",
        PortalSync => "portal_sync",
        Import => "import",
    }
}

/// How an attempt ended. A failure always carries its reason and a success never does, so the two
/// cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Created,
    Failed(FailureReason),
}

impl Outcome {
    pub const CREATED: &'static str = "created";
    pub const FAILED: &'static str = "failed";

    /// Combines the two fields a record is exchanged with.
    pub fn parse(outcome: &str, failure_reason: Option<FailureReason>) -> Result<Self, OutcomeError> {
        match (outcome, failure_reason) {
            (Self::CREATED, None) => Ok(Outcome::Created),
            (Self::CREATED, Some(_)) => Err(OutcomeError::ReasonForSuccess),
            (Self::FAILED, Some(reason)) => Ok(Outcome::Failed(reason)),
            (Self::FAILED, None) => Err(OutcomeError::ReasonMissing),
            _ => Err(OutcomeError::Unknown),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => Self::CREATED,
            Outcome::Failed(_) => Self::FAILED,
        }
    }

    pub fn failure_reason(self) -> Option<FailureReason> {
        match self {
            Outcome::Created => None,
            Outcome::Failed(reason) => Some(reason),
        }
    }
}

/// Why an outcome and a failure reason do not fit together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeError {
    Unknown,
    ReasonMissing,
    ReasonForSuccess,
}

impl OutcomeError {
    /// The field at fault and why, in words a clerk understands.
    pub fn explain(self) -> (&'static str, ParseError) {
        match self {
            OutcomeError::Unknown => {
                ("outcome", ParseError::new("invalid_outcome", "the outcome is created or failed"))
            }
            OutcomeError::ReasonMissing => (
                "failure_reason",
                ParseError::new("failure_reason_required", "a failed attempt needs the reason it failed"),
            ),
            OutcomeError::ReasonForSuccess => (
                "failure_reason",
                ParseError::new("failure_reason_not_allowed", "an account that was created has no failure reason"),
            ),
        }
    }
}

/// How far ahead of the server's clock a registration time may be: the desk's clock may run a
/// little fast, but nothing is registered in the future.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// The moment of a registration, not in the future (beyond [`CLOCK_SKEW`]) at `now`.
pub fn check_registered_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ParseError> {
    if at > now + CLOCK_SKEW {
        return Err(ParseError::new("in_future", "a registration cannot be in the future"));
    }
    Ok(at)
}

/// A citizen's birth date: a past day, after 1900.
pub fn check_birth_date(day: NaiveDate, now: DateTime<Utc>) -> Result<NaiveDate, ParseError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if day < earliest || day > vietnam_date(now) {
        return Err(ParseError::new("invalid_birth_date", "a birth date is a past day after 1900"));
    }
    Ok(day)
}

/// Whether a record made by a user of `role` needs its official to hold a grant in force at the
/// registration: a clerk's and the portal's do; the Service Center (an admin) may record what
/// happened without one, as it does when it corrects or imports history.
pub fn needs_grant(role: Role) -> bool {
    matches!(role, Role::Clerk | Role::Integration)
}

impl RecordSource {
    /// The source of a record made by a user of `role` who named `given` (or none): a clerk records
    /// at the desk; a service account synchronises the portal (or imports); an admin imports unless
    /// it says otherwise.
    pub fn for_role(role: Role, given: Option<RecordSource>) -> Result<RecordSource, ParseError> {
        match (role, given) {
            (Role::Clerk, None | Some(RecordSource::Desk)) => Ok(RecordSource::Desk),
            (Role::Clerk, Some(_)) => {
                Err(ParseError::new("source_not_allowed", "a clerk's records come from the desk: source is desk"))
            }
            (Role::Integration, None) => Ok(RecordSource::PortalSync),
            (Role::Integration, Some(RecordSource::Desk)) => Err(ParseError::new(
                "source_not_allowed",
                "a service account's records come from the portal or an import, not from a desk",
            )),
            (_, None) => Ok(RecordSource::Import),
            (_, Some(source)) => Ok(source),
        }
    }
}

/// A record about to be written. The recording unit is the official's unit.
#[derive(Debug, Clone)]
pub struct NewCitizenAccount {
    pub full_name: PersonName,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub birth_date: Option<NaiveDate>,
    pub account_kind: AccountKind,
    pub outcome: Outcome,
    pub otp_resends: u32,
    pub unit_id: Uuid,
    pub official_id: Uuid,
    pub registered_at: DateTime<Utc>,
    pub source: RecordSource,
    pub external_ref: Option<String>,
}

impl NewCitizenAccount {
    /// The reporting month the record counts in.
    pub fn period(&self) -> Period {
        Period::of(self.registered_at)
    }
}

/// A record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenAccount {
    pub id: Uuid,
    pub full_name: PersonName,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub birth_date: Option<NaiveDate>,
    pub account_kind: AccountKind,
    pub outcome: Outcome,
    pub otp_resends: u32,
    pub unit_id: Uuid,
    pub official_id: Uuid,
    pub registered_at: DateTime<Utc>,
    pub source: RecordSource,
    pub external_ref: Option<String>,
    /// The user who recorded it.
    pub recorded_by: Option<Uuid>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).expect("a moment").with_timezone(&Utc)
    }

    #[test]
    fn names_round_trip() {
        for kind in AccountKind::ALL {
            assert_eq!(AccountKind::parse(kind.as_str()), Some(kind));
        }
        for reason in FailureReason::ALL {
            assert_eq!(FailureReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(RecordSource::parse("portal_sync"), Some(RecordSource::PortalSync));
        assert_eq!(AccountKind::parse("vneid"), None);
    }

    #[test]
    fn clerks_record_at_the_desk_and_service_accounts_from_the_portal() {
        assert_eq!(RecordSource::for_role(Role::Clerk, None), Ok(RecordSource::Desk));
        assert!(RecordSource::for_role(Role::Clerk, Some(RecordSource::Import)).is_err());
        assert_eq!(RecordSource::for_role(Role::Integration, None), Ok(RecordSource::PortalSync));
        assert!(RecordSource::for_role(Role::Integration, Some(RecordSource::Desk)).is_err());
        assert_eq!(RecordSource::for_role(Role::Admin, None), Ok(RecordSource::Import));
    }

    #[test]
    fn a_failure_needs_a_reason_and_a_success_has_none() {
        assert_eq!(Outcome::parse("created", None), Ok(Outcome::Created));
        let failed = Outcome::parse("failed", Some(FailureReason::OtpExpired));
        assert_eq!(failed, Ok(Outcome::Failed(FailureReason::OtpExpired)));
        assert_eq!(Outcome::parse("failed", None), Err(OutcomeError::ReasonMissing));
        assert_eq!(Outcome::parse("created", Some(FailureReason::Other)), Err(OutcomeError::ReasonForSuccess));
        assert_eq!(Outcome::parse("maybe", None), Err(OutcomeError::Unknown));
    }

    #[test]
    fn registrations_are_not_in_the_future_beyond_the_skew() {
        let now = at("2021-07-01T03:00:00Z");
        assert!(check_registered_at(at("2021-07-01T03:04:59Z"), now).is_ok());
        assert!(check_registered_at(at("2021-07-01T03:05:01Z"), now).is_err());
        assert!(check_registered_at(at("2020-01-01T00:00:00Z"), now).is_ok());
    }

    #[test]
    fn birth_dates_are_past_days_after_1900() {
        let now = at("2021-07-01T03:00:00Z");
        assert!(check_birth_date(NaiveDate::from_ymd_opt(1990, 5, 1).expect("a day"), now).is_ok());
        assert!(check_birth_date(NaiveDate::from_ymd_opt(1899, 12, 31).expect("a day"), now).is_err());
        assert!(check_birth_date(NaiveDate::from_ymd_opt(2021, 7, 2).expect("a day"), now).is_err());
    }
}
