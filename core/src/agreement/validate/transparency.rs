//! Rules for publishing: what the public register shows must name organisations, never a
//! person, and should be written for residents.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::Agreement;
use crate::agreement::values::Email;
use crate::agreement::yaml::Step;
use crate::path;

pub fn check(a: &Agreement, f: &mut Findings) {
    let Some(t) = a.transparency.as_ref().filter(|t| t.publish) else {
        return;
    };
    if t.summary.is_none() {
        let msg = "the agreement is published with no transparency.summary; the register will \
                   show its summary, which is written for officers: add a plain-English summary \
                   for residents"
            .to_owned();
        f.at(
            Code::TransparencyWithoutSummary,
            &path!["transparency", "publish"],
            msg,
        );
    }
    let people = people_named(a);
    let finder = (!people.is_empty()).then(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&people)
    });
    let finder = finder.and_then(Result::ok);
    for (path, text) in published_texts(a) {
        if let Some(found) = person_in(text, finder.as_ref(), &people) {
            let msg = format!(
                "this text is shown on the public transparency register, and it names {found}; \
                 the register may name organisations, never a person: reword it"
            );
            f.at(Code::PublishedPersonalData, &path, msg);
        }
    }
}

/// Every person the agreement names: its owner, each party's DPO and signatory, the rights
/// contact and each signature.
fn people_named(a: &Agreement) -> Vec<&str> {
    let mut names: Vec<&str> = vec![a.owner.name.as_str()];
    for p in &a.parties {
        names.extend(p.dpo.as_ref().map(|c| c.name.as_str()));
        names.extend(p.signatory.as_ref().map(|s| s.name.as_str()));
    }
    names.extend(a.rights.as_ref().map(|r| r.contact.name.as_str()));
    names.extend(a.signatures.iter().map(|s| s.name.as_str()));
    names.retain(|n| !n.trim().is_empty());
    names
}

/// The texts of the file that the public register shows, with where each stands.
fn published_texts(a: &Agreement) -> Vec<(Vec<Step>, &str)> {
    let mut out: Vec<(Vec<Step>, &str)> = vec![(path!["title"].to_vec(), a.title.as_str())];
    match a.transparency.as_ref().and_then(|t| t.summary.as_deref()) {
        Some(s) => out.push((path!["transparency", "summary"].to_vec(), s)),
        None => out.push((path!["summary"].to_vec(), a.summary.as_str())),
    }
    if let Some(b) = &a.benefits {
        out.push((path!["benefits"].to_vec(), b.as_str()));
    }
    for (i, p) in a.parties.iter().enumerate() {
        out.push((path!["parties", i, "name"].to_vec(), p.name.as_str()));
    }
    for (i, p) in a.purposes.iter().enumerate() {
        if let Some(d) = &p.description {
            out.push((path!["purposes", i, "description"].to_vec(), d.as_str()));
        }
    }
    if let Some(l) = &a.lawful_basis.legal_power {
        out.push((path!["lawful_basis", "legal_power"].to_vec(), l.as_str()));
    }
    out
}

/// What in `text` would identify a person: an e-mail address, or a name from `people` standing
/// as whole words. Linear in the text.
fn person_in(text: &str, finder: Option<&AhoCorasick>, people: &[&str]) -> Option<String> {
    if let Some(at) = email_in(text) {
        return Some(format!("the e-mail address '{at}'"));
    }
    let finder = finder?;
    let bytes = text.as_bytes();
    let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric());
    finder
        .find_iter(text)
        .find(|m| (m.start() == 0 || !word(m.start() - 1)) && !word(m.end()))
        .map(|m| format!("'{}'", people[m.pattern().as_usize()]))
}

/// The first e-mail address in `text`: a word that is one as the format reads addresses
/// ([`Email::parse`]), once the full stop ending a sentence is set aside.
fn email_in(text: &str) -> Option<&str> {
    text.split(|c: char| c.is_whitespace() || "<>()[],;:\"'".contains(c))
        .find(|w| Email::parse(w.trim_end_matches('.')).is_some())
}

#[cfg(test)]
mod tests {
    use super::{email_in, person_in};
    use crate::agreement::{Code, check_source};
    use aho_corasick::AhoCorasickBuilder;

    fn codes_with(block: &str) -> Vec<Code> {
        let base = include_str!("../../../../tests/fixtures/check/valid/base.yaml");
        let source = format!("{base}\ntransparency:\n{block}");
        let checked = check_source(source.as_bytes(), jiff::civil::date(2026, 11, 21));
        checked.diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn only_what_is_published_is_held_to_the_rule() {
        let naming = "  summary: Ask Jo Bell, dpo@northbrook.example.\n";
        assert!(codes_with(&format!("  publish: false\n{naming}")).is_empty());
        assert!(codes_with(naming).is_empty(), "publish defaults to false");
        assert_eq!(
            codes_with(&format!("  publish: true\n{naming}")),
            [Code::PublishedPersonalData]
        );
        let clean = "  publish: true\n  summary: Residents leave hospital safely.\n";
        assert!(codes_with(clean).is_empty());
    }

    #[test]
    fn e_mail_addresses_are_found_and_at_signs_alone_are_not() {
        assert_eq!(
            email_in("write to dpo@camden.example."),
            Some("dpo@camden.example.")
        );
        assert_eq!(email_in("<x.y@nhs.net>"), Some("x.y@nhs.net"));
        assert_eq!(email_in("meet @ the hub, or @home"), None);
        assert_eq!(email_in("user@localhost"), None);
    }

    #[test]
    fn names_are_found_as_whole_words_in_any_case() {
        let people = ["Jo Bell", "Sam Okoro"];
        let finder = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(people)
            .unwrap();
        let found = |t: &str| person_in(t, Some(&finder), &people);
        assert_eq!(
            found("Approved by jo bell in May"),
            Some("'Jo Bell'".into())
        );
        assert_eq!(found("Sam Okoro"), Some("'Sam Okoro'".into()));
        assert_eq!(found("Jo Bellamy's team"), None);
        assert_eq!(found("the Bell Jo estate"), None);
    }
}
