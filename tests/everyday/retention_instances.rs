//! Several instances on one database. Two schedulers, each with its own connection pool,
//! sweeping 1,000 holdings that fall due over ten hours. Every holding is asked back exactly
//! once — no duplicate, no miss — whether the instances race for the job or sweep directly.

use crate::support;

/// A reason, as the pages and the API parse it.
fn why(text: &str) -> accord::inputs::Reason {
    accord::inputs::Reason::parse(text).unwrap()
}

use std::collections::HashMap;
use std::sync::Arc;

use accord::clock::FixedClock;
use accord::registry::Registry;
use accord::retention::Retention;
use accord::scheduler::{Job, Schedule, Scheduler};
use accord::settings::Settings;
use accord::store::entity::{deletion_request_holding, holding};
use jiff::Timestamp;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use support::app::{Backend, migrated_database};

const HOLDINGS: usize = 1_000;

struct Instance {
    clock: Arc<FixedClock>,
    retention: Retention,
    scheduler: Scheduler,
}

async fn instance(db_url: &str, name: &str, start: Timestamp) -> Instance {
    let db = accord::store::open(db_url).await.unwrap();
    let clock = Arc::new(FixedClock::at(start));
    let registry = Registry::new(db.clone(), clock.clone());
    let retention = Settings::default().retention(&registry).unwrap();
    let r = retention.clone();
    let sweep = move |_due| {
        let r = r.clone();
        async move {
            r.sweep(false)
                .await
                .map(|x| serde_json::json!(x))
                .map_err(|e| e.to_string())
        }
    };
    let job = Job::new("retention-sweep", Schedule::parse("0 * * * *").unwrap());
    let scheduler = Scheduler::new(db, clock.clone(), name).with_job(job, sweep);
    Instance {
        clock,
        retention,
        scheduler,
    }
}

/// The samples, and 1,000 foodbank holdings falling due one hour apart in ten batches.
async fn holdings(db_url: &str, start: Timestamp) {
    let db = accord::store::open(db_url).await.unwrap();
    let registry = Registry::new(db.clone(), Arc::new(FixedClock::at(start)));
    registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    for batch in 0..10 {
        let due = start + jiff::SignedDuration::from_mins(60 * batch as i64 + 30);
        let (received, due) = (
            accord::store::time::stamp(start),
            accord::store::time::stamp(due),
        );
        let rows = (0..HOLDINGS / 10).map(|_| support::holding_row(&received, &due, 1));
        holding::Entity::insert_many(rows)
            .exec_without_returning(&db)
            .await
            .unwrap();
    }
}

/// Every holding is in exactly one deletion request, and none is still held.
async fn each_asked_once(db_url: &str) {
    let db = accord::store::open(db_url).await.unwrap();
    let links = deletion_request_holding::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let mut per_holding: HashMap<uuid::Uuid, usize> = HashMap::new();
    for l in &links {
        *per_holding.entry(l.holding_id).or_default() += 1;
    }
    assert_eq!(per_holding.len(), HOLDINGS, "no holding missed");
    assert!(
        per_holding.values().all(|&n| n == 1),
        "no holding asked twice"
    );
    let still_held = holding::Entity::find()
        .filter(holding::Column::State.eq("held"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(still_held, 0);
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["audit", "verify", "--database", db_url])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

async fn two_schedulers_sweep_each_holding_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = migrated_database(backend, dir.path()).await;
    let start: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    holdings(&url, start).await;
    let (a, b) = (
        instance(&url, "instance-a", start).await,
        instance(&url, "instance-b", start).await,
    );
    let mut runs = 0;
    for hour in 1..=11 {
        let now = start + jiff::SignedDuration::from_mins(60 * hour);
        a.clock.set(now);
        b.clock.set(now);
        let (ra, rb) = tokio::join!(a.scheduler.run_due(), b.scheduler.run_due());
        runs += ra
            .iter()
            .chain(&rb)
            .filter(|r| matches!(r.status, accord::scheduler::RunStatus::Succeeded(_)))
            .count();
    }
    assert_eq!(runs, 11, "one sweep per hour across both instances");
    each_asked_once(&url).await;
}

async fn instances_sweeping_at_once_never_double_request(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = migrated_database(backend, dir.path()).await;
    let start: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    holdings(&url, start).await;
    let (a, b) = (
        instance(&url, "instance-a", start).await,
        instance(&url, "instance-b", start).await,
    );
    let late = start + jiff::SignedDuration::from_hours(12);
    a.clock.set(late);
    b.clock.set(late);
    let (ra, rb) = tokio::join!(a.retention.sweep(false), b.retention.sweep(false));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let swept: usize = ra
        .requests
        .iter()
        .chain(&rb.requests)
        .filter(|r| r.request_id.is_some())
        .map(|r| r.holdings.len())
        .sum();
    assert_eq!(
        swept, HOLDINGS,
        "the holdings were requested once between them"
    );
    each_asked_once(&url).await;
}

/// Two instances whose clocks differ by a minute sweep at once, five times, as a new batch falls
/// due between their clocks each time: the later one sees more due holdings than the earlier.
/// Whichever commits first, the other plans from what is still held after it (both plan under
/// the writers' lock), so no holding is linked to two requests.
async fn sweeps_with_different_due_sets_never_double_request(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = migrated_database(backend, dir.path()).await;
    let start: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    holdings(&url, start).await;
    let (a, b) = (
        instance(&url, "instance-a", start).await,
        instance(&url, "instance-b", start).await,
    );
    let mut swept = 0;
    for round in 0..5 {
        // Batch n falls due at n hours 30 minutes; b sees batch 2·round + 1, a does not yet.
        let due = start + jiff::SignedDuration::from_mins(60 * (2 * round + 1) + 30);
        a.clock.set(due - jiff::SignedDuration::from_mins(1));
        b.clock.set(due);
        let (ra, rb) = tokio::join!(a.retention.sweep(false), b.retention.sweep(false));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        swept += ra
            .requests
            .iter()
            .chain(&rb.requests)
            .filter(|r| r.request_id.is_some())
            .map(|r| r.holdings.len())
            .sum::<usize>();
        assert_eq!(
            swept,
            HOLDINGS / 10 * (2 * round as usize + 2),
            "round {round}: every due holding requested once"
        );
    }
    each_asked_once(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sweeps_a_minute_apart_on_postgres() {
    sweeps_with_different_due_sets_never_double_request(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sweeps_a_minute_apart_on_sqlite() {
    sweeps_with_different_due_sets_never_double_request(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_on_postgres() {
    two_schedulers_sweep_each_holding_once(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_on_sqlite() {
    two_schedulers_sweep_each_holding_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_sweeps_on_postgres() {
    instances_sweeping_at_once_never_double_request(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_sweeps_on_sqlite() {
    instances_sweeping_at_once_never_double_request(Backend::Sqlite).await;
}

/// A suspension made on one instance reaches another's gate when that one refreshes (serve does
/// every 2 s); decisions alone do not make it rebuild.
async fn instances_follow_each_others_lifecycle_changes(backend: Backend) {
    use accord::gate::{CheckRequest, Outcome, decide};
    let dir = tempfile::tempdir().unwrap();
    let url = migrated_database(backend, dir.path()).await;
    let clock = Arc::new(FixedClock::on(jiff::civil::date(2026, 11, 21)));
    let a = Registry::new(accord::store::open(&url).await.unwrap(), clock.clone());
    let b = Registry::new(accord::store::open(&url).await.unwrap(), clock.clone());
    a.import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    b.reload_index().await.unwrap();
    let ask = CheckRequest {
        agreement: "camden-foodbank-referrals".into(),
        from: "camden".into(),
        to: "foodbank".into(),
        purpose: "food-parcels".into(),
        fields: vec!["full-name".into()],
        flow: None,
    };
    let today = jiff::civil::date(2026, 11, 21);
    assert_eq!(
        decide(&b.gate_index(), &ask, today).decision,
        Outcome::Allow
    );
    assert!(
        !b.refresh_if_changed().await.unwrap(),
        "nothing changed yet"
    );
    let journal = accord::flows::journal::Journal::start(
        a.db().clone(),
        accord::metrics::Metrics::new().journal,
    )
    .unwrap();
    let decision = accord::flows::journal::Entry {
        decision_id: uuid::Uuid::now_v7(),
        at: accord::clock::Clock::now(&*clock),
        actor: "gate client".into(),
        action: "gate.check",
        subject: "agreement:camden-foodbank-referrals".into(),
        details: r#"{"decision":"allow"}"#.into(),
        holding: None,
        counted: None,
    };
    journal.record(decision).await.unwrap();
    assert!(
        !b.refresh_if_changed().await.unwrap(),
        "a decision is not a lifecycle change"
    );
    a.suspend("camden-foodbank-referrals", &why("breach"), "officer")
        .await
        .unwrap();
    assert!(
        b.refresh_if_changed().await.unwrap(),
        "b notices a's change"
    );
    assert_eq!(decide(&b.gate_index(), &ask, today).decision, Outcome::Deny);
    assert!(
        !b.refresh_if_changed().await.unwrap(),
        "and rebuilds only once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_follow_changes_on_postgres() {
    instances_follow_each_others_lifecycle_changes(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_follow_changes_on_sqlite() {
    instances_follow_each_others_lifecycle_changes(Backend::Sqlite).await;
}
