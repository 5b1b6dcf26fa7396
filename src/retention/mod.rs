//! Retention enforcement: the sweep finds holdings past their `delete_by`, sets aside those under
//! a legal hold, and asks each holder — by the method its party declares — to delete, anonymise
//! or return them; confirmations close the request and yield a deletion certificate.
//!
//! `plan.rs` and `certificate.rs` are pure; the rest is the service at the edge (database,
//! outbox, webhooks).

pub mod calendar;
pub mod certificate;
pub mod holds;
pub mod requests;
pub mod sweep;
pub mod webhook;

pub use accord_core::retention::plan;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};

use crate::clock::Clock;
use crate::mail::compose::Templates;
use crate::metrics::Metrics;
use crate::registry::Registry;

/// Per-party secrets for signing webhook deletion requests (HMAC-SHA256). Never printed.
#[derive(Clone, Default)]
pub struct WebhookSecrets(HashMap<String, String>);

impl WebhookSecrets {
    /// Reads `party=secret,party=secret` (as in `ACCORD_WEBHOOK_SECRETS`).
    pub fn parse(text: &str) -> Result<WebhookSecrets> {
        let mut map = HashMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (party, secret) = pair.split_once('=').ok_or_else(|| {
                RetentionError::BadRequest(
                    "webhook secrets are written party=secret, separated by commas".into(),
                )
            })?;
            if secret.len() < 16 {
                let msg = format!(
                    "the webhook secret for '{}' is shorter than 16 characters",
                    party.trim()
                );
                return Err(RetentionError::BadRequest(msg));
            }
            map.insert(party.trim().to_owned(), secret.to_owned());
        }
        Ok(WebhookSecrets(map))
    }

    pub fn get(&self, party: &str) -> Option<&str> {
        self.0.get(party).map(String::as_str)
    }
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parties: Vec<&String> = self.0.keys().collect();
        write!(f, "WebhookSecrets(parties: {parties:?}, secrets redacted)")
    }
}

/// The retention service.
#[derive(Clone)]
pub struct Retention {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    registry: Registry,
    templates: Arc<Templates>,
    http: reqwest::Client,
    secrets: WebhookSecrets,
    /// Where Accord is reached from outside, for one-time confirmation links in emails.
    public_url: String,
    /// Where sweeps are counted (the app's, once [`Retention::counted_in`] is called).
    metrics: Metrics,
}

impl Retention {
    pub fn new(
        registry: Registry,
        templates: Arc<Templates>,
        secrets: WebhookSecrets,
        public_url: &str,
    ) -> Retention {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Retention {
            db: registry.db().clone(),
            clock: registry.clock().clone(),
            registry,
            templates,
            http,
            secrets,
            public_url: public_url.trim_end_matches('/').to_owned(),
            metrics: Metrics::new(),
        }
    }

    /// The same service, counting its sweeps in `metrics`.
    pub fn counted_in(self, metrics: Metrics) -> Retention {
        Retention { metrics, ..self }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    /// A fault of the server, not of the request (no random bytes, a template that will not
    /// render, a stored version that no longer reads): logged, answered as an internal error.
    #[error("{0}")]
    Internal(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl crate::failure::Failure for RetentionError {
    fn kind(&self) -> crate::failure::Kind {
        use crate::failure::Kind;
        match self {
            RetentionError::NotFound(_) => Kind::NotFound,
            RetentionError::Conflict(_) => Kind::Conflict,
            RetentionError::BadRequest(_) => Kind::BadRequest,
            RetentionError::Internal(_) | RetentionError::Db(_) => Kind::Internal,
        }
    }
}

impl From<crate::registry::RegistryError> for RetentionError {
    fn from(e: crate::registry::RegistryError) -> Self {
        use crate::registry::RegistryError as E;
        match e {
            E::Db(db) => RetentionError::Db(db),
            E::NotFound(m) => RetentionError::NotFound(m),
            E::Conflict(m) => RetentionError::Conflict(m),
            E::BadRequest(m) | E::Forbidden(m) => RetentionError::BadRequest(m),
            // Retention reads only stored versions, which were valid when stored.
            invalid @ E::Invalid(_) => RetentionError::Internal(invalid.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, RetentionError>;

#[cfg(test)]
mod tests {
    use super::WebhookSecrets;

    #[test]
    fn secrets_parse_and_never_print() {
        let s = WebhookSecrets::parse("foodbank=0123456789abcdef0123, nhs=fedcba9876543210fedc")
            .unwrap();
        assert_eq!(s.get("foodbank"), Some("0123456789abcdef0123"));
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("0123456789") && shown.contains("redacted"),
            "{shown}"
        );
        assert!(WebhookSecrets::parse("foodbank=short").is_err());
        assert!(WebhookSecrets::parse("foodbank").is_err());
    }
}
