//! The registry's generation: one row counting the registry's changes. Every change the gate's
//! index is built from (versions added, activated or superseded; an agreement suspended,
//! reinstated or terminated; a party suspended or reinstated) adds one to it in the change's
//! own transaction, under the writers' lock. Instances sharing the database rebuild their
//! index when the number differs from the one they built from: a counter, because times
//! stamped by changes can repeat (the same microsecond, clocks apart, a fixed clock).
//!
//! And a unique index on `deletion_requests.token_hash`: the public confirmation link looks a
//! request up by the hash of its token, which scanned the table. Tokens are 32 random bytes,
//! so no two requests share a hash; NULLs (requests not sent by email) are distinct on both
//! backends.
//!
//! It runs in one transaction on SQLite too (sea-orm-migration's default there is none), so a
//! process killed half-way leaves neither the table nor its migration record, and the next
//! start applies it whole.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::unique;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Applied in one transaction on every backend (see lib.rs).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("registry_generation")
                .col(integer("id").primary_key())
                .col(big_integer("generation"))
                .to_owned(),
        )
        .await?;
        let seed = Query::insert()
            .into_table("registry_generation")
            .columns(["id", "generation"])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        m.exec_stmt(seed).await?;
        unique(
            m,
            "deletion_requests",
            "ux_deletion_requests_token",
            &["token_hash"],
        )
        .await
    }
}
