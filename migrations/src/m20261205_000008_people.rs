//! People who sign in to the web console, beside the API tokens systems use.
//!
//! - `users`: one row per person; the e-mail (lower-cased) is unique; the password is an
//!   argon2id PHC string, NULL until the person sets one through their link.
//! - `password_links`: one-time set-password links; only the SHA-256 of the link's token is
//!   kept, with when it expires and when it was used.
//! - `web_sessions`: server-side sessions, so several instances share them; only the SHA-256 of
//!   the cookie's random id is kept, with the idle and absolute limits' inputs.
//! - `sign_in_failures`: failed sign-ins by account and by address, for throttling; counted
//!   over a window through the `(key, at)` index.
//!
//! And the agreement list entry gains `shown_review_due` (when the shown version's next review
//! falls due), indexed with `shown_term_end`, so the console's home page counts reviews and
//! term ends due soon by index. Every entry is marked stale (`version_count = 0`), so the
//! registry refills it, review date included, when it next loads (`backfill_listing`).
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
                .table("users")
                .col(uuid("id").primary_key())
                .col(string("email"))
                .col(string("name"))
                .col(string("role"))
                .col(string_null("party_id"))
                .col(text_null("password_hash"))
                .col(string("created_at"))
                .col(string_null("password_set_at"))
                .col(string_null("disabled_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "users", "ux_users_email", &["email"]).await?;
        m.create_table(
            Table::create()
                .table("password_links")
                .col(string("token_hash").primary_key())
                .col(uuid("user_id"))
                .col(string("created_at"))
                .col(string("expires_at"))
                .col(string_null("used_at"))
                .to_owned(),
        )
        .await?;
        index(m, "password_links", "ix_password_links_user", &["user_id"]).await?;
        m.create_table(
            Table::create()
                .table("web_sessions")
                .col(string("id_hash").primary_key())
                .col(uuid("user_id"))
                .col(string("created_at"))
                .col(string("last_seen_at"))
                .col(string("expires_at"))
                .col(string_null("ended_at"))
                .to_owned(),
        )
        .await?;
        index(m, "web_sessions", "ix_web_sessions_user", &["user_id"]).await?;
        m.create_table(
            Table::create()
                .table("sign_in_failures")
                .col(uuid("id").primary_key())
                .col(string("key"))
                .col(string("at"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "sign_in_failures",
            "ix_sign_in_failures_key_at",
            &["key", "at"],
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("agreements")
                .add_column(string_null("shown_review_due"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "agreements",
            "ix_agreements_review_due",
            &["shown_review_due"],
        )
        .await?;
        index(
            m,
            "agreements",
            "ix_agreements_term_end",
            &["shown_term_end"],
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table("agreements")
                .value("version_count", 0)
                .to_owned(),
        )
        .await
    }
}
