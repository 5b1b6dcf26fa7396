//! Single sign-on with OpenID Connect (see `src/people/sso.rs`).
//!
//! - `sso_flows`: one row per sign-in sent to the provider and not yet back: the SHA-256 of
//!   its `state` (the key), its nonce and PKCE verifier, and where to go after. Taken (deleted)
//!   when the provider sends the person back, so a state works once.
//! - `users.sso_subject`: `issuer|sub` of the provider's account linked to this one (unique).
//! - `users.sso_only`: the account signs in only through the provider, never with a password.
//!
//! One transaction on every backend (see lib.rs).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::unique;

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
                .table("sso_flows")
                .col(string("state_hash").primary_key())
                .col(string("nonce"))
                .col(string("pkce_verifier"))
                .col(text("next"))
                .col(string("created_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(string_null("sso_subject"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(boolean("sso_only").default(false))
                .to_owned(),
        )
        .await?;
        unique(m, "users", "ux_users_sso_subject", &["sso_subject"]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ux_users_sso_subject")
                .table("users")
                .to_owned(),
        )
        .await?;
        for column in ["sso_only", "sso_subject"] {
            m.alter_table(Table::alter().table("users").drop_column(column).to_owned())
                .await?;
        }
        m.drop_table(Table::drop().table("sso_flows").to_owned())
            .await
    }
}
