//! What the Service Center reports each month (R7, R8): per unit, the citizen accounts recorded and
//! the state of its desk officials, each row counting the unit's whole subtree.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::named::named_values;
use crate::{AccountKind, MilestoneKey, Period, UnitPath};

/// Created and failed attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: i64,
    pub failed: i64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        self.created += other.created;
        self.failed += other.failed;
    }
}

/// What one unit contributes on its own (its subtree excluded): its records and its officials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFigures {
    /// Attempts registered in the period, by kind.
    pub by_kind: BTreeMap<&'static str, Tally>,
    /// Accounts created from the start up to the end of the period.
    pub created_cumulative: i64,
    pub officials: i64,
    pub officials_with_portal_account: i64,
    pub officials_granted: i64,
    pub officials_active: i64,
}

impl UnitFigures {
    pub fn add(&mut self, other: &UnitFigures) {
        for (kind, tally) in &other.by_kind {
            *self.by_kind.entry(kind).or_default() += *tally;
        }
        self.created_cumulative += other.created_cumulative;
        self.officials += other.officials;
        self.officials_with_portal_account += other.officials_with_portal_account;
        self.officials_granted += other.officials_granted;
        self.officials_active += other.officials_active;
    }

    /// Every kind's tally together.
    pub fn total(&self) -> Tally {
        let mut total = Tally::default();
        for tally in self.by_kind.values() {
            total += *tally;
        }
        total
    }

    /// The tally of each kind, every kind listed (zero where nothing happened).
    pub fn kinds(&self) -> Vec<(AccountKind, Tally)> {
        AccountKind::ALL
            .iter()
            .map(|kind| (*kind, self.by_kind.get(kind.as_str()).copied().unwrap_or_default()))
            .collect()
    }
}

/// A unit as a report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportUnit {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub level: i32,
    pub parent_id: Option<Uuid>,
    pub path: UnitPath,
}

/// One row of the monthly report: a unit and its whole subtree's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyRow {
    pub unit: ReportUnit,
    pub figures: UnitFigures,
}

/// The monthly report of a unit: its row, then the rows of the units below it down to `depth`
/// levels, in tree order (children by code). The country's report (no `unit_id`) has no row of its
/// own: its rows start with the provinces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyReport {
    pub period: Period,
    pub unit_id: Option<Uuid>,
    pub depth: u8,
    pub generated_at: DateTime<Utc>,
    pub rows: Vec<MonthlyRow>,
}

impl MonthlyReport {
    /// The rows of the units below the report's unit: every row of the country's report.
    pub fn rows_below(&self) -> &[MonthlyRow] {
        let skip = usize::from(self.unit_id.is_some()).min(self.rows.len());
        &self.rows[skip..]
    }

    /// The figures of the whole report: its unit's row, or the sum of the provinces' rows.
    pub fn total(&self) -> UnitFigures {
        if self.unit_id.is_some() {
            return self.rows.first().map(|row| row.figures.clone()).unwrap_or_default();
        }
        let mut total = UnitFigures::default();
        for row in self.rows.iter().filter(|row| row.unit.parent_id.is_none()) {
            total.add(&row.figures);
        }
        total
    }
}

/// A monthly report as frozen and sent: it never changes; a correction is a new snapshot that
/// `amends` this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSnapshot {
    pub id: Uuid,
    pub period: Period,
    pub unit_id: Uuid,
    pub depth: u8,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    /// The SHA-256 of `report`, in hex.
    pub sha256: String,
    pub amends: Option<Uuid>,
    /// The report as canonical JSON (keys sorted, no spaces), exactly as hashed.
    pub report: String,
}

/// A snapshot about to be frozen.
#[derive(Debug, Clone)]
pub struct NewReportSnapshot {
    pub period: Period,
    pub unit_id: Uuid,
    pub depth: u8,
    pub sha256: String,
    pub amends: Option<Uuid>,
    pub report: String,
}

/// Whether a report of `period` may be frozen at `now`: only once the month has ended in Vietnam.
pub fn check_period_ended(period: Period, now: DateTime<Utc>) -> Result<Period, crate::ParseError> {
    if period.end() > now {
        return Err(crate::ParseError::new(
            "period_not_ended",
            "a month can be frozen only after it has ended (Vietnam time)",
        ));
    }
    Ok(period)
}

/// The most months a time series may span: ten years.
pub const MAX_MONTHS: u32 = 120;

/// A unit's attempts in one month (a time series' point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPoint {
    pub period: Period,
    pub unit: ReportUnit,
    pub tally: Tally,
}

/// One official's attempts in a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialFigures {
    pub official_id: Uuid,
    pub full_name: String,
    pub unit_id: Uuid,
    pub active: bool,
    pub tally: Tally,
}

impl OfficialFigures {
    /// Created over all attempts; `None` without attempts.
    pub fn success_rate(&self) -> Option<f64> {
        let attempts = self.tally.created + self.tally.failed;
        (attempts > 0).then(|| self.tally.created as f64 / attempts as f64)
    }
}

named_values! {
    /// Where a unit stands on one step of a directive.
    MilestoneStatus {
        DoneOnTime => "done_on_time",
        DoneLate => "done_late",
        Pending => "pending",
        Overdue => "overdue",
    }
}

impl MilestoneStatus {
    /// A step done by its due day is on time; one not done is overdue once the day has passed.
    pub fn of(due_on: NaiveDate, done_on: Option<NaiveDate>, today: NaiveDate) -> Self {
        match done_on {
            Some(done) if done <= due_on => MilestoneStatus::DoneOnTime,
            Some(_) => MilestoneStatus::DoneLate,
            None if today > due_on => MilestoneStatus::Overdue,
            None => MilestoneStatus::Pending,
        }
    }
}

/// A unit's standing on one milestone of a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceRow {
    pub unit: ReportUnit,
    pub key: MilestoneKey,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub status: MilestoneStatus,
}

/// The deepest a report reaches below its unit: a province's communes are two levels down, and an
/// agency's desks one more.
pub const MAX_DEPTH: u8 = 3;

/// The units of a report in tree order, children by code: `root` and the units down to `depth`
/// levels below it or, for the whole country (`None`), the top-level units and theirs down to
/// `depth` levels below the country.
pub fn tree_order(units: &[ReportUnit], root: Option<Uuid>, depth: u8) -> Vec<&ReportUnit> {
    let mut children: HashMap<Option<Uuid>, Vec<&ReportUnit>> = HashMap::new();
    for unit in units {
        children.entry(unit.parent_id).or_default().push(unit);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.code.cmp(&b.code).then(a.name.cmp(&b.name)));
    }
    let mut stack: Vec<(&ReportUnit, u8)> = match root {
        Some(root) => units.iter().filter(|unit| unit.id == root).map(|unit| (unit, 0)).collect(),
        None => children.get(&None).into_iter().flatten().rev().map(|unit| (*unit, 1)).collect(),
    };
    let mut ordered = Vec::new();
    while let Some((unit, level)) = stack.pop() {
        ordered.push(unit);
        if level < depth
            && let Some(list) = children.get(&Some(unit.id))
        {
            stack.extend(list.iter().rev().map(|child| (*child, level + 1)));
        }
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, parent: Option<&ReportUnit>) -> ReportUnit {
        let id = Uuid::now_v7();
        let path = parent.map_or_else(|| UnitPath::root(id), |parent| parent.path.child(id));
        ReportUnit {
            id,
            code: code.to_owned(),
            name: code.to_owned(),
            level: path.level(),
            parent_id: parent.map(|parent| parent.id),
            path,
        }
    }

    #[test]
    fn milestones_are_on_time_late_pending_or_overdue() {
        let day = |raw: &str| NaiveDate::parse_from_str(raw, "%Y-%m-%d").expect("a day");
        let due = day("2021-06-21");
        assert_eq!(MilestoneStatus::of(due, Some(day("2021-06-21")), day("2021-07-01")), MilestoneStatus::DoneOnTime);
        assert_eq!(MilestoneStatus::of(due, Some(day("2021-06-22")), day("2021-07-01")), MilestoneStatus::DoneLate);
        assert_eq!(MilestoneStatus::of(due, None, day("2021-06-21")), MilestoneStatus::Pending);
        assert_eq!(MilestoneStatus::of(due, None, day("2021-06-22")), MilestoneStatus::Overdue);
    }

    #[test]
    fn rows_come_in_tree_order() {
        let province = unit("52", None);
        let district_b = unit("541", Some(&province));
        let district_a = unit("540", Some(&province));
        let commune = unit("21610", Some(&district_a));
        let units = vec![province.clone(), district_b.clone(), district_a.clone(), commune.clone()];
        let order = tree_order(&units, Some(province.id), 2);
        let codes = |order: Vec<&ReportUnit>| order.iter().map(|unit| unit.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(order), vec!["52", "540", "21610", "541"]);
        assert_eq!(codes(tree_order(&units, Some(province.id), 1)), vec!["52", "540", "541"]);
        let other = unit("51", None);
        let country = [units.clone(), vec![other]].concat();
        assert_eq!(codes(tree_order(&country, None, 1)), vec!["51", "52"]);
        assert_eq!(codes(tree_order(&country, None, 2)), vec!["51", "52", "540", "541"]);
    }
}
