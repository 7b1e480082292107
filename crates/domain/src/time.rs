//! Dates as Vietnam reckons them: reporting periods and deadlines are days in Vietnam (UTC+7),
//! whatever the server's time zone.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_evening_utc_is_the_next_day_in_vietnam() {
        let at = DateTime::parse_from_rfc3339("2021-07-31T20:00:00Z").expect("valid").with_timezone(&Utc);
        assert_eq!(vietnam_date(at), NaiveDate::from_ymd_opt(2021, 8, 1).expect("valid"));
        let noon = DateTime::parse_from_rfc3339("2021-07-31T05:00:00Z").expect("valid").with_timezone(&Utc);
        assert_eq!(vietnam_date(noon), NaiveDate::from_ymd_opt(2021, 7, 31).expect("valid"));
    }
}
