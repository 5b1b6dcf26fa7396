//! The reminders job: for each agreement in force, queue the reminders that are due — review
//! due, term ending (60, 30, 7 days), assurance expiring — to its owner and the parties' DPOs.
//! Each reminder has a dedupe key, so running the job again (or on several instances) queues
//! nothing twice.

use std::sync::Arc;

use poem_openapi::Object;
use sea_orm::TransactionTrait;
use serde::Serialize;

use crate::audit::{Event, Planned, Writer};
use crate::mail::compose::{Templates, messages};
use crate::mail::outbox::enqueue;
use crate::mail::reminders::due;
use crate::registry::{Registry, RegistryError};

#[derive(Debug, Clone, Default, Serialize, Object)]
pub struct RemindersReport {
    /// Messages newly queued (a reminder to three people is three).
    pub queued: usize,
    /// Reminders due but already queued before.
    pub already_sent: usize,
    /// The audit records the run wrote (or, in a dry run, would write): one per reminder
    /// queued. Not kept with the scheduled run's outcome.
    #[serde(skip)]
    #[oai(skip)]
    pub recorded: Vec<Planned>,
}

/// Queues every reminder due today, once.
pub async fn send_due(
    registry: &Registry,
    templates: &Arc<Templates>,
) -> Result<RemindersReport, RegistryError> {
    run(registry, templates, false).await
}

/// [`send_due`], or with `dry_run` the same work in a transaction rolled back: the report
/// says what a run would queue, and nothing changes.
pub async fn run(
    registry: &Registry,
    templates: &Arc<Templates>,
    dry_run: bool,
) -> Result<RemindersReport, RegistryError> {
    let today = registry.clock().today();
    let now = registry.clock().now();
    let in_force = registry.agreements_in_force().await?;
    let mut report = RemindersReport::default();
    let txn = registry.db().begin().await?;
    let mut log = Writer::begin(&txn).await?;
    for (version, agreement) in in_force {
        for reminder in due(&agreement, version, today) {
            let queued = messages(templates, &agreement, &reminder)
                .map_err(|e| RegistryError::BadRequest(e.to_string()))?;
            let mut fresh = 0;
            for message in &queued {
                if enqueue(&txn, now, message).await? {
                    fresh += 1;
                }
            }
            if fresh == 0 {
                report.already_sent += 1;
                continue;
            }
            report.queued += fresh;
            let details = serde_json::json!({ "version": version, "reminder": reminder.about, "messages": fresh });
            let subject = format!("agreement:{}", agreement.id);
            log.append(
                now,
                Event {
                    actor: "reminders job",
                    action: "reminder.queued",
                    subject,
                    details,
                },
            );
        }
    }
    report.recorded = log.planned();
    if dry_run {
        txn.rollback().await?;
    } else {
        log.commit(txn).await?;
    }
    Ok(report)
}
