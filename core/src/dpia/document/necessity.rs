//! Step 4: necessity and proportionality: the lawful basis, minimisation, retention per holder,
//! rights and compliance.

use serde::Serialize;

use super::{contact, distinct, joined};
use crate::agreement::Agreement;
use crate::agreement::model::RetentionRule;
use crate::agreement::vocab::PartyRole;
use crate::dpia::labels;

/// Step 4: necessity and proportionality.
#[derive(Debug, Clone, Serialize)]
pub struct Necessity {
    pub article6: &'static str,
    pub legal_power: Option<String>,
    pub article9: Option<&'static str>,
    pub schedule1: Vec<String>,
    pub appropriate_policy_document: Option<String>,
    pub article10: Option<&'static str>,
    pub joint_controller_arrangement: Option<String>,
    /// Declared fields that no flow carries: not shared, listed so nobody assumes they are.
    pub unshared_fields: Option<String>,
    pub retention: Vec<HolderRetention>,
    pub rights: Vec<String>,
    pub compliance: Vec<String>,
    pub termination: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HolderRetention {
    pub holder: String,
    pub deletion: &'static str,
    pub rules: Vec<RetentionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionView {
    pub flows: String,
    pub period: String,
}

pub(super) fn necessity(a: &Agreement) -> Necessity {
    let lb = &a.lawful_basis;
    Necessity {
        article6: labels::article6(lb.article6),
        legal_power: lb.legal_power.clone(),
        article9: lb.article9.map(labels::article9),
        schedule1: lb.schedule1.iter().map(|c| labels::schedule1(*c)).collect(),
        appropriate_policy_document: lb.appropriate_policy_document.clone(),
        article10: lb.article10.map(labels::article10),
        joint_controller_arrangement: a.joint_controller_arrangement.clone(),
        unshared_fields: joined(
            a.fields
                .iter()
                .filter(|f| a.flows_carrying(f.id.as_str()).next().is_none())
                .map(|f| f.id.as_str()),
        ),
        retention: retention(a),
        rights: rights(a),
        compliance: compliance(a),
        termination: a.term.termination.clone(),
    }
}

/// The parties a retention rule binds: its holder, or else the recipients of its flows.
fn holders<'a>(a: &'a Agreement, rule: &'a RetentionRule) -> Vec<&'a str> {
    match &rule.holder {
        Some(h) => vec![h.as_str()],
        None => distinct(
            rule.flows
                .iter()
                .filter_map(|r| a.flow(r.as_str()))
                .map(|f| f.to.as_str()),
        ),
    }
}

fn retention(a: &Agreement) -> Vec<HolderRetention> {
    a.parties
        .iter()
        .filter_map(|p| {
            let rules: Vec<RetentionView> = a
                .retention
                .iter()
                .filter(|r| holders(a, r).contains(&p.id.as_str()))
                .map(retention_view)
                .collect();
            (!rules.is_empty()).then(|| HolderRetention {
                holder: p.name.clone(),
                deletion: labels::deletion(p.deletion_method()),
                rules,
            })
        })
        .collect()
}

fn retention_view(r: &RetentionRule) -> RetentionView {
    RetentionView {
        flows: joined(r.flows.iter().map(|f| f.as_str()))
            .unwrap_or_else(|| "every flow it receives".to_owned()),
        period: format!(
            "{} {}, {}",
            labels::duration(&r.keep_for),
            labels::retention_start(r.from),
            labels::retention_action(r.then)
        ),
    }
}

fn rights(a: &Agreement) -> Vec<String> {
    let Some(r) = &a.rights else {
        return vec![
            "The agreement names no contact for individuals' rights: say how people will be told \
             about the sharing and how they exercise their rights."
                .to_owned(),
        ];
    };
    let mut out = vec![format!("Rights requests go to {}.", contact(&r.contact))];
    out.extend(r.notes.clone());
    out
}

fn compliance(a: &Agreement) -> Vec<String> {
    let mut out = vec![
        "Function creep: each flow names one declared purpose and the fields it may carry; \
         sharing for any other purpose, or of any other field, is outside this agreement."
            .to_owned(),
    ];
    out.extend(
        a.parties
            .iter()
            .filter(|p| p.role == PartyRole::Processor)
            .map(|p| {
                format!(
                    "{} is a processor bound by an Article 28 contract ({}).",
                    p.name,
                    p.contract
                        .as_deref()
                        .map_or("reference not recorded", str::trim)
                )
            }),
    );
    if let Some(b) = &a.breach {
        out.push(format!(
            "Partners tell each other of a personal data breach within {}.",
            labels::duration(&b.notify_within)
        ));
    }
    out.push(
        "International transfers: none are recorded in the agreement; confirm that none take \
         place, or describe the safeguards."
            .to_owned(),
    );
    out
}
