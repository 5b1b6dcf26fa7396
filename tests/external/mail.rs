//! Mail through the outbox, against a real SMTP server on loopback (Python's aiosmtpd, which
//! scripts/test.sh installs), on SQLite and on PostgreSQL: an outage loses nothing and the
//! message goes once the server is back; `.eml` files parse; a dedupe key queues once; passes
//! running at once send each message once.

use crate::support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use accord::agreement::check_source;
use accord::audit::{self, Filter};
use accord::clock::Clock;
use accord::mail::{
    self, DEFAULT_FROM, Kind, Mailer, NewMessage, Transport, compose, outbox, reminders,
};
use accord::store::entity::outbox_message;
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
use support::app::TestApp;
use support::smtp::SmtpServer;

// ---------------------------------------------------------------------------------------------
// Helpers.

fn mailer(app: &TestApp, transport: Transport) -> Mailer {
    Mailer::new(
        app.registry.db().clone(),
        app.clock.clone(),
        transport,
        DEFAULT_FROM,
    )
    .unwrap()
}

fn message(to: &str, subject: &str, key: Option<&str>) -> NewMessage {
    let composed = mail::Composed {
        subject: subject.to_owned(),
        body: format!("Hello,\n\nThis is about: {subject}.\n"),
    };
    NewMessage::new(to, Kind::Escalation, composed).dedupe_key(key.map(str::to_owned))
}

async fn queue(app: &TestApp, m: &NewMessage) -> bool {
    let now = app.clock.now();
    mail::enqueue(app.registry.db(), now, m).await.unwrap()
}

async fn row(app: &TestApp, key: &str) -> outbox_message::Model {
    outbox::by_key(app.registry.db(), key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no message keyed {key}"))
}

fn advance(app: &TestApp, by: SignedDuration) {
    let now: Timestamp = app.clock.now();
    app.clock.set(now.checked_add(by).unwrap());
}

async fn audited(app: &TestApp, action: &str) -> Vec<accord::store::entity::audit_record::Model> {
    let filter = Filter {
        action: Some(action.to_owned()),
        ..Filter::default()
    };
    audit::list(app.registry.db(), &filter, 10_000)
        .await
        .unwrap()
}

async fn chain_verifies(app: &TestApp) {
    let verified = audit::verify(app.registry.db()).await.unwrap();
    assert!(verified.is_ok(), "the audit chain fails: {verified:?}");
}

// ---------------------------------------------------------------------------------------------
// The cases.

/// The server is down: the message stays queued with the error recorded and a backoff; the
/// pass stops rather than hammering a dead server. The server returns, the clock passes the
/// backoff, and every message is delivered exactly once.
async fn an_outage_loses_nothing(app: TestApp) {
    let mut server = SmtpServer::down();
    let mailer = mailer(&app, Transport::smtp(&server.url()).unwrap());
    let keys = ["outage:1", "outage:2", "outage:3"];
    for (i, key) in keys.iter().enumerate() {
        let to = format!("dpo{i}@camden.example");
        assert!(queue(&app, &message(&to, &format!("Outage test {i}"), Some(key))).await);
    }
    let queued_at = app.clock.now();

    let report = mailer.deliver_due().await.unwrap();
    assert!(report.sent.is_empty(), "{report:?}");
    assert_eq!(
        report.deferred.len(),
        1,
        "the pass stops at an unreachable server"
    );
    assert!(report.unreachable.is_some());
    let first = row(&app, keys[0]).await;
    assert_eq!(first.attempts, 1);
    assert!(first.sent_at.is_none() && first.failed_at.is_none());
    let error = first.last_error.as_deref().expect("the error is recorded");
    assert!(!error.is_empty());
    let retry_at = queued_at.checked_add(SignedDuration::from_mins(1)).unwrap();
    assert_eq!(first.next_attempt_at, accord::store::time::stamp(retry_at));
    for key in &keys[1..] {
        let untouched = row(&app, key).await;
        assert_eq!((untouched.attempts, untouched.last_error), (0, None));
    }

    // Still down a minute later. The messages not yet tried have been due longest, so the
    // next one of those is tried (and the pass stops again).
    advance(&app, SignedDuration::from_secs(61));
    let report = mailer.deliver_due().await.unwrap();
    assert_eq!(report.deferred.len(), 1);
    assert!(report.sent.is_empty());
    assert_eq!(row(&app, keys[1]).await.attempts, 1);

    // The server comes back. The first message's minute has passed and the third was never
    // tried: those two go. The second waits out its backoff; moving the clock past it (no
    // sleeping) sends it.
    server.start();
    let report = mailer.deliver_due().await.unwrap();
    assert_eq!(report.sent.len(), 2, "{report:?}");
    let pending = outbox::pending(app.registry.db()).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].dedupe_key.as_deref(), Some(keys[1]));
    assert_eq!(
        mailer.deliver_due().await.unwrap().handled(),
        0,
        "still backing off"
    );
    app.clock
        .set(accord::store::time::parse(&pending[0].next_attempt_at).unwrap());

    let report = mailer.deliver_due().await.unwrap();
    assert_eq!(report.sent.len(), 1, "{report:?}");
    assert!(report.deferred.is_empty() && report.failed.is_empty());
    assert!(report.unreachable.is_none());
    for (key, attempts) in keys.iter().zip([2, 2, 1]) {
        let sent = row(&app, key).await;
        assert!(sent.sent_at.is_some(), "{key} not marked sent");
        assert_eq!(sent.attempts, attempts, "{key}");
        assert_eq!(
            sent.last_error.is_some(),
            attempts == 2,
            "{key}: the last failure stays"
        );
    }
    assert!(mailer.deliver_due().await.unwrap().sent.is_empty());

    let received = server.received();
    assert_eq!(received.len(), 3, "each message exactly once");
    for (i, m) in received.iter().enumerate() {
        let subject = m.header("Subject");
        let n: usize = subject
            .strip_prefix("Outage test ")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(m.header("To"), format!("dpo{n}@camden.example"));
        assert_eq!(m.header("X-RcptTo"), format!("dpo{n}@camden.example"));
        assert_eq!(m.header("From"), DEFAULT_FROM);
        assert!(
            m.body.contains(&format!("This is about: Outage test {n}.")),
            "{i}: {m:?}"
        );
    }
    let records = audited(&app, "mail.sent").await;
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.actor == "mailer"));
    let details: serde_json::Value = serde_json::from_str(&records[0].details).unwrap();
    assert_eq!(details["via"], "smtp");
    chain_verifies(&app).await;
}

/// The reminders of a sample agreement, queued in one transaction and written as `.eml`
/// files that a strict RFC 5322 parser (Python's `email`) reads back.
async fn files_are_parseable_eml(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("outbox");
    let transport = Transport::from_env_or_dir(None, &outbox_dir).unwrap();
    let mailer = mailer(&app, transport);

    let source =
        std::fs::read(support::repo().join("agreements/camden-foodbank-referrals.yaml")).unwrap();
    let agreement = check_source(&source, date(2026, 11, 21))
        .agreement
        .unwrap()
        .into_inner();
    let templates = mail::Templates::builtin().unwrap();
    let today = date(2027, 3, 20);
    let due = reminders::due(&agreement, 3, today);
    assert_eq!(due.len(), 1, "review due: {due:?}");
    let txn = app.registry.db().begin().await.unwrap();
    let mut queued = 0;
    for r in &due {
        for m in compose::messages(&templates, &agreement, r).unwrap() {
            queued += usize::from(mail::enqueue(&txn, app.clock.now(), &m).await.unwrap());
        }
    }
    txn.commit().await.unwrap();
    assert_eq!(queued, 3, "the owner and two DPOs");

    let report = mailer.deliver_due().await.unwrap();
    assert_eq!(report.sent.len(), 3, "{report:?}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&outbox_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        3,
        "one file per message, no temporaries: {files:?}"
    );
    let mut to = Vec::new();
    for (file, id) in files.iter().zip(&report.sent) {
        assert_eq!(file.file_name().unwrap(), format!("{id}.eml").as_str());
        let parsed = python_parse(file);
        assert!(parsed.starts_with("ok\n"), "{}: {parsed}", file.display());
        assert!(
            parsed.contains(&format!("message-id: <{id}@localhost>")),
            "{parsed}"
        );
        assert!(parsed.contains("from: accord@localhost"));
        assert!(
            parsed
                .contains("subject: Review due on 1 April 2027: Emergency food support referrals")
        );
        assert!(parsed.contains("auto-submitted: auto-generated"));
        assert!(
            parsed.contains("is due for review on 1 April 2027 (in 12 days)"),
            "{parsed}"
        );
        to.extend(
            parsed
                .lines()
                .filter_map(|l| l.strip_prefix("to: "))
                .map(str::to_owned),
        );
    }
    to.sort();
    assert_eq!(
        to,
        [
            "dataprotection@camdenfoodbank.example",
            "dpo@camden.example",
            "priya.shah@camden.example"
        ]
    );
    let details: serde_json::Value =
        serde_json::from_str(&audited(&app, "mail.sent").await[0].details).unwrap();
    assert_eq!(details["via"], "files");
    assert_eq!(details["kind"], "review-due");

    // The scheduler asks again the next day: the same reminders are not queued twice.
    let txn = app.registry.db().begin().await.unwrap();
    let next_day = date(2027, 3, 21);
    for r in &reminders::due(&agreement, 3, next_day) {
        for m in compose::messages(&templates, &agreement, r).unwrap() {
            assert!(!mail::enqueue(&txn, app.clock.now(), &m).await.unwrap());
        }
    }
    txn.commit().await.unwrap();
    assert!(mailer.deliver_due().await.unwrap().sent.is_empty());
    assert_eq!(std::fs::read_dir(&outbox_dir).unwrap().count(), 3);
}

/// Parses a message with Python's strict RFC 5322 parser; prints its headers and text.
fn python_parse(file: &Path) -> String {
    let script = r#"
import email, email.policy, sys
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=email.policy.strict)
assert raw.count(b'\r\n') == raw.count(b'\n'), 'lines end with CRLF'
print('ok')
for k in ('from', 'to', 'subject', 'date', 'message-id', 'auto-submitted', 'content-type'):
    print(f'{k}: {m[k]}')
print(m.get_content())
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The same key twice queues one message, inside one transaction (which stays usable, on
/// PostgreSQL too) and across transactions; messages without a key never conflict.
async fn a_dedupe_key_queues_once(app: TestApp) {
    let db = app.registry.db();
    let now = app.clock.now();
    let m = message(
        "dpo@camden.example",
        "Term ending",
        Some("term-ending:x:1:30"),
    );
    let txn = db.begin().await.unwrap();
    assert!(mail::enqueue(&txn, now, &m).await.unwrap());
    assert!(!mail::enqueue(&txn, now, &m).await.unwrap());
    let other = message(
        "dpo@camden.example",
        "Term ending",
        Some("term-ending:x:1:7"),
    );
    assert!(
        mail::enqueue(&txn, now, &other).await.unwrap(),
        "the transaction still works"
    );
    txn.commit().await.unwrap();

    let txn = db.begin().await.unwrap();
    assert!(!mail::enqueue(&txn, now, &m).await.unwrap());
    txn.commit().await.unwrap();

    let unkeyed = message("dpo@camden.example", "No key", None);
    assert!(queue(&app, &unkeyed).await);
    assert!(queue(&app, &unkeyed).await);
    assert_eq!(outbox_message::Entity::find().count(db).await.unwrap(), 4);

    // A rolled-back change queues nothing, and frees its key.
    let txn = db.begin().await.unwrap();
    let rolled = message("dpo@camden.example", "Rolled back", Some("rolled"));
    assert!(mail::enqueue(&txn, now, &rolled).await.unwrap());
    txn.rollback().await.unwrap();
    assert!(outbox::by_key(db, "rolled").await.unwrap().is_none());
    assert!(queue(&app, &rolled).await);
}

/// Several passes at once (each with its own connection pool, as separate instances would
/// have) send each message exactly once between them.
async fn concurrent_passes_send_each_message_once(app: TestApp) {
    const MESSAGES: usize = 24;
    let server = SmtpServer::running();
    for i in 0..MESSAGES {
        let key = format!("concurrent:{i}");
        let to = format!("dpo{i}@camden.example");
        assert!(queue(&app, &message(&to, &format!("Concurrent {i}"), Some(&key))).await);
    }
    let mut mailers = Vec::new();
    for _ in 0..3 {
        let db = accord::store::connect(&app.db_url).await.unwrap();
        let transport = Transport::smtp(&server.url()).unwrap();
        let clock: Arc<dyn Clock> = app.clock.clone();
        mailers.push(Mailer::new(db, clock, transport, DEFAULT_FROM).unwrap());
    }
    let passes: Vec<_> = mailers
        .into_iter()
        .map(|m| tokio::spawn(async move { m.deliver_due().await.unwrap() }))
        .collect();
    let mut sent = Vec::new();
    for pass in passes {
        let report = pass.await.unwrap();
        assert!(
            report.deferred.is_empty() && report.failed.is_empty(),
            "{report:?}"
        );
        sent.extend(report.sent);
    }
    let distinct: HashSet<_> = sent.iter().collect();
    assert_eq!(sent.len(), MESSAGES, "every message sent");
    assert_eq!(distinct.len(), MESSAGES, "no message sent by two passes");

    let received = server.received();
    assert_eq!(received.len(), MESSAGES, "the server got each message once");
    let ids: HashSet<_> = received.iter().map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), MESSAGES);
    assert_eq!(audited(&app, "mail.sent").await.len(), MESSAGES);
    assert!(outbox::pending(app.registry.db()).await.unwrap().is_empty());
    chain_verifies(&app).await;
}

/// An address the mail system cannot take is refused for good, audited, and not retried; the
/// messages after it still go.
async fn an_unusable_address_fails_for_good(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let mailer = mailer(&app, Transport::files(dir.path()));
    assert!(queue(&app, &message("not an address", "Bad", Some("bad"))).await);
    assert!(queue(&app, &message("dpo@camden.example", "Good", Some("good"))).await);
    let report = mailer.deliver_due().await.unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.sent.len(), 1);
    let bad = row(&app, "bad").await;
    assert!(bad.failed_at.is_some() && bad.sent_at.is_none());
    assert!(bad.last_error.unwrap().contains("not an address"));
    advance(&app, SignedDuration::from_hours(2));
    assert_eq!(mailer.deliver_due().await.unwrap().handled(), 0);
    let records = audited(&app, "mail.failed").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].subject, format!("mail:{}", bad.id));
    chain_verifies(&app).await;
}

/// An access request's mail reaches a real SMTP server: the one-time confirmation link, then
/// (after the requester follows it) the private link; each works as mailed.
async fn access_request_links_arrive_by_smtp(app: TestApp) {
    let server = SmtpServer::running();
    let mailer = mailer(&app, Transport::smtp(&server.url()).unwrap());
    let web = support::web::Browser::new(&app);
    let sent = web
        .submit(
            "/request-access",
            "/request-access",
            &[("email", "ann@hope.example")],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    mailer.deliver_due().await.unwrap();
    let got = server.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].header("To"), "ann@hope.example");
    assert!(
        got[0]
            .header("Subject")
            .contains("Confirm your e-mail address")
    );
    let link = |body: &str, prefix: &str| -> String {
        let body = body.replace("=\n", "");
        let at = body
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} in {body}"));
        body[at..].split_whitespace().next().unwrap().to_owned()
    };
    let confirm = link(&got[0].body, "/request-access/confirm/");
    let page = web.get(&confirm).await;
    assert_eq!(page.status, 200);
    let done = web.post(&confirm, &[("csrf", &page.csrf())]).await;
    assert_eq!(done.status, 303);
    mailer.deliver_due().await.unwrap();
    let got = server.received();
    assert_eq!(got.len(), 2);
    // Maildir file names do not sort by arrival within a second; find the message by subject.
    let second = got
        .iter()
        .find(|m| m.header("Subject").contains("your private link"))
        .expect("the private link was mailed");
    let private = link(&second.body, "/request-access/r/");
    assert_eq!(
        private,
        done.location().unwrap(),
        "the mailed link is the one given"
    );
    assert_eq!(web.get(&private).await.status, 200);
    chain_verifies(&app).await;
}

on_both_databases!(
    access_request_links_arrive_by_smtp,
    an_outage_loses_nothing,
    files_are_parseable_eml,
    a_dedupe_key_queues_once,
    concurrent_passes_send_each_message_once,
    an_unusable_address_fails_for_good,
);
