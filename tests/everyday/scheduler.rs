//! The scheduler: crontab conversion, and runs claimed exactly once per due time on real
//! databases (SQLite and PostgreSQL), with an injected clock moved by hand.

use crate::support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accord::clock::{FixedClock, SystemClock};
use accord::scheduler::{
    CrontabError, Job, JobFn, RunReport, RunStatus, Schedule, Scheduler, SchedulerConfig,
};
use accord::store::entity::job_run;
use clap::Parser;
use jiff::Timestamp;
use jiff::civil::Weekday;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use support::app::{Backend, fresh_database, migrated_database};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn hours(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(n)
}

// ---------------------------------------------------------------- crontab conversion

#[test]
fn crontab_lines_convert_to_the_cron_crates_form() {
    let table: &[(&str, &[&str])] = &[
        ("* * * * *", &["0 * * * * *"]),
        ("*/15 * * * *", &["0 0,15,30,45 * * * *"]),
        ("0 * * * *", &["0 0 * * * *"]),
        ("0 7 * * *", &["0 0 7 * * *"]),
        // Weekdays: crontab Sunday = 0 or 7, Monday = 1; the crate Sunday = 1, Monday = 2.
        ("0 9 * * 1", &["0 0 9 * * 2"]),
        ("0 9 * * 0", &["0 0 9 * * 1"]),
        ("0 9 * * 7", &["0 0 9 * * 1"]),
        ("0 9 * * 6", &["0 0 9 * * 7"]),
        ("0 9 * * 1-5", &["0 0 9 * * 2,3,4,5,6"]),
        ("0 9 * * MON-FRI", &["0 0 9 * * 2,3,4,5,6"]),
        ("0 9 * * mon-fri", &["0 0 9 * * 2,3,4,5,6"]),
        ("30 8 * * SAT,SUN", &["0 30 8 * * 1,7"]),
        ("0 9 * * 5-7", &["0 0 9 * * 1,6,7"]),
        ("0 0 * * */2", &["0 0 0 * * 1,3,5,7"]),
        ("0 0 * * 0-7", &["0 0 0 * * *"]),
        // Months, by number and by name.
        ("0 0 1 JAN *", &["0 0 0 1 1 *"]),
        ("0 0 1 jan-mar,Oct *", &["0 0 0 1 1,2,3,10 *"]),
        ("0 0 1 */3 *", &["0 0 0 1 1,4,7,10 *"]),
        // Steps, ranges, lists.
        ("5/20 * * * *", &["0 5,25,45 * * * *"]),
        ("0 20/1 * * *", &["0 0 20,21,22,23 * * *"]),
        ("0-10/5 1,13 * * *", &["0 0,5,10 1,13 * * *"]),
        ("0 9-17/4 * * *", &["0 0 9,13,17 * * *"]),
        ("0 0 1-31 * *", &["0 0 0 * * *"]),
        ("0 0 29 2 *", &["0 0 0 29 2 *"]),
        ("  0   9 * *   1  ", &["0 0 9 * * 2"]),
        // Both day fields restricted: either matches (two crate schedules).
        ("0 9 1 * MON", &["0 0 9 1 * *", "0 0 9 * * 2"]),
        ("0 9 1,15 * 5", &["0 0 9 1,15 * *", "0 0 9 * * 6"]),
        // A day field led by `*` keeps "both".
        (
            "0 9 */2 * MON",
            &["0 0 9 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * 2"],
        ),
        // Shortcuts.
        ("@hourly", &["0 0 * * * *"]),
        ("@daily", &["0 0 0 * * *"]),
        ("@midnight", &["0 0 0 * * *"]),
        ("@weekly", &["0 0 0 * * 1"]),
        ("@monthly", &["0 0 0 1 * *"]),
        ("@yearly", &["0 0 0 1 1 *"]),
        ("@annually", &["0 0 0 1 1 *"]),
        ("@HOURLY", &["0 0 * * * *"]),
    ];
    for (line, want) in table {
        let s = Schedule::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(s.cron_expressions(), *want, "{line}");
        assert_eq!(s.crontab(), Some(line.trim()));
    }
}

#[test]
fn bad_crontab_lines_say_which_field_and_why() {
    let names = "SUN, MON, TUE, WED, THU, FRI, SAT";
    let table: &[(&str, String)] = &[
        (
            "",
            "empty schedule: expected five fields (minute hour day-of-month month day-of-week) \
             or a shortcut such as @hourly"
                .into(),
        ),
        (
            "0 9 * *",
            "expected five fields (minute hour day-of-month month day-of-week), found 4".into(),
        ),
        (
            "0 0 9 * * 1",
            "expected five fields (minute hour day-of-month month day-of-week), found 6; a \
             seconds or year field is not accepted: write a standard crontab line"
                .into(),
        ),
        (
            "0 9 * * 8",
            "field 5 (day of week): '8' is out of range 0-7".into(),
        ),
        (
            "60 * * * *",
            "field 1 (minute): '60' is out of range 0-59".into(),
        ),
        (
            "0 24 * * *",
            "field 2 (hour): '24' is out of range 0-23".into(),
        ),
        (
            "0 0 0 * *",
            "field 3 (day of month): '0' is out of range 1-31".into(),
        ),
        (
            "0 0 1 13 *",
            "field 4 (month): '13' is out of range 1-12".into(),
        ),
        (
            "99999999999 * * * *",
            "field 1 (minute): '99999999999' is out of range 0-59".into(),
        ),
        (
            "0 0 * * MONDAY",
            format!("field 5 (day of week): 'MONDAY' is neither a number nor a name ({names})"),
        ),
        (
            "0 0 1 FOO *",
            "field 4 (month): 'FOO' is neither a number nor a name (JAN, FEB, MAR, APR, MAY, \
             JUN, JUL, AUG, SEP, OCT, NOV, DEC)"
                .into(),
        ),
        ("x * * * *", "field 1 (minute): 'x' is not a number".into()),
        (
            "0 0 L * *",
            "field 3 (day of month): 'L' is not a number".into(),
        ),
        (
            "0 0 ? * *",
            "field 3 (day of month): '?' is not a number".into(),
        ),
        (
            "*/0 * * * *",
            "field 1 (minute): step in '*/0' must be at least 1".into(),
        ),
        (
            "*/x * * * *",
            "field 1 (minute): step 'x' in '*/x' is not a number".into(),
        ),
        (
            "0 22-2 * * *",
            "field 2 (hour): range '22-2' runs backwards (write the smaller value first)".into(),
        ),
        (
            "1,,2 * * * *",
            "field 1 (minute): '1,,2' has an empty list item".into(),
        ),
        (
            "0 0 * * 1-",
            "field 5 (day of week): a value is missing".into(),
        ),
        (
            "0 0 31 2 *",
            "never fires: no month given has the day of month given (like 30 February)".into(),
        ),
        (
            "@reboot",
            "unknown shortcut '@reboot': expected @yearly, @annually, @monthly, @weekly, \
             @daily, @midnight or @hourly"
                .into(),
        ),
    ];
    for (line, want) in table {
        let err = Schedule::parse(line).expect_err(line);
        assert_eq!(err.to_string(), *want, "{line:?}");
    }
    assert_eq!(
        Schedule::parse("0 9 * * 8").unwrap_err(),
        CrontabError::Field {
            number: 5,
            name: "day of week",
            problem: "'8' is out of range 0-7".into()
        }
    );
}

fn firings(line: &str, from: &str, n: usize) -> Vec<Timestamp> {
    let s = Schedule::parse(line).unwrap();
    let mut t = ts(from);
    (0..n)
        .map(|_| {
            t = s.next_after(t).unwrap();
            t
        })
        .collect()
}

#[test]
fn converted_schedules_fire_when_crontab_would() {
    // 2026-11-21 is a Saturday.
    let mondays = firings("0 9 * * 1", "2026-11-21T12:00:00Z", 4);
    for t in &mondays {
        let z = t.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(z.weekday(), Weekday::Monday, "{t}");
        assert_eq!((z.hour(), z.minute(), z.second()), (9, 0, 0));
    }
    assert_eq!(
        mondays,
        [
            ts("2026-11-23T09:00:00Z"),
            ts("2026-11-30T09:00:00Z"),
            ts("2026-12-07T09:00:00Z"),
            ts("2026-12-14T09:00:00Z"),
        ]
    );
    let sundays = [ts("2026-11-22T09:00:00Z"), ts("2026-11-29T09:00:00Z")];
    assert_eq!(firings("0 9 * * 0", "2026-11-21T12:00:00Z", 2), sundays);
    assert_eq!(firings("0 9 * * 7", "2026-11-21T12:00:00Z", 2), sundays);
    assert_eq!(firings("0 9 * * SUN", "2026-11-21T12:00:00Z", 2), sundays);
    assert_eq!(
        firings("*/15 * * * *", "2026-11-21T10:07:00Z", 4),
        [
            ts("2026-11-21T10:15:00Z"),
            ts("2026-11-21T10:30:00Z"),
            ts("2026-11-21T10:45:00Z"),
            ts("2026-11-21T11:00:00Z"),
        ]
    );
    // Weekdays only: Friday then Monday.
    assert_eq!(
        firings("30 6 * * 1-5", "2026-11-20T07:00:00Z", 2),
        [ts("2026-11-23T06:30:00Z"), ts("2026-11-24T06:30:00Z")]
    );
    // @weekly is Sunday midnight; @monthly the 1st.
    assert_eq!(
        firings("@weekly", "2026-11-21T12:00:00Z", 1),
        [ts("2026-11-22T00:00:00Z")]
    );
    assert_eq!(
        firings("@monthly", "2026-11-21T12:00:00Z", 1),
        [ts("2026-12-01T00:00:00Z")]
    );
    // 29 February: leap years only.
    assert_eq!(
        firings("0 0 29 2 *", "2026-01-01T00:00:00Z", 1),
        [ts("2028-02-29T00:00:00Z")]
    );
    // The latest due time, for catch-up: Saturday's last Monday 09:00.
    let s = Schedule::parse("0 9 * * 1").unwrap();
    assert_eq!(
        s.last_at_or_before(ts("2026-11-21T12:00:00Z")),
        Some(ts("2026-11-16T09:00:00Z"))
    );
    assert_eq!(
        s.last_at_or_before(ts("2026-11-23T09:00:00Z")),
        Some(ts("2026-11-23T09:00:00Z"))
    );
}

#[test]
fn configuration_from_flags_is_checked_by_clap() {
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        scheduler: SchedulerConfig,
    }
    let defaults = Cli::try_parse_from(["accord"]).unwrap().scheduler;
    assert_eq!(defaults, SchedulerConfig::default());
    assert_eq!(defaults.sweep, "0 * * * *");
    assert_eq!(defaults.reminders, "0 7 * * *");
    assert_eq!(defaults.outbox_every_secs, 30);

    let set = Cli::try_parse_from([
        "accord",
        "--sweep-cron",
        "*/10 * * * *",
        "--reminders-cron",
        "@daily",
        "--outbox-every-secs",
        "5",
    ])
    .unwrap()
    .scheduler;
    let s = set.schedules().unwrap();
    assert_eq!(s.sweep.cron_expressions(), ["0 0,10,20,30,40,50 * * * *"]);
    assert_eq!(s.outbox.period(), Some(Duration::from_secs(5)));

    let err = Cli::try_parse_from(["accord", "--sweep-cron", "0 9 * * 8"]).unwrap_err();
    assert!(
        err.to_string()
            .contains("field 5 (day of week): '8' is out of range 0-7"),
        "{err}"
    );
    assert!(Cli::try_parse_from(["accord", "--outbox-every-secs", "0"]).is_err());
}

// ---------------------------------------------------------------- runs on real databases

/// A fresh, migrated database; the folder holds the SQLite file.
struct Db {
    url: String,
    _dir: tempfile::TempDir,
}

async fn fresh(backend: Backend) -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = migrated_database(backend, dir.path()).await;
    Db { url, _dir: dir }
}

/// A pool of its own, as another instance would have.
async fn pool(db: &Db) -> DatabaseConnection {
    accord::store::connect(&db.url).await.expect("connect")
}

type Counts = Arc<Mutex<BTreeMap<(String, Timestamp), u32>>>;

/// A job that counts its runs per due time and takes a moment.
fn counting(name: &'static str, counts: &Counts) -> impl JobFn + use<> {
    let counts = counts.clone();
    move |due: Timestamp| {
        let counts = counts.clone();
        async move {
            *counts
                .lock()
                .unwrap()
                .entry((name.to_owned(), due))
                .or_default() += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok(json!({ "due": due.to_string() }))
        }
    }
}

async fn rows(db: &DatabaseConnection, job: &str) -> Vec<job_run::Model> {
    job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job))
        .order_by_asc(job_run::Column::DueAt)
        .all(db)
        .await
        .unwrap()
}

fn dues(reports: &[RunReport]) -> Vec<(String, Timestamp)> {
    reports.iter().map(|r| (r.job.clone(), r.due_at)).collect()
}

fn hourly() -> Schedule {
    Schedule::parse("0 * * * *").unwrap()
}

async fn runs_once_per_due_time(backend: Backend) {
    let db = fresh(backend).await;
    let clock = Arc::new(FixedClock::at(ts("2026-11-21T10:30:00Z")));
    let counts = Counts::default();
    let s = Scheduler::new(pool(&db).await, clock.clone(), "a")
        .with_job(Job::new("sweep", hourly()), counting("sweep", &counts));

    let first = s.run_due().await;
    assert_eq!(dues(&first), [("sweep".into(), ts("2026-11-21T10:00:00Z"))]);
    assert_eq!(
        first[0].status,
        RunStatus::Succeeded(json!({ "due": "2026-11-21T10:00:00Z" }))
    );
    assert!(s.run_due().await.is_empty(), "same due time again");
    clock.set(ts("2026-11-21T10:59:59.999Z"));
    assert!(s.run_due().await.is_empty(), "still the 10:00 period");
    clock.set(ts("2026-11-21T11:00:00Z"));
    assert_eq!(
        dues(&s.run_due().await),
        [("sweep".into(), ts("2026-11-21T11:00:00Z"))]
    );
    assert!(s.run_due().await.is_empty());

    let stored = rows(&pool(&db).await, "sweep").await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].due_at, "2026-11-21T10:00:00.000000Z");
    assert_eq!(stored[0].claimed_by, "a");
    assert_eq!(stored[0].claimed_at, "2026-11-21T10:30:00.000000Z");
    assert_eq!(
        stored[0].finished_at.as_deref(),
        Some("2026-11-21T10:30:00.000000Z")
    );
    let outcome: serde_json::Value =
        serde_json::from_str(stored[0].outcome.as_deref().unwrap()).unwrap();
    assert_eq!(outcome, json!({ "ok": { "due": "2026-11-21T10:00:00Z" } }));
    assert_eq!(counts.lock().unwrap().values().sum::<u32>(), 2);
}

async fn catches_up_once_after_downtime(backend: Backend) {
    let db = fresh(backend).await;
    let clock = Arc::new(FixedClock::at(ts("2026-11-21T10:30:00Z")));
    let counts = Counts::default();
    let before = Scheduler::new(pool(&db).await, clock.clone(), "before")
        .with_job(Job::new("sweep", hourly()), counting("sweep", &counts));
    assert_eq!(before.run_due().await.len(), 1);
    drop(before);

    // Down for five hours: 11:00 … 15:00 were missed.
    clock.set(ts("2026-11-21T15:30:00Z"));
    let after = Scheduler::new(pool(&db).await, clock.clone(), "after")
        .with_job(Job::new("sweep", hourly()), counting("sweep", &counts));
    let caught_up = after.run_due().await;
    assert_eq!(
        dues(&caught_up),
        [("sweep".into(), ts("2026-11-21T15:00:00Z"))],
        "exactly one catch-up run, for the latest missed due time"
    );
    assert!(
        after.run_due().await.is_empty(),
        "a second pass runs nothing"
    );
    drop(after);

    // Restarted again within the same hour: nothing to do.
    clock.set(ts("2026-11-21T15:45:00Z"));
    let again = Scheduler::new(pool(&db).await, clock.clone(), "again")
        .with_job(Job::new("sweep", hourly()), counting("sweep", &counts));
    assert!(again.run_due().await.is_empty());

    let ran: Vec<_> = counts.lock().unwrap().clone().into_iter().collect();
    assert_eq!(
        ran,
        [
            (("sweep".into(), ts("2026-11-21T10:00:00Z")), 1),
            (("sweep".into(), ts("2026-11-21T15:00:00Z")), 1),
        ]
    );
    let stored = rows(&pool(&db).await, "sweep").await;
    let who: Vec<_> = stored
        .iter()
        .map(|r| (r.due_at.as_str(), r.claimed_by.as_str()))
        .collect();
    assert_eq!(
        who,
        [
            ("2026-11-21T10:00:00.000000Z", "before"),
            ("2026-11-21T15:00:00.000000Z", "after"),
        ]
    );
}

/// Two instances (two pools, two instance ids) on one database, racing through 50 hourly due
/// times and three daily ones: each ran exactly once, none missed.
async fn two_schedulers_share_each_due_time(backend: Backend) {
    let db = fresh(backend).await;
    let start = ts("2026-11-21T00:00:00Z");
    let clock = Arc::new(FixedClock::at(start));
    let counts = Counts::default();
    let make = |pool: DatabaseConnection, id: &str| {
        Scheduler::new(pool, clock.clone(), id)
            .with_job(Job::new("sweep", hourly()), counting("sweep", &counts))
            .with_job(
                Job::new("reminders", Schedule::parse("0 7 * * *").unwrap()),
                counting("reminders", &counts),
            )
    };
    let a = make(pool(&db).await, "instance-a");
    let b = make(pool(&db).await, "instance-b");

    let mut reports = Vec::new();
    for hour in 0..50 {
        for offset in [0, 1, 20 * 60, 59 * 60 + 59] {
            clock.set(start + hours(hour) + jiff::SignedDuration::from_secs(offset));
            let (r1, r2, r3, r4) = tokio::join!(a.run_due(), b.run_due(), a.run_due(), b.run_due());
            for r in [r1, r2, r3, r4] {
                reports.extend(r);
            }
        }
    }
    assert!(
        reports
            .iter()
            .all(|r| matches!(r.status, RunStatus::Succeeded(_))),
        "{reports:?}"
    );

    let mut want: BTreeMap<(String, Timestamp), u32> = (0..50)
        .map(|h| (("sweep".to_owned(), start + hours(h)), 1))
        .collect();
    for day in ["2026-11-20", "2026-11-21", "2026-11-22"] {
        want.insert(("reminders".into(), ts(&format!("{day}T07:00:00Z"))), 1);
    }
    assert_eq!(*counts.lock().unwrap(), want, "each due time ran once");
    assert_eq!(reports.len(), want.len());

    let conn = pool(&db).await;
    let sweeps = rows(&conn, "sweep").await;
    let stored: Vec<_> = sweeps.iter().map(|r| r.due_at.clone()).collect();
    let expected: Vec<_> = (0..50)
        .map(|h| accord::store::time::stamp(start + hours(h)))
        .collect();
    assert_eq!(stored, expected, "one row per due time, none missing");
    assert!(sweeps.iter().all(|r| r.finished_at.is_some()));
    assert_eq!(rows(&conn, "reminders").await.len(), 3);

    let mut by_instance: HashMap<String, usize> = HashMap::new();
    for r in sweeps {
        *by_instance.entry(r.claimed_by).or_default() += 1;
    }
    eprintln!("{backend:?}: runs claimed per instance: {by_instance:?}");
    assert_eq!(by_instance.len(), 2, "both instances won some claims");
}

async fn failures_are_recorded_and_not_retried(backend: Backend) {
    let db = fresh(backend).await;
    let clock = Arc::new(FixedClock::at(ts("2026-11-21T10:30:00Z")));
    let s = Scheduler::new(pool(&db).await, clock.clone(), "a")
        .with_job(Job::new("fails", hourly()), |_due| async {
            Err::<serde_json::Value, _>("boom".to_owned())
        })
        .with_job(Job::new("panics", hourly()), |_due| async {
            if true {
                panic!("kaboom");
            }
            Ok(json!(null))
        });
    let reports = s.run_due().await;
    let statuses: Vec<_> = reports.iter().map(|r| r.status.clone()).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Failed("boom".into()),
            RunStatus::Failed("the job panicked: kaboom".into()),
        ]
    );
    assert!(s.run_due().await.is_empty(), "a failed run is not retried");
    let conn = pool(&db).await;
    let failed = &rows(&conn, "fails").await[0];
    assert_eq!(failed.outcome.as_deref(), Some(r#"{"error":"boom"}"#));
    assert!(failed.finished_at.is_some());
    let panicked = &rows(&conn, "panics").await[0];
    assert_eq!(
        panicked.outcome.as_deref(),
        Some(r#"{"error":"the job panicked: kaboom"}"#)
    );
    // The next due time runs as usual.
    clock.set(ts("2026-11-21T11:00:00Z"));
    assert_eq!(s.run_due().await.len(), 2);
}

async fn interval_jobs_run_every_period_unpersisted(backend: Backend) {
    let db = fresh(backend).await;
    let clock = Arc::new(FixedClock::at(ts("2026-11-21T10:00:10Z")));
    let counts = Counts::default();
    let make = |pool, id: &str| {
        Scheduler::new(pool, clock.clone(), id).with_job(
            Job::new("outbox", Schedule::every(Duration::from_secs(30))),
            counting("outbox", &counts),
        )
    };
    let a = make(pool(&db).await, "a");
    let b = make(pool(&db).await, "b");
    assert!(!a.jobs().next().unwrap().is_persisted());

    let first = a.run_due().await;
    assert_eq!(
        dues(&first),
        [("outbox".into(), ts("2026-11-21T10:00:00Z"))]
    );
    assert!(a.run_due().await.is_empty());
    clock.set(ts("2026-11-21T10:00:29.999Z"));
    assert!(a.run_due().await.is_empty());
    clock.set(ts("2026-11-21T10:00:30Z"));
    assert_eq!(a.run_due().await.len(), 1);
    // Not coordinated: another instance runs its own passes.
    assert_eq!(b.run_due().await.len(), 1);
    assert!(rows(&pool(&db).await, "outbox").await.is_empty());
    assert_eq!(counts.lock().unwrap().values().sum::<u32>(), 3);
}

async fn a_failed_claim_is_retried_on_the_next_pass(backend: Backend) {
    // A database without the job_runs table: every claim fails, and nothing runs.
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let unmigrated = accord::store::connect(&url).await.unwrap();
    let clock = Arc::new(FixedClock::at(ts("2026-11-21T10:30:00Z")));
    let counts = Counts::default();
    let s = Scheduler::new(unmigrated.clone(), clock.clone(), "a")
        .with_job(Job::new("sweep", hourly()), counting("sweep", &counts));
    let reports = s.run_due().await;
    assert!(
        matches!(
            &reports[..],
            [RunReport {
                status: RunStatus::NotClaimed(_),
                ..
            }]
        ),
        "{reports:?}"
    );
    assert!(counts.lock().unwrap().is_empty());
    // The database comes back: the same due time is claimed and run.
    accord::store::migrate(&unmigrated).await.unwrap();
    assert_eq!(
        dues(&s.run_due().await),
        [("sweep".into(), ts("2026-11-21T10:00:00Z"))]
    );
}

async fn run_forever_keeps_both_kinds_going(backend: Backend) {
    let db = fresh(backend).await;
    let counts = Counts::default();
    let s = Scheduler::new(pool(&db).await, Arc::new(SystemClock), "a")
        .with_job(Job::new("sweep", hourly()), counting("sweep", &counts))
        .with_job(
            Job::new("outbox", Schedule::every(Duration::from_millis(25))),
            counting("outbox", &counts),
        );
    let task = tokio::spawn(s.run_forever());
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    let counts = counts.lock().unwrap().clone();
    let outbox = counts.keys().filter(|(j, _)| j == "outbox").count();
    let sweeps = counts.keys().filter(|(j, _)| j == "sweep").count();
    assert!(outbox >= 3, "outbox passes: {outbox}");
    // The hourly job ran once, for the current hour (unless the test straddled the hour).
    assert!((1..=2).contains(&sweeps), "sweeps: {sweeps}");
    assert_eq!(rows(&pool(&db).await, "sweep").await.len(), sweeps);
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_backends!(
    runs_once_per_due_time,
    catches_up_once_after_downtime,
    two_schedulers_share_each_due_time,
    failures_are_recorded_and_not_retried,
    interval_jobs_run_every_period_unpersisted,
    a_failed_claim_is_retried_on_the_next_pass,
    run_forever_keeps_both_kinds_going,
);
