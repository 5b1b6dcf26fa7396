//! Mail over TLS to a real SMTP server on loopback (aiosmtpd with a certificate this test
//! makes, and a password): STARTTLS (`?tls=required`) and implicit TLS (`smtps://`) deliver;
//! a certificate that does not verify, or a server that offers no STARTTLS, sends nothing and
//! says why: never a fallback to plain text.

mod support;

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
