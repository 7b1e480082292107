//! The 2025 reform: from 1 July 2025 the district level is gone and provinces and communes are
//! merged. Old units close the day before, new ones open that day, and each old unit names its
//! successors, so that history before the reform still reports as it was.

use chrono::NaiveDate;

use crate::{UnitCode, UnitName};

/// The first day of the new administrative map.
pub fn reform_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or(NaiveDate::MIN)
}

/// An old unit that a row of the official list merges into a new commune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldUnit {
    Commune(UnitCode),
    /// An island district with no communes, turned whole into a special zone.
    District(UnitCode),
}

/// One row of the official list: a new commune and one old unit merged into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionRow {
    pub new_province_code: UnitCode,
    pub new_province_name: UnitName,
    pub new_commune_code: UnitCode,
    pub new_commune_name: UnitName,
    pub new_commune_category: String,
    /// `None` for land that was no commune before (a coastal alluvial area, say).
    pub old: Option<OldUnit>,
    pub old_district_code: Option<UnitCode>,
    pub old_province_code: Option<UnitCode>,
}

/// What applying the list did (or would do, in a dry run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReorganisationSummary {
    pub units_closed: usize,
    pub units_created: usize,
    pub successors_linked: usize,
    /// Units already as the list wants them (a second run finds everything so).
    pub unchanged: usize,
}
