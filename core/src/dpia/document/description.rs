//! Step 2: the nature, scope, context and purposes of the processing, with the parties, flows
//! and fields as printed.

use serde::Serialize;

use super::{contact, distinct, joined, party_name, plural};
use crate::agreement::Agreement;
use crate::agreement::model::{Field, Flow, Party};
use crate::agreement::vocab::PartyRole;
use crate::dpia::labels;
use crate::dpia::screening::Screening;

/// Step 2: the nature, scope, context and purposes of the processing.
#[derive(Debug, Clone, Serialize)]
pub struct Description {
    pub nature: Vec<String>,
    pub parties: Vec<PartyView>,
    /// Each flow once; step 4 (data minimisation) lays out the same list again.
    pub flows: Vec<FlowView>,
    pub security: Vec<String>,
    pub scope: Vec<String>,
    pub fields: Vec<FieldView>,
    pub context: Vec<String>,
    pub purposes: Vec<PurposeView>,
    pub benefits: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartyView {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub sector: &'static str,
    pub ico_registration: Option<String>,
    pub dpo: Option<String>,
    pub contract: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowView {
    pub id: String,
    pub description: Option<String>,
    pub from: String,
    pub to: String,
    pub purpose: String,
    pub fields: String,
    pub field_count: usize,
    /// "7 of 17": how much of the agreement's data this flow takes.
    pub share: String,
    /// Special-category and criminal-offence fields it carries, or `null`.
    pub sensitive: Option<String>,
    pub frequency: Option<&'static str>,
    pub method: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub id: String,
    pub description: Option<String>,
    pub category: &'static str,
    pub class: &'static str,
    pub sensitive: bool,
    /// The flows that carry it, or `null` when none does.
    pub flows: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PurposeView {
    pub id: String,
    pub description: Option<String>,
    pub dpv: Option<String>,
    pub flows: Option<String>,
}

pub(super) fn description(a: &Agreement, s: &Screening) -> Description {
    Description {
        nature: nature(a, s),
        parties: a.parties.iter().map(party_view).collect(),
        flows: a.flows.iter().map(|f| flow_view(a, f)).collect(),
        security: a.security.clone(),
        scope: scope(a),
        fields: a.fields.iter().map(|f| field_view(a, f)).collect(),
        context: context(a),
        purposes: a
            .purposes
            .iter()
            .map(|p| PurposeView {
                id: p.id.to_string(),
                description: p.description.clone(),
                dpv: p.dpv.clone(),
                flows: joined(
                    a.flows
                        .iter()
                        .filter(|f| f.purpose.as_str() == p.id.as_str())
                        .map(|f| f.id.as_str()),
                ),
            })
            .collect(),
        benefits: a.benefits.clone(),
    }
}

fn party_view(p: &Party) -> PartyView {
    PartyView {
        id: p.id.to_string(),
        name: p.name.clone(),
        role: labels::role(p.role),
        sector: labels::sector(p.sector),
        ico_registration: p.ico_registration.clone(),
        dpo: p.dpo.as_ref().map(contact),
        contract: p.contract.clone(),
    }
}

fn flow_view(a: &Agreement, f: &Flow) -> FlowView {
    let sensitive = joined(
        f.fields
            .iter()
            .filter(|r| {
                a.field(r.as_str())
                    .is_some_and(|f| f.category.is_sensitive())
            })
            .map(|r| r.as_str()),
    );
    FlowView {
        id: f.id.to_string(),
        description: f.description.clone(),
        from: party_name(a, f.from.as_str()).to_owned(),
        to: party_name(a, f.to.as_str()).to_owned(),
        purpose: f.purpose.to_string(),
        fields: f
            .fields
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        field_count: f.fields.len(),
        share: format!("{} of {}", f.fields.len(), a.fields.len()),
        sensitive,
        frequency: f.frequency.map(labels::frequency),
        method: f.method.map(labels::method),
    }
}

fn field_view(a: &Agreement, f: &Field) -> FieldView {
    FieldView {
        id: f.id.to_string(),
        description: f.description.clone(),
        category: labels::category(f.category),
        class: labels::data_class(f.category),
        sensitive: f.category.is_sensitive(),
        flows: joined(a.flows_carrying(f.id.as_str()).map(|fl| fl.id.as_str())),
    }
}

fn count_role(a: &Agreement, pick: impl Fn(PartyRole) -> bool) -> usize {
    a.parties.iter().filter(|p| pick(p.role)).count()
}

fn nature(a: &Agreement, s: &Screening) -> Vec<String> {
    let roles: Vec<String> = [
        (
            count_role(a, PartyRole::is_controller),
            "controller",
            "controllers",
        ),
        (
            count_role(a, |r| r == PartyRole::Recipient),
            "recipient (an independent controller)",
            "recipients (independent controllers)",
        ),
        (
            count_role(a, |r| r == PartyRole::Processor),
            "processor",
            "processors",
        ),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    let mut out = vec![format!(
        "{} take part: {}.",
        plural(a.parties.len(), "organisation", "organisations"),
        labels::and_list(&roles)
    )];
    let methods = distinct(a.flows.iter().filter_map(|f| f.method.map(labels::method)));
    out.push(match methods.as_slice() {
        [] => format!("Data moves in {}.", plural(a.flows.len(), "flow", "flows")),
        _ => format!(
            "Data moves in {}, sent by {}.",
            plural(a.flows.len(), "flow", "flows"),
            labels::and_list(&methods)
        ),
    });
    out.push(
        "Each holder keeps what it receives only for the period set in Step 4, and is then \
         asked to delete, anonymise or return it."
            .to_owned(),
    );
    let risky: Vec<&str> = s.fired_criteria().map(|c| c.title).collect();
    out.push(match risky.as_slice() {
        [] => "None of the EDPB's indicators of high-risk processing applies.".to_owned(),
        _ => format!(
            "Indicators of high-risk processing: {}.",
            labels::and_list(&risky)
        ),
    });
    out
}

fn scope(a: &Agreement) -> Vec<String> {
    let shared: Vec<&Field> = a
        .fields
        .iter()
        .filter(|f| a.flows_carrying(f.id.as_str()).next().is_some())
        .collect();
    let special = shared.iter().filter(|f| f.category.is_special()).count();
    let criminal = shared.iter().filter(|f| f.category.is_criminal()).count();
    let subjects: Vec<String> = a
        .data_subjects
        .iter()
        .map(|s| s.replace('_', " "))
        .collect();
    let mut out = vec![
        format!(
            "{} shared: {} special category (Article 9) and {} criminal offence data \
             (Article 10).",
            plural(shared.len(), "data item is", "data items are"),
            special,
            criminal
        ),
        format!("Data subjects: {}.", labels::and_list(&subjects)),
    ];
    let frequencies = distinct(
        a.flows
            .iter()
            .filter_map(|f| f.frequency.map(labels::frequency)),
    );
    if !frequencies.is_empty() {
        out.push(format!("How often: {}.", labels::and_list(&frequencies)));
    }
    let large = a.dpia.as_ref().is_some_and(|d| d.large_scale);
    out.push(
        if large {
            "Scale: the agreement declares the processing large scale."
        } else {
            "Scale: the agreement does not declare the processing large scale."
        }
        .to_owned(),
    );
    out.push(term(a));
    out
}

fn term(a: &Agreement) -> String {
    let t = &a.term;
    let span = match t.end {
        Some(end) => format!("from {} to {}", labels::date(t.start), labels::date(end)),
        None => format!("from {}, with no end date", labels::date(t.start)),
    };
    format!(
        "Duration: the agreement runs {span} and is reviewed every {}.",
        labels::duration(&t.review_every)
    )
}

fn context(a: &Agreement) -> Vec<String> {
    let sectors = distinct(a.parties.iter().map(|p| labels::sector(p.sector)));
    let mut out = vec![format!("Sectors involved: {}.", labels::and_list(&sectors))];
    let vulnerable: Vec<String> = a
        .data_subjects
        .iter()
        .filter(|s| matches!(s.as_str(), "children" | "vulnerable_adults"))
        .map(|s| s.replace('_', " "))
        .collect();
    if !vulnerable.is_empty() {
        out.push(format!(
            "The data subjects include {}, who merit specific protection and may be less able \
             to understand or object to the sharing.",
            labels::and_list(&vulnerable)
        ));
    }
    let innovative = a.dpia.as_ref().is_some_and(|d| d.innovative_technology);
    out.push(
        if innovative {
            "The agreement declares the use of innovative technology or a new technological or \
             organisational solution."
        } else {
            "No innovative technology is declared."
        }
        .to_owned(),
    );
    out.extend(a.parties.iter().filter_map(assurance));
    if let Some(r) = &a.rights {
        out.push(format!(
            "Individuals exercise their rights through {}.",
            contact(&r.contact)
        ));
    }
    out
}

/// "Assurance held by X: DSPT standards met (to 30 June 2027); Cyber Essentials (to …)."
fn assurance(p: &Party) -> Option<String> {
    let a = p.assurance.as_ref()?;
    let mut held = Vec::new();
    if let Some(d) = &a.dspt {
        held.push(format!(
            "Data Security and Protection Toolkit {} (until {})",
            labels::dspt(d.status),
            labels::date(d.expires)
        ));
    }
    if let Some(c) = &a.cyber_essentials {
        held.push(format!(
            "Cyber Essentials (until {})",
            labels::date(c.expires)
        ));
    }
    (!held.is_empty()).then(|| format!("Assurance held by {}: {}.", p.name, held.join("; ")))
}
