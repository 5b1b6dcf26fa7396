//! Schedules: standard five-field crontab lines, evaluated in UTC, or a fixed period.
//!
//! A crontab line is parsed here, in full, into the set of values of each field (so every
//! mistake gets a message naming the field), and then written out in the `cron` crate's form,
//! which the crate evaluates. The conversion:
//!
//! - a seconds field `0` is prepended (the crate wants six or seven fields);
//! - day-of-week is renumbered: crontab counts Sunday = 0 (and 7), Monday = 1 … Saturday = 6;
//!   the crate counts Sunday = 1 … Saturday = 7 (chrono's `number_from_sunday`);
//! - lists, ranges, steps and names are expanded to explicit numbers (a field covering its whole
//!   range is written `*`);
//! - day of month and day of week: when both are restricted (neither starts with `*`), crontab
//!   fires on a day matching *either* (`0 9 1 * MON`: the 1st, and every Monday), while the crate
//!   requires both. Such a line becomes two crate schedules, one per day field, whose union is
//!   the schedule. When either field starts with `*` (even `*/2`), both must match, as in cron.
//!
//! Times are UTC, not Europe/London: a run's key is its UTC instant, the same on every
//! instance, and no run is skipped or doubled by a clock change. The crate could evaluate in
//! London only through chrono-tz, a second copy of the time zone database beside jiff's.
//! `0 7 * * *` is 07:00 in London in winter and 08:00 in summer.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiff::Timestamp;

/// Why a crontab line was refused. The `Display` text is meant for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrontabError {
    #[error(
        "empty schedule: expected five fields (minute hour day-of-month month day-of-week) or a \
         shortcut such as @hourly"
    )]
    Empty,
    #[error(
        "expected five fields (minute hour day-of-month month day-of-week), found {found}{}",
        if *.found > 5 { "; a seconds or year field is not accepted: write a standard crontab line" } else { "" }
    )]
    FieldCount { found: usize },
    #[error(
        "unknown shortcut '{0}': expected @yearly, @annually, @monthly, @weekly, @daily, \
         @midnight or @hourly"
    )]
    Shortcut(String),
    /// `field 5 (day of week): '8' is out of range 0-7`
    #[error("field {number} ({name}): {problem}")]
    Field {
        number: usize,
        name: &'static str,
        problem: String,
    },
    #[error("never fires: no month given has the day of month given (like 30 February)")]
    Never,
}

/// When a job is due: a crontab schedule, or every fixed period.
#[derive(Clone)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    /// The crontab line as written, and the crate schedules whose union it is (one, or two when
    /// both day fields are restricted).
    Cron {
        line: String,
        parts: Vec<cron::Schedule>,
    },
    /// Due at every multiple of the period since the Unix epoch.
    Every(Duration),
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Cron { line, parts } => f
                .debug_struct("Schedule")
                .field("crontab", line)
                .field(
                    "cron",
                    &parts.iter().map(|p| p.source()).collect::<Vec<_>>(),
                )
                .finish(),
            Kind::Every(d) => f.debug_struct("Schedule").field("every", d).finish(),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Cron { line, .. } => f.write_str(line),
            Kind::Every(d) => write!(f, "every {d:?}"),
        }
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Cron { parts: a, .. }, Kind::Cron { parts: b, .. }) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.source() == y.source())
            }
            (Kind::Every(a), Kind::Every(b)) => a == b,
            _ => false,
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = CrontabError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Schedule::parse(s)
    }
}

impl Schedule {
    /// Parses a standard crontab line: `minute hour day-of-month month day-of-week`, each field
    /// `*`, a number, a range `a-b`, any of these with a step `/n` (`a/n` means `a-max/n`), or a
    /// comma list of them; months and weekdays also by their three-letter English names
    /// (`JAN`, `MON`; any case); weekdays 0–7 with 0 and 7 both Sunday. Or a shortcut:
    /// `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
    /// Evaluated in UTC.
    pub fn parse(line: &str) -> Result<Schedule, CrontabError> {
        let line = line.trim();
        if line.is_empty() {
            return Err(CrontabError::Empty);
        }
        let expanded = if let Some(name) = line.strip_prefix('@') {
            match name.to_ascii_lowercase().as_str() {
                "yearly" | "annually" => "0 0 1 1 *",
                "monthly" => "0 0 1 * *",
                "weekly" => "0 0 * * 0",
                "daily" | "midnight" => "0 0 * * *",
                "hourly" => "0 * * * *",
                _ => return Err(CrontabError::Shortcut(line.to_owned())),
            }
        } else {
            line
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CrontabError::FieldCount {
                found: fields.len(),
            });
        }
        let mut sets = Vec::with_capacity(5);
        for (spec, text) in SPECS.iter().zip(&fields) {
            sets.push(spec.parse(text)?);
        }
        let [minute, hour, dom, month, dow] = <[Values; 5]>::try_from(sets)
            .unwrap_or_else(|_| unreachable!("five specs, five fields"));
        let dow = Values {
            // Sunday is 0 and 7 in crontab; keep one.
            set: dow.set.iter().map(|d| d % 7).collect(),
            star: dow.star,
        };
        let minute = render(&minute.set, &SPECS[0]);
        let hour = render(&hour.set, &SPECS[1]);
        let dom_text = render(&dom.set, &SPECS[2]);
        let month = render(&month.set, &SPECS[3]);
        let dow_text = render_weekdays(&dow.set);
        let expr = |dom: &str, dow: &str| format!("0 {minute} {hour} {dom} {month} {dow}");
        let exprs = if !dom.star && !dow.star {
            vec![expr(&dom_text, "*"), expr("*", &dow_text)]
        } else {
            vec![expr(&dom_text, &dow_text)]
        };
        let parts = exprs
            .iter()
            .map(|e| {
                e.parse::<cron::Schedule>()
                    .unwrap_or_else(|err| panic!("converted crontab '{e}' is valid cron: {err}"))
            })
            .collect();
        let schedule = Schedule {
            kind: Kind::Cron {
                line: line.to_owned(),
                parts,
            },
        };
        // A day of month that no month given has (31 in February, April…) never fires; cron
        // accepts such lines silently, but here it is a mistake worth reporting. 2000 is a leap
        // year, so `29 2` passes.
        let start: Timestamp = "2000-01-01T00:00:00Z".parse().expect("a valid instant");
        if schedule.next_after(start).is_none() {
            return Err(CrontabError::Never);
        }
        Ok(schedule)
    }

    /// Due at every multiple of `period` since the Unix epoch (so every instance agrees on the
    /// due times, and `every(30 s)` is due at :00 and :30 of each minute).
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn every(period: Duration) -> Schedule {
        assert!(!period.is_zero(), "a schedule's period must not be zero");
        Schedule {
            kind: Kind::Every(period),
        }
    }

    /// The period of an `every` schedule; `None` for a crontab schedule.
    pub fn period(&self) -> Option<Duration> {
        match self.kind {
            Kind::Every(d) => Some(d),
            Kind::Cron { .. } => None,
        }
    }

    /// The crontab line as given (`None` for an `every` schedule).
    pub fn crontab(&self) -> Option<&str> {
        match &self.kind {
            Kind::Cron { line, .. } => Some(line),
            Kind::Every(_) => None,
        }
    }

    /// What the line became in the `cron` crate's syntax (seconds first, Sunday = 1); two
    /// expressions, whose union is the schedule, when both day fields are restricted.
    pub fn cron_expressions(&self) -> Vec<String> {
        match &self.kind {
            Kind::Cron { parts, .. } => parts.iter().map(|p| p.source().to_owned()).collect(),
            Kind::Every(_) => Vec::new(),
        }
    }

    /// The first due time strictly after `t` (`None` past the crate's last year, 2100).
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        match &self.kind {
            Kind::Cron { parts, .. } => {
                let from = to_chrono(t)?;
                parts
                    .iter()
                    .filter_map(|p| p.after(&from).next())
                    .min()
                    .and_then(to_jiff)
            }
            Kind::Every(period) => {
                let step = period.as_nanos() as i128;
                let n = t.as_nanosecond().div_euclid(step);
                Timestamp::from_nanosecond((n + 1) * step).ok()
            }
        }
    }

    /// The latest due time at or before `t`: the run that should have happened by `t`
    /// (`None` before the crate's first year, 1970).
    pub fn last_at_or_before(&self, t: Timestamp) -> Option<Timestamp> {
        match &self.kind {
            Kind::Cron { parts, .. } => {
                // The crate looks strictly before a whole second: start from the next one.
                let bound = Timestamp::from_second(t.as_second()).ok()?
                    + jiff::SignedDuration::from_secs(1);
                let before = to_chrono(bound)?;
                parts
                    .iter()
                    .filter_map(|p| p.after(&before).next_back())
                    .max()
                    .and_then(to_jiff)
                    .filter(|&due| due <= t)
            }
            Kind::Every(period) => {
                let step = period.as_nanos() as i128;
                let n = t.as_nanosecond().div_euclid(step);
                Timestamp::from_nanosecond(n * step).ok()
            }
        }
    }
}

fn to_chrono(t: Timestamp) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(t.as_second(), t.subsec_nanosecond().try_into().ok()?)
}

fn to_jiff(t: DateTime<Utc>) -> Option<Timestamp> {
    Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos().try_into().ok()?).ok()
}

/// One crontab field: its position, name, range, and names for values.
struct Spec {
    number: usize,
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    names_hint: &'static str,
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const SPECS: [Spec; 5] = [
    Spec {
        number: 1,
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        names_hint: "",
    },
    Spec {
        number: 2,
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        names_hint: "",
    },
    Spec {
        number: 3,
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        names_hint: "",
    },
    Spec {
        number: 4,
        name: "month",
        min: 1,
        max: 12,
        names: MONTHS,
        names_hint: "JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC",
    },
    Spec {
        number: 5,
        name: "day of week",
        min: 0,
        max: 7,
        names: DAYS,
        names_hint: "SUN, MON, TUE, WED, THU, FRI, SAT",
    },
];

/// A field's values, and whether it was written starting with `*` (which decides how the two
/// day fields combine).
struct Values {
    set: BTreeSet<u32>,
    star: bool,
}

impl Spec {
    fn error(&self, problem: String) -> CrontabError {
        CrontabError::Field {
            number: self.number,
            name: self.name,
            problem,
        }
    }

    fn parse(&self, text: &str) -> Result<Values, CrontabError> {
        let mut set = BTreeSet::new();
        for item in text.split(',') {
            if item.is_empty() {
                return Err(self.error(format!("'{text}' has an empty list item")));
            }
            set.extend(self.item(item)?);
        }
        Ok(Values {
            set,
            star: text.starts_with('*'),
        })
    }

    /// One list item: `*`, `n`, `a-b`, each optionally `/step`.
    fn item(&self, item: &str) -> Result<Vec<u32>, CrontabError> {
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(step)),
            None => (item, None),
        };
        let stepped = step.is_some();
        let step = match step {
            None => 1,
            Some(s) => match s.parse::<u32>() {
                Ok(0) => return Err(self.error(format!("step in '{item}' must be at least 1"))),
                Ok(n) => n,
                Err(_) => {
                    return Err(self.error(format!("step '{s}' in '{item}' is not a number")));
                }
            },
        };
        let (lo, hi) = if base == "*" {
            // Day of week `*` is 0-6: 7 would repeat Sunday and upset steps (`*/2`).
            (self.min, if self.number == 5 { 6 } else { self.max })
        } else if let Some((a, b)) = base.split_once('-') {
            let (a, b) = (self.value(a)?, self.value(b)?);
            if a > b {
                return Err(self.error(format!(
                    "range '{base}' runs backwards (write the smaller value first)"
                )));
            }
            (a, b)
        } else {
            let a = self.value(base)?;
            // `a/step` is `a-max/step`, as in cronie.
            (a, if stepped { self.max } else { a })
        };
        Ok((lo..=hi).step_by(step as usize).collect())
    }

    fn value(&self, text: &str) -> Result<u32, CrontabError> {
        if text.is_empty() {
            return Err(self.error("a value is missing".to_owned()));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u32>() {
                Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
                _ => Err(self.error(format!(
                    "'{text}' is out of range {}-{}",
                    self.min, self.max
                ))),
            };
        }
        let lower = text.to_ascii_lowercase();
        if let Some(i) = self.names.iter().position(|n| *n == lower) {
            // Months are named from 1, weekdays from 0 (Sunday).
            return Ok(i as u32 + if self.number == 4 { 1 } else { 0 });
        }
        if self.names.is_empty() {
            Err(self.error(format!("'{text}' is not a number")))
        } else {
            Err(self.error(format!(
                "'{text}' is neither a number nor a name ({})",
                self.names_hint
            )))
        }
    }
}

/// A field's values in the crate's syntax: `*` when complete, else an explicit list.
fn render(set: &BTreeSet<u32>, spec: &Spec) -> String {
    if set.len() as u32 == spec.max - spec.min + 1 {
        return "*".to_owned();
    }
    join(set.iter().copied())
}

/// Crontab weekdays (0 = Sunday … 6 = Saturday) in the crate's numbering (1 = Sunday … 7).
fn render_weekdays(set: &BTreeSet<u32>) -> String {
    if set.len() == 7 {
        return "*".to_owned();
    }
    join(set.iter().map(|d| d + 1))
}

fn join(values: impl Iterator<Item = u32>) -> String {
    values.map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn weekdays_are_renumbered_from_sunday_one() {
        assert_eq!(
            Schedule::parse("0 9 * * 1").unwrap().cron_expressions(),
            ["0 0 9 * * 2"]
        );
        assert_eq!(
            Schedule::parse("0 9 * * 0").unwrap().cron_expressions(),
            ["0 0 9 * * 1"]
        );
        assert_eq!(
            Schedule::parse("0 9 * * 7").unwrap(),
            Schedule::parse("0 9 * * 0").unwrap()
        );
        assert_eq!(
            Schedule::parse("0 9 * * 0-7").unwrap().cron_expressions(),
            ["0 0 9 * * *"]
        );
    }

    #[test]
    fn the_crate_agrees_that_its_day_one_is_sunday() {
        // 2026-11-22 is a Sunday.
        let sunday_nine = ts("2026-11-22T09:00:00Z");
        let direct: cron::Schedule = "0 0 9 * * 1".parse().unwrap();
        let from = to_chrono(ts("2026-11-21T12:00:00Z")).unwrap();
        assert_eq!(
            to_jiff(direct.after(&from).next().unwrap()),
            Some(sunday_nine)
        );
    }

    #[test]
    fn last_at_or_before_includes_the_instant_itself() {
        let hourly = Schedule::parse("@hourly").unwrap();
        let ten = ts("2026-11-21T10:00:00Z");
        assert_eq!(hourly.last_at_or_before(ten), Some(ten));
        assert_eq!(
            hourly.last_at_or_before(ts("2026-11-21T09:59:59.999Z")),
            Some(ts("2026-11-21T09:00:00Z"))
        );
        assert_eq!(
            hourly.last_at_or_before(ts("2026-11-21T10:00:00.5Z")),
            Some(ten)
        );
        assert_eq!(hourly.next_after(ten), Some(ts("2026-11-21T11:00:00Z")));
        assert_eq!(hourly.next_after(ts("2026-11-21T09:59:59.5Z")), Some(ten));
    }

    #[test]
    fn every_is_aligned_to_the_epoch() {
        let s = Schedule::every(Duration::from_secs(30));
        assert_eq!(
            s.last_at_or_before(ts("2026-11-21T10:00:45Z")),
            Some(ts("2026-11-21T10:00:30Z"))
        );
        assert_eq!(
            s.next_after(ts("2026-11-21T10:00:30Z")),
            Some(ts("2026-11-21T10:01:00Z"))
        );
        assert_eq!(
            s.last_at_or_before(ts("2026-11-21T10:00:30Z")),
            Some(ts("2026-11-21T10:00:30Z"))
        );
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        let s = Schedule::parse("0 9 1 * MON").unwrap();
        assert_eq!(s.cron_expressions(), ["0 0 9 1 * *", "0 0 9 * * 2"]);
        // From Saturday 2026-11-21: Monday the 23rd, Monday the 30th, then Tuesday 1 December.
        let mut t = ts("2026-11-21T12:00:00Z");
        let mut seen = vec![];
        for _ in 0..3 {
            t = s.next_after(t).unwrap();
            seen.push(t.to_string());
        }
        assert_eq!(
            seen,
            [
                "2026-11-23T09:00:00Z",
                "2026-11-30T09:00:00Z",
                "2026-12-01T09:00:00Z"
            ]
        );
        assert_eq!(
            s.last_at_or_before(ts("2026-12-02T00:00:00Z")),
            Some(ts("2026-12-01T09:00:00Z"))
        );
        // A star-led day field keeps "both": odd days that are Mondays.
        let both = Schedule::parse("0 9 */2 * MON").unwrap();
        assert_eq!(both.cron_expressions().len(), 1);
    }
}
