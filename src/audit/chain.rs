//! The hash chain, pure: each record's hash covers its fields and its predecessor's hash, so
//! altering, removing or reordering any stored record breaks the chain from there on.

use sha2::{Digest, Sha256};

/// The hash before the first record: the one the migration seeds the chain's head with.
pub use accord_migrations::GENESIS_HASH as GENESIS;

/// The fields a record's hash covers, in order.
pub struct Fields<'a> {
    pub seq: i64,
    pub id: &'a str,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub details: &'a str,
    pub prev_hash: &'a str,
}

/// SHA-256 (hex) of the fields as a compact JSON array: an unambiguous encoding, whatever the
/// text holds (a newline in an actor's name cannot forge a field boundary). The array is
/// serialised straight into the digest.
pub fn hash(f: &Fields) -> String {
    let fields = (
        f.seq,
        f.id,
        f.at,
        f.actor,
        f.action,
        f.subject,
        f.details,
        f.prev_hash,
    );
    let mut digest = Digesting(Sha256::new());
    serde_json::to_writer(&mut digest, &fields).expect("serialising text into a digest");
    hex::encode(digest.0.finalize())
}

/// Feeds written bytes to the digest; it cannot fail.
struct Digesting(Sha256);

impl std::io::Write for Digesting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(actor: &'a str, details: &'a str) -> Fields<'a> {
        Fields {
            seq: 1,
            id: "0192",
            at: "2026-11-21T00:00:00.000000Z",
            actor,
            action: "a",
            subject: "s",
            details,
            prev_hash: GENESIS,
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let base = hash(&fields("jo", "{}"));
        assert_eq!(base.len(), 64);
        assert_eq!(base, hash(&fields("jo", "{}")));
        assert_ne!(base, hash(&fields("jo ", "{}")));
        assert_ne!(base, hash(&fields("jo", "{ }")));
    }

    /// Stored chains must keep verifying: the encoding is the JSON array of the fields, byte
    /// for byte as it was first written.
    #[test]
    fn the_encoding_is_the_compact_json_array() {
        let f = fields("jo \"x\"\n", "{\"a\":1}");
        let text = serde_json::json!([
            f.seq,
            f.id,
            f.at,
            f.actor,
            f.action,
            f.subject,
            f.details,
            f.prev_hash
        ])
        .to_string();
        assert_eq!(hash(&f), hex::encode(Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn field_boundaries_cannot_be_forged() {
        assert_ne!(
            hash(&fields("jo\",\"a", "{}")),
            hash(&fields("jo", "a\",\"{}"))
        );
    }
}
