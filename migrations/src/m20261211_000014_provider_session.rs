//! Which provider session a console session belongs to (see `src/people/sessions.rs` and
//! `src/people/sso.rs`).
//!
//! - `web_sessions.sso_sid`: the `sid` claim of the ID token that opened the session (absent
//!   when the provider gives none, and for password sessions), so that a back-channel logout
//!   naming that provider session ends exactly the Accord sessions it opened. Existing rows
//!   keep `NULL`: a logout naming its person still ends them.
//! - an index on it: the provider's logout finds its sessions by it.
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
        m.alter_table(
            Table::alter()
                .table("web_sessions")
                .add_column(string_null("sso_sid"))
                .to_owned(),
        )
        .await?;
        crate::index(m, "web_sessions", "ix_web_sessions_sso_sid", &["sso_sid"]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_web_sessions_sso_sid")
                .table("web_sessions")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("web_sessions")
                .drop_column("sso_sid")
                .to_owned(),
        )
        .await
    }
}
