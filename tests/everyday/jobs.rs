//! The jobs `serve` schedules, as they run: `accord sweep` from the command line, the
//! reminders job queuing each due reminder once, and `accord jobs run` running each job now
//! through the real binary (on both databases), its dry run changing nothing.

use crate::support;

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

/// `accord jobs run ARGS --database DB --outbox DIR` through the real binary, with no SMTP
/// server configured and today's real date: (exit code, stdout, stderr).
async fn job(
    app: &TestApp,
    outbox: &std::path::Path,
    args: &[&str],
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
    cmd.args(["jobs", "run"])
        .args(args)
        .args(["--database", &app.db_url])
        .arg("--outbox")
        .arg(outbox)
        .current_dir(support::repo())
        .env_remove("ACCORD_SMTP_URL")
        .env_remove("ACCORD_MAIL_FROM")
        .env_remove("ACCORD_CONFIG")
        .env_remove("ACCORD_WEBHOOK_SECRETS");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code(),
        support::stdout(&out),
        support::stderr(&out),
    )
}

/// Every audit record, as (actor, action, subject).
async fn audit_log(app: &TestApp) -> Vec<(String, String, String)> {
    accord::audit::list(app.registry.db(), &Default::default(), 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.actor, r.action, r.subject))
        .collect()
}

async fn outbox_count(app: &TestApp) -> u64 {
    outbox_message::Entity::find()
        .count(app.registry.db())
        .await
        .unwrap()
}

/// A sample agreement under a new id with `edit` applied to its text, imported (in force).
async fn variant(app: &TestApp, sample: &str, id: &str, edit: impl Fn(String) -> String) {
    let text = std::fs::read_to_string(support::repo().join("agreements").join(sample)).unwrap();
    let old_id = sample.trim_end_matches(".yaml");
    let text = edit(text.replacen(&format!("id: {old_id}"), &format!("id: {id}"), 1));
    app.registry
        .add_version(text.as_bytes(), "test", Origin::Import)
        .await
        .unwrap();
}

/// Today as the binary reads it (Europe/London), and a day `days` from it.
fn day(days: i64) -> String {
    use accord::clock::Clock;
    let today = accord::clock::SystemClock.today();
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

/// `jobs run reminders`: a term ending in 20 days is due its 30-day reminder. The dry run
/// lists the record it would write and changes nothing; the run queues the messages, audits
/// them as the scheduled run does (`reminder.queued` by the reminders job) and itself
/// (`job.run` by cli); a second run queues nothing.
async fn jobs_run_reminders_now(app: TestApp) {
    variant(
        &app,
        "camden-foodbank-referrals.yaml",
        "jobs-reminders",
        |t| t.replacen("  end: 2028-03-31", &format!("  end: {}", day(20)), 1),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (log, queued) = (audit_log(&app).await, outbox_count(&app).await);
    let (code, out, err) = job(&app, dir.path(), &["reminders", "--dry-run"]).await;
    assert_eq!(code, Some(0), "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("agreement:jobs-reminders") && l.contains("term-ending"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.starts_with("would record reminder.queued agreement:jobs-reminders: {"),
        "{line}"
    );
    assert!(out.ends_with("(dry run: nothing changed)\n"), "{out}");
    assert_eq!(audit_log(&app).await, log, "a dry run records nothing");
    assert_eq!(outbox_count(&app).await, queued, "a dry run queues nothing");

    let (code, out, err) = job(&app, dir.path(), &["reminders"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("recorded reminder.queued agreement:jobs-reminders: {"),
        "{out}"
    );
    let term_ending = outbox_message::Entity::find()
        .filter(outbox_message::Column::DedupeKey.like("term-ending:jobs-reminders:%:30:%"))
        .count(app.registry.db())
        .await
        .unwrap();
    assert_eq!(term_ending, 3, "owner and two DPOs");
    let after = audit_log(&app).await;
    let new = &after[log.len()..];
    assert!(
        new.iter()
            .any(|(actor, action, subject)| actor == "reminders job"
                && action == "reminder.queued"
                && subject == "agreement:jobs-reminders")
    );
    assert_eq!(
        new.last().unwrap(),
        &("cli".into(), "job.run".into(), "job:reminders".into())
    );
    let (code, out, _) = job(&app, dir.path(), &["reminders"]).await;
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("0 message(s) queued"),
        "nothing twice: {out}"
    );
}

/// `jobs run handover`: a contractor whose engagement ended yesterday, with items overdue. The
/// dry run says it would escalate, revoke the token, disable the account and end the access,
/// and does none of it; the run does all of it, audited, once.
async fn jobs_run_handover_now(app: TestApp) {
    variant(
        &app,
        "hmo-licensing-enforcement.yaml",
        "jobs-handover",
        |t| {
            let t = t.replacen(
                "engagement_end: 2027-03-31",
                &format!("engagement_end: {}", day(-1)),
                1,
            );
            ["2027-02-26", "2027-03-12", "2027-03-19", "2027-03-31"]
                .iter()
                .fold(t, |t, d| {
                    t.replace(&format!("due: {d}"), &format!("due: {}", day(-8)))
                })
        },
    )
    .await;
    let token = app
        .token(accord::auth::Role::Contractor, Some("metis"))
        .await;
    let email = support::web::person(&app, accord::auth::Role::Contractor, Some("metis")).await;
    let dir = tempfile::tempdir().unwrap();
    let (log, queued) = (audit_log(&app).await, outbox_count(&app).await);
    let (code, out, err) = job(&app, dir.path(), &["handover", "--dry-run"]).await;
    assert_eq!(code, Some(0), "{err}");
    for what in [
        "would record handover.escalated handover:jobs-handover:",
        "would record token.revoked ",
        "would record user.disabled ",
        "would record handover.access_ended agreement:jobs-handover: {",
    ] {
        assert!(out.contains(what), "{what}: {out}");
    }
    assert!(
        out.contains("1 engagement(s) ended: 1 token(s) revoked, 1 account(s) disabled"),
        "{out}"
    );
    assert!(out.ends_with("(dry run: nothing changed)\n"), "{out}");
    assert_eq!(audit_log(&app).await, log, "a dry run records nothing");
    assert_eq!(outbox_count(&app).await, queued, "a dry run queues nothing");
    let tokens = accord::auth::list(app.registry.db()).await.unwrap();
    assert!(tokens.iter().all(|t| t.revoked_at.is_none()), "{tokens:?}");
    let response = app.get(&token, "/api/v1/agreements").await;
    assert_ne!(response.status(), 401, "the token still works");

    let (code, out, err) = job(&app, dir.path(), &["handover"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("recorded handover.access_ended agreement:jobs-handover"),
        "{out}"
    );
    let tokens = accord::auth::list(app.registry.db()).await.unwrap();
    assert!(tokens.iter().all(|t| t.revoked_at.is_some()), "{tokens:?}");
    let people = accord::people::accounts::list(app.registry.db())
        .await
        .unwrap();
    let person = people.iter().find(|p| p.email == email).unwrap();
    assert!(person.disabled_at.is_some(), "{person:?}");
    let after = audit_log(&app).await;
    let new = &after[log.len()..];
    for (actor, action) in [
        ("reminders job", "handover.escalated"),
        ("handover job", "token.revoked"),
        ("handover job", "user.disabled"),
        ("handover job", "handover.access_ended"),
        ("cli", "job.run"),
    ] {
        assert!(
            new.iter().any(|(a, b, _)| a == actor && b == action),
            "{actor} {action}: {new:?}"
        );
    }
    assert!(
        outbox_count(&app).await > queued,
        "escalations and the access-ended mail queued"
    );
    let (code, out, _) = job(&app, dir.path(), &["handover"]).await;
    assert_eq!(code, Some(0));
    assert!(out.contains("0 engagement(s) ended"), "once: {out}");
}

/// `jobs run sweep` is `accord sweep`: the dry run says what it would ask and changes
/// nothing; the run asks, and is audited as run by hand.
async fn jobs_run_sweep_now(app: TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let due = (1..=3).map(|i| {
        support::holding_row(
            "2020-01-01T00:00:00.000000Z",
            "2020-07-01T00:00:00.000000Z",
            i,
        )
    });
    accord::store::entity::holding::Entity::insert_many(due)
        .exec_without_returning(app.registry.db())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = audit_log(&app).await;
    let (code, out, err) = job(&app, dir.path(), &["sweep", "--dry-run"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("would ask foodbank by email to delete 3 holding(s)"),
        "{out}"
    );
    assert!(out.contains("(dry run: nothing changed)"), "{out}");
    assert_eq!(audit_log(&app).await, log);
    let (code, out, err) = job(&app, dir.path(), &["sweep"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("asked foodbank by email to delete 3 holding(s)") && out.contains("(request "),
        "{out}"
    );
    let new = audit_log(&app).await;
    let new = &new[log.len()..];
    assert!(
        new.iter()
            .any(|(_, action, _)| action == "deletion.requested"),
        "{new:?}"
    );
    assert_eq!(new.last().unwrap().1, "job.run");
}

/// `jobs run outbox` is one delivery pass with the configured transport and sender: the dry
/// run lists what it would send and sends nothing; the run writes the message (no SMTP
/// server: an .eml file), audited `mail.sent` by the mailer.
async fn jobs_run_outbox_now(app: TestApp) {
    use accord::clock::Clock;
    use accord::mail::{self, Kind, NewMessage};
    let composed = mail::Composed {
        subject: "Jobs run now".into(),
        body: "Hello,\n\nSent by accord jobs run outbox.\n".into(),
    };
    let m = NewMessage::new("dpo@camden.example", Kind::Escalation, composed)
        .dedupe_key(Some("jobs-run-outbox".into()));
    assert!(
        mail::enqueue(app.registry.db(), app.clock.now(), &m)
            .await
            .unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let files = |d: &std::path::Path| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0);
    let (code, out, err) = job(&app, dir.path(), &["outbox", "--dry-run"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("would send escalation to dpo@camden.example: Jobs run now"),
        "{out}"
    );
    assert!(
        out.contains("1 message(s) due") && out.contains("(dry run: nothing sent)"),
        "{out}"
    );
    assert_eq!(files(dir.path()), 0, "nothing written");
    let row = accord::mail::outbox::by_key(app.registry.db(), "jobs-run-outbox")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.sent_at.as_deref(), row.attempts), (None, 0));

    let (code, out, err) = job(
        &app,
        dir.path(),
        &["outbox", "--mail-from", "Accord <accord@camden.example>"],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("sent 1, deferred 0, failed for good 0"),
        "{out}"
    );
    let eml = std::fs::read_to_string(dir.path().join(format!("{}.eml", row.id))).unwrap();
    assert!(
        eml.contains("From: Accord <accord@camden.example>\r\n"),
        "{eml}"
    );
    let log = audit_log(&app).await;
    assert!(log.iter().any(|(actor, action, subject)| actor == "mailer"
        && action == "mail.sent"
        && subject == &format!("mail:{}", row.id)));
    assert_eq!(
        log.last().unwrap(),
        &("cli".into(), "job.run".into(), "job:outbox".into())
    );
}

on_both_databases!(
    reminders_are_queued_once,
    every_agreement_in_force_is_reminded_and_on_the_calendar,
    jobs_run_reminders_now,
    jobs_run_handover_now,
    jobs_run_sweep_now,
    jobs_run_outbox_now
);
