//! Every answered decision is in the audit log, even when the server is killed mid-load: the
//! answer leaves only after its record is committed (with `synchronous=FULL` on SQLite).

use crate::support;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn accord() -> Command {
    Command::new(env!("CARGO_BIN_EXE_accord"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answered_decision_survives_sigkill_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/accord.db?mode=rwc", dir.path().display());
    let token = accord()
        .args([
            "token",
            "create",
            "--role",
            "gate_client",
            "--name",
            "load",
            "--party",
            "camden",
            // Minted before `serve` imports the agreement that names camden.
            "--force",
            "--database",
            &db,
        ])
        .output()
        .unwrap();
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let mut serve = accord();
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .arg("--agreements")
        .arg(support::repo().join("agreements"));
    let (mut server, base) = support::listening(serve);

    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let http = reqwest::Client::new();
    let body = serde_json::json!({
        "agreement": "camden-foodbank-referrals", "from": "camden", "to": "foodbank",
        "purpose": "food-parcels", "fields": ["full-name", "address"]
    });
    let stop_at = Instant::now() + Duration::from_millis(1500);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (http, base, token, body, answered) = (
            http.clone(),
            base.clone(),
            token.clone(),
            body.clone(),
            answered.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < stop_at + Duration::from_secs(1) {
                let sent = http
                    .post(format!("{base}/api/v1/flows/check"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                let Ok(resp) = sent else { break };
                let Ok(v) = resp.json::<serde_json::Value>().await else {
                    break;
                };
                answered
                    .lock()
                    .unwrap()
                    .push(v["decision_id"].as_str().unwrap().to_owned());
            }
        }));
    }
    tokio::time::sleep_until(stop_at.into()).await;
    server.kill().unwrap();
    server.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() > 100,
        "only {} decisions answered before the kill",
        answered.len()
    );

    let logged = support::logged_checks(&db).await;
    let missing: Vec<&String> = answered.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered decisions are not in the log",
        missing.len(),
        answered.len()
    );
    eprintln!(
        "{} decisions answered, {} logged, all answered ones present",
        answered.len(),
        logged.len()
    );
    let verify = accord()
        .args(["audit", "verify", "--database", &db])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
