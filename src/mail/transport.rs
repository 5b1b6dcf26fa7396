//! How messages leave: SMTP, or `.eml` files in a folder.
//!
//! - **SMTP** (`ACCORD_SMTP_URL=smtp://[user[:password]@]host[:port]`, port 25 by default) is
//!   plain SMTP: Accord builds no TLS library, so it talks to a relay it trusts (on the host,
//!   or on the local network) that carries mail onwards. Credentials in the URL are used if the
//!   server offers AUTH; they cross the connection unencrypted, so use them only to such a
//!   relay. Each message is sent on its own connection, with a 30-second timeout per step.
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
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use uuid::Uuid;

use super::{MailError, Result};
use crate::store::entity::outbox_message;
use crate::store::redact;
use crate::store::time;

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

    /// An SMTP transport from `smtp://[user[:password]@]host[:port]`.
    pub fn smtp(url: &str) -> Result<Transport> {
        let parsed = SmtpUrl::parse(url)?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(parsed.host.as_str())
                .port(parsed.port)
                .timeout(Some(SMTP_TIMEOUT));
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
                if e.is_permanent() {
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
#[derive(Debug, Clone, PartialEq, Eq)]
struct SmtpUrl {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl SmtpUrl {
    fn parse(url: &str) -> Result<SmtpUrl> {
        let bad = |why: &str| MailError::Config(format!("ACCORD_SMTP_URL '{}' {why}", redact(url)));
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("smtp") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("smtps") => {
                return Err(bad(
                    "asks for TLS, which this build does not include: use smtp:// to a relay \
                     you trust (on this host or the local network)",
                ));
            }
            _ => return Err(bad("is not smtp://[user[:password]@]host[:port]")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(bad(
                "has a path or query; expected smtp://[user[:password]@]host[:port]",
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
            None => 25,
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
        Ok(SmtpUrl {
            host: host.to_owned(),
            port,
            credentials,
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

/// An error with its causes, "outer: inner: innermost", for `last_error`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
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
                credentials: None
            }
        );
        assert_eq!(url("smtp://127.0.0.1:2525/").port, 2525);
        assert_eq!(url("SMTP://[::1]:2525").host, "::1");
        assert_eq!(
            url("smtp://accord%40council:p%3Ass@relay:587").credentials,
            Some(("accord@council".into(), "p:ss".into()))
        );
        for bad in [
            "mail.council.example",
            "smtp://",
            "smtp://host:0",
            "smtp://host:99999",
            "smtp://host/path",
            "smtp://u:%zz@host",
            "http://host",
        ] {
            assert!(SmtpUrl::parse(bad).is_err(), "{bad}");
        }
        let tls = SmtpUrl::parse("smtps://u:secret@host")
            .unwrap_err()
            .to_string();
        assert!(tls.contains("TLS") && !tls.contains("secret"), "{tls}");
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
        let smtp = Transport::from_env_or_dir(Some("smtp://a:secret@relay:2525"), dir).unwrap();
        assert_eq!(smtp.kind(), "smtp");
        assert_eq!(smtp.describe(), "SMTP smtp://a:***@relay:2525");
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
