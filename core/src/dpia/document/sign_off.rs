//! Step 7: the ICO template's sign-off table, with who signed and what is still missing.

use jiff::civil::Date;
use serde::Serialize;

use super::plural;
use crate::agreement::Agreement;
use crate::agreement::model::{Measure, Party, Risk, Signature};
use crate::agreement::vocab::SignatureRole;
use crate::dpia::{labels, risk};

/// Step 7: one row of the ICO template's sign-off table.
#[derive(Debug, Clone, Serialize)]
pub struct SignOffRow {
    pub item: &'static str,
    /// Whether the row asks for names at all (the DPO's summary does not).
    pub signed: bool,
    /// Names, positions and dates; empty means not yet signed.
    pub who: Vec<String>,
    pub notes: Vec<String>,
}

fn signers(a: &Agreement, role: SignatureRole) -> Vec<String> {
    a.signatures
        .iter()
        .filter(|s| s.role == role)
        .map(|s| {
            let party = a.party(s.party.as_str());
            labels::signature(s, position(party, s), party.map(|p| p.name.as_str()))
        })
        .collect()
}

/// The signer's position: "data protection officer" for a DPO, else the title of the party's
/// signatory when that is who signed.
fn position(party: Option<&Party>, s: &Signature) -> Option<String> {
    if s.role == SignatureRole::Dpo {
        return Some("data protection officer".to_owned());
    }
    let signatory = party?.signatory.as_ref()?;
    (signatory.name == s.name)
        .then(|| signatory.title.clone())
        .flatten()
}

pub(super) fn sign_off(a: &Agreement, prepared: Date, consult_ico: bool) -> Vec<SignOffRow> {
    let officers = signers(a, SignatureRole::SeniorOfficer);
    let owner = format!("{}, accountable IG officer", a.owner.name);
    vec![
        SignOffRow {
            item: "Measures approved by",
            signed: true,
            who: officers.clone(),
            notes: measures_note(a),
        },
        SignOffRow {
            item: "Residual risks approved by",
            signed: true,
            who: officers.clone(),
            notes: vec![residual_note(a, consult_ico)],
        },
        SignOffRow {
            item: "DPO advice provided by",
            signed: true,
            who: signers(a, SignatureRole::Dpo),
            notes: vec![
                "The DPO advises on compliance, on the Step 6 measures and on whether the \
                 processing can proceed."
                    .to_owned(),
            ],
        },
        SignOffRow {
            item: "Summary of DPO advice",
            signed: false,
            who: Vec::new(),
            notes: vec![dpo_summary(a)],
        },
        SignOffRow {
            item: "DPO advice accepted or overruled by",
            signed: true,
            who: officers,
            notes: vec![dpo_decision(a)],
        },
        SignOffRow {
            item: "Consultation responses reviewed by",
            signed: true,
            who: vec![owner.clone()],
            notes: vec![
                "If the decision departs from individuals' views, the reasons must be recorded."
                    .to_owned(),
            ],
        },
        SignOffRow {
            item: "This DPIA will be kept under review by",
            signed: true,
            who: vec![owner],
            notes: vec![review_note(a, prepared)],
        },
    ]
}

fn measures_note(a: &Agreement) -> Vec<String> {
    let measures: Vec<(&Risk, &Measure)> = a
        .dpia
        .iter()
        .flat_map(|d| &d.risks)
        .flat_map(|r| r.measures.iter().map(move |m| (r, m)))
        .collect();
    let approved = measures.iter().filter(|(_, m)| m.approved).count();
    let mut notes = vec![format!(
        "{approved} of {} approved. Integrate the actions back into the project plan, with date \
         and responsibility for completion.",
        plural(measures.len(), "measure", "measures")
    )];
    notes.extend(
        measures
            .iter()
            .filter(|(_, m)| !m.approved)
            .map(|(r, m)| match &m.description {
                Some(d) => format!("Not approved (risk {}): {d}", r.id),
                None => format!("Not approved: a measure for risk {}.", r.id),
            }),
    );
    notes
}

fn residual_note(a: &Agreement, consult_ico: bool) -> String {
    if consult_ico {
        return "A residual risk is high: consult the ICO before going ahead (Article 36)."
            .to_owned();
    }
    let highest = a
        .dpia
        .iter()
        .flat_map(|d| &d.risks)
        .map(risk::residual)
        .max();
    match highest {
        Some(level) => format!(
            "No residual risk is high; the highest is {}.",
            labels::level(level).to_lowercase()
        ),
        None => "The risk register is empty: identify and assess the risks (Step 5).".to_owned(),
    }
}

fn dpo_summary(a: &Agreement) -> String {
    a.dpia
        .as_ref()
        .and_then(|d| d.dpo_advice.as_ref())
        .map_or_else(
            || {
                "No DPO advice is recorded: seek it before the processing starts (Article 35(2))."
                    .to_owned()
            },
            |advice| advice.summary.clone(),
        )
}

fn dpo_decision(a: &Agreement) -> String {
    match a.dpia.as_ref().and_then(|d| d.dpo_advice.as_ref()) {
        Some(advice) if advice.accepted => "The DPO's advice was accepted.".to_owned(),
        Some(_) => "The DPO's advice was overruled. The reasons must be recorded; the agreement \
                    does not record them."
            .to_owned(),
        None => "No DPO advice is recorded yet.".to_owned(),
    }
}

fn review_note(a: &Agreement, prepared: Date) -> String {
    let every = labels::duration(&a.term.review_every);
    let note = match a.term.next_review() {
        Some(due) if due < prepared => format!(
            "Review every {every}; the review due on {} is overdue.",
            labels::date(due)
        ),
        Some(due) => format!(
            "Review every {every}; next review due by {}.",
            labels::date(due)
        ),
        None => format!("Review every {every}."),
    };
    format!("{note} The DPO should also review ongoing compliance with the DPIA.")
}
