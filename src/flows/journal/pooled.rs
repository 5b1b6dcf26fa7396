//! The journal's writer through the shared pool: a task on the runtime, one transaction per
//! batch (begin, take the writers' lock and read the head, insert, commit).

use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use tokio::sync::mpsc;

use super::{Job, MAX_BATCH, chain, counts, fill, release};
use crate::audit::Writer;
use crate::metrics::JournalMetrics;
use crate::store::entity::{holding, holding_subject};

pub(super) fn start(db: DatabaseConnection, rx: mpsc::Receiver<Job>, metrics: JournalMetrics) {
    tokio::spawn(write_loop(db, rx, metrics));
}

async fn write_loop(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>, metrics: JournalMetrics) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        fill(&mut batch, first, &mut rx);
        let started = std::time::Instant::now();
        let result = write_batch(&db, &batch).await;
        metrics.batch(batch.len(), started.elapsed());
        release(&mut batch, result);
    }
}

async fn write_batch(db: &DatabaseConnection, batch: &[Job]) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    chain(&mut log, batch);
    log.write(&txn).await?;
    let mut holdings = Vec::new();
    let mut subjects = Vec::new();
    for (h, refs) in batch.iter().filter_map(|job| job.entry.holding.as_ref()) {
        subjects.extend(refs.iter().map(|r| holding_subject::ActiveModel {
            holding_id: Set(h.id),
            subject_ref: Set(r.clone()),
        }));
        holdings.push(holding::ActiveModel::from(h.clone()));
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
    for (agreement, month, allowed, refused) in counts(batch).rows() {
        crate::transparency::counts::add(&txn, agreement, month, [allowed, refused, 0]).await?;
    }
    txn.commit().await
}
