//! The DPIA as data: everything the templates print, computed here from the agreement and its
//! screening, in the order of the ICO's sample DPIA template (seven steps, one file each or per
//! pair). Templates only lay it out, so an organisation can restyle or reword its DPIA without
//! re-deriving anything, and the derivations are tested in Rust.
//!
//! Every field is always present (absent values are `null`, lists may be empty), so that a
//! template typo is an error under handlebars' strict mode rather than a silent blank.

mod consultation;
mod description;
mod necessity;
mod need;
mod risks;
mod sign_off;

use jiff::civil::Date;
use serde::Serialize;

pub use consultation::Consultation;
pub use description::{Description, FieldView, FlowView, PartyView, PurposeView};
pub use necessity::{HolderRetention, Necessity, RetentionView};
pub use need::{Answer, Need};
pub use risks::{MatrixRow, MeasureView, RiskView};
pub use sign_off::SignOffRow;

use super::screening::{Outcome, Screening};
use super::{diagram, labels};
use crate::agreement::Agreement;
use crate::agreement::model::Contact;
use crate::agreement::vocab::RiskLevel;

#[derive(Debug, Clone, Serialize)]
pub struct DpiaDocument {
    pub title: String,
    pub agreement_id: String,
    /// The version's number: the register's, where the document was made from the register,
    /// else the file's own `version:`.
    pub version: u32,
    /// The version as the document names it: the register's number where the document was made
    /// from the register (saying so when the file's own `version:` differs), else the file's.
    pub version_label: String,
    /// The date the document was prepared, long form.
    pub prepared: String,
    /// The accountable IG officer.
    pub owner: String,
    pub summary: Summary,
    pub need: Need,
    pub description: Description,
    /// The data-flow diagram, already escaped (see [`diagram`]).
    pub diagram_svg: String,
    pub consultation: Consultation,
    pub necessity: Necessity,
    pub risk_matrix: Vec<MatrixRow>,
    pub risks: Vec<RiskView>,
    pub sign_off: Vec<SignOffRow>,
    /// Set when a residual risk stays high: the Article 36 prior-consultation notice.
    pub ico_consultation: Option<String>,
}

/// The cover-page summary a DPO reads first.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub outcome: Outcome,
    pub outcome_label: &'static str,
    pub risk_count: usize,
    pub highest_residual: Option<Level>,
    pub consult_ico: bool,
    pub dpo_advice: String,
    pub next_review: String,
}

/// A risk level with its display label; `level` doubles as a CSS class.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Level {
    pub level: RiskLevel,
    pub label: &'static str,
}

impl Level {
    fn of(level: RiskLevel) -> Level {
        Level {
            level,
            label: labels::level(level),
        }
    }
}

/// Builds the DPIA for `a`, as prepared on `prepared`.
impl DpiaDocument {
    /// The document of the register's version `number`: named by that number, as the
    /// agreement's page names it, and saying what the file's own `version:` says if it differs.
    pub fn in_register(mut self, number: i32) -> DpiaDocument {
        let file = self.version;
        self.version = u32::try_from(number).unwrap_or(file);
        self.version_label = if self.version == file {
            number.to_string()
        } else {
            format!("{number} in the register (the agreement file calls itself version {file})")
        };
        self
    }
}

pub fn build(a: &Agreement, s: &Screening, prepared: Date) -> DpiaDocument {
    let risks: Vec<RiskView> = a
        .dpia
        .iter()
        .flat_map(|d| &d.risks)
        .map(risks::risk_view)
        .collect();
    let ico_consultation = risks::ico_consultation(a);
    DpiaDocument {
        title: a.title.clone(),
        agreement_id: a.id.to_string(),
        version: a.version.get(),
        version_label: a.version.get().to_string(),
        prepared: labels::date(prepared),
        owner: contact(&a.owner),
        summary: summary(a, s, &risks, ico_consultation.is_some()),
        need: need::need(a, s),
        description: description::description(a, s),
        diagram_svg: diagram::svg(a),
        consultation: consultation::consultation(a),
        necessity: necessity::necessity(a),
        risk_matrix: risks::risk_matrix(),
        risks,
        sign_off: sign_off::sign_off(a, prepared, ico_consultation.is_some()),
        ico_consultation,
    }
}

fn summary(a: &Agreement, s: &Screening, risks: &[RiskView], consult_ico: bool) -> Summary {
    Summary {
        outcome: s.outcome,
        outcome_label: outcome_label(s.outcome),
        risk_count: risks.len(),
        highest_residual: risks.iter().map(|r| r.residual.level).max().map(Level::of),
        consult_ico,
        dpo_advice: dpo_outcome(a).to_owned(),
        next_review: a
            .term
            .next_review()
            .map_or_else(|| "not set".to_owned(), labels::date),
    }
}

fn dpo_outcome(a: &Agreement) -> &'static str {
    match a.dpia.as_ref().and_then(|d| d.dpo_advice.as_ref()) {
        Some(advice) if advice.accepted => "Accepted",
        Some(_) => "Overruled",
        None => "Not yet given",
    }
}

fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Required => "A DPIA is required",
        Outcome::Recommended => "A DPIA is recommended",
        Outcome::NotRequired => "A DPIA is not required",
    }
}

fn contact(c: &Contact) -> String {
    format!("{} ({})", c.name, c.email)
}

/// Comma-joined, or `None` when empty.
fn joined<'a>(items: impl Iterator<Item = &'a str>) -> Option<String> {
    let all: Vec<&str> = items.collect();
    (!all.is_empty()).then(|| all.join(", "))
}

fn party_name<'a>(a: &'a Agreement, id: &'a str) -> &'a str {
    a.party(id).map_or(id, |p| p.name.as_str())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    crate::text::count(n as u64, one, many)
}

/// The distinct items, in first-seen order.
fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpia::screening::screen;
    use crate::dpia::screening::tests::Parts;

    fn doc(parts: &Parts) -> DpiaDocument {
        let a = parts.agreement();
        build(&a, &screen(&a), jiff::civil::date(2026, 6, 1))
    }

    const RISKY: &str = "{ dpo_advice: { summary: Go ahead., accepted: false }, risks: [
        { id: leak, likelihood: probable, severity: severe, measures: [
            { description: Encrypt, effect: reduced, residual: high, approved: true } ] },
        { id: misuse, likelihood: remote, severity: minimal, measures: [
            { description: Train staff, effect: reduced, residual: low, approved: false } ] } ] }";

    #[test]
    fn the_register_scores_with_the_ico_matrix_and_keeps_high_residuals() {
        let d = doc(&Parts {
            dpia: RISKY,
            ..Parts::default()
        });
        assert_eq!(d.risks.len(), 2);
        assert_eq!(d.risks[0].overall.level, RiskLevel::High);
        assert_eq!(d.risks[0].residual.level, RiskLevel::High);
        assert_eq!(d.risks[1].overall.level, RiskLevel::Low);
        let notice = d.ico_consultation.as_deref().unwrap_or_default();
        assert!(notice.contains("for leak") && notice.contains("Article 36"));
        assert!(d.summary.consult_ico);
        assert_eq!(
            d.summary.highest_residual.map(|l| l.level),
            Some(RiskLevel::High)
        );
    }

    #[test]
    fn sign_off_follows_the_ico_template() {
        let d = doc(&Parts {
            dpia: RISKY,
            ..Parts::default()
        });
        let items: Vec<&str> = d.sign_off.iter().map(|r| r.item).collect();
        assert_eq!(items.len(), 7);
        assert_eq!(items[0], "Measures approved by");
        assert!(d.sign_off[0].who.is_empty());
        assert!(d.sign_off[0].notes[0].starts_with("1 of 2 measures approved"));
        assert_eq!(
            d.sign_off[0].notes[1],
            "Not approved (risk misuse): Train staff"
        );
        assert!(d.sign_off[1].notes[0].contains("consult the ICO"));
        assert_eq!(d.sign_off[3].notes, ["Go ahead."]);
        assert!(d.sign_off[4].notes[0].contains("overruled"));
        assert!(d.sign_off[6].notes[0].contains("next review due by 1 January 2027"));
    }

    #[test]
    fn no_residual_high_means_no_article_36_notice() {
        let d = doc(&Parts::default());
        assert!(d.ico_consultation.is_none());
        assert!(d.risks.is_empty());
        assert!(d.sign_off[1].notes[0].contains("risk register is empty"));
        assert!(d.consultation.missing_views.is_some());
        assert_eq!(d.summary.dpo_advice, "Not yet given");
    }

    #[test]
    fn minimisation_and_retention_are_shown_per_flow_and_holder() {
        let d = doc(&Parts {
            fields: "  - { id: phone, category: contact }\n  - { id: unused, category: other }",
            flows: "  - { id: call-back, from: charity, to: council, purpose: help, fields: [full-name, phone] }",
            ..Parts::default()
        });
        let m = &d.description.flows;
        assert_eq!(m[0].share, "1 of 3");
        assert_eq!(m[1].fields, "full-name, phone");
        assert_eq!(d.necessity.unshared_fields.as_deref(), Some("unused"));
        let holders: Vec<&str> = d
            .necessity
            .retention
            .iter()
            .map(|h| h.holder.as_str())
            .collect();
        assert_eq!(holders, ["Test Council", "Test Charity"]);
        assert_eq!(
            d.necessity.retention[0].rules[0].period,
            "1 year from receipt, then deleted"
        );
        assert_eq!(
            d.necessity.retention[0].rules[0].flows,
            "every flow it receives"
        );
    }

    #[test]
    fn every_field_is_serialised_even_when_absent() {
        let d = doc(&Parts::default());
        let json = serde_json::to_value(&d).unwrap_or_default();
        assert!(json["ico_consultation"].is_null());
        assert!(json["need"]["benefits"].is_null());
        assert_eq!(json["need"]["outcome"], "not_required");
    }
}
