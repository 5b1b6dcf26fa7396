//! What a draft still leaves to complete. Placeholders a template or the blank skeleton left to
//! fill (docs/templates.md): text written `[[what to fill]]`, and e-mail and web addresses at
//! the reserved domain [`FILL_IN_DOMAIN`], which can never reach anyone. And the marks an
//! approved access request's draft carries (`access/drafting.rs`): a field that is only a
//! category "[`TO_BE_ITEMISED`]", and a comment holding an [`OFFICER_NOTE`]. Each is an
//! `unfilled-placeholder` finding at its place, naming what to do. The registry never lets a
//! version with one left be signed or activated.
//!
//! The walk is over the located tree, so every placeholder is found wherever it stands, in a
//! key the model knows or not; it is iterative and visits each node once.

use super::Findings;
use crate::agreement::diagnostic::{Code, Diagnostic};
use crate::agreement::yaml::{Node, NodeKind};

/// The reserved domain (RFC 2606 `.invalid`) of a template's placeholder addresses.
pub const FILL_IN_DOMAIN: &str = "fill-in.invalid";

/// The end of a drafted field's description while it stands for a whole category.
pub const TO_BE_ITEMISED: &str = "(to be itemised)";

/// What a drafting comment for the officer starts its instruction with.
pub const OFFICER_NOTE: &str = "OFFICER:";

/// Longest text between `[[` and `]]` read as a placeholder.
const MAX_PLACEHOLDER: usize = 200;

pub(super) fn check(tree: &Node, f: &mut Findings) {
    f.out.extend(unfilled(tree));
}

/// Every scalar of `tree` that still holds a placeholder, as an `unfilled-placeholder` finding,
/// in document order.
pub fn unfilled(tree: &Node) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut stack: Vec<(&Node, String)> = vec![(tree, String::new())];
    while let Some((node, path)) = stack.pop() {
        match &node.kind {
            NodeKind::Scalar(s) => {
                if let Some(what) = to_fill(&s.text) {
                    let msg = format!(
                        "{path} is still the template's placeholder '{}': fill in {what}",
                        crate::agreement::decode::clip(&s.text)
                    );
                    found.push(Diagnostic::new(Code::UnfilledPlaceholder, node.pos, msg));
                } else if s.text.trim_end().ends_with(TO_BE_ITEMISED) {
                    let msg = format!(
                        "{path} is '{}', a category the access request asked for: replace it \
                         with the fields it stands for, one each",
                        crate::agreement::decode::clip(&s.text)
                    );
                    found.push(Diagnostic::new(Code::UnfilledPlaceholder, node.pos, msg));
                }
            }
            NodeKind::Seq(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((item, format!("{path}[{i}]")));
                }
            }
            NodeKind::Map(entries) => {
                for e in entries.iter().rev() {
                    let path = if path.is_empty() {
                        e.key.clone()
                    } else {
                        format!("{path}.{}", e.key)
                    };
                    stack.push((&e.value, path));
                }
            }
        }
    }
    found
}

/// The placeholders still in an agreement's source, and its comments holding an officer's
/// note (none when it is not YAML), in line order: what the registry asks before it lets a
/// version be signed or activated.
pub fn unfilled_in(source: &[u8]) -> Vec<Diagnostic> {
    let mut found = match crate::agreement::yaml::parse(source) {
        Ok(Some(tree)) => unfilled(&tree),
        _ => return Vec::new(),
    };
    found.extend(officer_notes(&String::from_utf8_lossy(source)));
    found.sort_by_key(|d| (d.pos.line, d.pos.column));
    found
}

/// Each comment line holding an [`OFFICER_NOTE`], as a finding at its line.
pub fn officer_notes(source: &str) -> Vec<Diagnostic> {
    source
        .lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let comment = line.trim_start().strip_prefix('#')?;
            let at = comment.find(OFFICER_NOTE)?;
            let note = comment[at + OFFICER_NOTE.len()..].trim();
            let pos = crate::agreement::yaml::Pos {
                line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                column: u32::try_from(line.len() - line.trim_start().len() + 1).unwrap_or(1),
            };
            let msg = format!(
                "a drafting note for the officer is still here ('{}'): do what it says, then \
                 delete the comment",
                crate::agreement::decode::clip(note)
            );
            Some(Diagnostic::new(Code::UnfilledPlaceholder, pos, msg))
        })
        .collect()
}

/// What is left to fill, from a version's findings, for the registry's refusal to activate
/// it: "N placeholders or drafting notes to fill in or complete (the first, at line L: …)"; `None` when
/// none is left.
pub fn left_to_fill(found: &[Diagnostic]) -> Option<String> {
    let left: Vec<&Diagnostic> = found
        .iter()
        .filter(|d| d.code == Code::UnfilledPlaceholder)
        .collect();
    let first = left.first()?;
    let (n, s) = (left.len(), if left.len() == 1 { "" } else { "s" });
    Some(format!(
        "{n} placeholder{s} or drafting note{s} to fill in or complete (the first, at line {}: \
         {})",
        first.pos.line, first.message
    ))
}

/// What a text still holding placeholders asks for, in words; `None` when it holds none.
pub fn to_fill(text: &str) -> Option<String> {
    let mut asks: Vec<String> = bracketed(text)
        .into_iter()
        .map(|w| format!("'{w}'"))
        .collect();
    asks.extend(addresses(text));
    match asks.len() {
        0 => None,
        1 => asks.pop(),
        _ => Some(asks.join(", ")),
    }
}

/// Every `[[…]]` in `text` (what is inside, trimmed), in order.
fn bracketed(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("[[") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("]]") else {
            break;
        };
        let inside = after[..close].trim();
        if !inside.is_empty() && inside.len() <= MAX_PLACEHOLDER && !inside.contains('\n') {
            out.push(inside);
        }
        rest = &after[close + 2..];
    }
    out
}

/// What each placeholder address in `text` stands for: `lead-council.signatory@fill-in.invalid`
/// is "the lead-council signatory's e-mail address", `https://fill-in.invalid/lead-council/
/// deletion-webhook` "the lead-council deletion-webhook web address".
fn addresses(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter_map(|word| {
            let word = word.trim_matches(|c: char| "()<>'\"".contains(c));
            if let Some(local) = word.strip_suffix(&format!("@{FILL_IN_DOMAIN}")) {
                let who = local.replace('.', " ");
                return Some(format!("the {who}'s e-mail address"));
            }
            let rest = word
                .strip_prefix("https://")
                .or_else(|| word.strip_prefix("http://"))?;
            let path = rest.strip_prefix(FILL_IN_DOMAIN)?;
            let what = path.trim_matches('/').replace('/', " ");
            Some(if what.is_empty() {
                "the real web address".to_owned()
            } else {
                format!("the {what} web address")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::yaml::parse;

    #[test]
    fn drafting_marks_are_found_where_they_stand() {
        let source = "accord: 1\nfields:\n  - id: identity\n    description: Identity (to be itemised)\n    category: identity\n# Added from request AR-1. OFFICER: confirm the method.\n  # OFFICER: itemise the fields.\n# An ordinary comment\nsummary: 'The OFFICER: line in a value is text'\n";
        let found = unfilled_in(source.as_bytes());
        let at: Vec<(u32, u32)> = found.iter().map(|d| (d.pos.line, d.pos.column)).collect();
        assert_eq!(at, [(4, 18), (6, 1), (7, 3)], "{found:?}");
        assert!(found[0].message.contains("fields[0].description"));
        assert!(found[1].message.contains("'confirm the method.'"));
        let left = left_to_fill(&found).unwrap();
        assert!(
            left.starts_with("3 placeholders or drafting notes"),
            "{left}"
        );
        assert!(unfilled_in(b"accord: 1\n# A note for nobody\n").is_empty());
    }

    #[test]
    fn the_blank_skeleton_is_all_still_to_fill() {
        let skeleton = include_str!("../../../../templates/web/skeleton.yaml");
        let found = unfilled_in(skeleton.as_bytes());
        for path in [
            "title",
            "owner.name",
            "owner.email",
            "parties[0].name",
            "security[0]",
        ] {
            assert!(
                found
                    .iter()
                    .any(|d| d.message.starts_with(&format!("{path} "))),
                "{path}: {found:?}"
            );
        }
    }

    #[test]
    fn placeholders_are_found_in_every_form() {
        assert_eq!(
            to_fill("[[lead-council signatory name]]").as_deref(),
            Some("'lead-council signatory name'")
        );
        assert_eq!(
            to_fill("lead-council.signatory@fill-in.invalid").as_deref(),
            Some("the lead-council signatory's e-mail address")
        );
        assert_eq!(
            to_fill("https://fill-in.invalid/lead-council/deletion-webhook").as_deref(),
            Some("the lead-council deletion-webhook web address")
        );
        assert_eq!(
            to_fill("Residents of [[lead-council name]] are referred to [[partner name]].")
                .as_deref(),
            Some("'lead-council name', 'partner name'")
        );
        for filled in [
            "Jo Bell",
            "jo.bell@camden.example",
            "[[]]",
            "a [[ b",
            "x]] [[",
            "",
        ] {
            assert_eq!(to_fill(filled), None, "{filled:?}");
        }
    }

    #[test]
    fn each_scalar_with_a_placeholder_is_one_finding_at_it_with_its_path() {
        let source = "owner:\n  name: '[[owner name]]'\n  email: owner@fill-in.invalid\n\
                      parties:\n  - id: a\n    name: Real Council\n  - name: '[[b name]]'\n";
        let tree = parse(source.as_bytes()).unwrap().unwrap();
        let found = unfilled(&tree);
        let seen: Vec<(u32, u32, &str)> = found
            .iter()
            .map(|d| (d.pos.line, d.pos.column, d.message.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    2,
                    9,
                    "owner.name is still the template's placeholder '[[owner name]]': fill in \
                     'owner name'"
                ),
                (
                    3,
                    10,
                    "owner.email is still the template's placeholder 'owner@fill-in.invalid': \
                     fill in the owner's e-mail address"
                ),
                (
                    7,
                    11,
                    "parties[1].name is still the template's placeholder '[[b name]]': fill in \
                     'b name'"
                ),
            ]
        );
        assert!(found.iter().all(|d| d.code == Code::UnfilledPlaceholder));
    }
}
