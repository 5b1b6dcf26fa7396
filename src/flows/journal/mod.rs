//! Durable decisions with group commit. Every gate decision (and, for an allowed send, its
//! holding) must be in the audit log, on disk, before the answer leaves. Requests hand their
//! entry to one writer and wait; the writer takes everything queued, appends it in one
//! transaction and commits once, then releases every waiter. Under load, one fsync covers many
//! decisions; alone, a decision waits for one commit.
//!
//! Two writers do this, one per kind of database:
//! - [`sqlite`]: on a SQLite file, a connection of the journal's own on a thread of its own,
//!   where each statement is a function call. Through the pool, every statement would be a
//!   hand-off to the driver's worker thread and back, and under load each hand-off waits for
//!   the scheduler: a batch took several times as long (docs/benchmarks-history.md).
//! - [`pooled`]: anywhere else (PostgreSQL), a task on the shared runtime using the pool.
//!
//! Either way a batch takes the writers' lock, chains its records with [`crate::audit::Writer`]
//! and commits them with their holdings and the transparency register's counts in one
//! transaction; if that fails, nothing of the
//! batch is stored and every request in it is answered 503.

mod pooled;
mod sqlite;

use jiff::Timestamp;
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::audit::Writer;
use crate::metrics::JournalMetrics;
use crate::store::entity::holding;
use crate::transparency::counts::{Batch, Counted};

/// Most entries committed in one transaction.
const MAX_BATCH: usize = 512;

/// One decision to make durable.
pub struct Entry {
    pub decision_id: Uuid,
    pub at: Timestamp,
    pub actor: String,
    pub action: &'static str,
    pub subject: String,
    /// JSON text, rendered by the request rather than by the single writer.
    pub details: String,
    /// For an allowed send: the holding and its subjects, stored with the decision.
    pub holding: Option<(holding::Model, Vec<String>)>,
    /// How the transparency register counts it; `None` when no agreement was decided under.
    pub counted: Option<Counted>,
}

struct Job {
    entry: Entry,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct Journal {
    tx: mpsc::Sender<Job>,
}

#[derive(Debug, thiserror::Error)]
#[error("the decision could not be recorded: {0}")]
pub struct JournalError(pub String);

impl Journal {
    /// Starts the writer that suits the database. Fails if the SQLite writer's connection or
    /// thread cannot be opened.
    /// `metrics` learns each batch's size and commit time.
    pub fn start(db: DatabaseConnection, metrics: JournalMetrics) -> std::io::Result<Journal> {
        let (tx, rx) = mpsc::channel(8 * MAX_BATCH);
        match sqlite::file_of(&db) {
            Some(path) => sqlite::start(&path, rx, metrics)?,
            None => pooled::start(db, rx, metrics),
        }
        Ok(Journal { tx })
    }

    /// Resolves once the entry is committed (or its batch failed: then nothing of it is stored).
    pub async fn record(&self, entry: Entry) -> Result<(), JournalError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { entry, done })
            .await
            .map_err(|_| JournalError("the journal has stopped".into()))?;
        wait.await
            .map_err(|_| JournalError("the journal has stopped".into()))?
            .map_err(JournalError)
    }
}

/// Begins a batch with `first` and adds whatever else is queued, up to [`MAX_BATCH`].
fn fill(batch: &mut Vec<Job>, first: Job, rx: &mut mpsc::Receiver<Job>) {
    batch.push(first);
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Chains the batch's decisions onto the writer, in queue order.
fn chain(log: &mut Writer, batch: &[Job]) {
    for Job { entry, .. } in batch {
        log.append_with_id(
            entry.decision_id,
            entry.at,
            &entry.actor,
            entry.action,
            entry.subject.clone(),
            entry.details.clone(),
        );
    }
}

/// What the batch adds to the transparency register's counts.
fn counts(batch: &[Job]) -> Batch {
    let mut counts = Batch::default();
    for c in batch.iter().filter_map(|job| job.entry.counted.as_ref()) {
        counts.add(c);
    }
    counts
}

/// Answers every request in the batch with the batch's fate, and empties it.
fn release<E: std::fmt::Display>(batch: &mut Vec<Job>, result: Result<(), E>) {
    let result = result.map_err(|e| {
        tracing::error!(error = %e, entries = batch.len(), "journal batch failed");
        e.to_string()
    });
    for job in batch.drain(..) {
        let _ = job.done.send(result.clone());
    }
}
