//! `accord template export` and `accord template import` (docs/templates.md).
//!
//! Export writes an agreement of the registry as a template (standard output, or `--out`).
//! Import turns a template into a draft: with `--out`, into a file (no database needed);
//! without, into the registry as version 1 of the new agreement. Either way the draft's
//! findings are printed as `accord check` prints them, the placeholders still to fill among
//! them. Exit codes: 0 done (warnings allowed), 1 the template has problems, or there is no
//! such agreement or version, or the new id is taken, 2 bad usage (an unreadable file, a bad
//! id, output that cannot be written), 3 the database is unavailable.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use jiff::civil::Date;

use super::check::{summarise, write_human};
use super::{DbArgs, db, runtime, write_text};
use crate::agreement::Checked;
use crate::check::{FileReport, Report, read_source};
use crate::clock::{Clock, SystemClock};
use crate::registry::templates::FromTemplate;
use crate::registry::{Registry, RegistryError};
use crate::template::import::{Problem, import};
use crate::template::new_id;

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Write an agreement as a template another council can borrow: its version in force,
    /// else its newest (exit 0: written, 1: no such agreement or version, 2: output error,
    /// 3: database unavailable).
    Export {
        /// The agreement's id.
        id: String,
        /// The registry's version number to export instead.
        #[arg(long, value_name = "N")]
        version: Option<i32>,
        /// Write the template to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Start a draft agreement from a template, and print what is still to fill (exit 0: a
    /// draft was made, 1: the template has problems or the id is taken, 2: bad usage,
    /// 3: database unavailable).
    Import {
        /// The template file (agreement-templates/ has one for each sample agreement).
        file: PathBuf,
        /// The new agreement's id.
        #[arg(long = "as", value_name = "NEW-ID")]
        new_id: String,
        /// The term's start; every date of the template counts from it (default: today).
        #[arg(long, value_name = "DATE")]
        start: Option<Date>,
        /// Write the draft to this file (no database needed) instead of the registry.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(cmd: TemplateCommand) -> ExitCode {
    match cmd {
        TemplateCommand::Export {
            id,
            version,
            out,
            db,
        } => export(&id, version, out.as_deref(), &db),
        TemplateCommand::Import {
            file,
            new_id,
            start,
            out,
            db,
        } => import_file(&file, &new_id, start, out.as_deref(), &db),
    }
}

fn export(id: &str, version: Option<i32>, out: Option<&Path>, db: &DbArgs) -> ExitCode {
    runtime().block_on(async {
        let registry = match db::open_existing(db).await {
            Ok(conn) => Registry::new(conn, Arc::new(SystemClock)),
            Err(code) => return code,
        };
        match registry.export_template(id, version).await {
            Ok(text) => match write_text(out, &text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(why) => fail(2, &why),
            },
            Err(e) => registry_failure(&e),
        }
    })
}

fn import_file(
    file: &Path,
    id: &str,
    start: Option<Date>,
    out: Option<&Path>,
    db: &DbArgs,
) -> ExitCode {
    let bytes = match read_source(file) {
        Ok(b) => b,
        Err(why) => return fail(2, &why),
    };
    let Some(out) = out else {
        return into_registry(file, &bytes, id, start, db);
    };
    let id = match new_id(id) {
        Ok(id) => id,
        Err(why) => return fail(2, &why),
    };
    let today = SystemClock.today();
    let draft = match import(&bytes, &id, start.unwrap_or(today), today) {
        Ok(d) => d,
        Err(problems) => return refused(file, &problems),
    };
    if let Err(why) = write_text(Some(out), &draft.yaml) {
        return fail(2, &why);
    }
    findings(out.to_path_buf(), draft.checked)
}

fn into_registry(
    file: &Path,
    bytes: &[u8],
    id: &str,
    start: Option<Date>,
    db: &DbArgs,
) -> ExitCode {
    runtime().block_on(async {
        let registry = match db::open(db).await {
            Ok(conn) => Registry::new(conn, Arc::new(SystemClock)),
            Err(code) => return code,
        };
        match registry.import_template(bytes, id, start, "cli").await {
            Ok(drafted) => {
                let v = &drafted.version;
                eprintln!(
                    "agreement {} version {} stored as a draft from {}",
                    v.agreement_id,
                    v.number,
                    file.display()
                );
                let checked = Checked {
                    diagnostics: drafted.findings,
                    agreement: None,
                    id: None,
                };
                let label = format!("{} version {}", v.agreement_id, v.number);
                findings(PathBuf::from(label), checked)
            }
            Err(FromTemplate::Problems(problems)) => refused(file, &problems),
            Err(FromTemplate::Registry(RegistryError::BadRequest(why))) => fail(2, &why),
            Err(FromTemplate::Registry(e)) => registry_failure(&e),
        }
    })
}

/// The draft's findings, as `accord check` prints them, under `label`.
fn findings(label: PathBuf, checked: Checked) -> ExitCode {
    let report = Report {
        files: vec![FileReport {
            path: label,
            checked,
        }],
        unreadable: Vec::new(),
    };
    let written = write_human(&report, &mut std::io::stdout().lock());
    summarise(&report);
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            fail(2, &format!("cannot write output: {e}"))
        }
        _ if report.has_errors() => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}

/// The template's problems, one line each as `accord check` writes findings: exit 1.
fn refused(file: &Path, problems: &[Problem]) -> ExitCode {
    for p in problems {
        let (line, column) = (p.pos.line, p.pos.column);
        println!(
            "{}:{line}:{column}: error[{}]: {}",
            file.display(),
            p.code,
            p.message
        );
    }
    let (n, s) = (problems.len(), if problems.len() == 1 { "" } else { "s" });
    eprintln!("no draft made: the template has {n} problem{s}");
    ExitCode::FAILURE
}

fn registry_failure(e: &RegistryError) -> ExitCode {
    match e {
        RegistryError::Db(_) => fail(super::EXIT_DB, &e.to_string()),
        _ => fail(1, &e.to_string()),
    }
}

fn fail(code: u8, why: &str) -> ExitCode {
    eprintln!("error: {why}");
    ExitCode::from(code)
}
