//! Templates councils can borrow (docs/templates.md): an agreement with everything that belongs
//! to its councils taken out, and how another council starts a draft from one. Pure: no I/O,
//! no clock ("today" and the start date are handed in), no database.
//!
//! A template is YAML: a `#` header saying where it came from, then
//!
//! ```yaml
//! accord_template: 1
//! source: { agreement, registry_version, declared_version, sha256, organisation,
//!           exported_on, term_start }
//! roles: { lead-council: what the role is, … }
//! agreement: { the agreement without id, version or signatures }
//! ```
//!
//! In `agreement:` every party id is a role ([`roles`]); people's names, e-mail and web
//! addresses, registrations and contracts are placeholders (`[[what to fill]]`, or addresses at
//! [`FILL_IN_DOMAIN`]), which `accord check` names until they are filled; dates are offsets from
//! the term's start ([`offsets`]). [`export`] writes one; [`import`] turns one into a draft.

pub mod export;
pub mod import;
pub mod offsets;
pub mod roles;
pub mod shipped;

use serde_yaml::Value;

pub use crate::agreement::validate::placeholders::FILL_IN_DOMAIN;
use crate::agreement::values::Slug;

/// The template format this engine writes and reads (`accord_template: 1`).
pub const FORMAT: u8 = 1;

/// The keys of a template, in the order written.
pub const KEYS: [&str; 4] = ["accord_template", "source", "roles", "agreement"];

/// The keys of a template's `source:` block, in the order written.
pub const SOURCE_KEYS: [&str; 7] = [
    "agreement",
    "registry_version",
    "declared_version",
    "sha256",
    "organisation",
    "exported_on",
    "term_start",
];

/// The agreement's keys a template leaves out: the borrower gives the id on import, the draft
/// is version 1, and nobody has signed it.
pub const LEFT_OUT: [&str; 4] = ["accord", "id", "version", "signatures"];

/// One step of a path into the agreement, for [`DATE_PATHS`]: a key, or any list item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Key(&'static str),
    Each,
}

use Step::{Each, Key};

/// Every date of the format, which a template writes as an offset from the term's start.
pub const DATE_PATHS: &[&[Step]] = &[
    &[Key("term"), Key("start")],
    &[Key("term"), Key("end")],
    &[Key("term"), Key("last_reviewed")],
    &[
        Key("parties"),
        Each,
        Key("assurance"),
        Key("dspt"),
        Key("expires"),
    ],
    &[
        Key("parties"),
        Each,
        Key("assurance"),
        Key("cyber_essentials"),
        Key("expires"),
    ],
    &[Key("contractors"), Each, Key("engagement_end")],
    &[Key("contractors"), Each, Key("handover"), Each, Key("due")],
];

/// Whether `path` (keys as text, items as `None`) is one of [`DATE_PATHS`].
pub fn is_date_path(path: &[Option<&str>]) -> bool {
    DATE_PATHS.iter().any(|p| {
        p.len() == path.len()
            && p.iter().zip(path).all(|(want, got)| match (want, got) {
                (Key(k), Some(g)) => k == g,
                (Each, None) => true,
                _ => false,
            })
    })
}

/// Text to fill: `[[what]]`.
pub fn placeholder(what: &str) -> String {
    format!("[[{what}]]")
}

/// An e-mail address that reaches nobody, standing for `who`'s: `who@fill-in.invalid`.
pub fn placeholder_email(who: &str) -> String {
    format!("{who}@{FILL_IN_DOMAIN}")
}

/// A web address that reaches nothing, standing for `what`: `https://fill-in.invalid/what`.
pub fn placeholder_url(what: &str) -> String {
    format!("https://{FILL_IN_DOMAIN}/{what}")
}

/// The new agreement's id, or why it cannot be one.
pub fn new_id(text: &str) -> Result<Slug, String> {
    Slug::parse(text.trim()).ok_or_else(|| {
        format!(
            "'{}' cannot be an agreement id: use lower-case letters, digits and hyphens, \
             starting with a letter or digit (like westminster-foodbank-referrals)",
            crate::agreement::decode::clip(text)
        )
    })
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_paths_match_whole_paths_only() {
        assert!(is_date_path(&[Some("term"), Some("end")]));
        assert!(is_date_path(&[
            Some("contractors"),
            None,
            Some("handover"),
            None,
            Some("due")
        ]));
        assert!(!is_date_path(&[Some("term")]));
        assert!(!is_date_path(&[Some("term"), Some("review_every")]));
        assert!(!is_date_path(&[
            Some("contractors"),
            Some("engagement_end")
        ]));
    }

    #[test]
    fn a_new_id_must_be_a_slug() {
        assert_eq!(
            new_id(" westminster-food ").unwrap().as_str(),
            "westminster-food"
        );
        for bad in ["", "Westminster", "food bank", "-food"] {
            let why = new_id(bad).unwrap_err();
            assert!(why.contains("cannot be an agreement id"), "{why}");
        }
    }
}
