//! Backups taken under load hold every decision acknowledged before they began, and restore
//! to a database whose audit log verifies: `accord backup` / `accord restore` on SQLite, and
//! `pg_dump` / `pg_restore` on PostgreSQL (as docs/operations.md shows them). Bad requests
//! are refused with a clear error and change nothing.

use crate::support;

use std::collections::HashSet;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accord::auth::Role;
use support::accord;
use support::app::{Backend, TestApp, fresh_database};

fn text(o: &Output) -> String {
    format!("{}{}", support::stdout(o), support::stderr(o))
}

/// PostgreSQL's programs, from the server scripts/test.sh started.
fn pg_program(name: &str) -> Command {
    let bin = std::env::var("ACCORD_TEST_PG_BIN")
        .expect("ACCORD_TEST_PG_BIN is not set: run scripts/test.sh, which starts PostgreSQL");
    Command::new(std::path::Path::new(&bin).join(name))
}

/// Gate checks from 16 tasks until `stop` is set; each answered decision's id with when its
/// answer arrived.
struct Load {
    answered: Arc<Mutex<Vec<(Instant, String)>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    async fn start(app: &TestApp) -> Load {
        app.registry
            .import_dir(&support::repo().join("agreements"))
            .await
            .unwrap();
        let token = app.token(Role::GateClient, Some("camden")).await;
        let answered = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let body = serde_json::json!({
            "agreement": "camden-foodbank-referrals", "from": "camden", "to": "foodbank",
            "purpose": "food-parcels", "fields": ["full-name", "address"]
        });
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (http, url, token, body) = (
                app.http.clone(),
                app.url("/api/v1/flows/check"),
                token.clone(),
                body.clone(),
            );
            let (answered, stop) = (answered.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = http.post(&url).bearer_auth(&token).json(&body).send().await;
                    let v: serde_json::Value = r.unwrap().json().await.unwrap();
                    let id = v["decision_id"].as_str().unwrap().to_owned();
                    answered.lock().unwrap().push((Instant::now(), id));
                }
            }));
        }
        Load {
            answered,
            stop,
            tasks,
        }
    }

    fn count(&self) -> usize {
        self.answered.lock().unwrap().len()
    }

    /// Runs until at least `n` decisions are answered.
    async fn until(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.count() < n {
            assert!(
                Instant::now() < deadline,
                "the load stalled at {}",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops, and returns the ids answered before `began`, and how many came after.
    async fn stop(self, began: Instant) -> (HashSet<String>, usize) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
        let all = self.answered.lock().unwrap().clone();
        let before: HashSet<String> = all
            .iter()
            .filter(|(at, _)| *at < began)
            .map(|(_, id)| id.clone())
            .collect();
        let after = all.len() - before.len();
        (before, after)
    }
}

fn missing(acked: &HashSet<String>, stored: &HashSet<String>) -> usize {
    acked.iter().filter(|id| !stored.contains(*id)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_backup_under_load_holds_everything_acknowledged_before_it_began() {
    let app = TestApp::start(Backend::Sqlite).await;
    let load = Load::start(&app).await;
    load.until(300).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nightly.db");
    let began = Instant::now();
    let (db_url, to) = (app.db_url.clone(), file.to_str().unwrap().to_owned());
    let backup =
        tokio::task::spawn_blocking(move || accord(&["backup", &to, "--database", &db_url]))
            .await
            .unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
    assert!(
        text(&backup).contains("backup written"),
        "{}",
        text(&backup)
    );
    load.until(load.count() + 100).await;
    let (acked, after) = load.stop(began).await;
    assert!(
        acked.len() >= 300 && after >= 100,
        "{} before, {after} after",
        acked.len()
    );

    let restored = format!("sqlite://{}/restored.db?mode=rwc", dir.path().display());
    let out = accord(&["restore", file.to_str().unwrap(), "--database", &restored]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("audit log verified"), "{}", text(&out));
    let stored = support::logged_checks(&restored).await;
    assert_eq!(
        missing(&acked, &stored),
        0,
        "acknowledged before the backup, not in it"
    );
    // And the live database kept serving throughout: it has every decision of both.
    let live = support::logged_checks(&app.db_url).await;
    assert!(live.len() >= acked.len() + after);
    assert!(
        stored.len() < live.len(),
        "the backup is a snapshot, not the live file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_dump_under_load_restores_with_everything_acknowledged_before_it() {
    let app = TestApp::start(Backend::Postgres).await;
    let load = Load::start(&app).await;
    load.until(300).await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("accord.dump");
    let began = Instant::now();
    let (db_url, to) = (app.db_url.clone(), dump.clone());
    let out = tokio::task::spawn_blocking(move || {
        pg_program("pg_dump")
            .arg("--format=custom")
            .arg(format!("--file={}", to.display()))
            .arg(&db_url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    load.until(load.count() + 100).await;
    let (acked, _) = load.stop(began).await;

    let empty = fresh_database(Backend::Postgres, dir.path()).await;
    let out = pg_program("pg_restore")
        .args(["--no-owner", "--exit-on-error"])
        .arg(format!("--dbname={empty}"))
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = accord(&["audit", "verify", "--database", &empty]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("audit log verified"), "{}", text(&out));
    let stored = support::logged_checks(&empty).await;
    assert!(acked.len() >= 300);
    assert_eq!(
        missing(&acked, &stored),
        0,
        "acknowledged before the dump, not in it"
    );
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let app = TestApp::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.db");
    let path = file.to_str().unwrap();
    assert!(
        accord(&["backup", path, "--database", &app.db_url])
            .status
            .success()
    );
    let before = std::fs::read(&file).unwrap();

    // A backup never overwrites a file.
    let out = accord(&["backup", path, "--database", &app.db_url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already exists"));
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // Nor is PostgreSQL copied by this command: pg_dump is.
    let out = accord(&[
        "backup",
        "other.db",
        "--database",
        "postgres://accord@127.0.0.1:1/x",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("pg_dump"));

    // A restore writes only into a new database: the live one is untouched.
    let live = app.db_url.clone();
    let out = accord(&["restore", path, "--database", &live]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("already holds a database"),
        "{}",
        text(&out)
    );
    let out = accord(&["audit", "verify", "--database", &live]);
    assert!(out.status.success(), "{}", text(&out));

    // What is not a backup is refused, and leaves no database behind.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let target = dir.path().join("new.db");
    let url = format!("sqlite://{}?mode=rwc", target.display());
    let out = accord(&["restore", junk.to_str().unwrap(), "--database", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("is not an Accord database"),
        "{}",
        text(&out)
    );
    assert!(!target.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
