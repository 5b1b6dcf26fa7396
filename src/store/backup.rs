//! `accord backup` and `accord restore` for the embedded SQLite database, through SQLite's
//! online backup API.
//!
//! A backup copies every page in one step, so it is one read transaction: a consistent
//! snapshot of what was committed when it began, taken while Accord serves (in WAL mode a
//! reader never blocks the writers). A restore copies a backup into a database that does not
//! exist yet, never over one. Either way the copy is written to a temporary file beside its
//! destination, checked (`PRAGMA quick_check`), flushed to disk and only then renamed into
//! place, so a crash leaves either no file or a whole one.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`); docs/operations.md shows them and
//! tests/backup.rs proves that a dump taken under load restores.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{Connection, OpenFlags};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database URL is not a SQLite file.
    #[error(
        "backup and restore copy a SQLite database file; for PostgreSQL use pg_dump and pg_restore (docs/operations.md, Backups)"
    )]
    NotSqlite,
    #[error("{} already exists; choose a new file (a backup never overwrites one)", .0.display())]
    Exists(PathBuf),
    #[error(
        "{} already holds a database; restore writes only into a new one: stop Accord and move aside the file and its -wal and -shm files first",
        .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("{} is not an Accord database: {why}", file.display())]
    NotAccord { file: PathBuf, why: String },
    #[error("the copy failed its check: {0}")]
    Damaged(String),
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub file: PathBuf,
    pub bytes: u64,
    /// Records in its audit log.
    pub audit_records: u64,
}

/// The file a SQLite URL names (`sqlite://accord.db?mode=rwc`); `None` for any other
/// database, or an in-memory one.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
}

/// Copies the database at `url` to `to`, which must not exist. Runs while Accord serves.
pub fn backup(url: &str, to: &Path) -> Result<Copied, BackupError> {
    let from = sqlite_file(url).ok_or(BackupError::NotSqlite)?;
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let source = Connection::open_with_flags(&from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(super::SQLITE_BUSY_TIMEOUT)?;
    accord_tables(&source, &from)?;
    copy_into(&source, to)
}

/// Copies the backup `from` into the new database at `url`: the file must not exist (or be
/// empty). The caller then opens it, which applies any newer migrations, and verifies the
/// audit log.
pub fn restore(from: &Path, url: &str) -> Result<Copied, BackupError> {
    let to = sqlite_file(url).ok_or(BackupError::NotSqlite)?;
    let wal = sidecar(&to, "-wal");
    let occupied = std::fs::metadata(&to).is_ok_and(|m| m.len() > 0) || wal.exists();
    if occupied {
        return Err(BackupError::NotEmpty(to));
    }
    let source =
        Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
            BackupError::NotAccord {
                file: from.to_owned(),
                why: e.to_string(),
            }
        })?;
    accord_tables(&source, from)?;
    check(&source).map_err(|e| BackupError::NotAccord {
        file: from.to_owned(),
        why: e.to_string(),
    })?;
    // An empty file left by an earlier start is replaced; nothing else is.
    if to.exists() {
        std::fs::remove_file(&to)?;
    }
    copy_into(&source, &to)
}

/// Refuses a file that is not a database with Accord's tables.
fn accord_tables(conn: &Connection, path: &Path) -> Result<(), BackupError> {
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
             AND name IN ('seaql_migrations', 'audit_log')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| BackupError::NotAccord {
            file: path.to_owned(),
            why: e.to_string(),
        })?;
    if found == 2 {
        Ok(())
    } else {
        Err(BackupError::NotAccord {
            file: path.to_owned(),
            why: "it has no audit log or migrations table".into(),
        })
    }
}

/// Every page of `source` in one step into a temporary file beside `to`, checked, synced,
/// then renamed to `to`.
fn copy_into(source: &Connection, to: &Path) -> Result<Copied, BackupError> {
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let partial = tempfile::Builder::new()
        .prefix(".accord-copy-")
        .suffix(".partial")
        .tempfile_in(&dir)?;
    {
        let mut target = Connection::open(partial.path())?;
        {
            let copy = rusqlite::backup::Backup::new(source, &mut target)?;
            // -1: every page in one step, one read transaction, one snapshot.
            copy.step(-1)?;
        }
        // A backup is one file: no write-ahead log beside it.
        target.pragma_update(None, "journal_mode", "DELETE")?;
        check(&target)?;
    }
    partial.as_file().sync_all()?;
    let file = partial
        .persist_noclobber(to)
        .map_err(|e| BackupError::Io(e.error))?;
    drop(file);
    if let Ok(d) = std::fs::File::open(&dir) {
        d.sync_all()?;
    }
    let copied = Connection::open_with_flags(to, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let audit_records: i64 =
        copied.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?;
    Ok(Copied {
        file: to.to_owned(),
        bytes: std::fs::metadata(to)?.len(),
        audit_records: audit_records.max(0) as u64,
    })
}

fn check(conn: &Connection) -> Result<(), BackupError> {
    let verdict: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(BackupError::Damaged(verdict))
    }
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::PathBuf;

    #[test]
    fn only_a_sqlite_file_is_a_file() {
        assert_eq!(
            sqlite_file("sqlite://accord.db?mode=rwc"),
            Some(PathBuf::from("accord.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/accord/a.db"),
            Some(PathBuf::from("/var/lib/accord/a.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://accord@db/accord"), None);
    }
}
