//! Dates in a template are offsets from the term's start: `start`, `start+P1Y11M30D`,
//! `start-P10D` (ISO 8601 durations in years, months, weeks and days). An offset is computed
//! exactly, so the original start gives back the original date, month ends and leap days
//! included; another start moves every date with it, by the calendar (`start+P1M` from
//! 31 January is the end of February).

use jiff::civil::Date;
use jiff::{Span, Unit};

/// What every offset starts with.
pub const START: &str = "start";

/// The offset of `date` from `start`, written as a template writes it.
pub fn offset(start: Date, date: Date) -> String {
    let span = start
        .until((Unit::Year, date))
        .expect("two civil dates are always a span in years apart");
    if span.is_zero() {
        return START.to_owned();
    }
    let sign = if span.is_negative() { '-' } else { '+' };
    format!("{START}{sign}{}", span.abs())
}

/// The date an offset stands for from `start`; `Err` says, for an IG officer, what is wrong.
pub fn resolve(start: Date, text: &str) -> Result<Date, String> {
    let bad = || {
        format!(
            "'{}' is not a date offset: write 'start', or 'start+' or 'start-' and an ISO 8601 \
             duration in years, months, weeks and days (like start+P1Y or start-P10D)",
            crate::agreement::decode::clip(text)
        )
    };
    let Some(rest) = text.strip_prefix(START) else {
        return Err(bad());
    };
    if rest.is_empty() {
        return Ok(start);
    }
    let (negative, duration) = match rest.split_at(1) {
        ("+", d) => (false, d),
        ("-", d) => (true, d),
        _ => return Err(bad()),
    };
    if !duration.starts_with('P') || duration.contains('T') {
        return Err(bad());
    }
    let span: Span = duration.parse().map_err(|_| bad())?;
    let span = if negative { span.negate() } else { span };
    start.checked_add(span).map_err(|_| {
        format!(
            "'{}' falls outside the calendar from {start}",
            crate::agreement::decode::clip(text)
        )
    })
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn offsets_are_written_from_the_start() {
        let start = date(2026, 4, 1);
        assert_eq!(offset(start, start), "start");
        assert_eq!(offset(start, date(2028, 3, 31)), "start+P1Y11M30D");
        assert_eq!(offset(start, date(2026, 3, 22)), "start-P10D");
        assert_eq!(offset(start, date(2027, 4, 1)), "start+P1Y");
    }

    #[test]
    fn every_date_round_trips_through_its_offset_month_ends_and_leap_days_included() {
        let starts = [
            date(2024, 1, 31),
            date(2024, 2, 29),
            date(2023, 2, 28),
            date(2026, 4, 1),
            date(2025, 12, 31),
            date(2024, 3, 31),
        ];
        for start in starts {
            let mut day = date(2022, 1, 1);
            while day < date(2029, 1, 1) {
                let written = offset(start, day);
                assert_eq!(resolve(start, &written), Ok(day), "{start} {written}");
                day = day.tomorrow().unwrap();
            }
        }
    }

    #[test]
    fn another_start_moves_dates_by_the_calendar() {
        assert_eq!(
            resolve(date(2027, 1, 31), "start+P1M"),
            Ok(date(2027, 2, 28))
        );
        assert_eq!(
            resolve(date(2028, 2, 29), "start+P1Y"),
            Ok(date(2029, 2, 28))
        );
        assert_eq!(
            resolve(date(2027, 4, 1), "start-P2W"),
            Ok(date(2027, 3, 18))
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_rule() {
        for bad in [
            "2026-04-01",
            "start+",
            "start+1Y",
            "start*P1Y",
            "start+PT12H",
            "start+P1Y2",
            "Start+P1Y",
            "",
        ] {
            let err = resolve(date(2026, 4, 1), bad).unwrap_err();
            assert!(err.contains("is not a date offset"), "{bad}: {err}");
        }
        let far = resolve(date(2026, 4, 1), "start+P9000Y").unwrap_err();
        assert!(far.contains("outside the calendar"), "{far}");
    }
}
