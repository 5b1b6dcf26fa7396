//! The command line: parses arguments with clap and calls the library. Exit codes are decided
//! here and nowhere else.

mod app_args;
mod backup;
mod check;
mod config;
mod db;
mod dpia;
mod jobs;
mod serve;
mod sweep;
mod template;
mod user;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Date;

use crate::agreement::schema::json_schema;
use crate::store::DEFAULT_DATABASE_URL;

/// Exit code when the database cannot be opened or migrated.
pub const EXIT_DB: u8 = 3;

/// Where the database is: `--database`, else `DATABASE_URL`, else the embedded SQLite file.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The database: sqlite://PATH?mode=rwc (a file) or postgres://USER:PASSWORD@HOST/NAME.
    #[arg(long = "database", env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database: String,
}

/// Writes `text` to `out`, or to standard output when no file is given (a closed pipe is not
/// an error); `Err` says what could not be written.
fn write_text(out: Option<&Path>, text: &str) -> Result<(), String> {
    match out {
        None => {
            let mut stdout = io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write output: {e}"))
                }
                _ => Ok(()),
            }
        }
        Some(path) => write_atomically(path, text)
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
    }
}

/// Writes a temporary file in the target's folder and renames it over the target, so a reader
/// sees the old file or the whole new one, never a part.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        let msg = format!("folder {} does not exist", dir.display());
        return Err(io::Error::new(io::ErrorKind::NotFound, msg));
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".accord-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // What a plain create would give (before the umask), not tempfile's private 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

#[derive(Debug, Parser)]
#[command(
    name = "accord",
    version,
    about = "Data-sharing agreements as enforceable machines"
)]
pub struct Cli {
    /// Settings file (default: accord.toml in the working folder, if present). Flags and the
    /// environment override it.
    #[arg(long, global = true, env = "ACCORD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate agreement files (exit 0: no errors, 1: errors found, 2: unreadable path).
    Check {
        /// Files or folders of agreements (folders are searched for .yaml/.yml files).
        #[arg(default_value = "agreements")]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Judge expiry and review dates as of this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<Date>,
    },
    /// Print the JSON Schema of the agreement format (for editors).
    Schema,
    /// Generate the DPIA for an agreement, following the ICO's template (exit 0: written,
    /// 1: invalid or unknown agreement, 2: template or output error).
    Dpia(dpia::DpiaArgs),
    /// Run the service: migrate, import agreements, serve the HTTP API.
    Serve(Box<serve::ServeArgs>),
    /// Apply database migrations (exit 3 if the database cannot be opened).
    Migrate(db::MigrateArgs),
    /// API tokens.
    #[command(subcommand)]
    Token(db::TokenCommand),
    /// People who sign in to the web console.
    #[command(subcommand)]
    User(user::UserCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(db::AuditCommand),
    /// Run the retention sweep now, and print what it did (or, with --dry-run, would do).
    Sweep(sweep::SweepArgs),
    /// The scheduled jobs, run now: reminders, handover, sweep, outbox.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Print the settings in effect and where each came from (flags aside), secrets redacted;
    /// with --check, also try the database and the mail server.
    Config(config::ConfigArgs),
    /// Agreement templates other councils can borrow: export one, or start a draft from one.
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Copy the SQLite database to a new file while Accord serves (exit 0: written, 1: the
    /// copy failed, 2: not SQLite or the file exists, 3: database unavailable).
    Backup(backup::BackupArgs),
    /// Copy a backup into a new, empty SQLite database, migrate it and verify its audit log
    /// (exit 0: restored and verified, 1: not a backup, or the log does not verify, 2: not
    /// SQLite or the database is not empty, 3: database unavailable).
    Restore(backup::RestoreArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Runs the command line; returns the process exit code.
pub fn run() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = config::load(&args) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse_from(args);
    match cli.command {
        Command::Check {
            paths,
            format,
            as_of,
        } => check::run(&paths, format, as_of),
        Command::Dpia(args) => dpia::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Migrate(args) => db::migrate(args),
        Command::Token(cmd) => db::token(cmd),
        Command::User(cmd) => user::run(cmd),
        Command::Audit(cmd) => db::audit(cmd),
        Command::Sweep(args) => sweep::run(args),
        Command::Jobs(cmd) => jobs::run(cmd),
        Command::Template(cmd) => template::run(cmd),
        Command::Config(args) => config::print(&args),
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Schema => {
            let schema = json_schema();
            match serde_json::to_string_pretty(&schema) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
