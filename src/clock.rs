//! Time comes from a `Clock` handed in, never read directly, so rules about dates (expiry,
//! review, retention) are tested by setting the clock rather than by waiting.

use std::sync::Mutex;

use jiff::Timestamp;
use jiff::civil::Date;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;

    /// Today's calendar date as the agreements mean it: in Europe/London.
    fn today(&self) -> Date {
        london_date(self.now())
    }
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until moved; for tests and for "as of" reports.
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    pub fn at(now: Timestamp) -> Self {
        FixedClock(Mutex::new(now))
    }

    /// Noon in London on `date`, far from any midnight so the date is unambiguous.
    pub fn on(date: Date) -> Self {
        let noon = date
            .at(12, 0, 0, 0)
            .to_zoned(london())
            .expect("noon exists on every London date")
            .timestamp();
        FixedClock::at(noon)
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub use accord_core::dates::{london, london_date};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_on_a_date_reports_that_date() {
        let d: Date = "2026-03-29".parse().unwrap();
        assert_eq!(FixedClock::on(d).today(), d);
    }
}
