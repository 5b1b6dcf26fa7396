//! Accord's database schema, as sea-orm migrations. Applied by `accord migrate` and when
//! `accord serve` starts. Never edit a released migration's schema: add a new one.
//!
//! Every migration runs in one transaction with its record in `seaql_migrations`, on SQLite
//! too (sea-orm-migration's default there is none): a crash part-way through leaves the schema
//! as it was, never tables without their record, which would stop every later start.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_registry;
mod m20261121_000002_holdings;
mod m20261121_000003_outbox;
mod m20261121_000004_job_runs;
mod m20261121_000005_retention;
mod m20261121_000006_registry_generation;
mod m20261204_000007_agreement_listing;
mod m20261205_000008_people;
mod m20261206_000009_access_requests;
mod m20261207_000010_handover;
mod m20261208_000011_sso;
mod m20261209_000012_transparency;
mod m20261210_000013_session_method;
mod m20261211_000014_provider_session;
mod m20261212_000015_request_link_lifetime;
mod m20261213_000016_engagement_ends;

pub use m20261121_000001_registry::GENESIS_HASH;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_registry::Migration),
            Box::new(m20261121_000002_holdings::Migration),
            Box::new(m20261121_000003_outbox::Migration),
            Box::new(m20261121_000004_job_runs::Migration),
            Box::new(m20261121_000005_retention::Migration),
            Box::new(m20261121_000006_registry_generation::Migration),
            Box::new(m20261204_000007_agreement_listing::Migration),
            Box::new(m20261205_000008_people::Migration),
            Box::new(m20261206_000009_access_requests::Migration),
            Box::new(m20261207_000010_handover::Migration),
            Box::new(m20261208_000011_sso::Migration),
            Box::new(m20261209_000012_transparency::Migration),
            Box::new(m20261210_000013_session_method::Migration),
            Box::new(m20261211_000014_provider_session::Migration),
            Box::new(m20261212_000015_request_link_lifetime::Migration),
            Box::new(m20261213_000016_engagement_ends::Migration),
        ]
    }
}

/// Creates a unique index `name` on `table` over `cols`, in order.
pub(crate) async fn unique(
    m: &SchemaManager<'_>,
    table: &str,
    name: &str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    m.create_index(index_on(table, name, cols).unique().to_owned())
        .await
}

/// Creates an index `name` on `table` over `cols`, in order.
pub(crate) async fn index(
    m: &SchemaManager<'_>,
    table: &str,
    name: &str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    m.create_index(index_on(table, name, cols)).await
}

fn index_on(table: &str, name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create()
        .name(name)
        .table(table.to_owned())
        .to_owned();
    for &c in cols {
        stmt.col(c);
    }
    stmt
}
