//! The scheduled jobs `serve` runs: the retention sweep, the reminders, and outbox delivery.

use std::path::Path;
use std::sync::Arc;

use crate::mail::{Mailer, Templates};
use crate::registry::Registry;
use crate::retention::Retention;
use crate::scheduler::{Scheduler, SchedulerConfig};

/// Builds the scheduler with its three jobs, sharing the app's retention service and mail
/// templates; `Err` says what is wrong with the configuration.
pub fn scheduler(
    registry: &Registry,
    retention: Retention,
    templates: Arc<Templates>,
    config: &SchedulerConfig,
    outbox: &Path,
) -> Result<Scheduler, String> {
    let mailer = Mailer::from_env(registry.db().clone(), registry.clock().clone(), outbox)
        .map_err(|e| e.to_string())?;
    let reminders_registry = registry.clone();
    Scheduler::standard(
        registry.db().clone(),
        registry.clock().clone(),
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
            let (r, t) = (reminders_registry.clone(), templates.clone());
            async move {
                crate::reminders::send_due(&r, &t)
                    .await
                    .map(|x| serde_json::json!(x))
                    .map_err(|e| e.to_string())
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
