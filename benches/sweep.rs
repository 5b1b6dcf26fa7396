//! How the retention sweep scales: with 1,000,000 holdings of which 10,000 are due, finding and
//! planning the due ones (a dry-run sweep) must take well under 200 ms, and its cost must follow
//! the number due, not the number held. Three databases in the same run:
//! 1M held / 10k due, 1M held / 1k due, 100k held / 10k due.
//!
//!     cargo bench --bench sweep

use std::sync::Arc;

use accord::clock::FixedClock;
use accord::registry::Registry;
use accord::settings::Settings;
use accord::store::entity::holding;
use criterion::{Criterion, criterion_group, criterion_main};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Statement, TransactionTrait};

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
        registry
            .import_dir(std::path::Path::new(samples))
            .await
            .unwrap();
        let txn = registry.db().begin().await.unwrap();
        for start in (0..total).step_by(500) {
            let rows = (start..(start + 500).min(total)).map(|i| {
                let delete_by = if i % (total / due) == 0 {
                    "2027-05-21T09:00:00.000000Z"
                } else {
                    "2030-01-01T00:00:00.000000Z"
                };
                holding::ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    decision_id: Set(uuid::Uuid::now_v7()),
                    agreement_id: Set("camden-foodbank-referrals".into()),
                    version: Set(1),
                    flow_id: Set("referral".into()),
                    from_party: Set("camden".into()),
                    holder: Set("foodbank".into()),
                    purpose: Set("food-parcels".into()),
                    fields: Set(r#"["full-name"]"#.into()),
                    record_count: Set(1),
                    subject_count: Set(0),
                    received_at: Set("2026-11-21T09:00:00.000000Z".into()),
                    delete_by: Set(Some(delete_by.into())),
                    then_action: Set("delete".into()),
                    state: Set("held".into()),
                }
            });
            holding::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
        let backend = registry.db().get_database_backend();
        registry
            .db()
            .execute_raw(Statement::from_string(backend, "ANALYZE"))
            .await
            .unwrap();
        registry
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("sweep-dry-run");
    group.sample_size(10);
    // `cargo test --all-targets` runs each benchmark once as a smoke test: keep that small.
    let measuring = std::env::args().any(|a| a == "--bench");
    let sizes = if measuring {
        [(1_000_000, 10_000), (1_000_000, 1_000), (100_000, 10_000)]
    } else {
        [(2_000, 20), (2_000, 2), (200, 20)]
    };
    for (total, due) in sizes {
        let registry = database(&rt, dir.path(), total, due);
        let retention = Settings::default().retention(&registry).unwrap();
        let found = rt
            .block_on(retention.sweep(true))
            .unwrap_or_else(|e| panic!("sweep: {e}"));
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
