//! `accord backup FILE` and `accord restore FILE` (SQLite; see `store::backup`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{DbArgs, EXIT_DB, runtime};
use crate::store::backup::{self, BackupError, Copied};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file to write (never overwritten).
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `accord backup`.
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

pub fn backup(args: BackupArgs) -> ExitCode {
    // A backup only reads its source: a missing one is named, never made.
    if let Some(file) = backup::sqlite_file(&args.db.database)
        && !file.exists()
    {
        let file = std::path::absolute(&file).unwrap_or(file);
        eprintln!("error: {}", crate::store::StoreError::Missing(file));
        return ExitCode::from(EXIT_DB);
    }
    eprintln!("database: {}", crate::store::describe(&args.db.database));
    match backup::backup(&args.db.database, &args.file) {
        Ok(copied) => {
            say("backup written", &copied);
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e),
    }
}

pub fn restore(args: RestoreArgs) -> ExitCode {
    let copied = match backup::restore(&args.file, &args.db.database) {
        Ok(c) => c,
        Err(e) => return failed(&e),
    };
    say("restored", &copied);
    runtime().block_on(async {
        match super::db::open(&args.db).await {
            Ok(conn) => super::db::verify(&conn).await,
            Err(code) => code,
        }
    })
}

fn say(what: &str, c: &Copied) {
    println!(
        "{what}: {} ({} bytes, {} audit records)",
        c.file.display(),
        c.bytes,
        c.audit_records
    );
}

fn failed(e: &BackupError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(match e {
        BackupError::NotSqlite | BackupError::Exists(_) | BackupError::NotEmpty(_) => 2,
        BackupError::NotAccord { .. } | BackupError::Damaged(_) => 1,
        BackupError::Sqlite(_) | BackupError::Io(_) => EXIT_DB,
    })
}
