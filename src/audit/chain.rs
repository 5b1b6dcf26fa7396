//! The hash chain, pure: each record's hash covers its fields and its predecessor's hash, so
//! altering, removing or reordering any stored record breaks the chain from there on.

use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

/// SHA-256 (hex) of the fields as a JSON array: an unambiguous encoding, whatever the text
/// holds (a newline in an actor's name cannot forge a field boundary).
pub fn hash(f: &Fields) -> String {
    let canonical = serde_json::json!([
        f.seq,
        f.id,
        f.at,
        f.actor,
        f.action,
        f.subject,
        f.details,
        f.prev_hash
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
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

    #[test]
    fn field_boundaries_cannot_be_forged() {
        assert_ne!(
            hash(&fields("jo\",\"a", "{}")),
            hash(&fields("jo", "a\",\"{}"))
        );
    }
}

#[cfg(test)]
mod genesis {
    #[test]
    fn the_migration_seeds_the_same_genesis_hash() {
        assert_eq!(super::GENESIS, accord_migrations::GENESIS_HASH);
    }
}
