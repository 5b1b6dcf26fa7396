//! The scheduler: runs jobs when their schedules say, once per due time across every instance
//! sharing the database.
//!
//! **Crontab jobs** (the retention sweep, reminders) are persisted. Each due time is a row in
//! `job_runs` keyed by (job, due time); an instance claims a run by inserting its row
//! (`INSERT … ON CONFLICT DO NOTHING`, one atomic statement on SQLite and PostgreSQL) and runs
//! the job only if the insert took. So, with any number of instances on one database, each due
//! time runs exactly once, and none holds a lock while its job runs.
//!
//! - **Catch-up after downtime:** a pass asks each schedule for its latest due time at or
//!   before now and runs it if nobody has. After downtime spanning several due times, **only
//!   the latest runs, once**: the jobs sweep or remind about everything due as of now, so
//!   replaying each missed hour would repeat the same work. A restart within the same period
//!   runs nothing, because the row is there. A job first added to a database runs at once for
//!   its latest due time.
//! - **At most once per due time:** if an instance stops mid-run (crash, shutdown), the row
//!   stays with no `finished_at` and that due time is not retried; the next due time runs as
//!   usual. A failed job is recorded (`{"error": …}`) and not retried either.
//! - **Different due times may overlap** on different instances (a slow sweep at 10:00 on one,
//!   the 11:00 sweep on another); the jobs' own transactions keep that safe.
//!
//! **Interval jobs** (`Schedule::every`, outbox delivery) are not persisted: each instance runs
//! them every period, keeping only the last due time in memory. Such a job must be safe to run
//! on several instances at once: the outbox claims its own messages.
//!
//! Schedules are evaluated in UTC (see [`crontab`]).

pub mod crontab;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, SqlErr,
    TryInsertResult,
};
use serde_json::{Value, json};
use tokio::task::JoinSet;

pub use crontab::{CrontabError, Schedule};

use crate::clock::Clock;
use crate::store::entity::job_run;
use crate::store::time::stamp;

/// The retention sweep's job name (the key of its rows in `job_runs`).
pub const SWEEP: &str = "retention-sweep";
/// Review and expiry reminders.
pub const REMINDERS: &str = "reminders";
/// Outbox delivery (an interval job: not persisted).
pub const OUTBOX: &str = "outbox-delivery";

/// The longest the loop sleeps, so a moved clock or a missed claim is noticed within a minute.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);

/// What a job reports: a JSON value on success (stored as `{"ok": …}`), a message on failure
/// (stored as `{"error": …}`).
pub type Outcome = Result<Value, String>;

/// A job's run in progress.
pub type JobFuture = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

/// A job's action. Implemented by every `Fn(Timestamp) -> impl Future<Output = Outcome>`; the
/// argument is the due time the run is for (for interval jobs, the period's start).
pub trait JobFn: Send + Sync + 'static {
    fn start(&self, due_at: Timestamp) -> JobFuture;
}

impl<F, Fut> JobFn for F
where
    F: Fn(Timestamp) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    fn start(&self, due_at: Timestamp) -> JobFuture {
        Box::pin(self(due_at))
    }
}

/// A named job and when it is due.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub schedule: Schedule,
}

impl Job {
    pub fn new(name: impl Into<String>, schedule: Schedule) -> Job {
        Job {
            name: name.into(),
            schedule,
        }
    }

    /// Crontab jobs are claimed through `job_runs`; interval jobs are not.
    pub fn is_persisted(&self) -> bool {
        self.schedule.period().is_none()
    }
}

/// One run this instance started.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub job: String,
    /// The due time the run was for.
    pub due_at: Timestamp,
    pub status: RunStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// The job ran and reported this.
    Succeeded(Value),
    /// The job ran and failed (or panicked) with this message.
    Failed(String),
    /// The run could not be claimed (the database failed); nothing ran, and the next pass
    /// tries the same due time again.
    NotClaimed(String),
}

/// Runs jobs on schedule. Cheap to clone (shared state); see the module docs for the rules.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    instance: String,
    jobs: Vec<(Job, Arc<dyn JobFn>)>,
    /// Interval jobs: the due time each last ran for, on this instance.
    interval_runs: Mutex<HashMap<String, Timestamp>>,
}

impl Scheduler {
    /// A scheduler with no jobs. `instance` names this process in `job_runs.claimed_by`
    /// ([`instance_id`] makes one).
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, instance: impl Into<String>) -> Self {
        Scheduler {
            inner: Arc::new(Inner {
                db,
                clock,
                instance: instance.into(),
                jobs: Vec::new(),
                interval_runs: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Adds a job.
    ///
    /// # Panics
    /// If a job of that name was added already (both would share one run key), or if called
    /// on a clone of a scheduler.
    pub fn with_job(mut self, job: Job, action: impl JobFn) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("jobs are added before cloning");
        assert!(
            inner.jobs.iter().all(|(j, _)| j.name != job.name),
            "two jobs named '{}'",
            job.name
        );
        inner.jobs.push((job, Arc::new(action)));
        self
    }

    /// The three standard jobs with their configured schedules, ready for
    /// [`run_forever`](Self::run_forever). The instance id is made here ([`instance_id`]).
    pub fn standard(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        config: &SchedulerConfig,
        sweep: impl JobFn,
        reminders: impl JobFn,
        outbox: impl JobFn,
    ) -> Result<Scheduler, ConfigError> {
        let s = config.schedules()?;
        Ok(Scheduler::new(db, clock, instance_id())
            .with_job(Job::new(SWEEP, s.sweep), sweep)
            .with_job(Job::new(REMINDERS, s.reminders), reminders)
            .with_job(Job::new(OUTBOX, s.outbox), outbox))
    }

    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.inner.jobs.iter().map(|(j, _)| j)
    }

    /// One pass: for each job, its latest due time at or before now; if this instance claims
    /// it (or, for an interval job, has not run it), run it. Jobs run concurrently; the pass
    /// returns when they have finished, with a report per run started, in job order.
    pub async fn run_due(&self) -> Vec<RunReport> {
        let now = self.inner.clock.now();
        let mut set = JoinSet::new();
        for idx in 0..self.inner.jobs.len() {
            let inner = self.inner.clone();
            set.spawn(async move { (idx, inner.run_one(idx, now).await) });
        }
        let mut reports: Vec<(usize, RunReport)> = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((idx, Some(report))) => reports.push((idx, report)),
                Ok((_, None)) => {}
                Err(e) => tracing::error!(error = %e, "a scheduler pass failed"),
            }
        }
        reports.sort_by_key(|(idx, _)| *idx);
        reports.into_iter().map(|(_, r)| r).collect()
    }

    /// Runs the jobs for ever, each in its own loop so a slow sweep never holds up the outbox:
    /// run what is due, then sleep until the job's next due time, or at most [`MAX_SLEEP`]
    /// (so a changed clock, or a claim that failed because the database was away, is retried
    /// within a minute). Spawn it; it ends only when the runtime does.
    pub async fn run_forever(self) {
        let mut set = JoinSet::new();
        for idx in 0..self.inner.jobs.len() {
            let inner = self.inner.clone();
            set.spawn(async move {
                loop {
                    let now = inner.clock.now();
                    inner.run_one(idx, now).await;
                    tokio::time::sleep(inner.sleep_for(idx)).await;
                }
            });
        }
        // The loops never return; only a panic outside a job's own task could end one.
        while let Some(joined) = set.join_next().await {
            let Err(e) = joined;
            tracing::error!(error = %e, "a scheduler loop ended");
        }
    }
}

impl Inner {
    async fn run_one(&self, idx: usize, now: Timestamp) -> Option<RunReport> {
        let (job, action) = &self.jobs[idx];
        let due = job.schedule.last_at_or_before(now)?;
        if job.is_persisted() {
            match claim(&self.db, &job.name, due, &self.instance, now).await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    tracing::warn!(job = %job.name, due = %due, error = %e, "cannot claim a run");
                    return Some(RunReport {
                        job: job.name.clone(),
                        due_at: due,
                        status: RunStatus::NotClaimed(e.to_string()),
                    });
                }
            }
        } else {
            let mut last = self.interval_runs.lock().unwrap_or_else(|e| e.into_inner());
            if last.get(&job.name) == Some(&due) {
                return None;
            }
            last.insert(job.name.clone(), due);
        }
        // The action runs in its own task, so a panic becomes a failed run, not a dead loop.
        let outcome = match tokio::spawn(action.start(due)).await {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => Err(format!("the job panicked: {}", panic_message(e))),
            Err(e) => Err(format!("the job was cancelled: {e}")),
        };
        if job.is_persisted() {
            let finished = self.clock.now();
            if let Err(e) =
                finish(&self.db, &job.name, due, &self.instance, finished, &outcome).await
            {
                tracing::warn!(job = %job.name, due = %due, error = %e, "cannot record a run's outcome");
            }
        }
        match &outcome {
            Err(e) => tracing::warn!(job = %job.name, due = %due, error = %e, "job failed"),
            Ok(v) if job.is_persisted() => {
                tracing::info!(job = %job.name, due = %due, outcome = %v, "job ran")
            }
            Ok(v) => tracing::debug!(job = %job.name, due = %due, outcome = %v, "job ran"),
        }
        Some(RunReport {
            job: job.name.clone(),
            due_at: due,
            status: match outcome {
                Ok(v) => RunStatus::Succeeded(v),
                Err(e) => RunStatus::Failed(e),
            },
        })
    }

    fn sleep_for(&self, idx: usize) -> Duration {
        let now = self.clock.now();
        self.jobs[idx]
            .0
            .schedule
            .next_after(now)
            .and_then(|next| Duration::try_from(next.duration_since(now)).ok())
            .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP))
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Claims (job, due) for `instance`: true if this call inserted the row, false if another
/// claim (this instance's or another's) was there first.
async fn claim(
    db: &DatabaseConnection,
    job: &str,
    due: Timestamp,
    instance: &str,
    now: Timestamp,
) -> Result<bool, DbErr> {
    let row = job_run::ActiveModel {
        job: ActiveValue::Set(job.to_owned()),
        due_at: ActiveValue::Set(stamp(due)),
        claimed_by: ActiveValue::Set(instance.to_owned()),
        claimed_at: ActiveValue::Set(stamp(now)),
        finished_at: ActiveValue::Set(None),
        outcome: ActiveValue::Set(None),
    };
    let inserted = job_run::Entity::insert(row)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await;
    match inserted {
        Ok(TryInsertResult::Inserted(n)) => Ok(n == 1),
        Ok(TryInsertResult::Conflicted | TryInsertResult::Empty) => Ok(false),
        // ON CONFLICT makes this unreachable, but a unique violation means the same thing.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(false),
        Err(e) => Err(e),
    }
}

async fn finish(
    db: &DatabaseConnection,
    job: &str,
    due: Timestamp,
    instance: &str,
    at: Timestamp,
    outcome: &Outcome,
) -> Result<(), DbErr> {
    let recorded = match outcome {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": e }),
    };
    job_run::Entity::update_many()
        .col_expr(job_run::Column::FinishedAt, Expr::value(stamp(at)))
        .col_expr(job_run::Column::Outcome, Expr::value(recorded.to_string()))
        .filter(job_run::Column::Job.eq(job))
        .filter(job_run::Column::DueAt.eq(stamp(due)))
        .filter(job_run::Column::ClaimedBy.eq(instance))
        .exec(db)
        .await?;
    Ok(())
}

/// A name for this process in `job_runs.claimed_by`: the host (from `HOSTNAME`, if set), the
/// process id, and a UUID v7, so two processes never share one.
pub fn instance_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let host = if host.is_empty() {
        "accord".to_owned()
    } else {
        host
    };
    format!(
        "{host}:{}:{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    )
}

/// Default retention sweep schedule: hourly, on the hour.
pub const DEFAULT_SWEEP: &str = "0 * * * *";
/// Default reminders schedule: daily at 07:00 UTC.
pub const DEFAULT_REMINDERS: &str = "0 7 * * *";
/// Default seconds between outbox delivery passes.
pub const DEFAULT_OUTBOX_EVERY_SECS: u64 = 30;

/// The jobs' schedules, from flags or environment (`#[command(flatten)]` it into a clap
/// `Args`), or built directly (`SchedulerConfig::default()`). Crontab lines are checked as
/// they are parsed, so a bad line is refused with the field and the problem.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct SchedulerConfig {
    /// When the retention sweep runs: a five-field crontab line (minute hour day-of-month
    /// month day-of-week, in UTC) or @hourly, @daily, @weekly, @monthly, @yearly.
    #[arg(long = "sweep-cron", env = "ACCORD_SWEEP_CRON", value_name = "CRONTAB",
          default_value = DEFAULT_SWEEP, value_parser = crontab_line)]
    pub sweep: String,
    /// When review and expiry reminders are sent: a five-field crontab line, in UTC.
    #[arg(long = "reminders-cron", env = "ACCORD_REMINDERS_CRON", value_name = "CRONTAB",
          default_value = DEFAULT_REMINDERS, value_parser = crontab_line)]
    pub reminders: String,
    /// Seconds between outbox delivery passes (at least 1).
    #[arg(long = "outbox-every-secs", env = "ACCORD_OUTBOX_EVERY_SECS", value_name = "SECONDS",
          default_value_t = DEFAULT_OUTBOX_EVERY_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub outbox_every_secs: u64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            sweep: DEFAULT_SWEEP.to_owned(),
            reminders: DEFAULT_REMINDERS.to_owned(),
            outbox_every_secs: DEFAULT_OUTBOX_EVERY_SECS,
        }
    }
}

/// The parsed schedules of the standard jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedules {
    pub sweep: Schedule,
    pub reminders: Schedule,
    pub outbox: Schedule,
}

/// A setting that is not a valid schedule, named as the operator set it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting} '{line}': {source}")]
    Crontab {
        setting: &'static str,
        line: String,
        source: CrontabError,
    },
    #[error("outbox-every-secs (ACCORD_OUTBOX_EVERY_SECS) must be at least 1")]
    ZeroPeriod,
}

impl SchedulerConfig {
    pub fn schedules(&self) -> Result<Schedules, ConfigError> {
        let parse = |setting, line: &str| {
            Schedule::parse(line).map_err(|source| ConfigError::Crontab {
                setting,
                line: line.to_owned(),
                source,
            })
        };
        if self.outbox_every_secs == 0 {
            return Err(ConfigError::ZeroPeriod);
        }
        Ok(Schedules {
            sweep: parse("sweep-cron (ACCORD_SWEEP_CRON)", &self.sweep)?,
            reminders: parse("reminders-cron (ACCORD_REMINDERS_CRON)", &self.reminders)?,
            outbox: Schedule::every(Duration::from_secs(self.outbox_every_secs)),
        })
    }
}

/// A clap value parser: the line as given, if it parses.
pub fn crontab_line(line: &str) -> Result<String, CrontabError> {
    Schedule::parse(line).map(|_| line.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_parse() {
        let s = SchedulerConfig::default().schedules().unwrap();
        assert_eq!(s.sweep, Schedule::parse("@hourly").unwrap());
        assert_eq!(s.outbox.period(), Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_bad_setting_is_named_with_its_problem() {
        let config = SchedulerConfig {
            reminders: "0 9 * * 8".to_owned(),
            ..SchedulerConfig::default()
        };
        assert_eq!(
            config.schedules().unwrap_err().to_string(),
            "reminders-cron (ACCORD_REMINDERS_CRON) '0 9 * * 8': field 5 (day of week): '8' is \
             out of range 0-7"
        );
    }

    #[test]
    fn instance_ids_differ() {
        assert_ne!(instance_id(), instance_id());
    }
}
