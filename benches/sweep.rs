//! How the retention sweep scales: with 1,000,000 holdings of which 10,000 are due, finding and
//! planning the due ones (a dry-run sweep) must take well under 200 ms, and its cost must follow
//! the number due, not the number held. Three databases in the same run:
//! 1M held / 10k due, 1M held / 1k due, 100k held / 10k due.
//!
//!     cargo bench --bench sweep

use std::sync::Arc;

use accord::api::{Settings, retention_service};
use accord::clock::FixedClock;
use accord::registry::Registry;
use criterion::{Criterion, criterion_group, criterion_main};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

/// A SQLite database with `total` holdings of the foodbank agreement, `due` of them past their
/// date on 2027-06-01 (the rest fall due in 2030).
fn database(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    total: usize,
    due: usize,
) -> Registry {
    rt.block_on(async {
        let url = format!("sqlite://{}/bench-{total}-{due}.db?mode=rwc", dir.display());
        let db = accord::store::open(&url).await.unwrap();
        let clock = Arc::new(FixedClock::at("2027-06-01T09:00:00Z".parse().unwrap()));
        let registry = Registry::new(db, clock);
        let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/agreements");
        registry.import_dir(std::path::Path::new(samples)).await.unwrap();
        let backend = registry.db().get_database_backend();
        let txn = registry.db().begin().await.unwrap();
        for start in (0..total).step_by(500) {
            let rows: Vec<String> = (start..(start + 500).min(total))
                .map(|i| {
                    let delete_by = if i % (total / due) == 0 { "2027-05-21T09:00:00.000000Z" } else { "2030-01-01T00:00:00.000000Z" };
                    format!(
                        "('{}', '{}', 'camden-foodbank-referrals', 1, 'referral', 'camden', 'foodbank', \
                         'food-parcels', '[\"full-name\"]', 1, 0, '2026-11-21T09:00:00.000000Z', '{delete_by}', 'delete', 'held')",
                        uuid::Uuid::now_v7(),
                        uuid::Uuid::now_v7()
                    )
                })
                .collect();
            let sql = format!("INSERT INTO holdings VALUES {}", rows.join(","));
            txn.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
        }
        txn.commit().await.unwrap();
        registry.db().execute_raw(Statement::from_string(backend, "ANALYZE")).await.unwrap();
        registry
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("sweep-dry-run");
    group.sample_size(10);
    for (total, due) in [(1_000_000, 10_000), (1_000_000, 1_000), (100_000, 10_000)] {
        let registry = database(&rt, dir.path(), total, due);
        let retention = retention_service(&registry, &Settings::default()).unwrap();
        let found = rt.block_on(retention.sweep(true)).unwrap();
        let planned: usize = found.requests.iter().map(|r| r.holdings.len()).sum();
        assert_eq!(planned, due, "the sweep finds exactly the due holdings");
        group.bench_function(format!("{total}-held-{due}-due"), |b| {
            b.iter(|| rt.block_on(retention.sweep(true)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
