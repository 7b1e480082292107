//! Dates as Vietnam reckons them: reporting periods and deadlines are days in Vietnam (UTC+7),
//! whatever the server's time zone.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use crate::ParseError;

/// Vietnam's offset from UTC; the country keeps no daylight saving time.
const VIETNAM_UTC_OFFSET_HOURS: i64 = 7;

/// The calendar day in Vietnam at the moment `at`.
pub fn vietnam_date(at: DateTime<Utc>) -> NaiveDate {
    (at + TimeDelta::hours(VIETNAM_UTC_OFFSET_HOURS)).date_naive()
}

/// Today in Vietnam.
pub fn today_in_vietnam() -> NaiveDate {
    vietnam_date(Utc::now())
}

/// A reporting period: a calendar month in Vietnam (`2021-08`). A record registered at
/// `2021-07-31T20:00:00Z` belongs to `2021-08`, since it is already 1 August in Hanoi.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    /// Parses `YYYY-MM`, a month from 2000 to 2999.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = || ParseError::new("invalid_period", "a period is a month written YYYY-MM, such as 2021-08");
        let (year, month) = raw.trim().split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let month: u32 = month.parse().map_err(|_| invalid())?;
        if !(2000..=2999).contains(&year) || !(1..=12).contains(&month) {
            return Err(invalid());
        }
        Ok(Self { year, month })
    }

    /// The month in Vietnam at the moment `at`.
    pub fn of(at: DateTime<Utc>) -> Self {
        let day = vietnam_date(at);
        Self { year: day.year(), month: day.month() }
    }

    /// The month that holds `day`.
    pub fn containing(day: NaiveDate) -> Self {
        Self { year: day.year(), month: day.month() }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The moment the month begins in Vietnam, in UTC.
    pub fn start(self) -> DateTime<Utc> {
        let midnight = self.first_day().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        midnight - TimeDelta::hours(VIETNAM_UTC_OFFSET_HOURS)
    }

    /// The moment the month ends in Vietnam (the next one's start), in UTC.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// The number of months from `self` to `later`, counting both (0 when `later` is earlier).
    pub fn months_until(self, later: Period) -> u32 {
        let months = (later.year - self.year) * 12 + i32::try_from(later.month).unwrap_or(0)
            - i32::try_from(self.month).unwrap_or(0);
        u32::try_from(months + 1).unwrap_or(0)
    }

    pub fn previous(self) -> Self {
        if self.month == 1 { Self { year: self.year - 1, month: 12 } } else { Self { month: self.month - 1, ..self } }
    }

    pub fn next(self) -> Self {
        if self.month == 12 { Self { year: self.year + 1, month: 1 } } else { Self { month: self.month + 1, ..self } }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MIN)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_months_in_vietnam() {
        let at = DateTime::parse_from_rfc3339("2021-07-31T20:00:00Z").expect("valid").with_timezone(&Utc);
        assert_eq!(Period::of(at).to_string(), "2021-08");
        let december = Period::parse("2021-12").expect("valid");
        assert_eq!(december.next().to_string(), "2022-01");
        assert_eq!(december.last_day(), NaiveDate::from_ymd_opt(2021, 12, 31).expect("valid"));
        assert_eq!(december.start().to_rfc3339(), "2021-11-30T17:00:00+00:00");
        assert_eq!(december.end().to_rfc3339(), "2021-12-31T17:00:00+00:00");
        assert_eq!(Period::parse("2021-07").expect("valid").months_until(december), 6);
        assert_eq!(december.months_until(Period::parse("2021-07").expect("valid")), 0);
        for bad in ["2021-13", "2021-7", "21-07", "2021/07", "1999-12", ""] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn late_evening_utc_is_the_next_day_in_vietnam() {
        let at = DateTime::parse_from_rfc3339("2021-07-31T20:00:00Z").expect("valid").with_timezone(&Utc);
        assert_eq!(vietnam_date(at), NaiveDate::from_ymd_opt(2021, 8, 1).expect("valid"));
        let noon = DateTime::parse_from_rfc3339("2021-07-31T05:00:00Z").expect("valid").with_timezone(&Utc);
        assert_eq!(vietnam_date(noon), NaiveDate::from_ymd_opt(2021, 7, 31).expect("valid"));
    }
}
