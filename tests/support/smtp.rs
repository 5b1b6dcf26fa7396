//! A real SMTP server on loopback (Python's aiosmtpd, which scripts/test.sh installs), started
//! and stopped by the test, and the messages it received.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// aiosmtpd on 127.0.0.1:`port`, storing what it receives in a Maildir. Stopping it is an
/// outage: connections to the port are refused until it starts again.
pub struct SmtpServer {
    pub port: u16,
    maildir: tempfile::TempDir,
    child: Option<Child>,
    secure: Option<Secure>,
}

/// TLS and a password (tests/support/smtp_tls.py).
#[derive(Clone)]
pub struct Secure {
    /// `starttls` or `implicit`.
    pub mode: &'static str,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub user: String,
    pub password: String,
}

impl SmtpServer {
    /// A server that is not running yet, on a port nobody else is using.
    pub fn down() -> SmtpServer {
        let check = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .output();
        assert!(
            check.is_ok_and(|o| o.status.success()),
            "python3 with aiosmtpd is needed: run scripts/test.sh (it runs pip install aiosmtpd)"
        );
        let port = super::free_port();
        SmtpServer {
            port,
            maildir: tempfile::tempdir().unwrap(),
            child: None,
            secure: None,
        }
    }

    /// A running server that speaks TLS as `secure` says and takes mail only after AUTH.
    pub fn secure(secure: Secure) -> SmtpServer {
        let mut s = SmtpServer::down();
        s.secure = Some(secure);
        s.start();
        s
    }

    pub fn running() -> SmtpServer {
        let mut s = SmtpServer::down();
        s.start();
        s
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let maildir = self.maildir.path().join("mail");
        let mut command = Command::new("python3");
        match &self.secure {
            None => command
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{}", self.port))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir)
                .stdin(Stdio::null()),
            Some(s) => command
                .arg(super::repo().join("tests/support/smtp_tls.py"))
                .args([s.mode, &self.port.to_string()])
                .arg(&maildir)
                .args([&s.cert, &s.key])
                .args([&s.user, &s.password])
                .stdin(Stdio::piped()),
        };
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).ok();
                panic!("aiosmtpd exited ({status}): {err}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Everything the server received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let new = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        files
            .iter()
            .map(|f| Received::parse(&std::fs::read_to_string(f).unwrap()))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A received message's headers (unfolded) and body.
#[derive(Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn parse(text: &str) -> Received {
        let text = text.replace("\r\n", "\n");
        let (head, body) = text
            .split_once("\n\n")
            .expect("headers end with a blank line");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a folded line follows a header");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (name, value) = line.split_once(':').expect("a header line");
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        Received {
            headers,
            body: body.to_owned(),
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}
