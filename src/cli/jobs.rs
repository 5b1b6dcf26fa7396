//! The scheduled jobs `serve` runs: the retention sweep, the reminders (with the handover's
//! reminders, escalations and access ended at engagement end), and outbox delivery.

use std::path::PathBuf;

use clap::Args;

use crate::app::App;
use crate::mail::Mailer;
use crate::scheduler::{Scheduler, SchedulerConfig};

/// How mail leaves, besides `ACCORD_SMTP_URL` (a secret, from the environment only).
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// Where messages are written as .eml files when no SMTP server is configured
    /// (`ACCORD_SMTP_URL=smtp://host:port` sends them instead).
    #[arg(long, env = "ACCORD_OUTBOX", default_value = crate::mail::DEFAULT_OUTBOX_DIR)]
    pub outbox: PathBuf,
    /// The From of every message: accord@council.example or "Accord <accord@council.example>".
    #[arg(long, env = "ACCORD_MAIL_FROM", default_value = crate::mail::DEFAULT_FROM)]
    pub mail_from: String,
}

impl MailArgs {
    /// The mailer these settings and `ACCORD_SMTP_URL` describe; `Err` says what is wrong.
    pub fn mailer(
        &self,
        db: &sea_orm::DatabaseConnection,
        clock: &std::sync::Arc<dyn crate::clock::Clock>,
    ) -> Result<Mailer, String> {
        Mailer::from_env(db.clone(), clock.clone(), &self.outbox, &self.mail_from)
            .map_err(|e| e.to_string())
    }
}

/// Builds the scheduler with its three jobs, sharing the app's retention service and mail
/// templates; `Err` says what is wrong with the configuration.
pub fn scheduler(
    app: &App,
    config: &SchedulerConfig,
    mail: &MailArgs,
) -> Result<Scheduler, String> {
    let mailer = mail.mailer(&app.db, &app.clock)?;
    let (retention, templates) = (app.retention.clone(), app.mail.clone());
    let reminders_registry = app.registry.clone();
    let handover = app.handover.clone();
    let access = app.access.clone();
    Scheduler::standard(
        app.db.clone(),
        app.clock.clone(),
        config,
        move |_due| {
            let r = retention.clone();
            async move {
                r.sweep(false)
                    .await
                    .map(|x| serde_json::json!(x))
                    .map_err(|e| e.to_string())
            }
        },
        move |_due| {
            let (r, t, h, a) = (
                reminders_registry.clone(),
                templates.clone(),
                handover.clone(),
                access.clone(),
            );
            async move {
                let agreements = crate::reminders::send_due(&r, &t)
                    .await
                    .map_err(|e| e.to_string())?;
                let handover = h.enforce().await.map_err(|e| e.to_string())?;
                // Closed access requests' personal details, past the period the privacy
                // notice gives.
                let erased = a.erase_closed().await.map_err(|e| e.to_string())?;
                Ok(serde_json::json!({
                    "agreements": agreements, "handover": handover, "requests_erased": erased,
                }))
            }
        },
        move |_due| {
            let m = mailer.clone();
            async move {
                m.deliver_due()
                    .await
                    .map(|x| serde_json::json!(x))
                    .map_err(|e| e.to_string())
            }
        },
    )
    .map_err(|e| e.to_string())
}

/// `accord jobs`: the scheduled jobs, on demand.
#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Run a job now, as its schedule would, and print what it did (or, with --dry-run,
    /// would do, changing nothing). Exit 0: done; 1: the job failed (mail not delivered);
    /// 2: invalid settings; 3: database unavailable.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job to run.
    #[arg(value_enum)]
    job: JobName,
    /// Only say what would be done; change nothing (no database is created either).
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    db: super::DbArgs,
    #[command(flatten)]
    app: super::app_args::AppArgs,
    #[command(flatten)]
    mail: MailArgs,
}

/// The jobs `serve` schedules, by the part they play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum JobName {
    /// Agreements' reminders: review due, term ending, assurance expiring (the reminders
    /// job, ACCORD_REMINDERS_CRON).
    Reminders,
    /// The handover's reminders and escalations, and access ended after a contractor's
    /// engagement_end (run by the reminders job too).
    Handover,
    /// The retention sweep (ACCORD_SWEEP_CRON), as `accord sweep`.
    Sweep,
    /// One outbox delivery pass (every ACCORD_OUTBOX_EVERY_SECS).
    Outbox,
}

impl JobName {
    fn as_str(self) -> &'static str {
        match self {
            JobName::Reminders => "reminders",
            JobName::Handover => "handover",
            JobName::Sweep => "sweep",
            JobName::Outbox => "outbox",
        }
    }
}

/// What a run printed and how it ended: its lines, a short outcome for the audit log, and
/// whether it failed.
struct Ran {
    lines: Vec<String>,
    outcome: serde_json::Value,
    failed: bool,
}

pub fn run(cmd: JobsCommand) -> std::process::ExitCode {
    let JobsCommand::Run(args) = cmd;
    super::runtime().block_on(run_job(args))
}

async fn run_job(args: RunArgs) -> std::process::ExitCode {
    use std::process::ExitCode;
    use std::sync::Arc;
    // A dry run only reads: it never makes a database.
    let opened = if args.dry_run {
        super::db::open_existing(&args.db).await
    } else {
        super::db::open(&args.db).await
    };
    let db = match opened {
        Ok(db) => db,
        Err(code) => return code,
    };
    let settings = match args.app.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The services the scheduled jobs use, built as `serve` builds them (but no gate: a job
    // starts no decision journal).
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::SystemClock);
    let registry = crate::registry::Registry::new(db.clone(), clock.clone());
    let templates = match settings.mail_templates() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let dry_run = args.dry_run;
    let ran = match args.job {
        JobName::Reminders => {
            let access = crate::access::requests::Access::new(
                registry.clone(),
                templates.clone(),
                &settings.public_url,
                settings.service.clone(),
            );
            let reminded = crate::reminders::run(&registry, &templates, dry_run).await;
            // Erasing closed requests' details is part of the daily job; a dry run erases
            // nothing.
            let erased = if dry_run {
                Ok(0)
            } else {
                access.erase_closed().await.map_err(|e| e.to_string())
            };
            match (reminded, erased) {
                (Ok(r), Ok(erased)) => {
                    let summary = format!(
                        "{} message(s) queued, {} reminder(s) already sent, {} closed request(s) erased",
                        r.queued, r.already_sent, erased
                    );
                    Ok(Ran {
                        lines: recorded(&r.recorded, dry_run, &summary),
                        outcome: serde_json::json!({ "reminders": r, "requests_erased": erased }),
                        failed: false,
                    })
                }
                (Err(e), _) => Err(e.to_string()),
                (_, Err(e)) => Err(e),
            }
        }
        JobName::Handover => {
            let handover =
                crate::handover::Handover::new(registry, templates, &settings.public_url);
            handover
                .enforce_or_try(dry_run)
                .await
                .map(|r| {
                    let summary = format!(
                        "{} message(s) queued; {} engagement(s) ended: {} token(s) revoked, {} account(s) disabled, {} holding(s) due for deletion",
                        r.queued,
                        r.engagements_ended,
                        r.tokens_revoked,
                        r.accounts_disabled,
                        r.holdings_due
                    );
                    Ran {
                        lines: recorded(&r.recorded, dry_run, &summary),
                        outcome: serde_json::json!(r),
                        failed: false,
                    }
                })
                .map_err(|e| e.to_string())
        }
        JobName::Sweep => settings
            .retention_with(&registry, templates)
            .sweep(dry_run)
            .await
            .map(|r| Ran {
                outcome: serde_json::json!({
                    "requests": r.requests.len(), "held": r.held.len(),
                    "webhooks_sent": r.webhooks_sent, "confirmed": r.confirmed,
                    "escalated": r.escalated,
                }),
                lines: super::sweep::describe(&r)
                    .lines()
                    .map(str::to_owned)
                    .collect(),
                failed: false,
            })
            .map_err(|e| e.to_string()),
        JobName::Outbox => match args.mail.mailer(&db, &clock) {
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            Ok(mailer) => outbox(&mailer, dry_run).await,
        },
    };
    let ran = match ran {
        Ok(ran) => ran,
        Err(e) => {
            eprintln!("error: the {} job failed: {e}", args.job.as_str());
            return ExitCode::FAILURE;
        }
    };
    for line in &ran.lines {
        println!("{line}");
    }
    if !dry_run {
        // Who ran it out of schedule; what it did is audited as the scheduled run's is.
        if let Err(e) = audit_run(&db, clock.now(), args.job, &ran.outcome).await {
            eprintln!("error: cannot audit the run: {e}");
            return ExitCode::FAILURE;
        }
    }
    if ran.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One line per audit record a run wrote (or would write), then a summary.
fn recorded(records: &[crate::audit::Planned], dry_run: bool, summary: &str) -> Vec<String> {
    let verb = if dry_run { "would record" } else { "recorded" };
    let mut lines: Vec<String> = records
        .iter()
        .map(|r| format!("{verb} {} {}: {}", r.action, r.subject, r.details))
        .collect();
    let tail = if dry_run {
        " (dry run: nothing changed)"
    } else {
        ""
    };
    lines.push(format!("{summary}{tail}"));
    lines
}

/// One delivery pass, or with `dry_run` the messages it would send.
async fn outbox(mailer: &Mailer, dry_run: bool) -> Result<Ran, String> {
    if dry_run {
        let due = mailer.due_now().await.map_err(|e| e.to_string())?;
        let mut lines: Vec<String> = due
            .iter()
            .map(|m| format!("would send {} to {}: {}", m.kind, m.to_addr, m.subject))
            .collect();
        lines.push(format!(
            "{} message(s) due, through {} (dry run: nothing sent)",
            due.len(),
            mailer.transport.describe()
        ));
        return Ok(Ran {
            lines,
            outcome: serde_json::json!({ "due": due.len() }),
            failed: false,
        });
    }
    let r = mailer.deliver_due().await.map_err(|e| e.to_string())?;
    let mut lines = vec![format!(
        "sent {}, deferred {}, failed for good {}, through {}",
        r.sent.len(),
        r.deferred.len(),
        r.failed.len(),
        mailer.transport.describe()
    )];
    if let Some(why) = &r.unreachable {
        lines.push(format!("stopped: the transport cannot be reached: {why}"));
    }
    if let Some(why) = &r.misconfigured {
        lines.push(format!("stopped: {why}"));
    }
    Ok(Ran {
        failed: r.unreachable.is_some() || r.misconfigured.is_some(),
        outcome: serde_json::json!({
            "sent": r.sent.len(), "deferred": r.deferred.len(), "failed": r.failed.len(),
            "stopped": r.misconfigured.as_ref().or(r.unreachable.as_ref()),
        }),
        lines,
    })
}

/// `job.run`: the operator ran `job` by hand, with what it did in short.
async fn audit_run(
    db: &sea_orm::DatabaseConnection,
    now: jiff::Timestamp,
    job: JobName,
    outcome: &serde_json::Value,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let mut log = crate::audit::Writer::begin(&txn).await?;
    log.append(
        now,
        crate::audit::Event {
            actor: "cli",
            action: "job.run",
            subject: format!("job:{}", job.as_str()),
            details: serde_json::json!({ "job": job.as_str(), "outcome": outcome }),
        },
    );
    log.commit(txn).await?;
    Ok(())
}
