//! Scheduled job runs: one row per (job, scheduled time), written when an instance claims the
//! run and updated when it finishes.
//!
//! The primary key (job, due_at) is the whole coordination: claiming a run is inserting its row
//! (`ON CONFLICT DO NOTHING`), so of several instances sharing the database exactly one claims
//! each due time, without locks held while the job runs. A restart finds the rows and does not
//! run again what has run. `due_at` is the schedule's time, not the wall clock at the claim, so
//! every instance computes the same key. Times are the store's RFC 3339 stamps (UTC, six
//! fractional digits), so text order is time order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Applied in one transaction on every backend (see lib.rs).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("job_runs")
                .col(string("job"))
                .col(string("due_at"))
                .col(string("claimed_by"))
                .col(string("claimed_at"))
                // Null while running, or forever if the instance stopped mid-run: the run is
                // not retried (at most once), and the next due time runs as usual.
                .col(string_null("finished_at"))
                // JSON: {"ok": <the job's report>} or {"error": "<message>"}.
                .col(text_null("outcome"))
                .primary_key(Index::create().col("job").col("due_at"))
                .to_owned(),
        )
        .await
    }
}
