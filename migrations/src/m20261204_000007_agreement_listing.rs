//! What the agreement list shows and filters on, kept on the agreement's row so a page is one
//! indexed query whatever the registry's size: the title, the version shown (the one in force,
//! else the newest) with its stored status and term end, the newest number and the count of
//! versions; and `agreement_parties`, the parties of the version shown, for the party filter.
//! Every registry change refreshes them in its own transaction; rows stored before this
//! migration are filled in when `serve` next loads the registry (`version_count = 0` marks
//! them).
//!
//! Runs in one transaction on every backend (see lib.rs).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

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
            string("title").default("").to_owned(),
            integer_null("shown_version"),
            string("shown_stored").default("draft").to_owned(),
            string_null("shown_term_end"),
            integer_null("current_version"),
            integer("latest_version").default(0).to_owned(),
            integer("version_count").default(0).to_owned(),
        ];
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
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
            "ix_agreements_listing",
            &["control", "shown_stored", "shown_term_end"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("agreement_parties")
                .col(string("agreement_id"))
                .col(string("party_id"))
                .primary_key(Index::create().col("agreement_id").col("party_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("agreement_parties", "agreement_id")
                        .to("agreements", "id"),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "agreement_parties",
            "ix_agreement_parties_party",
            &["party_id", "agreement_id"],
        )
        .await
    }
}
