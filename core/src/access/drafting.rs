//! Approval drafts the agreement: a complete request, and what it was addressed to, become
//! agreement YAML. Pure: the same inputs give the same text.
//!
//! - Addressed to an agreement: that agreement's next version, with the requesting
//!   organisation added as a recipient party, the purpose, one flow from the agreement's
//!   controller carrying the fields asked for, and a retention rule for it. Signatures are
//!   removed: every party signs the new version.
//! - Addressed to an organisation: a new agreement between that organisation (as the
//!   controller sharing, its details copied from the registry) and the requester, with one
//!   field per category asked for.
//!
//! The YAML is emitted by serde_yaml from the typed agreement (what the requester typed is
//! always a quoted or block scalar, never structure), then comments are added where an officer
//! must complete or confirm something. A comment's text is made one line first, so no answer
//! can end a comment and start YAML.

use jiff::civil::Date;
use serde_yaml::{Mapping, Value};

use super::form::{Answers, Choices, asked_categories};
use crate::agreement::model::{Agreement, Party};
use crate::agreement::validate::placeholders::TO_BE_ITEMISED;
use crate::agreement::vocab::{DeletionMethod, FieldCategory};

/// What a request was addressed to, as the registry has it.
pub enum Addressed<'a> {
    /// The agreement in force (its latest version), to join.
    Agreement(&'a Agreement),
    /// An organisation, with its party entry from an agreement it is party to.
    Organisation(&'a Party),
}

/// Everything drafting needs besides the answers.
pub struct Drafting<'a> {
    pub addressed: Addressed<'a>,
    /// The request's reference, recorded in the draft's header and flow.
    pub reference: &'a str,
    /// Drafting date, for the header.
    pub today: Date,
    /// The choices the answers were checked against (fields of the addressed agreement).
    pub choices: &'a Choices,
    /// Every party id in use anywhere: in any agreement, or bound to an account or a token.
    /// The requester's new party never takes one of them, so approval can never hand a
    /// stranger another organisation's identity.
    pub taken: &'a [String],
    /// The existing party the officer has said the requester is, if any: the requester then
    /// acts as that party (in the joined agreement, the flow goes to it).
    pub as_party: Option<&'a str>,
}

/// A draft: the new agreement's id and its YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub agreement_id: String,
    /// The requesting organisation's party id in it.
    pub party_id: String,
    /// The id the organisation's name gives, when another party uses it already (so the
    /// requester got another id, unless the officer mapped them to a party).
    pub clash: Option<String>,
    pub yaml: String,
}

/// The draft agreement for a complete request. Fails only if an agreement cannot be
/// serialised, which the model's types rule out.
pub fn draft(a: &Answers, d: &Drafting) -> Result<Draft, serde_yaml::Error> {
    let (agreement_id, doc, party_id, flow_id) = match d.addressed {
        Addressed::Agreement(agreement) => join(a, d, agreement)?,
        Addressed::Organisation(provider) => new_agreement(a, d, provider)?,
    };
    let body = serde_yaml::to_string(&doc)?;
    let named = slug(a.text("org_name"), "requester", &[]);
    let clash = (d.as_party.is_none() && d.taken.contains(&named)).then_some(named);
    Ok(Draft {
        agreement_id,
        yaml: with_comments(a, d, &body, &party_id, &flow_id),
        party_id,
        clash,
    })
}

/// The requester's party id: the officer's mapping, else one made from the organisation's
/// name that no party uses anywhere (`d.taken`) nor in this agreement (`here`).
fn requester_id(a: &Answers, d: &Drafting, here: &[String]) -> String {
    match d.as_party {
        Some(id) => id.to_owned(),
        None => {
            let mut taken = d.taken.to_vec();
            taken.extend(here.iter().cloned());
            slug(a.text("org_name"), "requester", &taken)
        }
    }
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn map(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        m.insert(s(k), v);
    }
    Value::Mapping(m)
}

fn seq(items: impl IntoIterator<Item = Value>) -> Value {
    Value::Sequence(items.into_iter().collect())
}

/// An id made of `name`'s letters and digits, lower case, joined by hyphens: at most 40
/// characters, never empty, and not one of `taken`.
pub fn slug(name: &str, fallback: &str, taken: &[String]) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let base = match out.trim_end_matches('-') {
        "" => fallback.to_owned(),
        s => s.to_owned(),
    };
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

/// The requesting organisation as a recipient party.
fn requester_party(a: &Answers, id: &str) -> Value {
    let mut party = Mapping::new();
    party.insert(s("id"), s(id));
    party.insert(s("name"), s(a.text("org_name")));
    party.insert(s("role"), s("recipient"));
    party.insert(s("sector"), s(a.text("org_sector")));
    if !a.text("org_ico").is_empty() {
        party.insert(s("ico_registration"), s(a.text("org_ico")));
    }
    party.insert(
        s("dpo"),
        map([
            ("name", s(a.text("dpo_name"))),
            ("email", s(a.text("dpo_email"))),
        ]),
    );
    party.insert(
        s("signatory"),
        map([
            ("name", s(a.text("requester_name"))),
            ("email", s(a.text("requester_email"))),
            ("title", s(a.text("requester_role"))),
        ]),
    );
    let mut assurance = Mapping::new();
    if !a.text("dspt_status").is_empty() {
        assurance.insert(
            s("dspt"),
            map([
                ("status", s(a.text("dspt_status"))),
                ("expires", s(a.text("dspt_expires"))),
            ]),
        );
    }
    if !a.text("cyber_essentials_expires").is_empty() {
        assurance.insert(
            s("cyber_essentials"),
            map([("expires", s(a.text("cyber_essentials_expires")))]),
        );
    }
    if !assurance.is_empty() {
        party.insert(s("assurance"), Value::Mapping(assurance));
    }
    let mut deletion = Mapping::new();
    deletion.insert(s("method"), s(a.text("deletion_method")));
    if a.text("deletion_method") == DeletionMethod::Email.as_str() {
        deletion.insert(s("email"), s(a.text("deletion_email")));
    }
    party.insert(s("deletion"), Value::Mapping(deletion));
    Value::Mapping(party)
}

fn flow(
    a: &Answers,
    id: &str,
    from: &str,
    to: &str,
    purpose: &str,
    fields: Vec<Value>,
    reference: &str,
) -> Value {
    map([
        ("id", s(id)),
        (
            "description",
            s(&format!("Requested in access request {reference}")),
        ),
        ("from", s(from)),
        ("to", s(to)),
        ("purpose", s(purpose)),
        ("fields", seq(fields)),
        ("frequency", s(a.text("frequency"))),
        ("method", s("api")),
    ])
}

fn retention_rule(a: &Answers, flow_id: &str, holder: &str) -> Value {
    map([
        ("flows", seq([s(flow_id)])),
        ("holder", s(holder)),
        ("keep_for", s(a.text("keep_for"))),
        ("from", s("receipt")),
        ("then", s(a.text("then"))),
    ])
}

fn ids(items: Option<&Value>) -> Vec<String> {
    items
        .and_then(Value::as_sequence)
        .map(|v| {
            v.iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn push(doc: &mut Mapping, key: &str, item: Value) {
    let entry = doc.entry(s(key)).or_insert_with(|| seq([]));
    if let Value::Sequence(items) = entry {
        items.push(item);
    }
}

type Drafted = (String, Value, String, String);

/// The addressed agreement's next version, with the requester joined.
fn join(a: &Answers, d: &Drafting, agreement: &Agreement) -> Result<Drafted, serde_yaml::Error> {
    let Value::Mapping(mut doc) = serde_yaml::to_value(agreement)? else {
        unreachable!("an agreement serialises as a mapping");
    };
    let parties = ids(doc.get("parties"));
    let party_id = requester_id(a, d, &parties);
    let joined_already = parties.contains(&party_id);
    let mut taken = ids(doc.get("purposes"));
    taken.extend(ids(doc.get("flows")));
    taken.extend(parties.iter().cloned());
    let purpose_id = slug(&format!("{party_id}-purpose"), "requested-purpose", &taken);
    taken.push(purpose_id.clone());
    let flow_id = slug(&format!("{party_id}-flow"), "requested-flow", &taken);
    let provider = agreement
        .parties
        .iter()
        .find(|p| p.role.is_controller())
        .unwrap_or(&agreement.parties[0])
        .id
        .as_str()
        .to_owned();
    doc.insert(
        s("version"),
        Value::Number((agreement.version.get() + 1).into()),
    );
    doc.remove("signatures");
    if !joined_already {
        push(&mut doc, "parties", requester_party(a, &party_id));
    }
    push(
        &mut doc,
        "purposes",
        map([
            ("id", s(&purpose_id)),
            ("description", s(a.text("purpose"))),
        ]),
    );
    let subjects: Vec<String> = agreement.data_subjects.clone();
    for subject in a.many("subjects") {
        if !subjects.contains(subject) {
            push(&mut doc, "data_subjects", s(subject));
        }
    }
    let fields = a.many("data").iter().map(|f| s(f)).collect();
    push(
        &mut doc,
        "flows",
        flow(
            a,
            &flow_id,
            &provider,
            &party_id,
            &purpose_id,
            fields,
            d.reference,
        ),
    );
    push(
        &mut doc,
        "retention",
        retention_rule(a, &flow_id, &party_id),
    );
    Ok((
        agreement.id.to_string(),
        Value::Mapping(doc),
        party_id,
        flow_id,
    ))
}

/// A new agreement between the addressed organisation and the requester.
fn new_agreement(
    a: &Answers,
    d: &Drafting,
    provider: &Party,
) -> Result<Drafted, serde_yaml::Error> {
    let provider_id = provider.id.as_str().to_owned();
    let party_id = requester_id(a, d, std::slice::from_ref(&provider_id));
    let agreement_id = slug(
        &format!("{provider_id}-{party_id}"),
        "requested-agreement",
        &[],
    );
    let flow_id = format!("{party_id}-flow");
    let purpose_id = format!("{party_id}-purpose");
    let Value::Mapping(mut sharer) = serde_yaml::to_value(provider)? else {
        unreachable!("a party serialises as a mapping");
    };
    sharer.insert(s("role"), s("controller"));
    let owner = provider
        .dpo
        .as_ref()
        .map(|c| (c.name.clone(), c.email.to_string()))
        .or_else(|| {
            provider
                .signatory
                .as_ref()
                .map(|c| (c.name.clone(), c.email.to_string()))
        })
        .unwrap_or_else(|| {
            (
                a.text("dpo_name").to_owned(),
                a.text("dpo_email").to_owned(),
            )
        });
    let categories = asked_categories(a, d.choices);
    let fields: Vec<Value> = categories
        .iter()
        .map(|c| {
            map([
                ("id", s(c.as_str())),
                (
                    "description",
                    s(&format!(
                        "{} {TO_BE_ITEMISED}",
                        crate::dpia::labels::category(*c)
                    )),
                ),
                ("category", s(c.as_str())),
            ])
        })
        .collect();
    let field_ids = categories
        .iter()
        .map(|c: &FieldCategory| s(c.as_str()))
        .collect();
    let mut lawful = Mapping::new();
    for (key, name) in [
        ("article6", "article6"),
        ("legal_power", "legal_power"),
        ("article9", "article9"),
        ("schedule1", "schedule1"),
        ("appropriate_policy_document", "policy_document"),
        ("article10", "article10"),
    ] {
        if !a.text(name).is_empty() {
            lawful.insert(s(key), s(a.text(name)));
        }
    }
    let mut security = vec![s(
        "Every transfer is checked by the Accord gate against this agreement before it is made",
    )];
    if a.text("iso27001") == "yes" {
        security.push(s(&format!(
            "{} states that it is certified to ISO/IEC 27001",
            a.text("org_name")
        )));
    }
    let summary = format!(
        "{}\n\nWhy sharing is necessary and proportionate: {}\n",
        a.text("purpose"),
        a.text("necessity")
    );
    let doc = map([
        ("accord", Value::Number(1.into())),
        ("id", s(&agreement_id)),
        (
            "title",
            s(&format!("{} to {}", provider.name, a.text("org_name"))),
        ),
        ("version", Value::Number(1.into())),
        (
            "owner",
            map([("name", s(&owner.0)), ("email", s(&owner.1))]),
        ),
        ("summary", s(&summary)),
        ("benefits", s(a.text("benefits"))),
        (
            "parties",
            seq([Value::Mapping(sharer), requester_party(a, &party_id)]),
        ),
        (
            "purposes",
            seq([map([
                ("id", s(&purpose_id)),
                ("description", s(a.text("purpose"))),
            ])]),
        ),
        ("lawful_basis", Value::Mapping(lawful)),
        (
            "data_subjects",
            seq(a.many("subjects").iter().map(|x| s(x))),
        ),
        ("fields", seq(fields)),
        (
            "flows",
            seq([flow(
                a,
                &flow_id,
                &provider_id,
                &party_id,
                &purpose_id,
                field_ids,
                d.reference,
            )]),
        ),
        ("retention", seq([retention_rule(a, &flow_id, &party_id)])),
        ("security", seq(security)),
        (
            "rights",
            map([
                (
                    "contact",
                    map([
                        (
                            "name",
                            s(&format!("{} data protection", a.text("org_name"))),
                        ),
                        ("email", s(a.text("rights_email"))),
                    ]),
                ),
                ("notes", s(a.text("rights"))),
            ]),
        ),
        ("breach", map([("notify_within", s("PT24H"))])),
        (
            "term",
            map([
                ("start", s(a.text("start"))),
                ("end", s(a.text("end"))),
                ("review_every", s("P12M")),
                (
                    "termination",
                    s("Either party may end the agreement with 30 days' written notice."),
                ),
            ]),
        ),
    ]);
    Ok((agreement_id, doc, party_id, flow_id))
}

/// `text` made safe inside a YAML comment: one line, no control characters.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if printable_in_comment(c) { c } else { ' ' })
        .collect()
}

/// Whether `c` may stand in a YAML comment as itself: not a line break (`\n`, `\r`, NEL,
/// U+2028, U+2029), no other control character, and inside YAML's printable set, which leaves
/// out U+FFFE and U+FFFF (a parser refuses them); the byte-order mark is left out too, since a
/// parser may take it for the start of a stream.
fn printable_in_comment(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
        ))
}

/// Inserts `comments` before `line`: a top-level key (`breach:`) or an item of the top-level
/// sequence `within` (`- id: x` under `flows:`). Both start at column 0, where the emitter
/// puts only structure: a line of the requester's text inside a block scalar is always
/// indented, so text that reads `breach:` never takes a comment (found by the `draft_yaml`
/// fuzz target; a comment there became part of the text).
fn comment_before(yaml: &mut Vec<String>, within: Option<&str>, line: &str, comments: &[String]) {
    let from = match within {
        Some(section) => match yaml.iter().position(|l| l == section) {
            Some(i) => i + 1,
            None => return,
        },
        None => 0,
    };
    if let Some(i) = yaml[from..].iter().position(|l| l == line) {
        for (k, c) in comments.iter().enumerate() {
            yaml.insert(from + i + k, format!("# {}", one_line(c)));
        }
    }
}

fn with_comments(a: &Answers, d: &Drafting, body: &str, party_id: &str, flow_id: &str) -> String {
    let mut lines: Vec<String> = body.lines().map(str::to_owned).collect();
    let party_notes =
        vec![
        format!("Added from access request {}.", d.reference),
        "OFFICER: confirm who signs for this organisation; the requester is named as signatory."
            .to_owned(),
        format!("Onward sharing: {}", describe(a, "onward", "onward_details")),
        format!("Processors: {}", describe(a, "processors", "processor_details")),
        format!("Volume: {}", a.text("volume")),
    ];
    comment_before(
        &mut lines,
        Some("parties:"),
        &format!("- id: {party_id}"),
        &party_notes,
    );
    comment_before(
        &mut lines,
        Some("flows:"),
        &format!("- id: {flow_id}"),
        &["OFFICER: confirm the transfer method (api means through the Accord gate).".to_owned()],
    );
    if matches!(d.addressed, Addressed::Organisation(_)) {
        comment_before(
            &mut lines,
            None,
            "fields:",
            &["OFFICER: itemise the fields; the request named categories only.".to_owned()],
        );
        comment_before(
            &mut lines,
            None,
            "breach:",
            &[
                "OFFICER: confirm the breach notification time and the termination terms."
                    .to_owned(),
            ],
        );
    } else {
        comment_before(
            &mut lines,
            None,
            "lawful_basis:",
            &[format!(
                "The requester proposed: {}. OFFICER: confirm it fits this agreement's basis.",
                proposed_basis(a)
            )],
        );
    }
    let header = [
        format!(
            "Drafted by Accord on {} from access request {} by {} ({}).",
            d.today,
            d.reference,
            a.text("requester_name"),
            a.text("org_name"),
        ),
        "Lines starting OFFICER say what to complete or confirm before anyone signs.".to_owned(),
    ];
    let mut out: String = header
        .iter()
        .map(|h| format!("# {}\n", one_line(h)))
        .collect();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn describe(a: &Answers, yes_no: &str, details: &str) -> String {
    if a.text(yes_no) == "yes" {
        format!("yes: {}", a.text(details))
    } else {
        "none stated".to_owned()
    }
}

fn proposed_basis(a: &Answers) -> String {
    ["article6", "article9", "schedule1", "article10"]
        .iter()
        .filter(|k| !a.text(k).is_empty())
        .map(|k| format!("{k} {}", a.text(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ids_and_unique() {
        assert_eq!(
            slug("Camden Community Foodbank", "x", &[]),
            "camden-community-foodbank"
        );
        assert_eq!(slug("{{x}}: |", "requester", &[]), "x");
        assert_eq!(slug("¡¿", "requester", &[]), "requester");
        let taken = vec!["a-b".to_owned(), "a-b-2".to_owned()];
        assert_eq!(slug("A  B", "x", &taken), "a-b-3");
        assert!(slug(&"long name ".repeat(20), "x", &[]).len() <= 41);
    }

    #[test]
    fn a_comment_stays_one_line() {
        let mut lines = vec!["a:".to_owned(), "- id: x".to_owned()];
        comment_before(
            &mut lines,
            Some("a:"),
            "- id: x",
            &["evil\nparties: []\u{85}b: 1".to_owned()],
        );
        assert_eq!(lines[1], "# evil parties: [] b: 1");
    }

    /// Found by the `draft_yaml` fuzz target: a legal power typed as `? key` then `breach:`
    /// took the breach comment inside its block scalar, changing the text.
    #[test]
    fn a_comment_goes_only_where_structure_is() {
        let mut lines: Vec<String> = [
            "flows:",
            "- id: other",
            "lawful_basis:",
            "  legal_power: |-",
            "    breach:",
            "    - id: x",
            "parties:",
            "- id: x",
            "breach:",
            "  notify_within_hours: 24",
        ]
        .map(str::to_owned)
        .to_vec();
        comment_before(&mut lines, None, "breach:", &["b".to_owned()]);
        comment_before(&mut lines, Some("parties:"), "- id: x", &["p".to_owned()]);
        comment_before(&mut lines, Some("flows:"), "- id: y", &["f".to_owned()]);
        assert_eq!(
            lines[4..],
            [
                "    breach:",
                "    - id: x",
                "parties:",
                "# p",
                "- id: x",
                "# b",
                "breach:",
                "  notify_within_hours: 24"
            ]
            .map(str::to_owned)
        );
        assert_eq!(lines.iter().filter(|l| l.starts_with('#')).count(), 2);
    }

    /// Found by the `draft_yaml` fuzz target: U+FFFF in a requester's name made the header
    /// comment unreadable as YAML.
    #[test]
    fn a_comment_holds_only_what_yaml_can_read() {
        let mut lines = vec!["a: 1".to_owned()];
        comment_before(
            &mut lines,
            None,
            "a: 1",
            &["o\u{FFFF}\u{FFFE}\u{FEFF}\u{FFFD} Co.".to_owned()],
        );
        assert_eq!(lines[0], "# o   \u{FFFD} Co.");
        let parsed: Result<serde_yaml::Value, _> = serde_yaml::from_str(&lines.join("\n"));
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}
