//! The application context, put together once: the database, the clock, the settings and every
//! service built from them ([`App`]). `serve`, the scheduler and the tests all start from
//! [`App::new`]; each API area and the console take from it what they need, and
//! [`crate::server`] serves it over HTTP. It imports no edge (HTTP, pages, command line).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::access::requests::Access;
use crate::audit::Audit;
use crate::auth::TokenCache;
use crate::clock::Clock;
use crate::dpia::{Format, Renderer};
use crate::flows::Gate;
use crate::flows::holdings::Holdings;
use crate::flows::journal::Journal;
use crate::handover::Handover;
use crate::mail::Templates;
use crate::metrics::Metrics;
use crate::people::People;
use crate::people::sso::Sso;
use crate::registry::Registry;
use crate::retention::Retention;
use crate::settings::Settings;

/// Everything a request or a scheduled job reaches, built once at start. Cloning is cheap
/// (every part is shared), so each consumer keeps its own copy of what it uses.
#[derive(Clone)]
pub struct App {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub registry: Registry,
    pub gate: Gate,
    pub retention: Retention,
    pub access: Access,
    pub handover: Handover,
    /// People who sign in: sessions and passwords.
    pub people: People,
    /// The audit log, read.
    pub audit: Audit,
    /// The holdings ledger, read.
    pub holdings: Holdings,
    /// The email templates (reminders, deletion requests, access requests), loaded once.
    pub mail: Arc<Templates>,
    /// The DPIA renderers (HTML, Markdown), loaded once.
    pub dpia: Arc<(Renderer, Renderer)>,
    /// Bearer tokens recently checked, so a busy gate does not hash every request's token.
    pub tokens: Arc<TokenCache>,
    /// What the service counts, served at `/metrics`.
    pub metrics: Metrics,
    /// Single sign-on, when the settings name a provider.
    pub sso: Option<Sso>,
}

/// Why the app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// An email template in the templates folder does not compile (a setting to fix: `serve`
    /// exits 2, as for any bad setting).
    #[error("{0}")]
    MailTemplates(String),
    /// A DPIA template does not compile, or the decision journal cannot start (`serve` exits 1).
    #[error("{0}")]
    Start(String),
}

impl App {
    /// Builds every service over `registry` (its database and clock) from `settings`. Starts
    /// the decision journal's writer, so call it inside the tokio runtime. Fails if a template
    /// does not compile, or the journal's thread cannot start.
    pub fn new(registry: Registry, settings: Settings) -> Result<App, StartError> {
        let db = registry.db().clone();
        let clock = registry.clock().clone();
        let mail = settings
            .mail_templates()
            .map_err(StartError::MailTemplates)?;
        let renderer = |format| {
            Renderer::load(format, &settings.templates)
                .map_err(|e| StartError::Start(e.to_string()))
        };
        let dpia = Arc::new((renderer(Format::Html)?, renderer(Format::Markdown)?));
        let metrics = Metrics::new();
        let journal = Journal::start(db.clone(), metrics.journal.clone())
            .map_err(|e| StartError::Start(format!("cannot start the decision journal: {e}")))?;
        let gate = Gate::new(registry.clone(), journal, metrics.clone());
        let retention = settings
            .retention_with(&registry, mail.clone())
            .counted_in(metrics.clone());
        let access = Access::new(
            registry.clone(),
            mail.clone(),
            &settings.public_url,
            settings.service.clone(),
        );
        let handover = Handover::new(registry.clone(), mail.clone(), &settings.public_url);
        let sso = settings
            .sso
            .clone()
            .map(|c| Sso::new(c, db.clone(), clock.clone()));
        Ok(App {
            people: People::new(db.clone(), clock.clone()),
            audit: Audit::new(db.clone()),
            holdings: Holdings::new(db.clone()),
            db,
            clock,
            settings: Arc::new(settings),
            registry,
            gate,
            retention,
            access,
            handover,
            mail,
            dpia,
            tokens: Arc::new(TokenCache::default()),
            metrics,
            sso,
        })
    }
}
