//! Retention enforcement: legal holds, and deletion requests sent to holders (one per holder,
//! agreement and sweep, covering its holdings), with what confirmed them.

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
                .table("legal_holds")
                .col(uuid("id").primary_key())
                .col(string("kind"))
                .col(text("reason"))
                .col(string_null("agreement_id"))
                .col(string_null("party_id"))
                .col(string_null("subject_ref"))
                .col(string("placed_at"))
                .col(string("placed_by"))
                .col(string_null("released_at"))
                .col(string_null("released_by"))
                .col(text_null("release_reason"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("deletion_requests")
                .col(uuid("id").primary_key())
                .col(uuid("sweep_id"))
                .col(string("agreement_id"))
                .col(integer("version"))
                .col(string("holder"))
                .col(string("method"))
                .col(string("action"))
                .col(string("status"))
                .col(string_null("token_hash"))
                .col(integer("attempts"))
                .col(string_null("next_attempt_at"))
                .col(text_null("last_error"))
                .col(string("created_at"))
                .col(string_null("confirmed_at"))
                .col(string_null("confirmed_by"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "deletion_requests",
            "ix_deletion_requests_status",
            &["status", "next_attempt_at"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("deletion_request_holdings")
                .col(uuid("request_id"))
                .col(uuid("holding_id"))
                .primary_key(Index::create().col("request_id").col("holding_id"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "deletion_request_holdings",
            "ix_deletion_request_holdings_holding",
            &["holding_id"],
        )
        .await
    }
}
