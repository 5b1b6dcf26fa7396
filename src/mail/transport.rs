//! How messages leave: SMTP, or `.eml` files in a folder.
//!
//! - **SMTP** (`ACCORD_SMTP_URL`), each message on its own connection, with a 30-second
//!   timeout per step:
//!   - `smtp://host[:port]` (port 25): plain, to a relay on this host or the local network;
//!   - `smtp://[user[:password]@]host[:port]?tls=required` (port 587): STARTTLS, which the
//!     server must offer: without it, or with a certificate that does not verify, nothing is
//!     sent (never in plain text);
//!   - `smtps://[user[:password]@]host[:port]` (port 465): TLS from the first byte.
//!
//!   Certificates are verified against the Mozilla roots (webpki-roots), plus the CA in
//!   `ca=/path/to/ca.pem` for a council's own. Credentials are refused on a plain connection
//!   to anything but loopback: a password never crosses a network unencrypted.
//! - **Files** (the default, `--outbox DIR`, `outbox/` unless told): each message is written as
//!   `<id>.eml` (RFC 5322, as it would go over SMTP), atomically: a hidden temporary file in the
//!   same folder, synced, then renamed. A laptop needs no mail server, and a reader sees only
//!   whole messages.
//!
//! Every message carries `Auto-Submitted: auto-generated` (RFC 3834) so out-of-office replies
//! do not come back, a `Message-ID` made from its outbox id, and as `Date` the time it was
//! queued (from the injected clock).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use uuid::Uuid;

use super::{MailError, Result};
use crate::store::entity::outbox_message;
use crate::store::redact;
use crate::store::time;
use crate::text::error_chain;

/// Seconds any one step of an SMTP exchange (connecting, each command) may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Transport {
    Smtp(Smtp),
    Files(PathBuf),
}

/// An SMTP server, as configured.
#[derive(Clone)]
pub struct Smtp {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    /// The URL with any password hidden, for logs.
    shown: String,
}

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Refused for good (an SMTP 5xx reply, or a message that cannot be built): not retried.
    Rejected(String),
    /// Refused for now (an SMTP 4xx reply): retried later; other messages may still go.
    Deferred(String),
    /// The server or folder cannot be reached: retried later, and the pass stops.
    Unreachable(String),
    /// The connection cannot work as configured (the server's certificate does not verify
    /// against what Accord trusts): retrying cannot help until the configuration changes, so
    /// delivery stops (see [`super::deliver`]). Says what failed and what to change.
    Misconfigured(String),
}

impl Transport {
    /// SMTP when a URL is given (the service passes `ACCORD_SMTP_URL`), otherwise `.eml` files
    /// in `outbox_dir`.
    pub fn from_env_or_dir(smtp_url: Option<&str>, outbox_dir: &Path) -> Result<Transport> {
        match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Transport::smtp(url),
            None => Ok(Transport::files(outbox_dir)),
        }
    }

    pub fn files(dir: impl Into<PathBuf>) -> Transport {
        Transport::Files(dir.into())
    }

    /// An SMTP transport from its URL (see the module). Fails if the URL is malformed, its CA
    /// file cannot be read, or it would send credentials in plain text over a network.
    pub fn smtp(url: &str) -> Result<Transport> {
        let parsed = SmtpUrl::parse(url)?;
        let bad =
            |why: String| MailError::Config(format!("ACCORD_SMTP_URL '{}' {why}", redact(url)));
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(parsed.host.as_str())
                .port(parsed.port)
                .timeout(Some(SMTP_TIMEOUT));
        if parsed.security != Security::Plain {
            let mut tls = TlsParameters::builder(parsed.host.clone());
            if let Some(ca) = &parsed.ca {
                let pem = std::fs::read(ca)
                    .map_err(|e| bad(format!("names a CA file that cannot be read: {e}")))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    bad(format!(
                        "names a CA file that is not a PEM certificate: {e}"
                    ))
                })?;
                // A file with no CERTIFICATE block (a key, say) would add nothing, silently.
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject;
                if CertificateDer::pem_slice_iter(&pem).next().is_none() {
                    return Err(bad(format!(
                        "names a CA file, {}, that holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                        ca.display()
                    )));
                }
                tls = tls.add_root_certificate(cert);
            }
            let tls = tls
                .build_rustls()
                .map_err(|e| bad(format!("cannot set up TLS: {e}")))?;
            builder = builder.tls(match parsed.security {
                Security::StartTls => Tls::Required(tls),
                _ => Tls::Wrapper(tls),
            });
        }
        if let Some((user, password)) = parsed.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Transport::Smtp(Smtp {
            inner: builder.build(),
            shown: redact(url),
        }))
    }

    /// `smtp` or `files`, as recorded in the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Smtp(_) => "smtp",
            Transport::Files(_) => "files",
        }
    }

    /// For logs: the SMTP URL without its password, or the folder.
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(s) => format!("SMTP {}", s.shown),
            Transport::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Sends one built message.
    pub async fn send(&self, id: Uuid, message: Message) -> std::result::Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => smtp.inner.send(message).await.map(drop).map_err(|e| {
                let text = error_chain(&e);
                if let Some(why) = certificate_problem(&e) {
                    SendError::Misconfigured(format!("{why} ({text})"))
                } else if e.is_permanent() {
                    SendError::Rejected(text)
                } else if e.is_transient() {
                    SendError::Deferred(text)
                } else {
                    SendError::Unreachable(text)
                }
            }),
            Transport::Files(dir) => {
                let (dir, bytes) = (dir.clone(), message.formatted());
                let written =
                    tokio::task::spawn_blocking(move || write_atomically(&dir, id, &bytes)).await;
                match written {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(SendError::Unreachable(e)),
                    Err(e) => Err(SendError::Unreachable(format!("the writer failed: {e}"))),
                }
            }
        }
    }
}

impl Transport {
    /// Tries the transport as configured without sending anything: for SMTP, connects,
    /// negotiates TLS and signs in (as a send would), then says goodbye; for files, writes and
    /// removes a file in the folder. `Err` is what a send would meet.
    pub async fn check(&self) -> std::result::Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => match smtp.inner.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(SendError::Unreachable(
                    "the server did not answer as an SMTP server".into(),
                )),
                Err(e) => {
                    let text = error_chain(&e);
                    Err(match certificate_problem(&e) {
                        Some(why) => SendError::Misconfigured(format!("{why} ({text})")),
                        None if e.is_permanent() => SendError::Rejected(text),
                        None => SendError::Unreachable(text),
                    })
                }
            },
            Transport::Files(dir) => {
                let dir = dir.clone();
                let tried = tokio::task::spawn_blocking(move || {
                    // The folder, or where the first message will make it: a file written
                    // there and removed at once. Nothing is made that was not there.
                    let mut at = dir.as_path();
                    while !at.is_dir() {
                        at = match at.parent() {
                            Some(p) if !p.as_os_str().is_empty() => p,
                            _ => Path::new("."),
                        };
                    }
                    tempfile::Builder::new()
                        .prefix(".")
                        .tempfile_in(at)
                        .map(drop)
                        .map_err(|e| format!("cannot write in {}: {e}", at.display()))
                })
                .await;
                match tried {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(SendError::Unreachable(e)),
                    Err(e) => Err(SendError::Unreachable(format!("the check failed: {e}"))),
                }
            }
        }
    }
}

/// What is wrong with the configuration when the server's certificate does not verify: a
/// rustls certificate error anywhere in `e`'s chain (lettre wraps it in an I/O error, whose
/// own `source` skips it, so both are looked into), explained with what to change.
fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::CertificateError as C;
    let mut next = Some(e);
    while let Some(err) = next {
        let tls = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(c)) = tls {
            let why = match c {
                C::UnknownIssuer => "the SMTP server's certificate was not issued by a certificate authority Accord trusts: name the CA that signed it in ca= (a PEM file of the CA's certificate)".to_owned(),
                C::NotValidForName | C::NotValidForNameContext { .. } => "the SMTP server's certificate is not for the host named in ACCORD_SMTP_URL: use the name the certificate was issued for".to_owned(),
                C::Expired | C::ExpiredContext { .. } => "the SMTP server's certificate has expired: the server needs a new one".to_owned(),
                C::NotValidYet | C::NotValidYetContext { .. } => "the SMTP server's certificate is not valid yet (or this machine's clock is wrong)".to_owned(),
                other if format!("{other:?}").contains("CaUsedAsEndEntity") => "the SMTP server presents a CA certificate (CA:TRUE) as its own, which TLS refuses: give the server a certificate signed by a CA, not itself a CA, and name that CA's certificate in ca=".to_owned(),
                _ => "the SMTP server's certificate does not verify".to_owned(),
            };
            return Some(format!("configuration error: {why}"));
        }
        next = err.source();
    }
    None
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The RFC 5322 message for an outbox row. `Err` (the address or sender is unusable) is for
/// good: retrying cannot help.
pub fn build(from: &Mailbox, row: &outbox_message::Model) -> std::result::Result<Message, String> {
    let to: Mailbox = row
        .to_addr
        .parse()
        .map_err(|e| format!("the recipient '{}' is not an address: {e}", row.to_addr))?;
    let queued = time::parse(&row.created_at).map_or(SystemTime::UNIX_EPOCH, SystemTime::from);
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .date(queued)
        .message_id(Some(format!("<{}@{}>", row.id, from.email.domain())))
        .header(AutoSubmitted);
    let built = match &row.html_body {
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(row.text_body.clone()),
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            row.text_body.clone(),
            html.clone(),
        )),
    };
    built.map_err(|e| format!("the message cannot be built: {e}"))
}

/// Writes `<dir>/<id>.eml` so that it appears whole or not at all.
fn write_atomically(dir: &Path, id: Uuid, bytes: &[u8]) -> std::result::Result<PathBuf, String> {
    let failed = |what: &str, e: io::Error| format!("cannot {what} in {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(|e| failed("create the outbox folder", e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".")
        .suffix(".eml.tmp")
        .tempfile_in(dir)
        .map_err(|e| failed("create a file", e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| failed("write a message", e))?;
    let path = dir.join(format!("{id}.eml"));
    tmp.persist(&path)
        .map_err(|e| failed("rename a message", e.error))?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        // Make the rename itself durable; a failure here leaves a whole file all the same.
        let _ = d.sync_all();
    }
    Ok(path)
}

/// A parsed `smtp://` URL.
/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    Plain,
    /// `tls=required`: STARTTLS, or nothing is sent.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

#[derive(Debug, PartialEq, Eq)]
struct SmtpUrl {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
    security: Security,
    /// A CA certificate (PEM) to trust besides the Mozilla roots.
    ca: Option<PathBuf>,
}

impl SmtpUrl {
    fn parse(url: &str) -> Result<SmtpUrl> {
        let bad = |why: &str| MailError::Config(format!("ACCORD_SMTP_URL '{}' {why}", redact(url)));
        let (mut security, rest) = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("smtp") => (Security::Plain, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("smtps") => {
                (Security::Implicit, rest)
            }
            _ => {
                return Err(bad(
                    "is not smtp[s]://[user[:password]@]host[:port][?tls=required]",
                ));
            }
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '#']) {
            return Err(bad(
                "has a path; expected smtp[s]://[user[:password]@]host[:port][?tls=required]",
            ));
        }
        let mut ca = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", "required")) if security == Security::Plain => {
                    security = Security::StartTls;
                }
                Some(("tls", "required")) => {}
                Some(("tls", "none")) if security == Security::Plain => {}
                Some(("tls", _)) => {
                    return Err(bad(
                        "has tls= other than required (STARTTLS) or none (smtp:// only)",
                    ));
                }
                Some(("ca", path)) if !path.is_empty() => {
                    let path = percent_decode(path).ok_or_else(|| bad("has a malformed ca="))?;
                    ca = Some(PathBuf::from(path));
                }
                _ => return Err(bad("has a query other than tls=required and ca=FILE")),
            }
        }
        if ca.is_some() && security == Security::Plain {
            return Err(bad(
                "names a CA but asks for no TLS: add tls=required, or use smtps://",
            ));
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("has an unclosed '['"))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("names no host"));
        }
        let port = match port {
            None => match security {
                Security::Plain => 25,
                Security::StartTls => 587,
                Security::Implicit => 465,
            },
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("has an invalid port"))?,
        };
        let credentials = match userinfo {
            None => None,
            Some(u) => {
                let (user, password) = u.split_once(':').unwrap_or((u, ""));
                let user = percent_decode(user).ok_or_else(|| bad("has a malformed user name"))?;
                let password =
                    percent_decode(password).ok_or_else(|| bad("has a malformed password"))?;
                Some((user, password))
            }
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if credentials.is_some() && security == Security::Plain && !loopback {
            return Err(bad(
                "would send its password in plain text: add ?tls=required (STARTTLS) or use smtps://",
            ));
        }
        Ok(SmtpUrl {
            host: host.to_owned(),
            port,
            credentials,
            security,
            ca,
        })
    }
}

/// `%XX` escapes decoded (as user names and passwords in URLs are written); `None` if malformed.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `Auto-Submitted: auto-generated` (RFC 3834): machine-made mail, not to be auto-answered.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> SmtpUrl {
        SmtpUrl::parse(text).unwrap()
    }

    #[test]
    fn smtp_urls() {
        assert_eq!(
            url("smtp://mail.council.example"),
            SmtpUrl {
                host: "mail.council.example".into(),
                port: 25,
                credentials: None,
                security: Security::Plain,
                ca: None,
            }
        );
        assert_eq!(url("smtp://127.0.0.1:2525/").port, 2525);
        assert_eq!(url("SMTP://[::1]:2525").host, "::1");
        assert_eq!(
            url("smtp://accord%40council:p%3Ass@relay:587?tls=required").credentials,
            Some(("accord@council".into(), "p:ss".into()))
        );
        let starttls =
            url("smtp://relay.council.example?tls=required&ca=/etc/ssl/council%20ca.pem");
        assert_eq!(
            (starttls.security, starttls.port),
            (Security::StartTls, 587)
        );
        assert_eq!(starttls.ca, Some(PathBuf::from("/etc/ssl/council ca.pem")));
        let implicit = url("smtps://accord:pw@smtp.office365.example");
        assert_eq!(
            (implicit.security, implicit.port),
            (Security::Implicit, 465)
        );
        assert_eq!(url("smtp://relay?tls=none").security, Security::Plain);
        // A password goes in plain text only to this host.
        assert!(url("smtp://a:pw@127.0.0.1:2525").credentials.is_some());
        for bad in [
            "mail.council.example",
            "smtp://",
            "smtp://host:0",
            "smtp://host:99999",
            "smtp://host/path",
            "smtp://u:%zz@host?tls=required",
            "http://host",
            "smtp://host?tls=maybe",
            "smtps://host?tls=none",
            "smtp://host?ca=/ca.pem",
            "smtp://host?port=25",
        ] {
            assert!(SmtpUrl::parse(bad).is_err(), "{bad}");
        }
        let plain = SmtpUrl::parse("smtp://u:secret@relay.council.example")
            .unwrap_err()
            .to_string();
        assert!(
            plain.contains("plain text") && !plain.contains("secret"),
            "{plain}"
        );
    }

    #[test]
    fn the_transport_follows_the_configuration() {
        let dir = Path::new("outbox");
        assert_eq!(
            Transport::from_env_or_dir(None, dir).unwrap().kind(),
            "files"
        );
        assert_eq!(
            Transport::from_env_or_dir(Some(" "), dir).unwrap().kind(),
            "files"
        );
        let smtp = Transport::from_env_or_dir(Some("smtp://a:secret@relay:2525?tls=required"), dir)
            .unwrap();
        assert_eq!(smtp.kind(), "smtp");
        assert_eq!(smtp.describe(), "SMTP smtp://a:***@relay:2525?tls=required");
        let missing_ca = Transport::smtp("smtps://relay?ca=/nonexistent/ca.pem").unwrap_err();
        assert!(
            missing_ca.to_string().contains("cannot be read"),
            "{missing_ca}"
        );
    }

    fn row(to: &str) -> outbox_message::Model {
        outbox_message::Model {
            id: Uuid::now_v7(),
            to_addr: to.into(),
            subject: "Review due on 1 April 2027: Emergency food – support".into(),
            text_body: "Hello,\n\nThe agreement is due for review.\n".into(),
            html_body: None,
            kind: "review-due".into(),
            dedupe_key: None,
            created_at: "2026-11-21T12:00:00.000000Z".into(),
            attempts: 0,
            next_attempt_at: "2026-11-21T12:00:00.000000Z".into(),
            sent_at: None,
            failed_at: None,
            last_error: None,
        }
    }

    #[test]
    fn messages_are_rfc5322_with_our_headers() {
        let from: Mailbox = "Accord <accord@council.example>".parse().unwrap();
        let r = row("dpo@camden.example");
        let text = String::from_utf8(build(&from, &r).unwrap().formatted()).unwrap();
        assert!(
            text.contains("From: Accord <accord@council.example>\r\n"),
            "{text}"
        );
        assert!(text.contains("To: dpo@camden.example\r\n"));
        assert!(
            text.contains(
                "Subject: Review due on 1 April 2027: Emergency food =?utf-8?b?4oCT?= support\r\n"
            ),
            "non-ASCII words are encoded: {text}"
        );
        assert!(
            text.contains("Date: Sat, 21 Nov 2026 12:00:00 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains(&format!("Message-ID: <{}@council.example>\r\n", r.id)));
        assert!(text.contains("Auto-Submitted: auto-generated\r\n"));
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(text.contains("The agreement is due for review."));
    }

    #[test]
    fn an_unusable_address_is_refused_for_good() {
        let from: Mailbox = "accord@localhost".parse().unwrap();
        let err = build(&from, &row("not an address")).unwrap_err();
        assert!(err.contains("not an address"), "{err}");
    }

    #[test]
    fn files_appear_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("outbox");
        let id = Uuid::now_v7();
        let path = write_atomically(&out, id, b"Subject: x\r\n\r\nbody\r\n").unwrap();
        assert_eq!(path, out.join(format!("{id}.eml")));
        let names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names,
            [format!("{id}.eml")],
            "no temporary file is left behind"
        );
    }
}
