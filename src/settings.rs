//! The settings `serve`, `sweep` and the tests build Accord with, and the services they
//! describe. Read from flags and the environment by `cli::app_args`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::mail::Templates;
use crate::registry::Registry;
use crate::retention::{Retention, WebhookSecrets};

/// Largest request body by default: an agreement may be 1 MiB, plus room for JSON framing.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024 + 64 * 1024;

#[derive(Debug, Clone)]
pub struct Settings {
    pub max_body: usize,
    /// Folder whose templates override the built-in ones (missing files fall back).
    pub templates: PathBuf,
    /// Per-party secrets for signing webhook deletion requests.
    pub webhook_secrets: WebhookSecrets,
    /// Where Accord is reached from outside (for links in emails).
    pub public_url: String,
    /// Served over TLS by Accord itself: every answer carries `Strict-Transport-Security`.
    pub hsts: bool,
    /// Single sign-on through an OpenID provider, when configured.
    pub sso: Option<crate::people::sso::SsoConfig>,
    /// Who runs the public service, and how long a requester's details last.
    pub service: crate::access::requests::Service,
    /// How long a client may take, and how many may be connected at once.
    pub connections: crate::connections::Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body: DEFAULT_MAX_BODY,
            templates: "templates".into(),
            webhook_secrets: Default::default(),
            public_url: "http://127.0.0.1:8080".into(),
            hsts: false,
            sso: None,
            service: crate::access::requests::Service::default(),
            connections: Default::default(),
        }
    }
}

impl Settings {
    /// The mail templates, built in or overridden; fails if an override does not compile.
    pub fn mail_templates(&self) -> Result<Arc<Templates>, String> {
        Templates::load(&self.templates)
            .map(|t| t.with_footer(&self.privacy_footer()))
            .map(Arc::new)
            .map_err(|e| e.to_string())
    }

    /// What every e-mail ends with: where the privacy notice is.
    pub fn privacy_footer(&self) -> String {
        format!(
            "How {} uses personal details, and your rights: {}/privacy",
            self.service.organisation,
            self.public_url.trim_end_matches('/')
        )
    }

    /// The retention service these settings describe, with its own mail templates.
    pub fn retention(&self, registry: &Registry) -> Result<Retention, String> {
        Ok(self.retention_with(registry, self.mail_templates()?))
    }

    /// The retention service these settings describe, sending mail with `templates` (shared
    /// with the reminders, so `serve` loads them once).
    pub fn retention_with(&self, registry: &Registry, templates: Arc<Templates>) -> Retention {
        Retention::new(
            registry.clone(),
            templates,
            self.webhook_secrets.clone(),
            &self.public_url,
        )
    }
}
