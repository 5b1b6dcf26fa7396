//! A real OpenID provider on loopback (node's oidc-provider, which scripts/test.sh installs)
//! and an app that signs in through it.

use std::process::{Child, Command, Stdio};

use base64::Engine;

use accord::people::sso::{RoleRule, SsoConfig};
use accord::settings::Settings;

use super::app::{Backend, TestApp};

pub const CLIENT_ID: &str = "accord-test";
pub const CLIENT_SECRET: &str = "a-client-secret-of-forty-characters-0123";

/// oidc-provider on a port of its own; accounts read from a JSON file at every sign-in.
pub struct Provider {
    pub issuer: String,
    accounts: tempfile::NamedTempFile,
    /// The provider's signing key (its id and PKCS#8 DER, base64), a key it does not
    /// publish, and the key it publishes once rotated in (`next`, `next_kid`), as JSON.
    key: tempfile::NamedTempFile,
    child: Child,
}

impl Provider {
    /// `None` when it does not come up: its port, free when chosen, may have been taken by
    /// another test in the second node takes to start. With `sign_out` false it names no
    /// end-session endpoint.
    pub fn start(port: u16, redirect: &str, sign_out: bool) -> Option<Provider> {
        let js = std::env::var("ACCORD_OIDC_PROVIDER_JS").expect(
            "ACCORD_OIDC_PROVIDER_JS is not set: run scripts/test.sh, which installs oidc-provider",
        );
        let accounts = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(accounts.path(), "{}").unwrap();
        let key = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new("node")
            .arg(super::repo().join("tests/support/oidc_provider.mjs"))
            .args([&port.to_string(), CLIENT_ID, CLIENT_SECRET, redirect])
            .arg(accounts.path())
            .arg(key.path())
            .env("ACCORD_OIDC_PROVIDER_JS", js)
            .env("ACCORD_OIDC_NO_LOGOUT", if sign_out { "0" } else { "1" })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node");
        let out = child.stdout.take().unwrap();
        let line = super::within(std::time::Duration::from_secs(30), move || {
            use std::io::BufRead;
            std::io::BufReader::new(out).lines().next()
        });
        if !matches!(line, Some(Ok(l)) if l == "ready") {
            child.kill().ok();
            child.wait().ok();
            return None;
        }
        Some(Provider {
            issuer: format!("http://127.0.0.1:{port}"),
            accounts,
            key,
            child,
        })
    }

    /// Sets who may sign in: login → (e-mail, name, roles).
    pub fn accounts(&self, people: &[(&str, &str, &[&str])]) {
        let map: serde_json::Map<String, serde_json::Value> = people
            .iter()
            .map(|(login, email, roles)| {
                (
                    login.to_string(),
                    serde_json::json!({ "email": email, "name": login, "roles": roles }),
                )
            })
            .collect();
        std::fs::write(
            self.accounts.path(),
            serde_json::Value::Object(map).to_string(),
        )
        .unwrap();
    }
}

impl Provider {
    /// A JWT with `claims`, signed RS256 with the provider's own key (and its key id), as the
    /// provider signs its tokens.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let k = self.key_file();
        sign_rs256(&der(&k, "pkcs8"), k["kid"].as_str(), claims)
    }

    /// A JWT as [`Provider::sign`] makes, but signed with a key the provider does not publish
    /// (under the id of the one it does): a forgery.
    pub fn forge(&self, claims: &serde_json::Value) -> String {
        let k = self.key_file();
        sign_rs256(&der(&k, "stranger"), k["kid"].as_str(), claims)
    }

    /// A forgery under a key id the provider never used.
    pub fn forge_under_a_new_key_id(&self, claims: &serde_json::Value) -> String {
        let k = self.key_file();
        sign_rs256(
            &der(&k, "stranger"),
            Some("a-key-id-never-published"),
            claims,
        )
    }

    /// The provider publishes another signing key beside its own, as a provider rotating keys
    /// does before it signs with the new one.
    pub fn rotate(&self) {
        std::fs::write(self.beside_key(".rotated"), "").unwrap();
    }

    /// A JWT as [`Provider::sign`] makes, signed with the key [`Provider::rotate`] publishes
    /// (under that key's id).
    pub fn sign_with_the_next_key(&self, claims: &serde_json::Value) -> String {
        let k = self.key_file();
        sign_rs256(&der(&k, "next"), k["next_kid"].as_str(), claims)
    }

    /// How many times the provider's keys (its JWKS) have been read.
    pub fn key_reads(&self) -> u32 {
        std::fs::read_to_string(self.beside_key(".reads")).map_or(0, |n| n.trim().parse().unwrap())
    }

    /// The keys the provider wrote at start (see `oidc_provider.mjs`).
    fn key_file(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.key.path()).unwrap()).unwrap()
    }

    /// A file the provider keeps beside its key file.
    fn beside_key(&self, suffix: &str) -> std::path::PathBuf {
        let mut path = self.key.path().as_os_str().to_owned();
        path.push(suffix);
        path.into()
    }
}

/// The PKCS#8 DER of the key file's key `which`.
fn der(key_file: &serde_json::Value, which: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(key_file[which].as_str().unwrap())
        .unwrap()
}

/// A JWT with `claims`, signed RS256 with the RSA key `pkcs8` (DER), its header naming `kid`.
pub fn sign_rs256(pkcs8: &[u8], kid: Option<&str>, claims: &serde_json::Value) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut header = serde_json::json!({ "alg": "RS256", "typ": "logout+jwt" });
    if let Some(kid) = kid {
        header["kid"] = kid.into();
    }
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let pair = ring::signature::RsaKeyPair::from_pkcs8(pkcs8).unwrap();
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signed}.{}", b64(&signature))
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        for suffix in [".rotated", ".reads"] {
            std::fs::remove_file(self.beside_key(suffix)).ok();
        }
    }
}

/// An app whose console signs in through a new provider: officers, auditors and camden's
/// signatories by the `roles` claim.
pub async fn start(backend: Backend) -> (TestApp, Provider) {
    start_with(backend, true).await
}

/// [`start`], with a provider that ends its sessions when asked (`sign_out`) or that names
/// no end-session endpoint.
pub async fn start_with(backend: Backend, sign_out: bool) -> (TestApp, Provider) {
    for _ in 0..3 {
        if let Some(started) = try_start(backend, sign_out).await {
            return started;
        }
    }
    panic!("the provider did not start on any of three ports");
}

/// One try of [`start`], on a port chosen now.
async fn try_start(backend: Backend, sign_out: bool) -> Option<(TestApp, Provider)> {
    let port = super::free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let rules = RoleRule::parse_all(
        "accord-officers=ig_officer,camden-signatories=signatory:camden,accord-auditors=auditor",
    )
    .unwrap();
    let mut redirect = String::new();
    let app = TestApp::start_knowing_base(backend, |base| {
        redirect = format!("{base}{}", accord::people::sso::CALLBACK);
        Settings {
            public_url: base.to_owned(),
            sso: Some(SsoConfig {
                issuer,
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                claim: "roles".into(),
                rules,
                public_url: base.to_owned(),
            }),
            ..Settings::default()
        }
    })
    .await;
    // The provider stamps its tokens with the real time; the app judges them by its clock.
    app.clock.set(jiff::Timestamp::now());
    let provider = Provider::start(port, &redirect, sign_out)?;
    Some((app, provider))
}
