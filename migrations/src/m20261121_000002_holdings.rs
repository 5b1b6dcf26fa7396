//! The holdings ledger: what the gate let through, who now holds it, and when it must go.
//! Subject references get their own table so "who holds what about this person" is an index
//! lookup.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
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
        for (name, cols) in [
            ("ix_holdings_agreement", &["agreement_id"][..]),
            ("ix_holdings_holder", &["holder"][..]),
            ("ix_holdings_due", &["state", "delete_by"][..]),
        ] {
            let mut idx = Index::create().name(name).table("holdings").to_owned();
            for &c in cols {
                idx.col(c);
            }
            m.create_index(idx).await?;
        }
        m.create_table(
            Table::create()
                .table("holding_subjects")
                .col(uuid("holding_id"))
                .col(string("subject_ref"))
                .primary_key(Index::create().col("holding_id").col("subject_ref"))
                .to_owned(),
        )
        .await?;
        let idx = Index::create()
            .name("ix_holding_subjects_ref")
            .table("holding_subjects")
            .col("subject_ref")
            .to_owned();
        m.create_index(idx).await
    }
}
