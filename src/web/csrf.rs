//! CSRF tokens bound to a secret only the browser holds: the session's id, or before sign-in
//! the visit cookie's value. A token is HMAC-SHA256(secret, "accord csrf"), hex; nothing is
//! stored, a token from another session never matches, and checking is constant-time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

const PURPOSE: &[u8] = b"accord csrf";

/// A form that carries only its token (a button).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// A form with its token and one message (a question, an answer, a note).
#[derive(serde::Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub message: String,
}

/// The token forms carry for this secret.
pub fn token(secret: &str) -> String {
    hex::encode(mac(secret).finalize().into_bytes())
}

/// Whether `given` is the token for `secret`.
pub fn valid(secret: &str, given: &str) -> bool {
    match hex::decode(given.trim()) {
        Ok(bytes) => mac(secret).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    m.update(PURPOSE);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_own_secret_only() {
        let t = token("one session");
        assert!(valid("one session", &t));
        assert!(!valid("another session", &t));
        assert!(!valid("one session", ""));
        assert!(!valid("one session", "zz"));
        assert!(!valid("one session", &t[..t.len() - 2]));
    }
}
