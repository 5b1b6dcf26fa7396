//! Mail over TLS to a real SMTP server on loopback (aiosmtpd with a certificate this test
//! makes, and a password): STARTTLS (`?tls=required`) and implicit TLS (`smtps://`) deliver;
//! a certificate that does not verify, or a server that offers no STARTTLS, sends nothing and
//! says why: never a fallback to plain text. A certificate that cannot verify as configured (a
//! CA certificate as the server's own) is a configuration error: said, audited, checked by
//! `accord config --check`, and not retried in vain; what `ca=` accepts, as docs/operations.md
//! says.

use crate::support;

use accord::clock::Clock;
use accord::mail::{self, DEFAULT_FROM, Kind, Mailer, NewMessage, Transport, outbox};
use support::app::{Backend, TestApp};
use support::smtp::{Secure, SmtpServer};
use support::tls::Pki;

const USER: &str = "accord@camden.example";
const PASSWORD: &str = "relay pass: 9f3c";

fn secure(mode: &'static str, pki: &Pki) -> SmtpServer {
    SmtpServer::secure(Secure {
        mode,
        cert: pki.cert.clone(),
        key: pki.key.clone(),
        user: USER.into(),
        password: PASSWORD.into(),
    })
}

/// `scheme://user:password@127.0.0.1:port?query`, the user and password percent-encoded.
fn url(scheme: &str, port: u16, password: &str, query: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "{scheme}://{}:{}@127.0.0.1:{port}?{query}",
        enc(USER),
        enc(password)
    )
}

/// Queues one message keyed `key`, runs one delivery pass through `transport`, and returns
/// whether it went and the row's recorded error.
async fn deliver(app: &TestApp, transport: Transport, key: &str) -> (bool, Option<String>) {
    let composed = mail::Composed {
        subject: format!("TLS test {key}"),
        body: "Hello,\n\nThis went over TLS.\n".into(),
    };
    let m = NewMessage::new("dpo@camden.example", Kind::Escalation, composed)
        .dedupe_key(Some(key.to_owned()));
    assert!(
        mail::enqueue(app.registry.db(), app.clock.now(), &m)
            .await
            .unwrap()
    );
    let mailer = Mailer::new(
        app.registry.db().clone(),
        app.clock.clone(),
        transport,
        DEFAULT_FROM,
    )
    .unwrap();
    let report = mailer.deliver_due().await.unwrap();
    let row = outbox::by_key(app.registry.db(), key)
        .await
        .unwrap()
        .unwrap();
    (report.sent.contains(&row.id), row.last_error)
}

fn ca(pki: &Pki) -> String {
    format!("ca={}", pki.ca.display())
}

#[tokio::test]
async fn starttls_with_the_councils_own_ca_delivers() {
    let app = TestApp::start(Backend::Sqlite).await;
    let pki = Pki::new("council");
    let server = secure("starttls", &pki);
    let transport = Transport::smtp(&url(
        "smtp",
        server.port,
        PASSWORD,
        &format!("tls=required&{}", ca(&pki)),
    ))
    .unwrap();
    let (sent, error) = deliver(&app, transport, "starttls").await;
    assert!(sent, "{error:?}");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("Subject"), "TLS test starttls");
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let app = TestApp::start(Backend::Sqlite).await;
    let pki = Pki::new("council");
    let server = secure("implicit", &pki);
    let transport = Transport::smtp(&url("smtps", server.port, PASSWORD, &ca(&pki))).unwrap();
    let (sent, error) = deliver(&app, transport, "implicit").await;
    assert!(sent, "{error:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_sends_nothing() {
    let app = TestApp::start(Backend::Sqlite).await;
    let (theirs, ours) = (Pki::new("impostor"), Pki::new("council"));
    for mode in ["starttls", "implicit"] {
        let server = secure(mode, &theirs);
        let (scheme, query) = match mode {
            "starttls" => ("smtp", format!("tls=required&{}", ca(&ours))),
            _ => ("smtps", ca(&ours)),
        };
        let transport = Transport::smtp(&url(scheme, server.port, PASSWORD, &query)).unwrap();
        let (sent, error) = deliver(&app, transport, &format!("impostor-{mode}")).await;
        assert!(!sent, "{mode}");
        let error = error.unwrap_or_default();
        assert!(
            error.to_lowercase().contains("certificate"),
            "{mode}: {error}"
        );
        assert!(!error.contains(PASSWORD), "{mode}: {error}");
        assert!(
            server.received().is_empty(),
            "{mode}: a message went to an impostor"
        );
    }
    // Without the council's CA, the Mozilla roots do not know a private CA either.
    let server = secure("starttls", &ours);
    let transport = Transport::smtp(&url("smtp", server.port, PASSWORD, "tls=required")).unwrap();
    let (sent, error) = deliver(&app, transport, "no-ca").await;
    assert!(!sent);
    assert!(
        error
            .unwrap_or_default()
            .to_lowercase()
            .contains("certificate")
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_server_without_starttls_gets_nothing_in_plain_text() {
    let app = TestApp::start(Backend::Sqlite).await;
    let pki = Pki::new("council");
    let plain = SmtpServer::running();
    let transport = Transport::smtp(&url(
        "smtp",
        plain.port,
        PASSWORD,
        &format!("tls=required&{}", ca(&pki)),
    ))
    .unwrap();
    let (sent, error) = deliver(&app, transport, "no-starttls").await;
    assert!(!sent);
    let error = error.unwrap_or_default();
    assert!(!error.is_empty() && !error.contains(PASSWORD), "{error}");
    assert!(plain.received().is_empty(), "sent in plain text");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_nothing_is_delivered() {
    let app = TestApp::start(Backend::Sqlite).await;
    let pki = Pki::new("council");
    let server = secure("starttls", &pki);
    let query = format!("tls=required&{}", ca(&pki));
    let transport = Transport::smtp(&url("smtp", server.port, "not the password", &query)).unwrap();
    let (sent, error) = deliver(&app, transport, "wrong-password").await;
    assert!(!sent);
    let error = error.unwrap_or_default();
    assert!(
        error.contains("535") || error.to_lowercase().contains("auth"),
        "{error}"
    );
    assert!(!error.contains("not the password"));
    assert!(server.received().is_empty());
}

/// Queues a message keyed `key`, due now.
async fn queue(app: &TestApp, key: &str) -> uuid::Uuid {
    let composed = mail::Composed {
        subject: format!("TLS test {key}"),
        body: "Hello,\n\nThis went over TLS.\n".into(),
    };
    let m = NewMessage::new("dpo@camden.example", Kind::Escalation, composed)
        .dedupe_key(Some(key.to_owned()));
    assert!(
        mail::enqueue(app.registry.db(), app.clock.now(), &m)
            .await
            .unwrap()
    );
    outbox::by_key(app.registry.db(), key)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn mail_failed(app: &TestApp) -> Vec<serde_json::Value> {
    let filter = accord::audit::Filter {
        action: Some("mail.failed".into()),
        ..Default::default()
    };
    accord::audit::list(app.registry.db(), &filter, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.details).unwrap())
        .collect()
}

/// A self-signed CA:TRUE certificate (what `openssl req -x509` makes by default) used as the
/// server's own and given as `ca=`: TLS refuses it (`CaUsedAsEndEntity`). That is a
/// configuration error, not an unreachable server: the message stays queued with the reason
/// and what to change, `mail.failed` records it, and the mailer sends nothing more (no retry
/// in vain) until a new one, started with a working configuration, delivers everything.
async fn a_ca_certificate_as_the_servers_own_is_a_configuration_error(app: TestApp) {
    let pki = Pki::self_signed(true);
    let server = secure("starttls", &pki);
    let bad_url = url(
        "smtp",
        server.port,
        PASSWORD,
        &format!("tls=required&{}", ca(&pki)),
    );
    let (first, second) = (
        queue(&app, "ca-as-leaf-1").await,
        queue(&app, "ca-as-leaf-2").await,
    );
    let mailer = Mailer::new(
        app.registry.db().clone(),
        app.clock.clone(),
        Transport::smtp(&bad_url).unwrap(),
        DEFAULT_FROM,
    )
    .unwrap();
    let report = mailer.deliver_due().await.unwrap();
    assert!(
        report.sent.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );
    assert_eq!(
        report.unreachable, None,
        "not reported as unreachable: {report:?}"
    );
    let why = report.misconfigured.clone().unwrap_or_default();
    assert!(
        why.starts_with(
            "configuration error: the SMTP server presents a CA certificate (CA:TRUE) as its own"
        ) && why.contains("name that CA's certificate in ca=")
            && why.contains("CaUsedAsEndEntity"),
        "{why}"
    );
    let row = outbox::get(app.registry.db(), first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.sent_at.as_deref(), row.failed_at.as_deref()),
        (None, None),
        "kept queued"
    );
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("CaUsedAsEndEntity")
    );
    let audited = mail_failed(&app).await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["configuration"], true);
    assert!(
        audited[0]["error"]
            .as_str()
            .unwrap()
            .contains("CaUsedAsEndEntity")
    );

    // Nothing more is tried: not the other message, not this one when its back-off ends.
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_hours(2));
    let again = mailer.deliver_due().await.unwrap();
    assert!(
        again.sent.is_empty() && again.deferred.is_empty(),
        "{again:?}"
    );
    assert_eq!(again.misconfigured, report.misconfigured);
    let rows = [first, second].map(|id| {
        let db = app.registry.db().clone();
        async move { outbox::get(&db, id).await.unwrap().unwrap() }
    });
    let [a, b] = rows;
    let (a, b) = (a.await, b.await);
    assert_eq!(
        (a.attempts, b.attempts),
        (1, 0),
        "no attempt after the first"
    );
    assert_eq!(mail_failed(&app).await.len(), 1, "audited once");
    assert!(server.received().is_empty());

    // Mended and restarted: both go, nothing was lost.
    let council = Pki::new("council");
    let mended = secure("starttls", &council);
    let url = url(
        "smtp",
        mended.port,
        PASSWORD,
        &format!("tls=required&{}", ca(&council)),
    );
    let restarted = Mailer::new(
        app.registry.db().clone(),
        app.clock.clone(),
        Transport::smtp(&url).unwrap(),
        DEFAULT_FROM,
    )
    .unwrap();
    let report = restarted.deliver_due().await.unwrap();
    assert_eq!(report.sent.len(), 2, "{report:?}");
    assert_eq!(mended.received().len(), 2);
}

on_both_databases!(a_ca_certificate_as_the_servers_own_is_a_configuration_error);

/// What `ca=` accepts, as docs/operations.md says: the certificate of the CA that signed the
/// server's certificate, alone or among others in one PEM file, or a self-signed server
/// certificate that is not a CA (CA:FALSE); never a CA:TRUE certificate that is the server's
/// own (above). A file with no certificate in it stops the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_ca_accepts() {
    let app = TestApp::start(Backend::Sqlite).await;
    let council = Pki::new("council");
    let other = Pki::new("other");
    let bundle = council.dir.path().join("bundle.pem");
    let pems = [&other.ca, &council.ca].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(&bundle, pems.concat()).unwrap();
    let server = secure("starttls", &council);
    let query = format!("tls=required&ca={}", bundle.display());
    let transport = Transport::smtp(&url("smtp", server.port, PASSWORD, &query)).unwrap();
    let (sent, error) = deliver(&app, transport, "bundle").await;
    assert!(sent, "a bundle holding the CA: {error:?}");

    let leaf = Pki::self_signed(false);
    let server = secure("implicit", &leaf);
    let transport = Transport::smtp(&url("smtps", server.port, PASSWORD, &ca(&leaf))).unwrap();
    let (sent, error) = deliver(&app, transport, "self-signed-leaf").await;
    assert!(
        sent,
        "a self-signed certificate that is not a CA: {error:?}"
    );

    let key_only = format!("tls=required&ca={}", council.key.display());
    let refused = Transport::smtp(&url("smtp", 2525, PASSWORD, &key_only)).unwrap_err();
    assert!(
        refused.to_string().contains("holds no PEM certificate"),
        "{refused}"
    );
}

/// `accord config --check` connects as a delivery would and says what is wrong, without
/// sending: exit 1 and the configuration error for a CA certificate as the server's own, and
/// the outbox's latest error; exit 0 for a working configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accord_config_check_says_what_is_wrong_with_mail() {
    let app = TestApp::start(Backend::Sqlite).await;
    let check = |smtp: String, db: String| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
                .args(["config", "--check", "--database", &db])
                .env("ACCORD_SMTP_URL", smtp)
                .env_remove("ACCORD_CONFIG")
                .env_remove("ACCORD_MAIL_FROM")
                .current_dir(support::repo())
                .output()
                .unwrap()
        })
    };
    let bad = Pki::self_signed(true);
    let server = secure("starttls", &bad);
    let smtp = url(
        "smtp",
        server.port,
        PASSWORD,
        &format!("tls=required&{}", ca(&bad)),
    );
    queue(&app, "waiting").await;
    let out = check(smtp.clone(), app.db_url.clone()).await.unwrap();
    let text = support::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        support::stderr(&out)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("# check mail: "))
        .unwrap();
    assert!(
        line.starts_with("# check mail: FAILED, SMTP smtp://")
            && line.contains("configuration error: the SMTP server presents a CA certificate (CA:TRUE) as its own")
            && line.contains("CaUsedAsEndEntity"),
        "{line}"
    );
    assert!(
        !text.contains(PASSWORD) && !text.contains("relay%20pass"),
        "{text}"
    );
    assert!(text.contains("# check database: ok, "), "{text}");
    assert!(text.contains("# check outbox: ok, 1 waiting"), "{text}");
    assert!(server.received().is_empty(), "nothing sent");

    // The same delivery, run now by hand, stops and says why (exit 1).
    let db = app.db_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["jobs", "run", "outbox", "--database", &db])
            .env("ACCORD_SMTP_URL", smtp)
            .env_remove("ACCORD_CONFIG")
            .current_dir(support::repo())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = support::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        support::stderr(&out)
    );
    assert!(
        text.contains("stopped: configuration error: the SMTP server presents a CA certificate"),
        "{text}"
    );
    assert!(server.received().is_empty(), "nothing sent");

    let good = Pki::new("council");
    let server = secure("implicit", &good);
    let smtp = url("smtps", server.port, PASSWORD, &ca(&good));
    let out = check(smtp, app.db_url.clone()).await.unwrap();
    let text = support::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        support::stderr(&out)
    );
    assert!(text.contains("# check mail: ok, SMTP smtps://"), "{text}");
    assert!(server.received().is_empty(), "nothing sent");
}
