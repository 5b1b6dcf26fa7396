//! The public transparency register (see `src/transparency/`).
//!
//! - `agreements.published`: the version in force says `transparency: {publish: true}`;
//!   `agreements.in_force_since`: when that version came into force. Both kept by the listing
//!   refresh with the rest of the row, so the register's pages are indexed reads.
//! - `transparency_counts`: per agreement and month (`YYYY-MM`, Europe/London), how many gate
//!   decisions allowed and refused, and how many records were confirmed deleted. Added to in
//!   the transaction of each decision batch and each confirmation, so the register never scans
//!   the audit log. History already in the log is counted here once, by UTC month.
//!
//! One transaction on every backend (see lib.rs).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            boolean("published").default(false).to_owned(),
            string_null("in_force_since"),
        ];
        for mut col in columns {
            m.alter_table(
                Table::alter()
                    .table("agreements")
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        index(
            m,
            "agreements",
            "ix_agreements_published_title",
            &["published", "title", "id"],
        )
        .await?;
        index(
            m,
            "agreements",
            "ix_agreements_published_since",
            &["published", "in_force_since"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("transparency_counts")
                .col(string("agreement_id"))
                .col(string("month"))
                .col(big_integer("allowed").default(0))
                .col(big_integer("refused").default(0))
                .col(big_integer("deleted").default(0))
                .primary_key(Index::create().col("agreement_id").col("month"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let decision = match db.get_database_backend() {
            DbBackend::Postgres => "(details::jsonb ->> 'decision')",
            _ => "json_extract(details, '$.decision')",
        };
        let version = match db.get_database_backend() {
            DbBackend::Postgres => "(details::jsonb ->> 'version')",
            _ => "json_extract(details, '$.version')",
        };
        db.execute_unprepared(&format!(
            "INSERT INTO transparency_counts (agreement_id, month, allowed, refused, deleted) \
             SELECT substr(subject, 11), substr(at, 1, 7), \
                    SUM(CASE WHEN {decision} = 'allow' THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN {decision} = 'allow' THEN 0 ELSE 1 END), 0 \
             FROM audit_log \
             WHERE action IN ('gate.check', 'gate.send') AND subject LIKE 'agreement:%' \
               AND {version} IS NOT NULL \
             GROUP BY substr(subject, 11), substr(at, 1, 7)"
        ))
        .await?;
        db.execute_unprepared(
            "INSERT INTO transparency_counts (agreement_id, month, allowed, refused, deleted) \
             SELECT h.agreement_id, substr(r.confirmed_at, 1, 7), 0, 0, SUM(h.record_count) \
             FROM deletion_requests r \
             JOIN deletion_request_holdings l ON l.request_id = r.id \
             JOIN holdings h ON h.id = l.holding_id \
             WHERE r.status = 'deleted' AND r.confirmed_at IS NOT NULL \
             GROUP BY h.agreement_id, substr(r.confirmed_at, 1, 7) \
             ON CONFLICT (agreement_id, month) DO UPDATE SET deleted = excluded.deleted",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("transparency_counts").to_owned())
            .await?;
        for name in [
            "ix_agreements_published_since",
            "ix_agreements_published_title",
        ] {
            m.drop_index(Index::drop().name(name).table("agreements").to_owned())
                .await?;
        }
        for col in ["in_force_since", "published"] {
            m.alter_table(
                Table::alter()
                    .table("agreements")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
