//! Mail: reminders and requests to the people an agreement names, through an outbox.
//!
//! Nothing is sent from inside a change. The change queues its messages with
//! [`outbox::enqueue`] in its own transaction (so a message exists if and only if the change
//! committed), and a delivery pass, [`Mailer::deliver_due`], sends what is due later. If the SMTP
//! server is down the message stays queued and is tried again with exponential backoff
//! ([`deliver::backoff`]) until the server takes it: an outage loses nothing.
//!
//! - [`reminders`] (pure) decides which reminders an agreement version is due today, each with
//!   a dedupe key so it is queued once however often the scheduler asks.
//! - [`compose`] (pure) turns a reminder, escalation or deletion request into a subject and a
//!   plain-text body from the handlebars templates in `templates/email/`, and names the
//!   recipients (the owner and each party's DPO).
//! - [`outbox`] queues messages; [`deliver`] claims, sends and records them.
//! - [`transport`] sends: SMTP when `ACCORD_SMTP_URL` is set, otherwise an `.eml` file per
//!   message in the outbox folder, so a laptop needs no mail server.
//!
//! Delivery is audited: every message sent (`mail.sent`) or refused for good (`mail.failed`)
//! appends a record in the transaction that marks it, and so does a send that met a
//! configuration that cannot work (`mail.failed`, the message kept queued and delivery
//! stopped). Claims and retries are bookkeeping and are not audited (an outage would otherwise
//! flood the log).

pub mod compose;
pub mod deliver;
pub mod outbox;
pub mod reminders;
pub mod transport;

use std::path::Path;
use std::sync::Arc;

use lettre::message::Mailbox;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;

use crate::clock::Clock;

/// A message's text, ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// One line.
    pub subject: String,
    pub body: String,
}

pub use compose::{Templates, recipients};
pub use deliver::DeliveryReport;
pub use outbox::{NewMessage, enqueue};
pub use reminders::Reminder;
pub use transport::Transport;

/// The sender when `ACCORD_MAIL_FROM` is not set.
pub const DEFAULT_FROM: &str = "accord@localhost";
/// Where `.eml` files go when no SMTP server is configured (`--outbox DIR` changes it).
pub const DEFAULT_OUTBOX_DIR: &str = "outbox";

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("invalid mail configuration: {0}")]
    Config(String),
    #[error("cannot read email template {path}: {source}")]
    TemplateRead {
        path: String,
        source: std::io::Error,
    },
    #[error("email template {name} is invalid: {message}")]
    Template { name: String, message: String },
    #[error("email template {name} failed: {message}")]
    Render { name: String, message: String },
}

pub type Result<T> = std::result::Result<T, MailError>;

/// What a message is about. The spelling is stored in the outbox and names the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    ReviewDue,
    TermEnding,
    AssuranceExpiring,
    Escalation,
    DeletionRequest,
    AccessConfirm,
    AccessLink,
    AccessReceived,
    AccessNew,
    AccessQuestion,
    AccessUpdate,
    AccessDecision,
    /// A handover item was submitted, accepted or returned.
    HandoverUpdate,
    /// A handover item falls due in 30, 14 or 7 days.
    HandoverDue,
    /// A handover item is overdue (to the DPOs).
    HandoverOverdue,
    /// A contractor's engagement ended and Accord ended its access.
    HandoverAccessEnded,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::ReviewDue,
        Kind::TermEnding,
        Kind::AssuranceExpiring,
        Kind::Escalation,
        Kind::DeletionRequest,
        Kind::AccessConfirm,
        Kind::AccessLink,
        Kind::AccessReceived,
        Kind::AccessNew,
        Kind::AccessQuestion,
        Kind::AccessUpdate,
        Kind::AccessDecision,
        Kind::HandoverUpdate,
        Kind::HandoverDue,
        Kind::HandoverOverdue,
        Kind::HandoverAccessEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ReviewDue => "review-due",
            Kind::TermEnding => "term-ending",
            Kind::AssuranceExpiring => "assurance-expiring",
            Kind::Escalation => "escalation",
            Kind::DeletionRequest => "deletion-request",
            Kind::AccessConfirm => "access-confirm",
            Kind::AccessLink => "access-link",
            Kind::AccessReceived => "access-received",
            Kind::AccessNew => "access-new",
            Kind::AccessQuestion => "access-question",
            Kind::AccessUpdate => "access-update",
            Kind::AccessDecision => "access-decision",
            Kind::HandoverUpdate => "handover-update",
            Kind::HandoverDue => "handover-due",
            Kind::HandoverOverdue => "handover-overdue",
            Kind::HandoverAccessEnded => "handover-access-ended",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sends what the outbox holds. Cheap to clone; one per process is enough, and several
/// instances may run passes at once (each message is claimed by one pass).
#[derive(Clone)]
pub struct Mailer {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub transport: Transport,
    /// The `From` of every message.
    pub from: Mailbox,
    /// Set when a send met a configuration that cannot work (see [`deliver`]): why. Shared by
    /// clones, so every pass of this process stops.
    stopped: Arc<std::sync::Mutex<Option<String>>>,
}

impl Mailer {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        transport: Transport,
        from: &str,
    ) -> Result<Mailer> {
        Ok(Mailer {
            db,
            clock,
            transport,
            from: from_address(from)?,
            stopped: Arc::default(),
        })
    }

    /// Why delivery stopped in this process, if it did.
    pub fn stopped(&self) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn stop(&self, why: &str) {
        let mut stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        stopped.get_or_insert_with(|| why.to_owned());
    }

    /// A mailer configured as the service is: SMTP from `ACCORD_SMTP_URL` if set, else `.eml`
    /// files in `outbox_dir`; the sender `from` (`--mail-from`, `ACCORD_MAIL_FROM`, default
    /// [`DEFAULT_FROM`]; blank reads as the default).
    pub fn from_env(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        outbox_dir: &Path,
        from: &str,
    ) -> Result<Mailer> {
        let smtp = non_empty_env("ACCORD_SMTP_URL");
        let transport = Transport::from_env_or_dir(smtp.as_deref(), outbox_dir)?;
        let from = Some(from.trim()).filter(|f| !f.is_empty());
        Mailer::new(db, clock, transport, from.unwrap_or(DEFAULT_FROM))
    }

    /// The messages a delivery pass would send now, in its order; nothing is claimed.
    pub async fn due_now(&self) -> Result<Vec<crate::store::entity::outbox_message::Model>> {
        deliver::due(&self.db, self.clock.now()).await
    }

    /// One delivery pass: sends every message due now, one at a time, until none is left or
    /// the transport is unreachable. See [`deliver`].
    pub async fn deliver_due(&self) -> Result<DeliveryReport> {
        deliver::pass(self).await
    }
}

/// Parses a sender such as `accord@council.example` or `Accord <accord@council.example>`.
pub fn from_address(text: &str) -> Result<Mailbox> {
    text.parse::<Mailbox>()
        .map_err(|e| MailError::Config(format!("the sender '{text}' is not an address: {e}")))
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_their_spelling() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(Kind::parse("spam"), None);
    }

    #[test]
    fn the_default_sender_is_an_address() {
        assert_eq!(
            from_address(DEFAULT_FROM).unwrap().email.domain(),
            "localhost"
        );
        let named = from_address("Accord <accord@council.example>").unwrap();
        assert_eq!(named.name.as_deref(), Some("Accord"));
        assert!(from_address("not an address").is_err());
    }
}
