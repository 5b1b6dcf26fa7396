//! Calendar arithmetic as the agreements mean it: dates in Europe/London, from the time zone
//! database compiled into the binary. The clock itself (what time it is now) is at the edge.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Europe/London.
pub fn london() -> TimeZone {
    TimeZone::get("Europe/London").expect("the bundled tz database has Europe/London")
}

/// The calendar date in Europe/London at `at`.
pub fn london_date(at: Timestamp) -> Date {
    at.to_zoned(london()).date()
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    match from.until(to) {
        Ok(span) => i64::from(span.get_days()),
        // Only at the far ends of the calendar; far enough is far enough.
        Err(_) if to > from => i64::MAX,
        Err(_) => i64::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn london_dates_follow_british_summer_time() {
        let late_bst: Timestamp = "2026-07-01T23:30:00Z".parse().unwrap();
        assert_eq!(london_date(late_bst).to_string(), "2026-07-02");
        let late_gmt: Timestamp = "2026-12-01T23:30:00Z".parse().unwrap();
        assert_eq!(london_date(late_gmt).to_string(), "2026-12-01");
    }

    #[test]
    fn days_between_counts_both_ways() {
        assert_eq!(days_between(date(2026, 1, 1), date(2026, 3, 1)), 59);
        assert_eq!(days_between(date(2026, 3, 1), date(2026, 1, 1)), -59);
    }
}
