//! `accord sweep [--dry-run]`: the retention sweep now, printing what it did or would do.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::app_args::AppArgs;
use super::{DbArgs, EXIT_DB, runtime};
use crate::clock::SystemClock;
use crate::registry::Registry;
use crate::retention::sweep::SweepReport;

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Only say what would be requested and what is held.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    app: AppArgs,
}

pub fn run(args: SweepArgs) -> ExitCode {
    runtime().block_on(async {
        // A dry run only reads: it never makes a database.
        let opened = if args.dry_run {
            super::db::open_existing(&args.db).await
        } else {
            crate::store::open(&args.db.database).await.map_err(|e| {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_DB)
            })
        };
        let db = match opened {
            Ok(db) => db,
            Err(code) => return code,
        };
        let settings = match args.app.settings() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let registry = Registry::new(db, Arc::new(SystemClock));
        let retention = match settings.retention(&registry) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        match retention.sweep(args.dry_run).await {
            Ok(report) => {
                print!("{}", describe(&report));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// One line per request and per held holding, then a summary.
pub fn describe(r: &SweepReport) -> String {
    let verb = if r.dry_run { "would ask" } else { "asked" };
    let mut out = String::new();
    for q in &r.requests {
        out.push_str(&format!(
            "{verb} {} by {} to {} {} holding(s) under {} version {}{}\n",
            q.holder,
            q.method,
            q.action,
            q.holdings.len(),
            q.agreement_id,
            q.version,
            q.request_id
                .map(|id| format!(" (request {id})"))
                .unwrap_or_default()
        ));
    }
    for h in &r.held {
        let holds: Vec<String> = h.legal_holds.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "held: holding {} under legal hold {}\n",
            h.holding_id,
            holds.join(", ")
        ));
    }
    out.push_str(&format!(
        "{} request(s), {} held; webhooks sent {}, confirmed {}, escalated {}{}\n",
        r.requests.len(),
        r.held.len(),
        r.webhooks_sent,
        r.confirmed,
        r.escalated,
        if r.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    ));
    out
}
