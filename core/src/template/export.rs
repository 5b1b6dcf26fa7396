//! An agreement becomes a template: its parties become roles, what belongs to its councils
//! becomes placeholders, its dates offsets from its start, and its signatures go. What is worth
//! borrowing stays: purposes, fields, flows, retention, security, risks and their measures.
//!
//! The typed agreement is changed first (so every placeholder address is still a valid
//! `Email`), then emitted by serde_yaml; dates and the free text are then rewritten in the
//! emitted value, and a `#` header is put in front. Pure: the same inputs give the same text.

use jiff::civil::Date;
use serde_yaml::{Mapping, Value};

use super::offsets::offset;
use super::roles::{self, Role};
use super::{FORMAT, LEFT_OUT, is_date_path, placeholder, placeholder_email, placeholder_url, s};
use crate::agreement::model::{Agreement, Contact, DpoAdvice, Signatory};
use crate::agreement::values::{Email, Ref};

/// Where a template comes from, recorded in its `source:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The registry's version number exported, when exported from the registry.
    pub registry_version: Option<i32>,
    /// SHA-256 of the exported source, when known.
    pub sha256: Option<String>,
    /// The day of the export; left out for the shipped templates, so they are reproducible.
    pub exported_on: Option<Date>,
}

/// The template of agreement `a`. Fails only if serde_yaml cannot emit a value, which the
/// model's types rule out.
pub fn export(a: &Agreement, source: &Source) -> Result<String, serde_yaml::Error> {
    let roles = roles::assign(&a.parties);
    let (borrowable, replaced) = strip(a, &roles);
    let mut body = serde_yaml::to_value(&borrowable)?;
    if let Value::Mapping(m) = &mut body {
        for key in LEFT_OUT {
            m.shift_remove(key);
        }
    }
    rewrite(&mut body, &mut Vec::new(), a.term.start, &replaced);
    let mut doc = Mapping::new();
    doc.insert(s("accord_template"), Value::from(FORMAT));
    doc.insert(s("source"), source_block(a, source, &roles));
    let mut listed = Mapping::new();
    for r in &roles {
        listed.insert(s(r.role.as_str()), s(&r.description));
    }
    doc.insert(s("roles"), Value::Mapping(listed));
    doc.insert(s("agreement"), body);
    Ok(format!(
        "{}{}",
        header(a),
        serde_yaml::to_string(&Value::Mapping(doc))?
    ))
}

/// The comment the template starts with. The id is a slug, so it cannot end the comment.
fn header(a: &Agreement) -> String {
    format!(
        "# An Accord agreement template (docs/templates.md), made from agreement '{}'\n\
         # (declared version {}). Parties are roles; people's names, addresses, registrations\n\
         # and contracts are placeholders ([[what to fill]], or addresses at {}); dates are\n\
         # offsets from the start date given on import. Start a draft from it with\n\
         # accord template import FILE --as NEW-ID --start YYYY-MM-DD\n",
        a.id,
        a.version,
        super::FILL_IN_DOMAIN
    )
}

fn source_block(a: &Agreement, source: &Source, roles: &[Role]) -> Value {
    let lead = roles
        .iter()
        .find(|r| r.role.as_str() == "lead-council")
        .and_then(|r| a.party(&r.party))
        .or_else(|| a.parties.iter().find(|p| p.role.is_controller()));
    let mut m = Mapping::new();
    m.insert(s("agreement"), s(a.id.as_str()));
    if let Some(n) = source.registry_version {
        m.insert(s("registry_version"), Value::from(n));
    }
    m.insert(s("declared_version"), Value::from(a.version.get()));
    if let Some(hash) = &source.sha256 {
        m.insert(s("sha256"), s(hash));
    }
    if let Some(p) = lead {
        m.insert(s("organisation"), s(&p.name));
    }
    if let Some(day) = source.exported_on {
        m.insert(s("exported_on"), s(&day.to_string()));
    }
    m.insert(s("term_start"), s(&a.term.start.to_string()));
    Value::Mapping(m)
}

/// The agreement with what belongs to its councils replaced, and each text replaced with its
/// placeholder (longest first), for rewriting the free text.
fn strip(a: &Agreement, roles: &[Role]) -> (Agreement, Vec<(String, String)>) {
    let mut t = a.clone();
    let mut replaced: Vec<(String, String)> = Vec::new();
    let mut swap = |old: &str, new: String| {
        replaced.push((old.to_owned(), new.clone()));
        new
    };
    let role_of = |id: &str| {
        roles
            .iter()
            .find(|r| r.party == id)
            .map_or_else(|| id.to_owned(), |r| r.role.to_string())
    };
    t.owner = contact(&a.owner, "owner", "agreement owner", &mut swap);
    for (p, r) in t.parties.iter_mut().zip(roles) {
        let role = r.role.as_str();
        p.id = r.role.clone();
        p.name = swap(&p.name, placeholder(&format!("{role} name")));
        if let Some(ico) = &p.ico_registration {
            let what = format!("{role} ICO registration number");
            p.ico_registration = Some(swap(ico, placeholder(&what)));
        }
        if let Some(dpo) = &p.dpo {
            let who = format!("{role} data protection officer");
            p.dpo = Some(contact(dpo, &format!("{role}.dpo"), &who, &mut swap));
        }
        if let Some(signer) = &p.signatory {
            let name = swap(&signer.name, placeholder(&format!("{role} signatory name")));
            let email = swap_email(&signer.email, &format!("{role}.signatory"), &mut swap);
            let title = signer.title.as_ref().map(|t| {
                let what = format!("{role} signatory's job title");
                swap(t, placeholder(&what))
            });
            p.signatory = Some(Signatory { name, email, title });
        }
        if let Some(d) = &mut p.deletion {
            if let Some(e) = &d.email {
                d.email = Some(swap_email(e, &format!("{role}.deletion"), &mut swap));
            }
            if let Some(u) = &d.url {
                d.url = Some(swap(
                    u,
                    placeholder_url(&format!("{role}/deletion-webhook")),
                ));
            }
        }
        if let Some(c) = &p.contract {
            let what = format!("{role} contract reference");
            p.contract = Some(swap(c, placeholder(&what)));
        }
    }
    for f in &mut t.flows {
        f.from = Ref::new(role_of(f.from.as_str()));
        f.to = Ref::new(role_of(f.to.as_str()));
    }
    for rule in &mut t.retention {
        if let Some(h) = &rule.holder {
            rule.holder = Some(Ref::new(role_of(h.as_str())));
        }
    }
    for c in &mut t.contractors {
        c.party = Ref::new(role_of(c.party.as_str()));
    }
    if let Some(apd) = &a.lawful_basis.appropriate_policy_document {
        let url = placeholder_url("appropriate-policy-document");
        t.lawful_basis.appropriate_policy_document = Some(swap(apd, url));
    }
    if let Some(rights) = &mut t.rights {
        let who = "information rights contact";
        rights.contact = contact(&rights.contact, "rights", who, &mut swap);
    }
    if let Some(arrangement) = &a.joint_controller_arrangement {
        let what = placeholder("reference to your joint controller arrangement");
        t.joint_controller_arrangement = Some(swap(arrangement, what));
    }
    if let Some(dpia) = &mut t.dpia {
        if dpia.data_subject_views.is_some() {
            let what = "how you sought the views of the people whose data is shared";
            dpia.data_subject_views = Some(placeholder(what));
        }
        if dpia.dpo_advice.is_some() {
            dpia.dpo_advice = Some(DpoAdvice {
                summary: placeholder("your data protection officer's advice"),
                accepted: false,
            });
        }
        for m in dpia.risks.iter_mut().flat_map(|r| &mut r.measures) {
            m.approved = false;
        }
    }
    t.signatures.clear();
    for sig in &a.signatures {
        replaced.push((sig.name.clone(), placeholder("signatory name")));
    }
    for p in &a.parties {
        let role = role_of(p.id.as_str());
        replaced.push((p.name.clone(), placeholder(&format!("{role} name"))));
    }
    // Longest first, so a name inside a longer name does not break the longer one; texts too
    // short to be a name are left alone.
    replaced.retain(|(old, _)| old.chars().count() >= 4);
    replaced.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    replaced.dedup_by(|a, b| a.0 == b.0);
    (t, replaced)
}

/// A contact's placeholders: `[[who name]]` and `email_who@fill-in.invalid`.
fn contact(
    c: &Contact,
    email_who: &str,
    who: &str,
    swap: &mut impl FnMut(&str, String) -> String,
) -> Contact {
    Contact {
        name: swap(&c.name, placeholder(&format!("{who} name"))),
        email: swap_email(&c.email, email_who, swap),
    }
}

fn swap_email(old: &Email, who: &str, swap: &mut impl FnMut(&str, String) -> String) -> Email {
    let new = swap(old.as_str(), placeholder_email(who));
    Email::parse(&new).expect("a role or fixed word at the reserved domain is an e-mail address")
}

/// Dates become offsets from `start`; in every other text, what was replaced is replaced
/// wherever it appears (a council's name in the summary, a signer's name in the DPO's advice).
fn rewrite(
    value: &mut Value,
    path: &mut Vec<Option<String>>,
    start: Date,
    replaced: &[(String, String)],
) {
    match value {
        Value::String(text) => {
            let steps: Vec<Option<&str>> = path.iter().map(Option::as_deref).collect();
            let date = crate::agreement::values::parse_date(text);
            match date {
                Some(day) if is_date_path(&steps) => *text = offset(start, day),
                _ => {
                    for (old, new) in replaced {
                        if text.contains(old.as_str()) {
                            *text = text.replace(old.as_str(), new);
                        }
                    }
                }
            }
        }
        Value::Sequence(items) => {
            for item in items {
                path.push(None);
                rewrite(item, path, start, replaced);
                path.pop();
            }
        }
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                path.push(k.as_str().map(str::to_owned));
                rewrite(v, path, start, replaced);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;

    const FOODBANK: &str = include_str!("../../../agreements/camden-foodbank-referrals.yaml");
    const SAMPLES: [&str; 5] = [
        FOODBANK,
        include_str!("../../../agreements/hmo-licensing-enforcement.yaml"),
        include_str!("../../../agreements/hospital-discharge.yaml"),
        include_str!("../../../agreements/school-attendance-pooling.yaml"),
        include_str!("../../../agreements/vulnerability-hub.yaml"),
    ];

    fn agreement(source: &str) -> Agreement {
        let today = jiff::civil::date(2026, 12, 1);
        check_source(source.as_bytes(), today)
            .agreement
            .expect("the samples pass check")
            .into_inner()
    }

    fn template(a: &Agreement) -> String {
        let source = Source {
            registry_version: Some(2),
            sha256: Some("ab".repeat(32)),
            exported_on: Some(jiff::civil::date(2026, 12, 7)),
        };
        export(a, &source).unwrap()
    }

    /// Every person's name and e-mail address written in a sample.
    fn people(a: &Agreement) -> Vec<String> {
        let mut out = vec![a.owner.name.clone(), a.owner.email.to_string()];
        for p in &a.parties {
            for c in p.dpo.iter() {
                out.extend([c.name.clone(), c.email.to_string()]);
            }
            for s in p.signatory.iter() {
                out.extend([s.name.clone(), s.email.to_string()]);
            }
            for d in p.deletion.iter().flat_map(|d| &d.email) {
                out.push(d.to_string());
            }
        }
        for c in a.rights.iter().map(|r| &r.contact) {
            out.extend([c.name.clone(), c.email.to_string()]);
        }
        out.extend(a.signatures.iter().map(|s| s.name.clone()));
        out
    }

    #[test]
    fn no_person_of_a_sample_is_left_in_its_template() {
        for sample in SAMPLES {
            let a = agreement(sample);
            let text = template(&a);
            for who in people(&a) {
                assert!(!text.contains(&who), "{}: '{who}' left in\n{text}", a.id);
            }
            for p in &a.parties {
                let body = text.split("\nagreement:\n").nth(1).unwrap();
                assert!(!body.contains(&p.name), "{}: '{}' left", a.id, p.name);
                for u in p.deletion.iter().flat_map(|d| &d.url) {
                    assert!(!text.contains(u.as_str()), "{}: '{u}' left", a.id);
                }
                if let Some(ico) = &p.ico_registration {
                    assert!(!text.contains(ico.as_str()), "{}: '{ico}' left", a.id);
                }
            }
        }
    }

    #[test]
    fn the_foodbank_template_has_roles_offsets_and_no_signatures() {
        let text = template(&agreement(FOODBANK));
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        let body = &doc["agreement"];
        assert_eq!(doc["accord_template"], Value::from(1));
        assert_eq!(body["parties"][0]["id"], s("lead-council"));
        assert_eq!(body["parties"][1]["id"], s("voluntary-partner"));
        assert_eq!(body["flows"][0]["from"], s("lead-council"));
        assert_eq!(body["flows"][0]["to"], s("voluntary-partner"));
        assert_eq!(body["retention"][1]["holder"], s("lead-council"));
        assert_eq!(body["term"]["start"], s("start"));
        assert_eq!(body["term"]["end"], s("start+P1Y11M30D"));
        assert_eq!(body["term"]["last_reviewed"], s("start"));
        assert_eq!(
            body["parties"][0]["assurance"]["dspt"]["expires"],
            s("start+P1Y2M29D")
        );
        assert_eq!(
            body["parties"][0]["signatory"]["email"],
            s("lead-council.signatory@fill-in.invalid")
        );
        assert_eq!(
            body["parties"][0]["deletion"]["url"],
            s("https://fill-in.invalid/lead-council/deletion-webhook")
        );
        assert_eq!(body["dpia"]["dpo_advice"]["accepted"], Value::from(false));
        assert_eq!(
            body["dpia"]["risks"][0]["measures"][0]["approved"],
            Value::from(false)
        );
        assert!(
            body["summary"]
                .as_str()
                .unwrap()
                .contains("to [[voluntary-partner name]] for")
        );
        for gone in LEFT_OUT {
            assert!(body.get(gone).is_none(), "{gone} is still in the body");
        }
        assert!(!text.contains("signatures:"));
        assert_eq!(doc["source"]["agreement"], s("camden-foodbank-referrals"));
        assert_eq!(doc["source"]["registry_version"], Value::from(2));
        assert_eq!(doc["source"]["declared_version"], Value::from(3));
        assert_eq!(doc["source"]["organisation"], s("London Borough of Camden"));
        assert_eq!(doc["source"]["exported_on"], s("2026-12-07"));
        assert_eq!(doc["source"]["term_start"], s("2026-04-01"));
        assert!(text.starts_with("# An Accord agreement template"));
        // What is worth borrowing stays as it was.
        assert!(text.contains("keep_for: P6M"));
        assert!(text.contains("Care Act 2014 ss.1-2"));
    }
}
