//! How an official counts in the monthly report's figures of officials: as it stands at the end of
//! each month (R7). The figures of a month are a sum over every official, so the store keeps, per
//! unit and month, how those sums *change* from the month before; a report adds up the changes of
//! the months up to its own. An official's changes are few (it is recorded, opens a portal account,
//! gets a grant, leaves), so a unit has few such rows, however long the drive runs.

use std::ops::{AddAssign, Neg, Sub};

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Grant, GrantFunction, Period, PortalAccount};

/// An official's figures, or a change of them: each is 0 or 1 for one official.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Recorded by then, active or not.
    pub officials: i64,
    /// Not deactivated by then.
    pub active: i64,
    /// Active, with an account on the national portal opened by then.
    pub with_portal_account: i64,
    /// Active, holding a grant to create citizen accounts in force then.
    pub granted: i64,
}

impl AddAssign for Standing {
    fn add_assign(&mut self, other: Self) {
        self.officials += other.officials;
        self.active += other.active;
        self.with_portal_account += other.with_portal_account;
        self.granted += other.granted;
    }
}

impl Sub for Standing {
    type Output = Standing;

    fn sub(self, other: Self) -> Standing {
        self + -other
    }
}

impl std::ops::Add for Standing {
    type Output = Standing;

    fn add(mut self, other: Self) -> Standing {
        self += other;
        self
    }
}

impl Neg for Standing {
    type Output = Standing;

    fn neg(self) -> Standing {
        Standing {
            officials: -self.officials,
            active: -self.active,
            with_portal_account: -self.with_portal_account,
            granted: -self.granted,
        }
    }
}

impl Standing {
    pub fn is_zero(&self) -> bool {
        *self == Standing::default()
    }
}

/// What of an official its standing depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialFacts {
    pub created_at: DateTime<Utc>,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub portal_account: PortalAccount,
    /// When the portal account was opened; unknown counts as from the start.
    pub portal_account_at: Option<DateTime<Utc>>,
}

impl OfficialFacts {
    /// How the official stood at `at`, holding `grants`.
    pub fn standing_at(&self, grants: &[Grant], at: DateTime<Utc>) -> Standing {
        let recorded = self.created_at <= at;
        let active = recorded && self.deactivated_at.is_none_or(|left| left > at);
        let with_portal_account = active
            && self.portal_account != PortalAccount::None
            && self.portal_account_at.is_none_or(|opened| opened <= at);
        let granted = active
            && grants
                .iter()
                .any(|grant| grant.function == GrantFunction::CreateCitizenAccount && grant.is_active_at(at));
        Standing {
            officials: recorded.into(),
            active: active.into(),
            with_portal_account: with_portal_account.into(),
            granted: granted.into(),
        }
    }

    /// How the official's standing at the end of a month changes from the month before, for each
    /// month it changes in. The standing at the end of month `p` is the sum of the changes of the
    /// months up to `p`.
    ///
    /// A standing changes only in the months where one of its moments falls (recorded, left,
    /// portal account opened, a grant's first day, last day and revocation) or in the month after a
    /// grant's last day, so it is evaluated at the end of those months alone.
    pub fn changes(&self, grants: &[Grant]) -> Vec<(Period, Standing)> {
        let mut months: Vec<Period> = [Some(self.created_at), self.deactivated_at, self.portal_account_at]
            .into_iter()
            .flatten()
            .map(Period::of)
            .chain(
                grants
                    .iter()
                    .flat_map(|grant| {
                        let last = grant.period.until().map(Period::containing);
                        [
                            Some(Period::containing(grant.period.from())),
                            last,
                            last.map(Period::next),
                            grant.revoked_at.map(Period::of),
                        ]
                    })
                    .flatten(),
            )
            .collect();
        months.sort_unstable();
        months.dedup();
        let mut before = Standing::default();
        months
            .into_iter()
            .filter_map(|month| {
                let standing = self.standing_at(grants, month_end(month));
                let change = standing - before;
                before = standing;
                (!change.is_zero()).then_some((month, change))
            })
            .collect()
    }
}

/// The last moment of `month` in Vietnam.
fn month_end(month: Period) -> DateTime<Utc> {
    month.end() - TimeDelta::microseconds(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    use crate::GrantPeriod;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("a moment").with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a day")
    }

    fn month(text: &str) -> Period {
        Period::parse(text).expect("a month")
    }

    fn grant(from: &str, until: Option<&str>, revoked_at: Option<&str>) -> Grant {
        Grant {
            id: uuid::Uuid::nil(),
            official_id: uuid::Uuid::nil(),
            function: GrantFunction::CreateCitizenAccount,
            basis: "1/QĐ".to_owned(),
            period: GrantPeriod::new(day(from), until.map(day)).expect("a period"),
            granted_by: None,
            revoked_at: revoked_at.map(at),
            revoke_reason: None,
            version: 1,
            created_at: at("2021-06-01T00:00:00Z"),
            updated_at: at("2021-06-01T00:00:00Z"),
        }
    }

    fn facts(deactivated_at: Option<&str>) -> OfficialFacts {
        OfficialFacts {
            created_at: at("2021-06-10T03:00:00Z"),
            deactivated_at: deactivated_at.map(at),
            portal_account: PortalAccount::Verified,
            portal_account_at: Some(at("2021-07-31T18:00:00Z")),
        }
    }

    /// The standing at the end of every month from 2021-05 to 2022-12, summed from the changes,
    /// equals the standing evaluated directly at that moment.
    fn assert_changes_sum_to_standing(facts: &OfficialFacts, grants: &[Grant]) {
        let changes = facts.changes(grants);
        let mut sum = Standing::default();
        let mut period = month("2021-05");
        while period <= month("2022-12") {
            for (_, change) in changes.iter().filter(|(changed, _)| *changed == period) {
                sum += *change;
            }
            assert_eq!(sum, facts.standing_at(grants, month_end(period)), "{period}");
            period = period.next();
        }
    }

    #[test]
    fn an_official_counts_from_the_month_it_is_recorded_and_its_account_from_vietnam_s_month() {
        let facts = facts(None);
        let changes = facts.changes(&[]);
        // 18:00 UTC on 31 July is already 1 August in Vietnam.
        assert_eq!(
            changes,
            vec![
                (month("2021-06"), Standing { officials: 1, active: 1, ..Standing::default() }),
                (month("2021-08"), Standing { with_portal_account: 1, ..Standing::default() }),
            ]
        );
        assert_changes_sum_to_standing(&facts, &[]);
    }

    #[test]
    fn a_grant_counts_while_in_force_at_a_month_s_end() {
        // Ends on the last day of September: still in force at September's end.
        let full = grant("2021-06-25", Some("2021-09-30"), None);
        // Ends mid-November: no longer in force at November's end.
        let partial = grant("2021-11-02", Some("2021-11-20"), None);
        // Revoked in March.
        let revoked = grant("2022-01-01", None, Some("2022-03-05T02:00:00Z"));
        let grants = [full, partial, revoked];
        let facts = facts(None);
        let granted: Vec<(Period, i64)> = facts
            .changes(&grants)
            .into_iter()
            .filter(|(_, change)| change.granted != 0)
            .map(|(period, change)| (period, change.granted))
            .collect();
        assert_eq!(
            granted,
            vec![(month("2021-06"), 1), (month("2021-10"), -1), (month("2022-01"), 1), (month("2022-03"), -1)]
        );
        assert_changes_sum_to_standing(&facts, &grants);
    }

    #[test]
    fn an_official_who_leaves_stops_counting_as_active_but_stays_recorded() {
        let grants = [grant("2021-06-25", None, Some("2022-02-10T04:00:00Z"))];
        let facts = facts(Some("2022-02-10T04:00:00Z"));
        let changes = facts.changes(&grants);
        assert_eq!(
            changes.last(),
            Some(&(month("2022-02"), Standing { officials: 0, active: -1, with_portal_account: -1, granted: -1 }))
        );
        assert_changes_sum_to_standing(&facts, &grants);
    }

    #[test]
    fn an_official_recorded_and_gone_within_a_month_changes_only_the_recorded_count() {
        let facts = OfficialFacts { deactivated_at: Some(at("2021-06-20T03:00:00Z")), ..facts(None) };
        assert_eq!(facts.changes(&[]), vec![(month("2021-06"), Standing { officials: 1, ..Standing::default() })]);
    }
}
