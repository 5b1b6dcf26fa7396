//! The DPIA as data: everything the templates print, computed here from the agreement and its
//! screening, in the order of the ICO's sample DPIA template (seven steps). Templates only lay
//! it out, so an organisation can restyle or reword its DPIA without re-deriving anything, and
//! the derivations are tested in Rust.
//!
//! Every field is always present (absent values are `null`, lists may be empty), so that a
//! template typo is an error under handlebars' strict mode rather than a silent blank.

use jiff::civil::Date;
use serde::Serialize;

use super::screening::{Criterion, Outcome, Screening};
use super::{diagram, labels, risk};
use crate::agreement::Agreement;
use crate::agreement::model::{
    Contact, Field, Flow, Measure, Party, RetentionRule, Risk, Signature,
};
use crate::agreement::vocab::{PartyRole, RiskLevel, SignatureRole};

#[derive(Debug, Clone, Serialize)]
pub struct DpiaDocument {
    pub title: String,
    pub agreement_id: String,
    pub version: u32,
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

/// Step 1: the need for a DPIA.
#[derive(Debug, Clone, Serialize)]
pub struct Need {
    pub summary: String,
    pub benefits: Option<String>,
    pub outcome: Outcome,
    pub outcome_label: &'static str,
    pub why: Vec<String>,
    pub criteria_met: usize,
    pub criteria: Vec<Answer>,
    pub article35_3: Vec<Answer>,
    pub ico_list: Vec<Answer>,
}

/// A screening question as printed: Yes, No or Not recorded, with the reasons.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub id: &'static str,
    pub title: &'static str,
    pub answer: &'static str,
    /// `yes`, `no` or `unknown`, for styling.
    pub class: &'static str,
    pub reasons: Vec<String>,
}

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

/// Step 3: consultation.
#[derive(Debug, Clone, Serialize)]
pub struct Consultation {
    pub data_subject_views: Option<String>,
    /// What to do when no views are recorded.
    pub missing_views: Option<&'static str>,
    pub dpos: Vec<String>,
    pub processors: Vec<String>,
}

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

/// One row of the ICO matrix, for printing the rule applied.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub severity: &'static str,
    pub cells: Vec<Level>,
}

/// Steps 5 and 6 for one risk.
#[derive(Debug, Clone, Serialize)]
pub struct RiskView {
    pub id: String,
    pub description: Option<String>,
    pub likelihood: &'static str,
    pub severity: &'static str,
    pub overall: Level,
    pub measures: Vec<MeasureView>,
    pub residual: Level,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureView {
    pub description: Option<String>,
    pub effect: &'static str,
    pub residual: Level,
    pub approved: &'static str,
}

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

/// Builds the DPIA for `a`, as prepared on `prepared`.
pub fn build(a: &Agreement, s: &Screening, prepared: Date) -> DpiaDocument {
    let risks: Vec<RiskView> = a
        .dpia
        .iter()
        .flat_map(|d| &d.risks)
        .map(risk_view)
        .collect();
    let ico_consultation = ico_consultation(a);
    DpiaDocument {
        title: a.title.clone(),
        agreement_id: a.id.to_string(),
        version: a.version.get(),
        prepared: labels::date(prepared),
        owner: contact(&a.owner),
        summary: summary(a, s, &risks, ico_consultation.is_some()),
        need: need(a, s),
        description: description(a, s),
        diagram_svg: diagram::svg(a),
        consultation: consultation(a),
        necessity: necessity(a),
        risk_matrix: risk_matrix(),
        risks,
        sign_off: sign_off(a, prepared, ico_consultation.is_some()),
        ico_consultation,
    }
}

fn contact(c: &Contact) -> String {
    format!("{} ({})", c.name, c.email)
}

fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Required => "A DPIA is required",
        Outcome::Recommended => "A DPIA is recommended",
        Outcome::NotRequired => "A DPIA is not required",
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

fn need(a: &Agreement, s: &Screening) -> Need {
    Need {
        summary: a.summary.clone(),
        benefits: a.benefits.clone(),
        outcome: s.outcome,
        outcome_label: outcome_label(s.outcome),
        why: s.why.clone(),
        criteria_met: s.fired_criteria().count(),
        criteria: answers(&s.criteria),
        article35_3: answers(&s.article35_3),
        ico_list: answers(&s.ico_list),
    }
}

fn answers(list: &[Criterion]) -> Vec<Answer> {
    list.iter()
        .map(|c| {
            let (answer, class) = match (c.recorded, c.fired) {
                (false, _) => ("Not recorded", "unknown"),
                (true, true) => ("Yes", "yes"),
                (true, false) => ("No", "no"),
            };
            Answer {
                id: c.id,
                title: c.title,
                answer,
                class,
                reasons: c.reasons.clone(),
            }
        })
        .collect()
}

fn description(a: &Agreement, s: &Screening) -> Description {
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

/// Comma-joined, or `None` when empty.
fn joined<'a>(items: impl Iterator<Item = &'a str>) -> Option<String> {
    let all: Vec<&str> = items.collect();
    (!all.is_empty()).then(|| all.join(", "))
}

fn party_name<'a>(a: &'a Agreement, id: &'a str) -> &'a str {
    a.party(id).map_or(id, |p| p.name.as_str())
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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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

fn consultation(a: &Agreement) -> Consultation {
    let views = a.dpia.as_ref().and_then(|d| d.data_subject_views.clone());
    let missing_views = views.is_none().then_some(
        "No consultation with data subjects is recorded. Article 35(9) asks the controller to \
         seek the views of data subjects or their representatives where appropriate, or to \
         record why it is not appropriate.",
    );
    Consultation {
        data_subject_views: views,
        missing_views,
        dpos: a
            .parties
            .iter()
            .filter_map(|p| {
                p.dpo
                    .as_ref()
                    .map(|d| format!("{}, data protection officer for {}", contact(d), p.name))
            })
            .collect(),
        processors: a
            .parties
            .iter()
            .filter(|p| p.role == PartyRole::Processor)
            .map(|p| {
                let contract = p
                    .contract
                    .as_ref()
                    .map(|c| format!(" ({})", c.trim()))
                    .unwrap_or_default();
                format!(
                    "{} is a processor: its Article 28 contract{contract} obliges it to assist \
                     with this DPIA (Article 28(3)(f)).",
                    p.name
                )
            })
            .collect(),
    }
}

fn necessity(a: &Agreement) -> Necessity {
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

fn risk_matrix() -> Vec<MatrixRow> {
    risk::matrix()
        .into_iter()
        .map(|row| MatrixRow {
            severity: labels::severity(row.severity),
            cells: row.cells.into_iter().map(Level::of).collect(),
        })
        .collect()
}

fn risk_view(r: &Risk) -> RiskView {
    RiskView {
        id: r.id.to_string(),
        description: r.description.clone(),
        likelihood: labels::likelihood(r.likelihood),
        severity: labels::severity(r.severity),
        overall: Level::of(risk::score(r.likelihood, r.severity)),
        measures: r.measures.iter().map(measure_view).collect(),
        residual: Level::of(risk::residual(r)),
    }
}

fn measure_view(m: &Measure) -> MeasureView {
    MeasureView {
        description: m.description.clone(),
        effect: labels::effect(m.effect),
        residual: Level::of(m.residual),
        approved: labels::yes_no(m.approved),
    }
}

/// The Article 36 notice, when any risk's residual stays high.
fn ico_consultation(a: &Agreement) -> Option<String> {
    let high: Vec<&str> = a
        .dpia
        .iter()
        .flat_map(|d| &d.risks)
        .filter(|r| risk::residual(r) == RiskLevel::High)
        .map(|r| r.id.as_str())
        .collect();
    (!high.is_empty()).then(|| {
        format!(
            "Residual risk stays high for {}. The ICO must be consulted before the processing \
             starts (UK GDPR Article 36). The ICO gives written advice within eight weeks, \
             which it can extend by six.",
            labels::and_list(&high)
        )
    })
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

fn sign_off(a: &Agreement, prepared: Date, consult_ico: bool) -> Vec<SignOffRow> {
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
