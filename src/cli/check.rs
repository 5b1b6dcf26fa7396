//! `accord check`: findings as `file:line:col: severity[code]: message`, or as JSON.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use jiff::civil::Date;
use serde::Serialize;

use super::Format;
use crate::check::{FileReport, Report, check_paths};
use crate::clock::{Clock, SystemClock};

pub fn run(paths: &[PathBuf], format: Format, as_of: Option<Date>) -> ExitCode {
    let today = as_of.unwrap_or_else(|| SystemClock.today());
    let report = check_paths(paths, today);
    let written = match format {
        Format::Human => write_human(&report, &mut BufWriter::new(io::stdout().lock())),
        Format::Json => write_json(&report, &mut BufWriter::new(io::stdout().lock())),
    };
    for (path, why) in &report.unreadable {
        eprintln!("{}: error: {why}", path.display());
    }
    summarise(&report);
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write output: {e}");
            ExitCode::from(2)
        }
        _ if !report.unreadable.is_empty() => ExitCode::from(2),
        _ if report.has_errors() => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// Writes one line per finding.
pub fn write_human(report: &Report, out: &mut impl Write) -> io::Result<()> {
    for file in &report.files {
        write_findings(file, out)?;
    }
    out.flush()
}

/// One file's findings as `file:line:col: severity[code]: message` lines.
pub fn write_findings(file: &FileReport, out: &mut impl Write) -> io::Result<()> {
    for d in &file.checked.diagnostics {
        let (line, column) = (d.pos.line, d.pos.column);
        let path = file.path.display();
        writeln!(
            out,
            "{path}:{line}:{column}: {}[{}]: {}",
            d.severity(),
            d.code,
            d.message
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    file: String,
    line: u32,
    column: u32,
    severity: crate::agreement::Severity,
    code: crate::agreement::Code,
    message: &'a str,
}

/// Writes a JSON array of `{file, line, column, severity, code, message}`.
pub fn write_json(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let findings: Vec<JsonFinding> = report
        .files
        .iter()
        .flat_map(|f| {
            f.checked.diagnostics.iter().map(|d| JsonFinding {
                file: f.path.display().to_string(),
                line: d.pos.line,
                column: d.pos.column,
                severity: d.severity(),
                code: d.code,
                message: &d.message,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &findings)?;
    writeln!(out)?;
    out.flush()
}

/// The closing line on standard error: files checked, errors and warnings.
pub fn summarise(report: &Report) {
    let all = report.files.iter().flat_map(|f| &f.checked.diagnostics);
    let errors = all.clone().filter(|d| d.is_error()).count();
    let warnings = all.count() - errors;
    eprintln!(
        "checked {} file{}: {errors} error{}, {warnings} warning{}",
        report.files.len(),
        plural(report.files.len()),
        plural(errors),
        plural(warnings)
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
