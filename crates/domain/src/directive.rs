//! Directives (R9): the letters that set the drive's steps, each with a deadline.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::ParseError;
use crate::named::named_values;
use crate::text::{check_length, normalize};

named_values! {
    /// The steps of the drive a directive sets deadlines for.
    MilestoneKey {
        /// R1: officials open their own portal accounts.
        OfficialPortalAccounts => "official_portal_accounts",
        /// R2: districts send their rosters.
        RostersSubmitted => "rosters_submitted",
        /// R3: the Service Center grants the function.
        GrantsCompleted => "grants_completed",
        /// R4: desks help every citizen from this day.
        AssistedRegistrationStart => "assisted_registration_start",
        /// R8: the first monthly report.
        MonthlyReport => "monthly_report",
    }
}

impl MilestoneKey {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestone {
    pub key: MilestoneKey,
    /// The last day on which the step is on time (for a start, the first day).
    pub due_on: NaiveDate,
}

/// A directive's number as the letter gives it (`3102/UBND-KSTT`).
pub fn parse_code(raw: &str) -> Result<String, ParseError> {
    let code = normalize(raw);
    check_length(&code, 1, 64)
        .map_err(|why| ParseError::new("invalid_directive_code", format!("a directive code {why}")))?;
    Ok(code)
}

pub fn parse_title(raw: &str) -> Result<String, ParseError> {
    let title = normalize(raw);
    check_length(&title, 1, 500).map_err(|why| ParseError::new("invalid_title", format!("a title {why}")))?;
    Ok(title)
}

/// Checks that each step has at most one deadline.
pub fn check_milestones(milestones: Vec<Milestone>) -> Result<Vec<Milestone>, ParseError> {
    let mut seen = HashSet::new();
    if milestones.iter().all(|milestone| seen.insert(milestone.key)) {
        Ok(milestones)
    } else {
        Err(ParseError::new("duplicate_milestone", "each milestone key appears once"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub issued_on: NaiveDate,
    pub milestones: Vec<Milestone>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewDirective {
    pub code: String,
    pub title: String,
    pub issued_on: NaiveDate,
    pub milestones: Vec<Milestone>,
}

/// A change to a directive; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DirectiveChanges {
    pub code: Option<String>,
    pub title: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub milestones: Option<Vec<Milestone>>,
}

/// The provincial letter this drive comes from: 3102/UBND-KSTT of 31/5/2021, with the deadlines the
/// Provincial Office's follow-up letter set: portal accounts before 21/6, rosters before 25/6,
/// grants before 30/6, assisted registration from 1/7, and a report every month (the first for July).
pub fn letter_3102() -> NewDirective {
    let day = |year, month, day| NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default();
    NewDirective {
        code: "3102/UBND-KSTT".to_owned(),
        title: "Về việc tăng cường hỗ trợ tổ chức, công dân thực hiện dịch vụ công trực tuyến".to_owned(),
        issued_on: day(2021, 5, 31),
        milestones: vec![
            Milestone { key: MilestoneKey::OfficialPortalAccounts, due_on: day(2021, 6, 20) },
            Milestone { key: MilestoneKey::RostersSubmitted, due_on: day(2021, 6, 24) },
            Milestone { key: MilestoneKey::GrantsCompleted, due_on: day(2021, 6, 29) },
            Milestone { key: MilestoneKey::AssistedRegistrationStart, due_on: day(2021, 7, 1) },
            Milestone { key: MilestoneKey::MonthlyReport, due_on: day(2021, 7, 31) },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestone_keys_round_trip_and_appear_once() {
        for key in MilestoneKey::ALL {
            assert_eq!(MilestoneKey::parse(key.as_str()), Some(key));
        }
        let due_on = NaiveDate::from_ymd_opt(2021, 6, 20).expect("a date");
        let twice = vec![
            Milestone { key: MilestoneKey::RostersSubmitted, due_on },
            Milestone { key: MilestoneKey::RostersSubmitted, due_on },
        ];
        assert!(check_milestones(twice).is_err());
    }

    #[test]
    fn the_2021_letter_has_every_milestone_in_order() {
        let letter = letter_3102();
        let keys: Vec<_> = letter.milestones.iter().map(|milestone| milestone.key).collect();
        assert_eq!(keys, MilestoneKey::ALL);
        assert!(letter.milestones.windows(2).all(|pair| pair[0].due_on <= pair[1].due_on));
        assert!(letter.milestones.iter().all(|milestone| milestone.due_on > letter.issued_on));
    }
}
