//! The console's addresses for one agreement and what hangs off it, each made here with every
//! part encoded, so no page writes a path by hand.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What stays as it is in a path segment: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` as one path segment (or query value): every other byte percent-encoded.
fn encode(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// An agreement's page, with `done` telling it what just happened (`signed`, `saved`, …).
pub fn agreement(id: &str, done: Option<&str>) -> String {
    match done {
        Some(done) => format!("/agreements/{}?done={}", encode(id), encode(done)),
        None => format!("/agreements/{}", encode(id)),
    }
}

/// A version's page to sign it.
pub fn sign(id: &str, number: i32) -> String {
    format!("/agreements/{}/versions/{number}/sign", encode(id))
}

/// A version's YAML as received.
pub fn source(id: &str, number: i32) -> String {
    format!("/agreements/{}/versions/{number}/source", encode(id))
}

/// An officer's control of the agreement (`suspend`, `reinstate`, `terminate`).
pub fn control(id: &str, action: &str) -> String {
    format!("/agreements/{}/control/{}", encode(id), encode(action))
}

/// The agreement's DPIA, as a page (`md`: as Markdown), of a version if given.
pub fn dpia(id: &str, md: bool, version: Option<i32>) -> String {
    let file = if md { "dpia.md" } else { "dpia" };
    match version {
        Some(n) => format!("/agreements/{}/{file}?version={n}", encode(id)),
        None => format!("/agreements/{}/{file}", encode(id)),
    }
}

/// The agreement exported as a template.
pub fn template(id: &str) -> String {
    format!("/agreements/{}/template", encode(id))
}

/// The agreement's handover, with `done` telling it what just happened.
pub fn handover(id: &str, done: Option<&str>) -> String {
    match done {
        Some(done) => format!("/agreements/{}/handover?done={}", encode(id), encode(done)),
        None => format!("/agreements/{}/handover", encode(id)),
    }
}

/// One handover item's page.
pub fn handover_item(id: &str, item: &str) -> String {
    format!("/agreements/{}/handover/{}", encode(id), encode(item))
}

/// The pages that end a contractor's engagement early.
pub fn engagement_end(id: &str, party: &str) -> String {
    format!(
        "/agreements/{}/handover/engagements/{}/end",
        encode(id),
        encode(party)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_encoded() {
        assert_eq!(
            agreement("a b", Some("saved")),
            "/agreements/a%20b?done=saved"
        );
        assert_eq!(handover_item("x/y", "1"), "/agreements/x%2Fy/handover/1");
        assert_eq!(
            engagement_end("hmo", "m&s"),
            "/agreements/hmo/handover/engagements/m%26s/end"
        );
        assert_eq!(dpia("a", true, Some(2)), "/agreements/a/dpia.md?version=2");
    }
}
