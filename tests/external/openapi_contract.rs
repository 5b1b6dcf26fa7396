//! The OpenAPI document describes the API exactly: Schemathesis (v4, `--checks all`) fuzzes the
//! real `accord serve` through its own document, once per role, and finds nothing.
//!
//! The server is the binary this build made, on a random loopback port, against a fresh SQLite
//! file with the sample agreements imported; each role's token is minted by `accord token
//! create`, as an operator would. Settings that widen a check's expectations for one operation
//! are in `tests/schemathesis/schemathesis.toml`, each with its reason.
//!
//! Schemathesis is a Python tool: scripts/test.sh installs it (`python3 -m pip install
//! schemathesis`). Without it this test fails, saying so. `ACCORD_SCHEMATHESIS_EXAMPLES` (default
//! 20 per operation) and `ACCORD_SCHEMATHESIS_SEED` (default fixed, so a run can be repeated)
//! tune a run.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Stops the server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn accord(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(support::repo())
        .output()
        .expect("run accord")
}

/// Mints a token for `role` (for `party`, where the role acts for one) with the CLI.
fn token(database: &str, role: &str, party: Option<&str>) -> String {
    let name = format!("schemathesis-{role}");
    let mut args = vec![
        "token",
        "create",
        "--role",
        role,
        "--name",
        &name,
        "--database",
        database,
    ];
    if let Some(p) = party {
        // Minted before `serve` imports the agreements that name the party.
        args.extend(["--party", p, "--force"]);
    }
    let out = accord(&args);
    assert!(
        out.status.success(),
        "accord token create: {}",
        support::stderr(&out)
    );
    let secret = support::stdout(&out).trim().to_owned();
    assert!(secret.starts_with("acc_"), "not a token: {secret:?}");
    secret
}

/// Starts `accord serve` on a free loopback port; its base URL once it listens.
fn serve(database: &str, dir: &Path) -> (Server, String) {
    let repo = support::repo();
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
        .arg("--agreements")
        .arg(repo.join("agreements"))
        .arg("--templates")
        .arg(repo.join("templates"))
        .arg("--outbox")
        .arg(dir.join("outbox"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start accord serve");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("accord listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("accord serve did not start listening within 60 s");
    (server, base)
}

fn schemathesis_version() -> String {
    let out = Command::new("schemathesis").arg("--version").output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => panic!(
            "Schemathesis is not installed (no `schemathesis` on PATH). scripts/test.sh installs \
             it; or run: python3 -m pip install schemathesis"
        ),
    }
}

/// One Schemathesis run as `role`: its exit status and everything it printed.
fn fuzz(
    base: &str,
    token: &str,
    exclude_own_revoke: bool,
    report: &Path,
    workdir: &Path,
) -> (bool, String) {
    let config = support::repo().join("tests/schemathesis/schemathesis.toml");
    let examples =
        std::env::var("ACCORD_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "20".to_owned());
    let seed = std::env::var("ACCORD_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261204".to_owned());
    let mut cmd = Command::new("schemathesis");
    cmd.arg("--config-file")
        .arg(&config)
        .arg("--no-color")
        .args(["run", &format!("{base}/api/v1/openapi.json")])
        .args(["--checks", "all"])
        .args(["--max-examples", &examples])
        .args(["--seed", &seed])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--report", "junit", "--report-dir"])
        .arg(report);
    if exclude_own_revoke {
        // An administrator's run would revoke the very token it runs with, and every request
        // after that would be a 401: the fuzzer would lock itself out. Nothing else is excluded.
        cmd.args(["--exclude-path", "/tokens/{id}/revoke"]);
    }
    // Schemathesis keeps its caches in the working folder: the test's own, not the repository.
    let out = cmd
        .current_dir(workdir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn schemathesis_finds_nothing_for_any_role() {
    let version = schemathesis_version();
    assert!(
        version.contains("version 4."),
        "this test drives Schemathesis 4; found {version}"
    );
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/accord.db?mode=rwc", dir.path().display());
    let roles = [
        (
            "gate_client",
            token(&database, "gate_client", Some("camden")),
            false,
        ),
        ("ig_officer", token(&database, "ig_officer", None), false),
        ("admin", token(&database, "admin", None), true),
    ];
    let (_server, base) = serve(&database, dir.path());
    let mut failed = Vec::new();
    for (role, secret, exclude) in &roles {
        let report = dir.path().join(format!("report-{role}"));
        let (ok, text) = fuzz(&base, secret, *exclude, &report, dir.path());
        let summary = text
            .lines()
            .rev()
            .find(|l| l.contains(" in ") && l.starts_with('='))
            .unwrap_or("(no summary)")
            .to_owned();
        eprintln!("schemathesis as {role}: {summary}");
        let tested = text.contains("Tested:");
        if !ok || !tested {
            eprintln!("---- schemathesis as {role} ----\n{text}");
            failed.push(format!("{role}: {summary}"));
        }
    }
    assert!(
        failed.is_empty(),
        "Schemathesis found failures (its output is above): {failed:?}"
    );
}
