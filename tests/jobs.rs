//! The jobs `serve` schedules, as they run: `accord sweep` from the command line, and the
//! reminders job queuing each due reminder once.

mod support;

use std::process::Command;
use std::sync::Arc;

use accord::mail::compose::Templates;
use accord::registry::versions::Origin;
use accord::store::entity::outbox_message;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use support::app::{Backend, TestApp};

fn sweep(db: &str, dry_run: bool) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
    cmd.args(["sweep", "--database", db]);
    if dry_run {
        cmd.arg("--dry-run");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accord_sweep_says_what_it_would_do_then_does_it() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let due_in_the_past = |i| {
        support::holding_row(
            "2020-01-01T00:00:00.000000Z",
            "2020-07-01T00:00:00.000000Z",
            i,
        )
    };
    accord::store::entity::holding::Entity::insert_many((1..=3).map(due_in_the_past))
        .exec_without_returning(app.registry.db())
        .await
        .unwrap();
    let (code, out) = sweep(&app.db_url, true);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("would ask foodbank by email to delete 3 holding(s) under camden-foodbank-referrals version 1"), "{out}");
    assert!(out.contains("(dry run: nothing changed)"), "{out}");
    let (code, out) = sweep(&app.db_url, false);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("asked foodbank by email to delete 3 holding(s)") && out.contains("(request "),
        "{out}"
    );
    let (_, again) = sweep(&app.db_url, false);
    assert!(
        again.starts_with("0 request(s), 0 held"),
        "nothing twice: {again}"
    );
}

/// `accord sweep` with an environment, its output whole: (exit code, stdout, stderr).
fn sweep_with(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
    cmd.arg("sweep")
        .args(args)
        .env_remove("ACCORD_WEBHOOK_SECRETS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = support::within(std::time::Duration::from_secs(60), move || {
        cmd.output().unwrap()
    });
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A webhook secret that cannot be read is a usage error (exit 2) naming the variable and what
/// is wrong, and the sweep asks nobody for anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accord_sweep_refuses_unreadable_webhook_secrets_with_exit_code_2() {
    use accord::store::entity::deletion_request;
    let app = TestApp::start(Backend::Sqlite).await;
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let due = support::holding_row(
        "2020-01-01T00:00:00.000000Z",
        "2020-07-01T00:00:00.000000Z",
        1,
    );
    accord::store::entity::holding::Entity::insert(due)
        .exec_without_returning(app.registry.db())
        .await
        .unwrap();
    let cases = [
        (
            "camden",
            "ACCORD_WEBHOOK_SECRETS: webhook secrets are written party=secret, separated by commas",
        ),
        (
            "camden=0123456789abcdef,foodbank=short",
            "ACCORD_WEBHOOK_SECRETS: the webhook secret for 'foodbank' is shorter than 16 characters",
        ),
    ];
    for (value, says) in cases {
        let db = app.db_url.clone();
        let (code, out, err) = tokio::task::spawn_blocking(move || {
            sweep_with(&["--database", &db], &[("ACCORD_WEBHOOK_SECRETS", value)])
        })
        .await
        .unwrap();
        assert_eq!(code, Some(2), "{value}: {err}");
        assert_eq!(err.trim(), format!("error: {says}"), "{value}");
        assert!(!err.contains("0123456789abcdef"), "no secret echoed: {err}");
        assert_eq!(out, "", "{value}: nothing swept");
    }
    let requests = deletion_request::Entity::find()
        .count(app.registry.db())
        .await
        .unwrap();
    assert_eq!(requests, 0, "nobody was asked");
    let db = app.db_url.clone();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        sweep_with(
            &["--database", &db, "--dry-run"],
            &[("ACCORD_WEBHOOK_SECRETS", "camden=0123456789abcdef")],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "well-formed secrets are taken: {err}");
    assert!(out.contains("would ask foodbank by email"), "{out}");
}

/// A database that cannot be opened is exit code 3, as the README promises, with the place
/// named (its password hidden).
#[test]
fn accord_sweep_with_an_unreachable_database_exits_3() {
    for (url, shown) in [
        (
            "postgres://accord:hunter2@127.0.0.1:1/nowhere",
            "postgres://accord:***@127.0.0.1:1/nowhere",
        ),
        (
            "sqlite:///no/such/folder/accord.db?mode=rwc",
            "sqlite:///no/such/folder/accord.db?mode=rwc",
        ),
    ] {
        let (code, out, err) = sweep_with(&["--database", url], &[]);
        assert_eq!(code, Some(3), "{url}: {err}");
        assert!(
            err.starts_with(&format!("error: cannot open the database at {shown}")),
            "{url}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        assert_eq!(out, "", "{url}");
    }
}

async fn reminders_are_queued_once(app: TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    app.clock.set("2028-03-05T09:00:00Z".parse().unwrap());
    let templates = Arc::new(Templates::builtin().unwrap());
    let first = accord::reminders::send_due(&app.registry, &templates)
        .await
        .unwrap();
    assert!(first.queued >= 3, "{first:?}");
    let term_ending = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq("term-ending"))
        .filter(outbox_message::Column::DedupeKey.like("term-ending:camden-foodbank-referrals:%"))
        .all(app.registry.db())
        .await
        .unwrap();
    let mut to: Vec<&str> = term_ending.iter().map(|m| m.to_addr.as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "dataprotection@camdenfoodbank.example",
            "dpo@camden.example",
            "priya.shah@camden.example"
        ]
    );
    assert!(
        term_ending[0]
            .subject
            .contains("Emergency food support referrals"),
        "{}",
        term_ending[0].subject
    );
    let total = outbox_message::Entity::find()
        .count(app.registry.db())
        .await
        .unwrap();
    let second = accord::reminders::send_due(&app.registry, &templates)
        .await
        .unwrap();
    assert_eq!(second.queued, 0, "{second:?}");
    assert!(second.already_sent >= 1);
    assert_eq!(
        outbox_message::Entity::find()
            .count(app.registry.db())
            .await
            .unwrap(),
        total
    );
}

/// More agreements in force than one page of the registry holds (500): every one of them gets
/// its reminders and its calendar events, the 501st as much as the first.
async fn every_agreement_in_force_is_reminded_and_on_the_calendar(app: TestApp) {
    const AGREEMENTS: usize = 501;
    let text =
        std::fs::read_to_string(support::repo().join("agreements/camden-foodbank-referrals.yaml"))
            .unwrap();
    for n in 0..AGREEMENTS {
        let renamed = text.replacen(
            "id: camden-foodbank-referrals",
            &format!("id: bulk-{n:03}"),
            1,
        );
        app.registry
            .add_version(renamed.as_bytes(), "test", Origin::Import)
            .await
            .unwrap();
    }
    app.clock.set("2028-03-05T09:00:00Z".parse().unwrap());
    let templates = Arc::new(Templates::builtin().unwrap());
    accord::reminders::send_due(&app.registry, &templates)
        .await
        .unwrap();
    let term_ending = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq("term-ending"))
        .all(app.registry.db())
        .await
        .unwrap();
    let reminded: std::collections::BTreeSet<String> = term_ending
        .iter()
        .filter_map(|m| {
            m.dedupe_key
                .as_deref()?
                .split(':')
                .nth(1)
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(reminded.len(), AGREEMENTS, "one agreement per id reminded");
    assert!(reminded.contains("bulk-500"), "the 501st too");

    let retention = accord::settings::Settings::default()
        .retention(&app.registry)
        .unwrap();
    let feed = retention.calendar().await.unwrap();
    let term_ends = feed.matches("UID:term-end-bulk-").count();
    assert_eq!(term_ends, AGREEMENTS, "one term end per agreement");
    assert!(feed.contains("UID:term-end-bulk-500-1@accord\r\n"));
}

on_both_databases!(
    reminders_are_queued_once,
    every_agreement_in_force_is_reminded_and_on_the_calendar
);
