//! The mail outbox: every message is written here first, in the transaction of the change that
//! causes it, and delivered later by a delivery pass. An SMTP outage loses nothing: a message
//! stays until it is sent (`sent_at`) or refused for good (`failed_at`).
//!
//! - `dedupe_key` is unique (NULLs are distinct on both backends), so the same reminder is never
//!   queued twice: the insert does nothing on conflict.
//! - `next_attempt_at` is both the backoff and the lease: a delivery pass claims a message by
//!   moving it forward, so another pass (or instance) does not take it while it is being sent.
//! - Times are RFC 3339 text in UTC with fixed microsecond precision, as everywhere.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

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
                .table("outbox_messages")
                .col(uuid("id").primary_key())
                .col(string("to_addr"))
                .col(string("subject"))
                .col(text("text_body"))
                .col(text_null("html_body"))
                .col(string("kind"))
                .col(string_null("dedupe_key").unique_key())
                .col(string("created_at"))
                .col(integer("attempts"))
                .col(string("next_attempt_at"))
                .col(string_null("sent_at"))
                .col(string_null("failed_at"))
                .col(text_null("last_error"))
                .to_owned(),
        )
        .await?;
        // What a delivery pass asks for: unsent messages, earliest due first.
        index(
            m,
            "outbox_messages",
            "ix_outbox_due",
            &["sent_at", "next_attempt_at"],
        )
        .await
    }
}
