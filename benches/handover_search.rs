//! How handover search scales: accepted items in the full-text index (SQLite FTS5; PostgreSQL
//! too when `ACCORD_TEST_PG_URL` names a server), searched with one to three words, at 10,000
//! and 100,000 items. The goal: p95 under 50 ms at 100,000. The baseline, timed in the same run
//! on the same connection, is a trivial query (`SELECT count(*) FROM seaql_migrations`), so the
//! ratio says what the search costs beyond a round trip.
//!
//!     cargo bench --bench handover_search
//!
//! Each item's text is about 120 words drawn from a handover vocabulary (a few hundred common
//! words, and rarer system names), so common words match tens of thousands of items and rare
//! ones a few dozen: the cases an officer meets a year later.

use std::time::Instant;

use accord::handover::search::{index, search};
use accord::store::entity::handover_item as item;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};

const COMMON: &[&str] = &[
    "extract",
    "runbook",
    "monthly",
    "matching",
    "pipeline",
    "council",
    "server",
    "account",
    "schedule",
    "report",
    "quality",
    "check",
    "data",
    "team",
    "access",
    "backup",
    "restore",
    "export",
    "import",
    "schema",
    "table",
    "column",
    "dashboard",
    "analyst",
    "contract",
    "owner",
    "review",
    "deploy",
    "release",
    "incident",
    "risk",
    "change",
    "ticket",
    "support",
    "service",
    "attendance",
    "school",
    "housing",
    "benefit",
    "licence",
    "property",
    "address",
    "uprn",
    "score",
    "model",
    "weights",
    "threshold",
    "validation",
    "error",
    "retry",
    "queue",
    "batch",
    "nightly",
    "weekly",
    "upload",
    "download",
    "sftp",
    "portal",
    "api",
    "token",
    "rotation",
    "certificate",
    "deletion",
    "retention",
    "archive",
    "storage",
    "bucket",
    "folder",
    "file",
    "spreadsheet",
    "csv",
    "format",
    "dictionary",
    "field",
    "record",
    "produced",
    "recovered",
];

/// A small deterministic generator (xorshift), so every run indexes the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A word: mostly common, sometimes one of 5,000 rarer system names.
fn word(rng: &mut Rng) -> String {
    if rng.pick(10) == 0 {
        format!("sys{}", rng.pick(5000))
    } else {
        COMMON[rng.pick(COMMON.len())].to_owned()
    }
}

async fn fill(db: &DatabaseConnection, n: usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for start in (0..n).step_by(1000) {
        let txn = db.begin().await.unwrap();
        for i in start..(start + 1000).min(n) {
            let text: Vec<String> = (0..120).map(|_| word(&mut rng)).collect();
            let row = item::Model {
                id: uuid::Uuid::now_v7(),
                agreement_id: format!("agreement-{}", i % 500),
                party_id: format!("contractor-{}", i % 50),
                item_key: format!("item-{i}"),
                kind: "document".into(),
                title: format!("{} {} {}", word(&mut rng), word(&mut rng), word(&mut rng)),
                owner_name: "Owner".into(),
                owner_email: "owner@council.example".into(),
                due: "2027-03-31".into(),
                state: "accepted".into(),
                declared: true,
                latest: 1,
                created_at: String::new(),
                updated_at: String::new(),
                accepted_at: None,
                accepted_by: None,
            };
            index(&txn, &row, &text.join(" ")).await.unwrap();
        }
        txn.commit().await.unwrap();
    }
}

fn p(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

async fn measure(db: &DatabaseConnection, label: &str, n: usize) {
    let started = Instant::now();
    fill(db, n).await;
    let filled = started.elapsed().as_secs_f64();
    let mut rng = Rng(42);
    let queries: Vec<String> = (0..300)
        .map(|i| match i % 3 {
            0 => COMMON[rng.pick(COMMON.len())].to_owned(),
            1 => format!(
                "{} {}",
                COMMON[rng.pick(COMMON.len())],
                COMMON[rng.pick(COMMON.len())]
            ),
            _ => format!(
                "how is the {} {} sys{}",
                COMMON[rng.pick(COMMON.len())],
                COMMON[rng.pick(COMMON.len())],
                rng.pick(5000)
            ),
        })
        .collect();
    let backend = db.get_database_backend();
    let trivial = Statement::from_string(backend, "SELECT count(*) FROM seaql_migrations");
    for q in queries.iter().take(20) {
        search(db, q, None, 20).await.unwrap();
    }
    let mut times = Vec::new();
    let mut base = Vec::new();
    let mut found = 0;
    for q in &queries {
        let t = Instant::now();
        db.query_one_raw(trivial.clone()).await.unwrap();
        base.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        found += search(db, q, None, 20).await.unwrap().len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    base.sort_by(f64::total_cmp);
    println!(
        "{label:<10} {n:>7} items  indexed in {filled:>5.1} s  search p50 {:>6.2} ms  p95 {:>6.2} ms  max {:>6.2} ms  baseline p95 {:>5.3} ms  ratio {:>6.1}  ({found} hits in 300 searches)",
        p(&times, 0.5),
        p(&times, 0.95),
        p(&times, 1.0),
        p(&base, 0.95),
        p(&times, 0.95) / p(&base, 0.95),
    );
}

fn main() {
    // `cargo test --all-targets` runs this without `--bench`: a quick smoke run, as criterion's
    // benches do there.
    let sizes: &[usize] = if std::env::args().any(|a| a == "--bench") {
        &[10_000, 100_000]
    } else {
        &[200]
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for &n in sizes {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/search-{n}.db?mode=rwc", dir.path().display());
            let db = accord::store::open(&url).await.unwrap();
            measure(&db, "sqlite", n).await;
        }
        let pg = std::env::var("ACCORD_TEST_PG_URL")
            .ok()
            .filter(|_| sizes.len() > 1);
        if let Some(admin) = pg {
            for &n in sizes {
                let conn = accord::store::connect(&admin).await.unwrap();
                let name = format!("accord_bench_{}", uuid::Uuid::now_v7().simple());
                conn.execute_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!("CREATE DATABASE {name}"),
                ))
                .await
                .unwrap();
                let (base, _) = admin.rsplit_once('/').unwrap();
                let db = accord::store::open(&format!("{base}/{name}"))
                    .await
                    .unwrap();
                measure(&db, "postgres", n).await;
                db.close().await.ok();
                conn.execute_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!("DROP DATABASE {name}"),
                ))
                .await
                .ok();
            }
        }
    });
}
