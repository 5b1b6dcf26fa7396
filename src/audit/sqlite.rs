//! The chain's storage through a rusqlite connection: the gate journal writes the audit log
//! on a SQLite connection of its own (src/flows/journal/sqlite.rs) rather than through the
//! pool. The same records, chained by the same [`Writer`], in the same tables; the SQL that
//! `Writer::write` runs through sea-orm, written for rusqlite. Keep the two together.

use rusqlite::{Transaction, params};

use super::{Head, Writer};

impl Writer {
    /// Reads the chain's head in a transaction that already holds the write lock (begun
    /// with `BEGIN IMMEDIATE`): SQLite's write lock is the writers' lock.
    pub fn begin_locked(txn: &Transaction) -> rusqlite::Result<Writer> {
        let head = txn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |row| {
            Ok(Head {
                seq: row.get(0)?,
                hash: row.get(1)?,
            })
        })?;
        Ok(Writer::resume(head))
    }

    /// Moves the head to the last chained record and inserts the records; the caller commits.
    pub fn write_locked(self, txn: &Transaction) -> rusqlite::Result<Head> {
        let head = self.head();
        txn.prepare_cached("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1")?
            .execute(params![head.seq, head.hash])?;
        let mut insert = txn.prepare_cached(
            "INSERT INTO audit_log (seq, id, at, actor, action, subject, details, prev_hash, \
             hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for r in self.pending {
            insert.execute(params![
                r.seq,
                r.id.as_bytes(),
                r.at,
                r.actor,
                r.action,
                r.subject,
                r.details,
                r.prev_hash,
                r.hash
            ])?;
        }
        Ok(head)
    }
}
