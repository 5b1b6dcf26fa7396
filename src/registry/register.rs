//! The register: an Article 30 record of processing for each active agreement, built (pure)
//! from the agreement itself, and its CSV form for spreadsheets.
//!
//! UK GDPR Article 30(1) asks for the controllers and their DPOs, the purposes, the categories
//! of data subjects and of personal data, the recipients, transfers, retention and security;
//! for special category and criminal offence data, DPA 2018 Schedule 1 paragraph 41 adds the
//! condition relied on, the lawful basis, and whether the appropriate policy document was
//! followed.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Registry, Result};
use crate::agreement::lifecycle::{self, Status};

use poem_openapi::Object;
use serde::Serialize;

use crate::agreement::model::RetentionRule;
use crate::agreement::validate::covers;
use crate::agreement::{Agreement, ValidAgreement};

#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct RegisterEntry {
    pub agreement_id: String,
    pub version: i32,
    pub title: String,
    /// Controllers and joint controllers, with their DPO contacts.
    pub controllers: Vec<ControllerEntry>,
    pub purposes: Vec<String>,
    pub data_subjects: Vec<String>,
    pub data_categories: Vec<String>,
    pub special_category_data: bool,
    pub criminal_offence_data: bool,
    pub lawful_basis: String,
    #[oai(nullable)]
    pub legal_power: Option<String>,
    #[oai(nullable)]
    pub article9_condition: Option<String>,
    pub schedule1_conditions: Vec<String>,
    #[oai(nullable)]
    pub article10_basis: Option<String>,
    #[oai(nullable)]
    pub appropriate_policy_document: Option<String>,
    /// Parties that receive data, with their role.
    pub recipients: Vec<String>,
    /// International transfers: the format records none; stated so the record is complete.
    pub transfers: String,
    /// Per holder: how long, from when, then what.
    pub retention: Vec<String>,
    pub security: Vec<String>,
    pub term_start: String,
    #[oai(nullable)]
    pub term_end: Option<String>,
    #[oai(nullable)]
    pub next_review: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct ControllerEntry {
    pub name: String,
    pub role: String,
    #[oai(nullable)]
    pub ico_registration: Option<String>,
    #[oai(nullable)]
    pub dpo_name: Option<String>,
    #[oai(nullable)]
    pub dpo_email: Option<String>,
}

impl Registry {
    /// Every agreement in force today (its current version active), with that version's number,
    /// in order of id: all of them, not a page. The register, the reminders and the calendar
    /// each walk this. Read from the gate's index (compiled, in memory), brought up to date
    /// with the database first (one read of the registry's generation), so no version is read
    /// or parsed again.
    pub async fn agreements_in_force(&self) -> Result<Vec<(i32, Arc<ValidAgreement>)>> {
        self.refresh_if_changed().await?;
        let index = self.gate_index();
        let today = self.clock().today();
        let mut out: Vec<(i32, Arc<ValidAgreement>)> = index
            .agreements()
            .filter_map(|(_, control, version)| {
                let (number, stored, a) = version?;
                let status = lifecycle::status(stored, control, a.term.end, today);
                (status == Status::Active).then(|| (number, a.clone()))
            })
            .collect();
        out.sort_by(|x, y| x.1.id.as_str().cmp(y.1.id.as_str()));
        Ok(out)
    }

    /// The register: one entry for each agreement whose current version is active today.
    pub async fn register(&self) -> Result<Vec<RegisterEntry>> {
        Ok(self.register_entries().await?.collect())
    }

    /// The register's entries, each made when it is taken (the CSV streams them).
    pub async fn register_entries(&self) -> Result<impl Iterator<Item = RegisterEntry> + use<>> {
        let in_force = self.agreements_in_force().await?;
        Ok(in_force.into_iter().map(|(n, a)| entry(&a, n)))
    }
}

/// The Article 30 record of one agreement version.
pub fn entry(a: &Agreement, version: i32) -> RegisterEntry {
    let lb = &a.lawful_basis;
    let shared: Vec<_> = a
        .fields
        .iter()
        .filter(|f| is_shared(a, f.id.as_str()))
        .collect();
    let categories: BTreeSet<String> = shared.iter().map(|f| f.category.to_string()).collect();
    RegisterEntry {
        agreement_id: a.id.to_string(),
        version,
        title: a.title.clone(),
        controllers: controllers(a),
        purposes: a
            .purposes
            .iter()
            .map(|p| p.description.clone().unwrap_or_else(|| p.id.to_string()))
            .collect(),
        data_subjects: a.data_subjects.clone(),
        data_categories: categories.into_iter().collect(),
        special_category_data: shared.iter().any(|f| f.category.is_special()),
        criminal_offence_data: shared.iter().any(|f| f.category.is_criminal()),
        lawful_basis: lb.article6.to_string(),
        legal_power: lb.legal_power.clone(),
        article9_condition: lb.article9.map(|c| c.to_string()),
        schedule1_conditions: lb.schedule1.iter().map(|c| c.to_string()).collect(),
        article10_basis: lb.article10.map(|c| c.to_string()),
        appropriate_policy_document: lb.appropriate_policy_document.clone(),
        recipients: recipients(a),
        transfers: "none recorded in the agreement".to_owned(),
        retention: retention(a),
        security: a.security.clone(),
        term_start: a.term.start.to_string(),
        term_end: a.term.end.map(|d| d.to_string()),
        next_review: a.term.next_review().map(|d| d.to_string()),
    }
}

fn is_shared(a: &Agreement, field: &str) -> bool {
    a.flows_carrying(field).next().is_some()
}

fn controllers(a: &Agreement) -> Vec<ControllerEntry> {
    a.parties
        .iter()
        .filter(|p| p.role.is_controller())
        .map(|p| ControllerEntry {
            name: p.name.clone(),
            role: p.role.to_string(),
            ico_registration: p.ico_registration.clone(),
            dpo_name: p.dpo.as_ref().map(|d| d.name.clone()),
            dpo_email: p.dpo.as_ref().map(|d| d.email.to_string()),
        })
        .collect()
}

fn recipients(a: &Agreement) -> Vec<String> {
    let ids: BTreeSet<&str> = a.flows.iter().map(|f| f.to.as_str()).collect();
    a.parties
        .iter()
        .filter(|p| ids.contains(p.id.as_str()))
        .map(|p| format!("{} ({})", p.name, p.role))
        .collect()
}

fn retention(a: &Agreement) -> Vec<String> {
    let mut out = BTreeSet::new();
    for flow in &a.flows {
        for rule in a.retention.iter().filter(|r| covers(r, flow)) {
            let holder = a
                .party(flow.to.as_str())
                .map_or(flow.to.to_string(), |p| p.name.clone());
            out.insert(describe(&holder, rule));
        }
    }
    out.into_iter().collect()
}

fn describe(holder: &str, rule: &RetentionRule) -> String {
    format!(
        "{holder}: {} from {}, then {}",
        rule.keep_for, rule.from, rule.then
    )
}

/// The register as CSV: one row per agreement, lists joined with "; ". A UTF-8 byte-order mark
/// leads, so spreadsheets read accents correctly; cells that a spreadsheet would run as a
/// formula are prefixed with `'`.
pub fn csv(entries: &[RegisterEntry]) -> std::result::Result<String, csv::Error> {
    let mut out = Vec::new();
    for chunk in csv_chunks(entries.iter().cloned()) {
        out.extend(chunk?);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Rows written per chunk of [`csv_chunks`].
const CSV_CHUNK: usize = 200;

/// The register as CSV (as [`csv`]), in chunks: the byte-order mark and header, then
/// [`CSV_CHUNK`] rows at a time, each made only when it is asked for, so an answer streams
/// while it is written and never holds the whole file.
pub fn csv_chunks(
    entries: impl IntoIterator<Item = RegisterEntry>,
) -> impl Iterator<Item = std::result::Result<Vec<u8>, csv::Error>> {
    let mut entries = entries.into_iter().peekable();
    let mut header = true;
    std::iter::from_fn(move || {
        if !header && entries.peek().is_none() {
            return None;
        }
        let mut prefix = Vec::new();
        if std::mem::take(&mut header) {
            prefix.extend_from_slice("\u{feff}".as_bytes());
        }
        let mut w = csv::Writer::from_writer(prefix);
        let mut write = || -> std::result::Result<Vec<u8>, csv::Error> {
            if w.get_ref().len() == 3 {
                w.write_record(HEADERS)?;
            }
            for e in entries.by_ref().take(CSV_CHUNK) {
                w.write_record(row(&e).iter().map(|c| neutralise(c)))?;
            }
            std::mem::replace(&mut w, csv::Writer::from_writer(Vec::new()))
                .into_inner()
                .map_err(|e| e.into_error().into())
        };
        Some(write())
    })
}

const HEADERS: [&str; 22] = [
    "agreement_id",
    "version",
    "title",
    "controllers",
    "dpo_contacts",
    "purposes",
    "data_subjects",
    "data_categories",
    "special_category_data",
    "criminal_offence_data",
    "lawful_basis",
    "legal_power",
    "article9_condition",
    "schedule1_conditions",
    "article10_basis",
    "appropriate_policy_document",
    "recipients",
    "transfers",
    "retention",
    "security",
    "term",
    "next_review",
];

fn row(e: &RegisterEntry) -> [String; 22] {
    let join = |v: &[String]| v.join("; ");
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let controllers: Vec<String> = e
        .controllers
        .iter()
        .map(|c| match &c.ico_registration {
            Some(reg) => format!("{} ({}, ICO {reg})", c.name, c.role),
            None => format!("{} ({})", c.name, c.role),
        })
        .collect();
    let dpos: Vec<String> = e
        .controllers
        .iter()
        .filter_map(|c| {
            Some(format!(
                "{}: {} <{}>",
                c.name,
                c.dpo_name.as_ref()?,
                c.dpo_email.as_ref()?
            ))
        })
        .collect();
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    [
        e.agreement_id.clone(),
        e.version.to_string(),
        e.title.clone(),
        join(&controllers),
        join(&dpos),
        crate::text::sentences(&e.purposes),
        join(&e.data_subjects),
        join(&e.data_categories),
        yes_no(e.special_category_data),
        yes_no(e.criminal_offence_data),
        e.lawful_basis.clone(),
        opt(&e.legal_power),
        opt(&e.article9_condition),
        join(&e.schedule1_conditions),
        opt(&e.article10_basis),
        opt(&e.appropriate_policy_document),
        join(&e.recipients),
        e.transfers.clone(),
        join(&e.retention),
        join(&e.security),
        format!(
            "{} to {}",
            e.term_start,
            e.term_end.as_deref().unwrap_or("open-ended")
        ),
        opt(&e.next_review),
    ]
}

/// A cell as a spreadsheet should show it: on one line (a newline inside a cell breaks many
/// readers' rows), and never run as a formula (CSV injection).
pub fn neutralise(cell: &str) -> String {
    let cell = crate::text::one_line(cell);
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Camden"), "Camden");
        assert_eq!(neutralise("\t=1"), "'=1");
        assert_eq!(neutralise("Two\nlines\r\n  here"), "Two lines here");
    }
}
