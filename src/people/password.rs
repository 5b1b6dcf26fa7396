//! Passwords: the rule a new one must meet, and argon2id hashing (the crate's defaults: 19 MiB,
//! two passes, one lane — OWASP's minimum for argon2id). Hashing is deliberately slow: async
//! callers use `hash_blocking` and `verify_blocking`, which run it on a blocking thread.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::{PeopleError, Result};

/// Shortest password accepted, in characters (NCSC: length over complexity rules).
pub const MIN_CHARS: usize = 12;
/// Longest password accepted, in bytes: hashing cost must not grow with what a stranger sends.
pub const MAX_BYTES: usize = 1024;

/// Whether `password` may be set; the message says what to change.
pub fn acceptable(password: &str) -> std::result::Result<(), &'static str> {
    if password.len() > MAX_BYTES {
        return Err("Enter a password of at most 1,024 characters");
    }
    if password.chars().count() < MIN_CHARS {
        return Err("Enter a password of at least 12 characters");
    }
    if password.trim().is_empty() {
        return Err("Enter a password that is not only spaces");
    }
    Ok(())
}

/// The argon2id PHC string for `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PeopleError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PeopleError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PeopleError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A damaged string matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > MAX_BYTES {
        return false;
    }
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of nothing anyone knows, verified when there is no account, so that a wrong e-mail
/// address takes as long to refuse as a wrong password.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("accord decoy password, never set").unwrap_or_default())
}

/// [`hash`] on a blocking thread.
pub(crate) async fn hash_blocking(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| PeopleError::Hash(e.to_string()))?
}

/// [`verify`] on a blocking thread; with no stored hash (no account), the decoy is verified, as
/// slowly, and nothing matches.
pub(crate) async fn verify_blocking(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        if stored.is_empty() {
            // As slow as a real check, and never a match.
            let _ = verify(&password, decoy());
            return false;
        }
        verify(&password, &stored)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("correct horse battery", "not a phc string"));
        assert_ne!(h, hash("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn the_rule_names_what_to_change() {
        assert!(acceptable("short").unwrap_err().contains("at least 12"));
        assert!(
            acceptable(&"x".repeat(1025))
                .unwrap_err()
                .contains("at most")
        );
        assert!(acceptable("            ").is_err());
        assert!(acceptable("a long enough one").is_ok());
    }
}
