//! The journal's writer on a SQLite file: a connection of its own, on a thread of its own.
//! A batch is one `BEGIN IMMEDIATE` transaction (the database's write lock is the writers'
//! lock, as for every other writer): the audit records through `audit::Writer`'s rusqlite
//! half, then any holdings and the register's counts, with cached prepared statements, then
//! commit. The connection is
//! set up as the pool's are ([`store::SQLITE_PRAGMAS`]), so a commit is on disk when it
//! returns.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::mpsc;

use super::{Job, MAX_BATCH, chain, counts, fill, release};
use crate::audit::Writer;
use crate::metrics::JournalMetrics;
use crate::store::{self, entity::holding};

/// The database file behind a SQLite pool; `None` for another backend or an in-memory
/// database (which a second connection could not see).
pub(super) fn file_of(db: &DatabaseConnection) -> Option<PathBuf> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    path.is_file().then(|| path.to_path_buf())
}

/// Opens the connection here, so a failure is the caller's, then writes on a new thread.
pub(super) fn start(
    path: &Path,
    mut rx: mpsc::Receiver<Job>,
    metrics: JournalMetrics,
) -> std::io::Result<()> {
    let mut conn = open(path).map_err(std::io::Error::other)?;
    std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.blocking_recv() {
                fill(&mut batch, first, &mut rx);
                let started = std::time::Instant::now();
                let result = write_batch(&mut conn, &batch);
                metrics.batch(batch.len(), started.elapsed());
                release(&mut batch, result);
            }
        })?;
    Ok(())
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(store::SQLITE_BUSY_TIMEOUT)?;
    for (pragma, value) in store::SQLITE_PRAGMAS {
        conn.pragma_update(None, pragma, value)?;
    }
    Ok(conn)
}

fn write_batch(conn: &mut Connection, batch: &[Job]) -> rusqlite::Result<()> {
    let txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut log = Writer::begin_locked(&txn)?;
    chain(&mut log, batch);
    log.write_locked(&txn)?;
    for (h, refs) in batch.iter().filter_map(|job| job.entry.holding.as_ref()) {
        insert_holding(&txn, h, refs)?;
    }
    let mut add = txn.prepare_cached(crate::transparency::counts::ADD_SQLITE)?;
    for (agreement, month, allowed, refused) in counts(batch).rows() {
        add.execute(params![agreement, month, allowed, refused, 0i64])?;
    }
    drop(add);
    txn.commit()
}

fn insert_holding(conn: &Connection, h: &holding::Model, refs: &[String]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO holdings (id, decision_id, agreement_id, version, flow_id, from_party, \
         holder, purpose, fields, record_count, subject_count, received_at, delete_by, \
         then_action, state) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        h.id.as_bytes(),
        h.decision_id.as_bytes(),
        h.agreement_id,
        h.version,
        h.flow_id,
        h.from_party,
        h.holder,
        h.purpose,
        h.fields,
        h.record_count,
        h.subject_count,
        h.received_at,
        h.delete_by,
        h.then_action,
        h.state
    ])?;
    let mut subject = conn
        .prepare_cached("INSERT INTO holding_subjects (holding_id, subject_ref) VALUES (?1, ?2)")?;
    for r in refs {
        subject.execute(params![h.id.as_bytes(), r])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::file_of;

    /// The journal writes through its own connection only where a second connection sees the
    /// same database: a file, not an in-memory database.
    #[tokio::test]
    async fn only_a_file_gets_a_connection_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/j.db?mode=rwc", dir.path().display());
        let file = crate::store::connect(&url).await.unwrap();
        assert_eq!(file_of(&file), Some(dir.path().join("j.db")));
        let memory = crate::store::connect("sqlite::memory:").await.unwrap();
        assert_eq!(file_of(&memory), None);
    }
}
