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
    pub fn mailer(&self, app: &App) -> Result<Mailer, String> {
        Mailer::from_env(
            app.db.clone(),
            app.clock.clone(),
            &self.outbox,
            &self.mail_from,
        )
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
    let mailer = mail.mailer(app)?;
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
