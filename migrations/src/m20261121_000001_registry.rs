//! The registry: agreements and their versions, signatures, suspensions, API tokens, and the
//! hash-chained audit log with its head.
//!
//! Times are RFC 3339 text in UTC with fixed microsecond precision, so they sort as text on
//! every backend; ids the engine makes are UUID v7.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The audit chain's starting point: the hash before the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Applied in one transaction on every backend (see lib.rs).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("agreements")
                .col(string("id").primary_key())
                .col(string("control"))
                .col(string_null("control_reason"))
                .col(string_null("control_changed_at"))
                .col(string_null("control_changed_by"))
                .col(string("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("agreement_versions")
                .col(uuid("id").primary_key())
                .col(string("agreement_id"))
                .col(integer("number"))
                .col(string("content_hash"))
                .col(integer("declared_version"))
                .col(string("title"))
                .col(text("source"))
                .col(string("status"))
                .col(string("origin"))
                .col(string("created_at"))
                .col(string("created_by"))
                .col(string_null("activated_at"))
                .col(string_null("superseded_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("agreement_versions", "agreement_id")
                        .to("agreements", "id"),
                )
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "agreement_versions",
            "ux_versions_number",
            &["agreement_id", "number"],
        )
        .await?;
        unique(
            m,
            "agreement_versions",
            "ux_versions_hash",
            &["agreement_id", "content_hash"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("signatures")
                .col(uuid("id").primary_key())
                .col(uuid("version_id"))
                .col(string("party_id"))
                .col(string("role"))
                .col(string("name"))
                .col(string("signed_on"))
                .col(string("source"))
                .col(string("recorded_at"))
                .col(string("recorded_by"))
                .foreign_key(
                    ForeignKey::create()
                        .from("signatures", "version_id")
                        .to("agreement_versions", "id"),
                )
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "signatures",
            "ux_signatures_party_role",
            &["version_id", "party_id", "role"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("party_suspensions")
                .col(uuid("id").primary_key())
                .col(string("party_id"))
                .col(string("reason"))
                .col(string("suspended_at"))
                .col(string("suspended_by"))
                .col(string_null("lifted_at"))
                .col(string_null("lifted_by"))
                .col(string_null("lift_reason"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "party_suspensions",
            "ix_party_suspensions_party",
            &["party_id"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(uuid("id").primary_key())
                .col(string("name"))
                .col(string("role"))
                .col(string_null("party_id"))
                .col(string_uniq("token_hash"))
                .col(string("created_at"))
                .col(string_null("revoked_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_integer("seq").primary_key())
                .col(uuid_uniq("id"))
                .col(string("at"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("subject"))
                .col(text("details"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        index(m, "audit_log", "ix_audit_subject", &["subject"]).await?;
        index(m, "audit_log", "ix_audit_action", &["action"]).await?;
        m.create_table(
            Table::create()
                .table("audit_head")
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        let genesis = Query::insert()
            .into_table("audit_head")
            .columns(["id", "seq", "hash"])
            .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
            .to_owned();
        m.exec_stmt(genesis).await
    }
}
