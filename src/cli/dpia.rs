//! `accord dpia FILE_OR_ID`: the DPIA for one agreement, as HTML or Markdown.
//!
//! Exit 0 when the DPIA was written; 1 when the agreement has errors (its findings are printed
//! as `accord check` prints them) or no agreement has that id; 2 when a template or the output
//! cannot be read, compiled or written. The document goes to standard output only when no `-o`
//! is given, and `-o` never leaves a half-written file: it writes a temporary file beside the
//! target and renames it into place.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use jiff::civil::Date;

use crate::agreement::check_source;
use crate::agreement::diagnostic::did_you_mean;
use crate::check::{FileReport, check_paths, read_source};
use crate::clock::{Clock, SystemClock};
use crate::dpia::{self, Format, Renderer};

#[derive(Debug, clap::Args)]
pub struct DpiaArgs {
    /// An agreement file, or the id of an agreement under --agreements.
    #[arg(value_name = "FILE_OR_ID")]
    target: String,
    /// html: print-ready for A4, with the data-flow diagram; md: Markdown.
    #[arg(long, value_enum, default_value = "html")]
    format: OutputFormat,
    /// Write the DPIA to this file instead of standard output.
    #[arg(short = 'o', value_name = "OUT")]
    out: Option<PathBuf>,
    /// Folder of template overrides: DIR/dpia/dpia.html.hbs and DIR/dpia/dpia.md.hbs are used
    /// when present, the built-in templates otherwise.
    #[arg(long, default_value = "templates", value_name = "DIR")]
    templates: PathBuf,
    /// Folder searched for the agreement when FILE_OR_ID is an id.
    #[arg(long, default_value = "agreements", value_name = "DIR")]
    agreements: PathBuf,
    /// Check the agreement and date the DPIA as of this date (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE")]
    as_of: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Html,
    Md,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Html => Format::Html,
            OutputFormat::Md => Format::Markdown,
        }
    }
}

/// Why no DPIA was written, with the exit code it earns.
struct Failure {
    code: u8,
    message: String,
}

/// The agreement cannot be used: exit 1.
fn refused(message: String) -> Failure {
    Failure { code: 1, message }
}

/// Something outside the agreement went wrong (templates, files): exit 2.
fn trouble(message: String) -> Failure {
    Failure { code: 2, message }
}

pub fn run(args: DpiaArgs) -> ExitCode {
    match generate(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn generate(args: &DpiaArgs) -> Result<(), Failure> {
    let today = args.as_of.unwrap_or_else(|| SystemClock.today());
    let file = find(args, today)?;
    print_findings(&file);
    let Some(agreement) = file.checked.agreement else {
        return Err(refused(format!(
            "{} has errors, so no DPIA was generated",
            file.path.display()
        )));
    };
    let renderer =
        Renderer::load(args.format.into(), &args.templates).map_err(|e| trouble(e.to_string()))?;
    let doc = dpia::generate(&agreement, today);
    let text = renderer.render(&doc).map_err(|e| trouble(e.to_string()))?;
    write_out(args.out.as_deref(), &text)
}

/// The checked agreement: the file named, or the one file under `--agreements` with that id.
fn find(args: &DpiaArgs, today: Date) -> Result<FileReport, Failure> {
    let path = Path::new(&args.target);
    if path.is_file() {
        let bytes = read_source(path).map_err(trouble)?;
        return Ok(FileReport {
            path: path.to_path_buf(),
            checked: check_source(&bytes, today),
        });
    }
    let report = check_paths(std::slice::from_ref(&args.agreements), today);
    for (path, why) in &report.unreadable {
        eprintln!("{}: warning: {why}", path.display());
    }
    let (mut matches, others): (Vec<FileReport>, Vec<FileReport>) =
        report.files.into_iter().partition(|f| {
            f.checked
                .id
                .as_ref()
                .is_some_and(|(id, _)| *id == args.target)
        });
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(refused(unknown(args, &others))),
        _ => {
            let paths: Vec<String> = matches
                .iter()
                .map(|f| f.path.display().to_string())
                .collect();
            Err(refused(format!(
                "agreement id '{}' is used by {}; name the file instead",
                args.target,
                paths.join(" and ")
            )))
        }
    }
}

/// "no file or agreement id 'x' …", with the closest id when one is close.
fn unknown(args: &DpiaArgs, files: &[FileReport]) -> String {
    let ids: Vec<&str> = files
        .iter()
        .filter_map(|f| f.checked.id.as_ref().map(|(id, _)| id.as_str()))
        .collect();
    let hint = did_you_mean(&args.target, ids.iter().copied())
        .map(|id| format!("; did you mean '{id}'?"))
        .unwrap_or_default();
    format!(
        "'{}' is neither a file nor the id of an agreement in {} ({} agreement{} found){hint}",
        args.target,
        args.agreements.display(),
        ids.len(),
        if ids.len() == 1 { "" } else { "s" }
    )
}

/// Prints the agreement's findings, errors and warnings alike, as `accord check` does.
fn print_findings(file: &FileReport) {
    let _ = super::check::write_findings(file, &mut io::stderr().lock());
}

fn write_out(out: Option<&Path>, text: &str) -> Result<(), Failure> {
    super::write_text(out, text).map_err(trouble)
}
