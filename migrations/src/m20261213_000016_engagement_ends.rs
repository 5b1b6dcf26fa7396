//! A contractor's engagement ended early by an officer (see `src/registry/engagements.rs`).
//!
//! - `engagement_ends`: one row per agreement and contractor party whose engagement an officer
//!   ended before its `engagement_end`: the day it ended (`YYYY-MM-DD`), why, who recorded it
//!   and when. The gate, the end of access and the handover deadlines treat the day before as
//!   the engagement's last, whatever any version says; a row is never removed.
//!
//! One transaction on every backend (see lib.rs).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("engagement_ends")
                .col(string("agreement_id"))
                .col(string("party_id"))
                .col(string("ended_on"))
                .col(text("reason"))
                .col(string("recorded_by"))
                .col(string("recorded_at"))
                .primary_key(Index::create().col("agreement_id").col("party_id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("engagement_ends").to_owned())
            .await
    }
}
