//! How a console session began (see `src/people/sessions.rs`).
//!
//! - `web_sessions.via_sso`: the session was opened by single sign-on, so signing out also
//!   sends the person to the identity provider to end their session there. Sessions opened
//!   before this migration were opened with a password or are long expired (they last at
//!   most 12 hours), so `false` is right for every existing row.
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
                .add_column(boolean("via_sso").default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("web_sessions")
                .drop_column("via_sso")
                .to_owned(),
        )
        .await
    }
}
