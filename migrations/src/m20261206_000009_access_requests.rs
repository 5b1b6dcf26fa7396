//! Partner access requests.
//!
//! - `access_requests`: one row per request. `answers` is the form's answers as JSON (what the
//!   requester typed, by question). The requester's e-mail is confirmed through a one-time
//!   link (`confirm_hash`, the SHA-256 of its token, cleared when used); the private link that
//!   follows is kept as `resume_hash` only. `status_since` and `requester_secs` give the
//!   queue's ages (days waiting, days with the requester); the queue pages by `(status, id)`.
//!   `owner` is the API token that made it, when a partner system did; it acts as the
//!   requester. `agreement_id` and `party_id` are what the request is addressed to, for the officers'
//!   filters; `drafted_agreement`/`drafted_version` link the approval's draft.
//! - `access_request_messages`: the thread between officers and the requester.
//!
//! One transaction on every backend (see lib.rs).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

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
                .table("access_requests")
                .col(uuid("id").primary_key())
                .col(string("reference"))
                .col(string("status"))
                .col(string("email"))
                .col(string_null("email_confirmed_at"))
                .col(string_null("confirm_hash"))
                .col(string_null("confirm_expires_at"))
                .col(string_null("resume_hash"))
                .col(uuid_null("owner"))
                .col(text("answers"))
                .col(string_null("organisation"))
                .col(string_null("agreement_id"))
                .col(string_null("party_id"))
                .col(string("created_at"))
                .col(string("updated_at"))
                .col(string_null("submitted_at"))
                .col(string("status_since"))
                .col(big_integer("requester_secs"))
                .col(string_null("decided_at"))
                .col(string_null("decided_by"))
                .col(string_null("decided_role"))
                .col(text_null("decision_reasons"))
                .col(text_null("conditions"))
                .col(string_null("drafted_agreement"))
                .col(integer_null("drafted_version"))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "access_requests",
            "ux_access_requests_reference",
            &["reference"],
        )
        .await?;
        unique(
            m,
            "access_requests",
            "ux_access_requests_confirm",
            &["confirm_hash"],
        )
        .await?;
        unique(
            m,
            "access_requests",
            "ux_access_requests_resume",
            &["resume_hash"],
        )
        .await?;
        index(
            m,
            "access_requests",
            "ix_access_requests_status",
            &["status", "id"],
        )
        .await?;
        index(
            m,
            "access_requests",
            "ix_access_requests_party",
            &["party_id", "status", "id"],
        )
        .await?;
        index(m, "access_requests", "ix_access_requests_email", &["email"]).await?;
        index(
            m,
            "access_requests",
            "ix_access_requests_drafted",
            &["drafted_agreement"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("access_request_messages")
                .col(uuid("id").primary_key())
                .col(uuid("request_id"))
                .col(string("at"))
                .col(string("author"))
                .col(boolean("from_officer"))
                .col(text("body"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "access_request_messages",
            "ix_access_request_messages_request",
            &["request_id", "id"],
        )
        .await
    }
}
