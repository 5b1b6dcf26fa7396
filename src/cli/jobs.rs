//! The scheduled jobs `serve` runs: the retention sweep, the reminders, and outbox delivery.

use std::path::Path;
use std::sync::Arc;

use crate::api::{Settings, retention_service};
use crate::mail::Mailer;
use crate::mail::compose::Templates;
use crate::registry::Registry;
use crate::scheduler::{Scheduler, SchedulerConfig};

/// Builds the scheduler with its three jobs; `Err` says what is wrong with the configuration.
pub fn scheduler(
    registry: &Registry,
    settings: &Settings,
    config: &SchedulerConfig,
    outbox: &Path,
) -> Result<Scheduler, String> {
    let retention = retention_service(registry, settings)?;
    let templates = Arc::new(Templates::load(&settings.templates).map_err(|e| e.to_string())?);
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
