//! Durable decisions with group commit. Every gate decision (and, for an allowed send, its
//! holding) must be in the audit log, on disk, before the answer leaves. Requests hand their
//! entry to one writer task and wait; the writer takes everything queued, appends it in one
//! transaction and commits once, then releases every waiter. Under load, one fsync covers many
//! decisions; alone, a decision waits for one commit.

use jiff::Timestamp;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::audit::{Event, Writer};
use crate::store::entity::{holding, holding_subject};

/// Most entries committed in one transaction.
const MAX_BATCH: usize = 512;

/// One decision to make durable.
pub struct Entry {
    pub decision_id: Uuid,
    pub at: Timestamp,
    pub actor: String,
    pub action: &'static str,
    pub subject: String,
    pub details: serde_json::Value,
    /// For an allowed send: the holding and its subjects, stored with the decision.
    pub holding: Option<(holding::Model, Vec<String>)>,
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
    /// Starts the writer task on the current tokio runtime.
    pub fn start(db: DatabaseConnection) -> Journal {
        let (tx, rx) = mpsc::channel(8 * MAX_BATCH);
        tokio::spawn(write_loop(db, rx));
        Journal { tx }
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

async fn write_loop(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let result = write_batch(&db, &batch).await.map_err(|e| {
            tracing::error!(error = %e, entries = batch.len(), "journal batch failed");
            e.to_string()
        });
        for job in batch.drain(..) {
            let _ = job.done.send(result.clone());
        }
    }
}

async fn write_batch(db: &DatabaseConnection, batch: &[Job]) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let mut holdings = Vec::new();
    let mut subjects = Vec::new();
    for Job { entry, .. } in batch {
        let event = Event {
            actor: &entry.actor,
            action: entry.action,
            subject: entry.subject.clone(),
            details: entry.details.clone(),
        };
        log.append_with_id(entry.decision_id, entry.at, event);
        if let Some((h, refs)) = &entry.holding {
            subjects.extend(refs.iter().map(|r| holding_subject::ActiveModel {
                holding_id: Set(h.id),
                subject_ref: Set(r.clone()),
            }));
            holdings.push(holding::ActiveModel::from(h.clone()));
        }
    }
    if !holdings.is_empty() {
        holding::Entity::insert_many(holdings)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in subjects.chunks(1000) {
        holding_subject::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    log.commit(txn).await
}
