//! `accord serve --tls-cert --tls-key`: HTTPS with a certificate this test makes, HSTS on
//! every answer, plain HTTP refused on the port, a client that does not trust the CA refused,
//! a bad key file stopping the start with its name, and slow clients cut off as on plain HTTP.

use crate::support;

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

/// The TLS listener keeps the same deadlines (given as flags here): a connection that never
/// starts its handshake, one that sends its head a byte at a time after it, and one that sends
/// its body slowly are each cut off at their timeout, while others are served.
#[tokio::test]
async fn slow_clients_are_cut_off_over_tls_too() {
    let pki = Pki::new("council");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/accord.db?mode=rwc", dir.path().display());
    let mut command = serve(&pki, &db);
    command.args(["--header-timeout-secs", "1", "--body-timeout-secs", "1"]);
    let (mut server, base) = support::listening(command);
    let addr = base.trim_start_matches("https://").to_owned();
    let timeout = Duration::from_secs(1);
    let slack = Duration::from_secs(3);

    // No handshake at all.
    let silent = std::net::TcpStream::connect(&addr).unwrap();
    let open_for = tokio::task::spawn_blocking(move || closed_after(silent, slack + timeout))
        .await
        .unwrap();
    assert!(
        open_for >= timeout - Duration::from_millis(100),
        "{open_for:?}"
    );

    // A handshake, then the head a byte at a time (it would take 15 s).
    let (ca, at) = (pki.ca.clone(), addr.clone());
    let slow = tokio::task::spawn_blocking(move || {
        let head = format!("GET /healthz HTTP/1.1\r\nHost: {at}\r\nX-Slow: 1234567890\r\n\r\n");
        trickle_over_tls(&ca, &at, b"", head.as_bytes(), slack + timeout)
    });
    // Meanwhile, a client that sends its request at once is served.
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let r = trusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (open_for, answer) = slow.await.unwrap();
    assert!(
        open_for >= timeout - Duration::from_millis(100),
        "{open_for:?}"
    );
    assert!(answer.is_empty(), "{answer:?}");

    // A whole head, then a chunked body a byte at a time: 408, then closed.
    let (ca, at) = (pki.ca.clone(), addr.clone());
    let (open_for, answer) = tokio::task::spawn_blocking(move || {
        let head =
            format!("POST /healthz HTTP/1.1\r\nHost: {at}\r\nTransfer-Encoding: chunked\r\n\r\n");
        trickle_over_tls(&ca, &at, head.as_bytes(), b"1\r\nx\r\n", slack + timeout)
    })
    .await
    .unwrap();
    assert!(
        open_for >= timeout - Duration::from_millis(100),
        "{open_for:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
    assert!(answer.contains("request-timeout"), "{answer:?}");
    server.kill().unwrap();
    server.wait().unwrap();
}

/// How long until the server closes `sock` (reading whatever it sends); fails past `limit`.
fn closed_after(mut sock: std::net::TcpStream, limit: Duration) -> Duration {
    use std::io::Read;
    let started = std::time::Instant::now();
    sock.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("still open after {limit:?}")
            }
            Err(_) => return started.elapsed(),
        }
    }
}

/// Over TLS trusting `ca`: sends `at_once`, then `trickled` (over and over) a byte every 250 ms,
/// until the server closes the connection; how long that took from connecting, and what the
/// server sent. Fails if it is still open after `limit`.
fn trickle_over_tls(
    ca: &std::path::Path,
    addr: &str,
    at_once: &[u8],
    trickled: &[u8],
    limit: Duration,
) -> (Duration, String) {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = "localhost".try_into().unwrap();
    let client = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let started = std::time::Instant::now();
    let sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(client, sock);
    tls.write_all(at_once).unwrap();
    tls.flush().unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let mut bytes = trickled.iter().copied().cycle();
    let mut last_write = std::time::Instant::now() - Duration::from_secs(1);
    loop {
        assert!(
            started.elapsed() < limit,
            "still open after {limit:?}, having sent {:?}",
            String::from_utf8_lossy(&answer)
        );
        if last_write.elapsed() >= Duration::from_millis(250) {
            let byte = bytes.next().expect("something to send");
            if tls.write_all(&[byte]).and_then(|()| tls.flush()).is_err() {
                break;
            }
            last_write = std::time::Instant::now();
        }
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    (
        started.elapsed(),
        String::from_utf8_lossy(&answer).into_owned(),
    )
}
