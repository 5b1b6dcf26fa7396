//! A requester's private link has a lifetime, and a closed request's personal details are
//! erased after a set period (see `src/access/requests.rs`).
//!
//! - `access_requests.resume_expires_at`: when the private link stops opening the request
//!   (the stored time format). Existing rows keep `NULL`, which opens nothing: a requester
//!   whose link predates lifetimes asks for a new one by e-mail (`/request-access/renew`).
//! - `access_requests.erased_at`: when the requester's personal details were erased; `NULL`
//!   while they are kept.
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
                .table("access_requests")
                .add_column(string_null("resume_expires_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("access_requests")
                .add_column(string_null("erased_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("access_requests")
                .drop_column("erased_at")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("access_requests")
                .drop_column("resume_expires_at")
                .to_owned(),
        )
        .await
    }
}
