//! The command line: parses arguments with clap and calls the library. Exit codes are decided
//! here and nowhere else.

mod check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Date;

use crate::agreement::schema::json_schema;

#[derive(Debug, Parser)]
#[command(
    name = "accord",
    version,
    about = "Data-sharing agreements as enforceable machines"
)]
pub struct Cli {
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Runs the command line; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            paths,
            format,
            as_of,
        } => check::run(&paths, format, as_of),
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
