//! `accord serve --tls-cert --tls-key`: HTTPS with a certificate this test makes, HSTS on
//! every answer, plain HTTP refused on the port, a client that does not trust the CA refused,
//! and a bad key file stopping the start with its name.

mod support;

use std::process::Command;
use std::time::Duration;

use support::tls::Pki;

fn serve(pki: &Pki, db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_accord"));
    c.args(["serve", "--listen", "127.0.0.1:0", "--database", db])
        .arg("--agreements")
        .arg(support::repo().join("agreements"))
        .arg("--tls-cert")
        .arg(&pki.cert)
        .arg("--tls-key")
        .arg(&pki.key)
        .env_remove("DATABASE_URL");
    c
}

#[tokio::test]
async fn serve_terminates_tls_and_sends_hsts() {
    let pki = Pki::new("council");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/accord.db?mode=rwc", dir.path().display());
    let (mut server, base) = support::listening(serve(&pki, &db));
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    for path in ["/healthz", "/", "/api/v1/agreements"] {
        let r = trusting.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(
            r.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    let r = trusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A client that does not trust the council's CA does not get through.
    let stranger = reqwest::Client::new();
    let refused = stranger.get(format!("{base}/healthz")).send().await;
    assert!(refused.is_err(), "an unknown CA was accepted");
    // Nor does plain HTTP on the TLS port.
    let plain = base.replace("https://", "http://");
    let answer = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        answer.is_err() || answer.is_ok_and(|r| r.status() != 200),
        "plain HTTP was served"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_bad_key_stops_the_start_with_its_name() {
    let pki = Pki::new("council");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(pki.dir.path().join("server.key"), "not a key").unwrap();
    let db = format!("sqlite://{}/accord.db?mode=rwc", dir.path().display());
    let out = serve(&pki, &db).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("server.key") && said.contains("private key"),
        "{said}"
    );
    // Half of the pair is refused by the command line.
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "--database", &db, "--tls-cert"])
        .arg(&pki.cert)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn without_tls_there_is_no_hsts() {
    let app = support::app::TestApp::start(support::app::Backend::Sqlite).await;
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
}
