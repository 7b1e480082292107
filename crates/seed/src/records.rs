//! One citizen's visit to a desk, as the desk records it: who came, which account was opened, and
//! how it ended.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use dvc_domain::text::fold;
use dvc_domain::time::vietnam_date;
use dvc_domain::{AccountKind, Email, FailureReason, NewCitizenAccount, Outcome, RecordSource};
use rand::Rng;
use rand::rngs::SmallRng;
use uuid::Uuid;

use crate::people::{self, IdNumbers, Sex, pick};

/// An official at a desk, and the province code its citizens' identity numbers mostly start with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Desk {
    pub(crate) official_id: Uuid,
    pub(crate) unit_id: Uuid,
    pub(crate) birth_province: u16,
}

/// Citizens' ages when they come to a desk.
const AGES: [((i32, i32), u32); 5] = [((16, 18), 5), ((18, 30), 33), ((30, 45), 34), ((45, 60), 19), ((60, 85), 9)];

/// Why attempts failed before VNeID (the portal's own accounts, confirmed by a text message).
const FAILURES_PORTAL: [(FailureReason, u32); 7] = [
    (FailureReason::OtpNotReceived, 25),
    (FailureReason::OtpExpired, 15),
    (FailureReason::PhoneNotOwner, 25),
    (FailureReason::IdMismatch, 15),
    (FailureReason::AlreadyRegistered, 12),
    (FailureReason::CitizenLeft, 5),
    (FailureReason::Other, 3),
];

/// Why attempts failed with VNeID: the identity data must match the population register.
const FAILURES_VNEID: [(FailureReason, u32); 7] = [
    (FailureReason::OtpNotReceived, 15),
    (FailureReason::OtpExpired, 10),
    (FailureReason::PhoneNotOwner, 20),
    (FailureReason::IdMismatch, 22),
    (FailureReason::AlreadyRegistered, 20),
    (FailureReason::CitizenLeft, 8),
    (FailureReason::Other, 5),
];

/// The first day citizens log in with VNeID (Decree 69/2024/NĐ-CP).
fn vneid_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 7, 1).unwrap_or(NaiveDate::MIN)
}

/// Makes the records of a run: every citizen a new person, so that no two records clash on the
/// uniqueness rules; portal transactions numbered in order.
#[derive(Debug, Default)]
pub(crate) struct Visits {
    pub(crate) numbers: IdNumbers,
    portal_transactions: u64,
}

impl Visits {
    /// The record of a citizen's visit to `desk` at `at`.
    pub(crate) fn record(&mut self, rng: &mut SmallRng, desk: &Desk, at: DateTime<Utc>) -> NewCitizenAccount {
        let day = vietnam_date(at);
        let sex = Sex::any(rng);
        let (from, to) = *pick(rng, &AGES);
        let birth_year = day.year() - rng.random_range(from..to);
        let with_vneid = day >= vneid_day();
        // Old 9-digit cards were still carried in the drive's first years.
        let old_card = rng.random_bool(if day.year() < 2023 { 0.04 } else { 0.005 });
        let id_number = if old_card {
            self.numbers.old_card(day)
        } else {
            let born_elsewhere = rng.random_bool(0.15);
            let province = if born_elsewhere { other_province(rng) } else { desk.birth_province };
            self.numbers.citizen(province, sex, birth_year, day)
        };
        let full_name = people::name(rng, sex);
        let email = rng.random_bool(0.08).then(|| email(rng, full_name.as_str()));
        let account_kind = match (with_vneid, rng.random_range(0..100)) {
            (false, _) => AccountKind::DvcPortal,
            (true, 0..60) => AccountKind::VneidLevel2,
            (true, _) => AccountKind::VneidLevel1,
        };
        let failed = rng.random_bool(if with_vneid { 0.10 } else { 0.14 });
        let outcome = if failed {
            Outcome::Failed(*pick(rng, if with_vneid { &FAILURES_VNEID } else { &FAILURES_PORTAL }))
        } else {
            Outcome::Created
        };
        let otp_resends = match outcome {
            Outcome::Failed(FailureReason::OtpNotReceived | FailureReason::OtpExpired) => rng.random_range(1..4),
            _ => *pick(rng, &[(0, 75), (1, 18), (2, 7)]),
        };
        let from_portal = rng.random_bool(0.15);
        let external_ref = from_portal.then(|| {
            self.portal_transactions += 1;
            format!("CDVCQG-{:010}", self.portal_transactions)
        });
        NewCitizenAccount {
            full_name,
            id_number,
            phone: people::phone(rng),
            email,
            birth_date: Some(people::birth_date(rng, birth_year)),
            account_kind,
            outcome,
            otp_resends,
            unit_id: desk.unit_id,
            official_id: desk.official_id,
            registered_at: at,
            source: if from_portal { RecordSource::PortalSync } else { RecordSource::Desk },
            external_ref,
        }
    }
}

/// A birth province other than the desk's: any of the 63 before the 2025 merger.
fn other_province(rng: &mut SmallRng) -> u16 {
    const CODES: [u16; 63] = [
        1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44,
        45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89,
        91, 92, 93, 94, 95, 96,
    ];
    CODES[rng.random_range(0..CODES.len())]
}

/// An address made of the folded name and a number, at a common provider.
fn email(rng: &mut SmallRng, full_name: &str) -> Email {
    let local = fold(full_name).replace(' ', ".");
    let raw = format!("{local}{}@gmail.com", rng.random_range(1..1_000));
    Email::parse(&raw).unwrap_or_else(|_| unreachable!("a folded name has no spaces left"))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn accounts_are_vneid_from_july_2024_and_failures_carry_reasons() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut visits = Visits::default();
        let desk = Desk { official_id: Uuid::now_v7(), unit_id: Uuid::now_v7(), birth_province: 52 };
        let before = DateTime::parse_from_rfc3339("2022-03-01T02:00:00Z").expect("a moment").with_timezone(&Utc);
        let after = DateTime::parse_from_rfc3339("2025-03-01T02:00:00Z").expect("a moment").with_timezone(&Utc);
        for _ in 0..1_000 {
            let old = visits.record(&mut rng, &desk, before);
            assert_eq!(old.account_kind, AccountKind::DvcPortal);
            let new = visits.record(&mut rng, &desk, after);
            assert_ne!(new.account_kind, AccountKind::DvcPortal);
            assert_eq!(new.source == RecordSource::PortalSync, new.external_ref.is_some());
        }
    }
}
