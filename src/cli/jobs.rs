//! The scheduled jobs `serve` runs: the retention sweep, the reminders (with the handover's
//! reminders, escalations and access ended at engagement end), and outbox delivery.

use std::path::Path;

use crate::app::App;
use crate::mail::Mailer;
use crate::scheduler::{Scheduler, SchedulerConfig};

/// Builds the scheduler with its three jobs, sharing the app's retention service and mail
/// templates; `Err` says what is wrong with the configuration.
pub fn scheduler(app: &App, config: &SchedulerConfig, outbox: &Path) -> Result<Scheduler, String> {
    let mailer =
        Mailer::from_env(app.db.clone(), app.clock.clone(), outbox).map_err(|e| e.to_string())?;
    let (retention, templates) = (app.retention.clone(), app.mail.clone());
    let reminders_registry = app.registry.clone();
    let handover = app.handover.clone();
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
            let (r, t, h) = (
                reminders_registry.clone(),
                templates.clone(),
                handover.clone(),
            );
            async move {
                let agreements = crate::reminders::send_due(&r, &t)
                    .await
                    .map_err(|e| e.to_string())?;
                let handover = h.enforce().await.map_err(|e| e.to_string())?;
                Ok(serde_json::json!({ "agreements": agreements, "handover": handover }))
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
