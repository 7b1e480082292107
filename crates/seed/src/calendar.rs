//! When citizens came to the desks: more in the drive's first months and after VNeID arrived, on
//! working days, in a desk's opening hours in Vietnam.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use rand::Rng;
use rand::rngs::SmallRng;

/// How busy the desks were in a month, relative to an ordinary one.
fn month_weight(day: NaiveDate) -> f64 {
    match (day.year(), day.month()) {
        // The drive's start (letter 3102): every desk pushes accounts.
        (2021, 7..=12) => 1.6,
        // The move to VNeID (Decree 69/2024): citizens come back for a VNeID login.
        (2024, 7..=12) => 2.0,
        (2025, _) => 1.4,
        (year, _) if year >= 2026 => 1.2,
        _ => 1.0,
    }
}

/// How busy a day of the week is: desks open Monday to Friday and on Saturday mornings.
fn weekday_weight(day: NaiveDate) -> f64 {
    match day.weekday() {
        Weekday::Sat => 0.3,
        Weekday::Sun => 0.0,
        _ => 1.0,
    }
}

/// How many records fall on each day from `first` to `last` (both included): `total` spread by the
/// days' weights, rounded so that the days add up to `total` exactly.
pub(crate) fn spread(total: u64, first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, u64)> {
    let days: Vec<(NaiveDate, f64)> = first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| (day, month_weight(day) * weekday_weight(day)))
        .collect();
    let weight: f64 = days.iter().map(|(_, weight)| weight).sum();
    if weight <= 0.0 {
        return Vec::new();
    }
    let mut cumulative = 0.0;
    let mut given = 0;
    days.into_iter()
        .map(|(day, day_weight)| {
            cumulative += day_weight;
            let until_now = ((cumulative / weight) * total as f64).round() as u64;
            let count = until_now.min(total).saturating_sub(given);
            given += count;
            (day, count)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// A moment in a desk's opening hours on `day` in Vietnam (7:30–11:30 and 13:30–17:00; Saturday
/// mornings only), to the microsecond, in UTC.
pub(crate) fn moment_on(rng: &mut SmallRng, day: NaiveDate) -> DateTime<Utc> {
    const MORNING: (i64, i64) = (7 * 3600 + 1800, 11 * 3600 + 1800);
    const AFTERNOON: (i64, i64) = (13 * 3600 + 1800, 17 * 3600);
    let morning = MORNING.1 - MORNING.0;
    let afternoon = if day.weekday() == Weekday::Sat { 0 } else { AFTERNOON.1 - AFTERNOON.0 };
    let offset = rng.random_range(0..morning + afternoon);
    let seconds = if offset < morning { MORNING.0 + offset } else { AFTERNOON.0 + offset - morning };
    let midnight_in_vietnam = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - TimeDelta::hours(7);
    midnight_in_vietnam + TimeDelta::seconds(seconds) + TimeDelta::microseconds(rng.random_range(0..1_000_000))
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;
    use dvc_domain::time::vietnam_date;
    use rand::SeedableRng;

    use super::*;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a day")
    }

    #[test]
    fn the_spread_adds_up_and_skips_sundays() {
        let spread = spread(10_001, day(2021, 7, 1), day(2021, 12, 31));
        assert_eq!(spread.iter().map(|(_, count)| count).sum::<u64>(), 10_001);
        assert!(spread.iter().all(|(day, _)| day.weekday() != Weekday::Sun));
        assert_eq!(spread.first().map(|(day, _)| *day), Some(day(2021, 7, 1)));
    }

    #[test]
    fn moments_are_in_opening_hours_on_the_day_in_vietnam() {
        let mut rng = SmallRng::seed_from_u64(1);
        let saturday = day(2021, 7, 3);
        for _ in 0..1_000 {
            let at = moment_on(&mut rng, saturday);
            assert_eq!(vietnam_date(at), saturday);
            let hour = (at + TimeDelta::hours(7)).hour();
            assert!((7..12).contains(&hour), "{at}");
        }
    }
}
