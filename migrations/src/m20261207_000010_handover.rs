//! Contractor handover (see `src/handover/`).
//!
//! - `handover_items`: one row per item a contractor owes under an agreement: those its
//!   `handover:` declares and the exit records (made when first read, `declared` true), and
//!   those an officer adds. Unique per `(agreement_id, party_id, item_key)`. `state` is
//!   `open | submitted | returned | accepted`; `latest` is the number of the latest submission
//!   (0 before the first). The reminders job reads `(state, due)`.
//! - `handover_submissions`: each version a contractor submits (Markdown text, the
//!   access-revocation rows as JSON), numbered from 1 per item, never changed. `sha256` covers
//!   the text, the rows and every attachment's hash.
//! - `handover_attachments`: the files of a submission, stored in the database with their
//!   SHA-256 (type and size checked before they reach it).
//! - `handover_reviews`: each officer's accept or return, with comments.
//! - `handover_engagements`: an engagement marked complete (with a waiver's reason when items
//!   were still open), and when its access was ended at `engagement_end`.
//! - `handover_search`: the text of every accepted item, for full-text search: an FTS5 table on
//!   SQLite, a table with a generated `tsvector` and a GIN index on PostgreSQL.
//!
//! One transaction on every backend (see lib.rs).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::{index, unique};

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
                .table("handover_items")
                .col(uuid("id").primary_key())
                .col(string("agreement_id"))
                .col(string("party_id"))
                .col(string("item_key"))
                .col(string("kind"))
                .col(text("title"))
                .col(string("owner_name"))
                .col(string("owner_email"))
                .col(string("due"))
                .col(string("state"))
                .col(boolean("declared"))
                .col(integer("latest"))
                .col(string("created_at"))
                .col(string("updated_at"))
                .col(string_null("accepted_at"))
                .col(string_null("accepted_by"))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "handover_items",
            "ux_handover_items_key",
            &["agreement_id", "party_id", "item_key"],
        )
        .await?;
        index(
            m,
            "handover_items",
            "ix_handover_items_due",
            &["state", "due"],
        )
        .await?;
        index(
            m,
            "handover_items",
            "ix_handover_items_party",
            &["party_id"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("handover_submissions")
                .col(uuid("id").primary_key())
                .col(uuid("item_id"))
                .col(integer("number"))
                .col(text("body"))
                .col(text("credentials"))
                .col(string("submitted_at"))
                .col(string("submitted_by"))
                .col(string("sha256"))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "handover_submissions",
            "ux_handover_submissions_number",
            &["item_id", "number"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("handover_attachments")
                .col(uuid("id").primary_key())
                .col(uuid("submission_id"))
                .col(uuid("item_id"))
                .col(string("file_name"))
                .col(string("media_type"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(blob("content"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "handover_attachments",
            "ix_handover_attachments_submission",
            &["submission_id"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("handover_reviews")
                .col(uuid("id").primary_key())
                .col(uuid("item_id"))
                .col(integer("number"))
                .col(string("action"))
                .col(text("comments"))
                .col(string("by"))
                .col(string("at"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "handover_reviews",
            "ix_handover_reviews_item",
            &["item_id", "at"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("handover_engagements")
                .col(string("agreement_id"))
                .col(string("party_id"))
                .col(string_null("completed_at"))
                .col(string_null("completed_by"))
                .col(text_null("waiver"))
                .col(string_null("access_ended_at"))
                .primary_key(Index::create().col("agreement_id").col("party_id"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE TABLE handover_search (
                        item_id text PRIMARY KEY,
                        agreement_id text NOT NULL,
                        party_id text NOT NULL,
                        title text NOT NULL,
                        body text NOT NULL,
                        doc tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector('english', title), 'A') ||
                            setweight(to_tsvector('english', body), 'B')) STORED
                    )",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_handover_search_doc ON handover_search USING GIN (doc)",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE handover_search USING fts5(
                        item_id UNINDEXED, agreement_id UNINDEXED, party_id UNINDEXED,
                        title, body, tokenize = 'porter unicode61')",
                )
                .await?;
            }
        }
        Ok(())
    }
}
