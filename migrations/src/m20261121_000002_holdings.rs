//! The holdings ledger: what the gate let through, who now holds it, and when it must go.
//! Subject references get their own table so "who holds what about this person" is an index
//! lookup.

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
                .table("holdings")
                .col(uuid("id").primary_key())
                .col(uuid("decision_id"))
                .col(string("agreement_id"))
                .col(integer("version"))
                .col(string("flow_id"))
                .col(string("from_party"))
                .col(string("holder"))
                .col(string("purpose"))
                .col(text("fields"))
                .col(integer("record_count"))
                .col(integer("subject_count"))
                .col(string("received_at"))
                .col(string_null("delete_by"))
                .col(string("then_action"))
                .col(string("state"))
                .to_owned(),
        )
        .await?;
        index(m, "holdings", "ix_holdings_agreement", &["agreement_id"]).await?;
        index(m, "holdings", "ix_holdings_holder", &["holder"]).await?;
        index(m, "holdings", "ix_holdings_due", &["state", "delete_by"]).await?;
        m.create_table(
            Table::create()
                .table("holding_subjects")
                .col(uuid("holding_id"))
                .col(string("subject_ref"))
                .primary_key(Index::create().col("holding_id").col("subject_ref"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "holding_subjects",
            "ix_holding_subjects_ref",
            &["subject_ref"],
        )
        .await
    }
}
