//! The scheduler's five-field crontab parser (`accord::scheduler::Schedule::parse`, what
//! `ACCORD_SWEEP_CRON` and `ACCORD_REMINDERS_CRON` are read with) on arbitrary text: it never
//! panics, and a schedule it accepts is consistent: the next due time after an instant is later
//! than it, the last at or before it is not, and neither skips a due time in between.
#![no_main]

use accord::scheduler::Schedule;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;

const INSTANTS: [&str; 6] = [
    "2026-11-21T12:34:56.789Z",
    "2000-02-29T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2024-12-31T23:59:59.999999999Z",
    "2099-12-31T23:59:00Z",
    "2100-06-01T00:00:00Z",
];

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schedule) = line.parse::<Schedule>() else {
        return;
    };
    assert_eq!(schedule.crontab(), Some(line.trim()));
    let _ = (schedule.to_string(), format!("{schedule:?}"));
    let exprs = schedule.cron_expressions();
    assert!(matches!(exprs.len(), 1 | 2), "{exprs:?}");
    assert_eq!(
        Schedule::parse(&schedule.to_string()).ok(),
        Some(schedule.clone())
    );
    for instant in INSTANTS {
        let t: Timestamp = instant.parse().unwrap();
        if let Some(next) = schedule.next_after(t) {
            assert!(next > t, "{line:?}: next after {t} is {next}");
            assert_eq!(
                schedule.last_at_or_before(next),
                Some(next),
                "{line:?} at {next}"
            );
        }
        if let Some(last) = schedule.last_at_or_before(t) {
            assert!(last <= t, "{line:?}: last at or before {t} is {last}");
            if let Some(after) = schedule.next_after(last) {
                assert!(after > t, "{line:?}: {after} is due between {last} and {t}");
            }
        }
    }
});
