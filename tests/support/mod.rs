//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::Duration;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn samples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("agreements"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "expected at least four sample agreements");
    files
}

/// Runs `f` on another thread and fails the test if it takes longer than `limit`: a hang in
/// the code under test must fail, not stall the suite.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

/// A loopback port nobody is listening on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the `accord` binary with `args` from the repository root.
pub fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run accord")
}

/// Starts `accord serve` (`command`, with `--listen 127.0.0.1:0`) and waits for the line that
/// says where it listens: the child, and its base URL (`http://…` or `https://…`).
pub fn listening(mut command: Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start accord serve");
    let out = child.stdout.take().unwrap();
    let line = within(Duration::from_secs(60), move || {
        std::io::BufReader::new(out).lines().next()
    })
    .expect("accord serve printed nothing")
    .unwrap();
    let base = line
        .strip_prefix("accord listening on ")
        .unwrap_or_else(|| panic!("not a listening line: {line}"))
        .to_owned();
    (child, base)
}

/// The ids of the gate checks in the audit log of the database at `url`.
pub async fn logged_checks(url: &str) -> std::collections::HashSet<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = accord::store::connect(url).await.unwrap();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id FROM audit_log WHERE action = 'gate.check'",
        ))
        .await
        .unwrap();
    conn.close().await.ok();
    rows.iter()
        .map(|r| r.try_get::<uuid::Uuid>("", "id").unwrap().to_string())
        .collect()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Compares `actual` with the golden file, or rewrites it when UPDATE_GOLDEN=1.
pub fn golden(name: &str, actual: &str) {
    let path = repo().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create)",
            path.display()
        )
    });
    assert_eq!(actual, want, "output differs from {}", path.display());
}

pub mod access;
#[macro_use]
pub mod app;
pub mod oidc;
pub mod smtp;
pub mod tls;
pub mod web;

/// A sample agreement under a new id, with its declared signatures removed (a fresh draft).
pub fn draft(sample: &str, id: &str) -> String {
    let text = std::fs::read_to_string(repo().join("agreements").join(sample)).unwrap();
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let top_level = !line.starts_with([' ', '#', '-']) && !line.is_empty();
        if top_level {
            skipping = line.starts_with("signatures:");
        }
        if skipping {
            continue;
        }
        if line.starts_with("id: ") {
            out.push_str(&format!("id: {id}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A foodbank holding of the sample agreement, received at `received` and due at `delete_by`
/// (RFC 3339 stamps as stored), still held.
pub fn holding_row(
    received: &str,
    delete_by: &str,
    records: i32,
) -> accord::store::entity::holding::ActiveModel {
    use sea_orm::ActiveValue::Set;
    accord::store::entity::holding::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        decision_id: Set(uuid::Uuid::now_v7()),
        agreement_id: Set("camden-foodbank-referrals".into()),
        version: Set(1),
        flow_id: Set("referral".into()),
        from_party: Set("camden".into()),
        holder: Set("foodbank".into()),
        purpose: Set("food-parcels".into()),
        fields: Set(r#"["full-name"]"#.into()),
        record_count: Set(records),
        subject_count: Set(0),
        received_at: Set(received.into()),
        delete_by: Set(Some(delete_by.into())),
        then_action: Set("delete".into()),
        state: Set("held".into()),
    }
}
