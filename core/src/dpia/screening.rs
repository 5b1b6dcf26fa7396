//! Screening: is a DPIA needed for this sharing, and why?
//!
//! Three tests, each answered from the agreement with the reasons it gave:
//! - the nine criteria of the EDPB-endorsed WP29 guidelines on DPIAs (WP248 rev.01, section
//!   III.B.a): meeting two or more means the processing is likely to be high risk;
//! - the three cases of UK GDPR Article 35(3), where a DPIA is always required;
//! - the ICO's list of processing likely to result in high risk (published under Article 35(4)),
//!   for which the ICO requires a DPIA. Two of its ten entries (invisible processing, risk of
//!   physical harm) turn on facts the agreement format does not record; they are shown as "not
//!   recorded" so the assessor answers them, rather than silently as "no".
//!
//! Derivations: sensitive data from special-category and criminal-offence fields that a flow
//! carries (a declared field no flow carries is not shared); vulnerable subjects from
//! `children`/`vulnerable_adults` in `data_subjects`; matching from `dpia.matching` or from two
//! or more controllers sending data into the sharing (their datasets meet at the recipient);
//! the rest from the `dpia:` flags.

use std::sync::LazyLock;

use serde::Serialize;

use super::labels;
use crate::agreement::Agreement;
use crate::agreement::model::{Dpia, Field};
use crate::agreement::vocab::FieldCategory;

/// One screening question, answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub id: &'static str,
    pub title: &'static str,
    pub fired: bool,
    /// False when the agreement format cannot answer the question, so the assessor must.
    pub recorded: bool,
    /// Why it fired, or why not: every answer is shown with its grounds.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Two or more EDPB criteria, an Article 35(3) case, or an entry on the ICO's list.
    Required,
    /// One EDPB criterion: not mandatory, but good practice, and the decision must be recorded.
    Recommended,
    NotRequired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Screening {
    /// The nine EDPB criteria, in the guidelines' order.
    pub criteria: Vec<Criterion>,
    /// Article 35(3)(a), (b) and (c).
    pub article35_3: Vec<Criterion>,
    /// The ICO's ten kinds of processing likely to result in high risk.
    pub ico_list: Vec<Criterion>,
    pub outcome: Outcome,
    /// The grounds of the outcome, one sentence each.
    pub why: Vec<String>,
}

impl Screening {
    pub fn fired_criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| c.fired)
    }
}

/// Screens an agreement.
pub fn screen(a: &Agreement) -> Screening {
    let facts = Facts::of(a);
    let criteria = edpb_criteria(&facts);
    let article35_3 = article35_3(&facts);
    let ico_list = ico_list(&facts, &criteria);
    let (outcome, why) = decide(&criteria, &article35_3, &ico_list);
    Screening {
        criteria,
        article35_3,
        ico_list,
        outcome,
        why,
    }
}

/// The `dpia:` block when an agreement leaves it out: every flag false.
static NO_DPIA: LazyLock<Dpia> = LazyLock::new(Dpia::default);

/// A field that at least one flow carries, with those flows.
struct Carried<'a> {
    field: &'a Field,
    flows: Vec<&'a str>,
}

/// What screening needs to know, read once from the agreement.
struct Facts<'a> {
    /// The `dpia:` block, or all flags false when it is absent.
    dpia: &'a Dpia,
    /// Special-category and criminal-offence fields that flows carry.
    sensitive: Vec<Carried<'a>>,
    /// `children` / `vulnerable_adults`, as listed.
    vulnerable: Vec<&'a str>,
    /// Names of the controllers that send data into the sharing.
    sending_controllers: Vec<&'a str>,
    /// Social care fields that flows carry: the ICO's own example of data whose breach could
    /// cause physical harm.
    social_care: Vec<Carried<'a>>,
}

impl<'a> Facts<'a> {
    fn of(a: &'a Agreement) -> Facts<'a> {
        Facts {
            dpia: a.dpia.as_ref().unwrap_or(&NO_DPIA),
            sensitive: carried(a, FieldCategory::is_sensitive),
            vulnerable: a
                .data_subjects
                .iter()
                .map(String::as_str)
                .filter(|s| matches!(*s, "children" | "vulnerable_adults"))
                .collect(),
            sending_controllers: sending_controllers(a),
            social_care: carried(a, |c| c == FieldCategory::SocialCare),
        }
    }

    fn has(&self, category: FieldCategory) -> bool {
        self.sensitive.iter().any(|c| c.field.category == category)
    }
}

/// The fields of the chosen categories that some flow carries, in declaration order.
fn carried(a: &Agreement, want: impl Fn(FieldCategory) -> bool) -> Vec<Carried<'_>> {
    a.fields
        .iter()
        .filter(|f| want(f.category))
        .map(|field| Carried {
            field,
            flows: a
                .flows_carrying(field.id.as_str())
                .map(|fl| fl.id.as_str())
                .collect(),
        })
        .filter(|c| !c.flows.is_empty())
        .collect()
}

/// Controllers (joint or not) that are the sender of at least one flow, in party order.
fn sending_controllers(a: &Agreement) -> Vec<&str> {
    a.parties
        .iter()
        .filter(|p| p.role.is_controller())
        .filter(|p| a.flows.iter().any(|f| f.from.as_str() == p.id.as_str()))
        .map(|p| p.name.as_str())
        .collect()
}

fn criterion(
    id: &'static str,
    title: &'static str,
    fired: bool,
    reasons: Vec<String>,
) -> Criterion {
    Criterion {
        id,
        title,
        fired,
        recorded: true,
        reasons,
    }
}

/// A criterion answered by one `dpia:` flag.
fn declared(id: &'static str, title: &'static str, set: bool, key: &str, what: &str) -> Criterion {
    let reason = if set {
        format!("The agreement declares {what} (dpia.{key}).")
    } else {
        format!("The agreement does not declare {what} (dpia.{key} is not set).")
    };
    criterion(id, title, set, vec![reason])
}

fn edpb_criteria(f: &Facts) -> Vec<Criterion> {
    vec![
        declared(
            "evaluation-scoring",
            "Evaluation or scoring",
            f.dpia.scoring,
            "scoring",
            "evaluation or scoring of people, including profiling",
        ),
        declared(
            "automated-decisions",
            "Automated decision-making with legal or similar significant effect",
            f.dpia.automated_decisions,
            "automated_decisions",
            "automated decisions with legal or similarly significant effects",
        ),
        declared(
            "systematic-monitoring",
            "Systematic monitoring",
            f.dpia.monitoring,
            "monitoring",
            "systematic monitoring of people",
        ),
        sensitive_data(f),
        declared(
            "large-scale",
            "Data processed on a large scale",
            f.dpia.large_scale,
            "large_scale",
            "processing on a large scale",
        ),
        matching(f),
        vulnerable_subjects(f),
        declared(
            "innovative-technology",
            "Innovative use or applying new technological or organisational solutions",
            f.dpia.innovative_technology,
            "innovative_technology",
            "innovative technology or a new technological or organisational solution",
        ),
        declared(
            "prevents-rights-or-services",
            "Preventing data subjects from exercising a right or using a service or contract",
            f.dpia.service_access,
            "service_access",
            "processing that can stop people exercising a right or using a service or contract",
        ),
    ]
}

fn sensitive_data(f: &Facts) -> Criterion {
    let reasons = if f.sensitive.is_empty() {
        vec![
            "No flow carries special category (Article 9) or criminal offence (Article 10) data."
                .to_owned(),
        ]
    } else {
        f.sensitive.iter().map(sensitive_reason).collect()
    };
    criterion(
        "sensitive-data",
        "Sensitive data or data of a highly personal nature",
        !f.sensitive.is_empty(),
        reasons,
    )
}

fn sensitive_reason(c: &Carried) -> String {
    let what = if c.field.category.is_criminal() {
        "criminal offence data (Article 10)".to_owned()
    } else {
        format!(
            "special category data (Article 9: {})",
            labels::category(c.field.category)
        )
    };
    format!(
        "Field '{}' is {what}, carried by {}.",
        c.field.id,
        labels::and_list(&c.flows)
    )
}

fn matching(f: &Facts) -> Criterion {
    let several = f.sending_controllers.len() >= 2;
    let mut reasons = Vec::new();
    if f.dpia.matching {
        reasons.push(
            "The agreement declares that datasets are matched or combined (dpia.matching)."
                .to_owned(),
        );
    }
    if several {
        reasons.push(format!(
            "{} controllers send data into the sharing ({}), so their datasets are combined.",
            f.sending_controllers.len(),
            labels::and_list(&f.sending_controllers)
        ));
    }
    if reasons.is_empty() {
        // Not several, so at most one sender.
        let senders = match f.sending_controllers.first() {
            None => "no controller sends data".to_owned(),
            Some(one) => format!("only one controller sends data ({one})"),
        };
        reasons.push(format!("dpia.matching is not set, and {senders}."));
    }
    criterion(
        "matching-combining",
        "Matching or combining datasets",
        f.dpia.matching || several,
        reasons,
    )
}

fn vulnerable_subjects(f: &Facts) -> Criterion {
    let reason = if f.vulnerable.is_empty() {
        "data_subjects lists neither 'children' nor 'vulnerable_adults'.".to_owned()
    } else {
        let quoted: Vec<String> = f.vulnerable.iter().map(|s| format!("'{s}'")).collect();
        format!("data_subjects lists {}.", labels::and_list(&quoted))
    };
    criterion(
        "vulnerable-subjects",
        "Data concerning vulnerable data subjects",
        !f.vulnerable.is_empty(),
        vec![reason],
    )
}

/// "dpia.large_scale is set" / "is not set", for the reasons of combined tests.
fn flag_state(key: &str, set: bool) -> String {
    format!("dpia.{key} is {}", if set { "set" } else { "not set" })
}

fn article35_3(f: &Facts) -> Vec<Criterion> {
    let fl = f.dpia;
    let sensitive = !f.sensitive.is_empty();
    let sensitive_state = if sensitive {
        "flows carry special category or criminal offence data"
    } else {
        "no flow carries special category or criminal offence data"
    };
    let a = fl.automated_decisions && fl.scoring;
    let b = fl.large_scale && sensitive;
    let c = fl.large_scale && fl.monitoring;
    let mut c_reasons = vec![format!(
        "{}; {}.",
        flag_state("large_scale", fl.large_scale),
        flag_state("monitoring", fl.monitoring)
    )];
    if c {
        c_reasons.push(
            "The format does not say whether the monitored area is publicly accessible, so this \
             case is taken to apply: confirm it."
                .to_owned(),
        );
    }
    vec![
        criterion(
            "article-35-3-a",
            "Article 35(3)(a): systematic and extensive automated evaluation, including profiling, \
             on which decisions with legal or similarly significant effects are based",
            a,
            vec![format!(
                "{}; {}.",
                flag_state("automated_decisions", fl.automated_decisions),
                flag_state("scoring", fl.scoring)
            )],
        ),
        criterion(
            "article-35-3-b",
            "Article 35(3)(b): large-scale processing of special category or criminal offence data",
            b,
            vec![format!(
                "{}; {sensitive_state}.",
                flag_state("large_scale", fl.large_scale)
            )],
        ),
        criterion(
            "article-35-3-c",
            "Article 35(3)(c): large-scale systematic monitoring of a publicly accessible area",
            c,
            c_reasons,
        ),
    ]
}

/// Titles of the EDPB criteria that fired, other than `except`: several ICO entries need the
/// processing to meet "any of the other criteria" of the EDPB guidelines as well.
fn others<'c>(criteria: &'c [Criterion], except: &str) -> Vec<&'c str> {
    criteria
        .iter()
        .filter(|c| c.fired && c.id != except)
        .map(|c| c.title)
        .collect()
}

/// An ICO entry that needs its own condition (`Ok(why)` when it holds, `Err(why not)`) plus
/// another EDPB criterion.
fn combined(
    id: &'static str,
    title: &'static str,
    own: Result<&str, &str>,
    others: &[&str],
) -> Criterion {
    let reason = match (own, others) {
        (Err(why_not), _) => format!("Does not apply: {why_not}."),
        (Ok(why), []) => format!(
            "{why}, but no other EDPB criterion is met, which the ICO's list requires for this entry."
        ),
        (Ok(why), more) => format!("{why}, together with: {}.", labels::and_list(more)),
    };
    criterion(id, title, own.is_ok() && !others.is_empty(), vec![reason])
}

/// `Ok(yes)` when `holds`, else `Err(no)`.
fn holds<'t>(holds: bool, yes: &'t str, no: &'t str) -> Result<&'t str, &'t str> {
    if holds { Ok(yes) } else { Err(no) }
}

fn ico_list(f: &Facts, criteria: &[Criterion]) -> Vec<Criterion> {
    let fl = f.dpia;
    vec![
        combined(
            "ico-innovative-technology",
            "Innovative technology",
            holds(
                fl.innovative_technology,
                "The agreement declares innovative technology",
                "dpia.innovative_technology is not set",
            ),
            &others(criteria, "innovative-technology"),
        ),
        denial_of_service(f),
        both(
            "ico-large-scale-profiling",
            "Large-scale profiling",
            [("scoring", fl.scoring), ("large_scale", fl.large_scale)],
        ),
        combined(
            "ico-biometric",
            "Biometric data",
            holds(
                f.has(FieldCategory::Biometric),
                "A flow carries biometric data",
                "no flow carries biometric data",
            ),
            &others(criteria, "sensitive-data"),
        ),
        combined(
            "ico-genetic",
            "Genetic data",
            holds(
                f.has(FieldCategory::Genetic),
                "A flow carries genetic data",
                "no flow carries genetic data",
            ),
            &others(criteria, "sensitive-data"),
        ),
        data_matching(criteria),
        not_recorded(
            "ico-invisible-processing",
            "Invisible processing",
            "whether data is obtained other than from the person and telling them (Article 14) \
             would be impossible or disproportionate",
        ),
        combined(
            "ico-tracking",
            "Tracking",
            holds(
                fl.monitoring,
                "The agreement declares systematic monitoring of people",
                "dpia.monitoring is not set",
            ),
            &others(criteria, "systematic-monitoring"),
        ),
        targeting_vulnerable(f),
        physical_harm(f),
    ]
}

fn physical_harm(f: &Facts) -> Criterion {
    let mut c = not_recorded(
        "ico-physical-harm",
        "Risk of physical harm",
        "whether a breach of this data could put someone's physical health or safety at risk",
    );
    if !f.social_care.is_empty() {
        let ids: Vec<&str> = f.social_care.iter().map(|c| c.field.id.as_str()).collect();
        c.reasons.push(format!(
            "Flows carry social care records ({}), which the ICO gives as an example of this type.",
            labels::and_list(&ids)
        ));
    }
    c
}

/// An ICO entry the format cannot answer.
fn not_recorded(id: &'static str, title: &'static str, what: &str) -> Criterion {
    Criterion {
        id,
        title,
        fired: false,
        recorded: false,
        reasons: vec![format!(
            "The agreement does not record {what}: the assessor must decide."
        )],
    }
}

/// An ICO entry that needs two flags together.
fn both(id: &'static str, title: &'static str, flags: [(&str, bool); 2]) -> Criterion {
    let [(k1, v1), (k2, v2)] = flags;
    let reason = format!("{}; {}.", flag_state(k1, v1), flag_state(k2, v2));
    criterion(id, title, v1 && v2, vec![reason])
}

fn denial_of_service(f: &Facts) -> Criterion {
    let fl = f.dpia;
    let basis = if fl.automated_decisions {
        Some("automated decision-making (dpia.automated_decisions)")
    } else if !f.sensitive.is_empty() {
        Some("special category or criminal offence data carried by the flows")
    } else {
        None
    };
    let (fired, reason) = match (fl.service_access, basis) {
        (true, Some(basis)) => (
            true,
            format!(
                "Decisions about access to a service or right (dpia.service_access) rest on {basis}."
            ),
        ),
        (true, None) => (
            false,
            "dpia.service_access is set, but the decisions use neither automated decision-making \
             nor special category data."
                .to_owned(),
        ),
        (false, _) => (false, "dpia.service_access is not set.".to_owned()),
    };
    criterion(
        "ico-denial-of-service",
        "Denial of service",
        fired,
        vec![reason],
    )
}

fn data_matching(criteria: &[Criterion]) -> Criterion {
    let edpb = criteria.iter().find(|c| c.id == "matching-combining");
    let fired = edpb.is_some_and(|c| c.fired);
    let reasons = edpb.map(|c| c.reasons.clone()).unwrap_or_default();
    criterion("ico-data-matching", "Data matching", fired, reasons)
}

fn targeting_vulnerable(f: &Facts) -> Criterion {
    let fl = f.dpia;
    let profiled = fl.scoring || fl.automated_decisions;
    let reason = match (f.vulnerable.is_empty(), profiled) {
        (true, _) => "data_subjects lists neither 'children' nor 'vulnerable_adults'.".to_owned(),
        (false, true) => format!(
            "The data of {} is used for profiling or automated decisions (dpia.scoring or \
             dpia.automated_decisions).",
            labels::and_list(&f.vulnerable)
        ),
        (false, false) => format!(
            "data_subjects lists {}, but no profiling or automated decisions are declared; the \
             agreement does not record marketing or online services offered directly to \
             children, so confirm neither applies.",
            labels::and_list(&f.vulnerable)
        ),
    };
    criterion(
        "ico-targeting-vulnerable",
        "Targeting of children or other vulnerable individuals",
        !f.vulnerable.is_empty() && profiled,
        vec![reason],
    )
}

fn decide(
    criteria: &[Criterion],
    article35_3: &[Criterion],
    ico: &[Criterion],
) -> (Outcome, Vec<String>) {
    let met: Vec<&str> = criteria
        .iter()
        .filter(|c| c.fired)
        .map(|c| c.title)
        .collect();
    let mut why = vec![edpb_why(&met)];
    why.extend(
        article35_3
            .iter()
            .filter(|c| c.fired)
            .map(|c| format!("{}: a DPIA is mandatory.", c.title)),
    );
    let listed: Vec<&str> = ico.iter().filter(|c| c.fired).map(|c| c.title).collect();
    if !listed.is_empty() {
        why.push(format!(
            "The processing is on the ICO's list of processing that requires a DPIA \
             (Article 35(4)): {}.",
            labels::and_list(&listed)
        ));
    }
    let mandatory = met.len() >= 2 || article35_3.iter().any(|c| c.fired) || !listed.is_empty();
    let outcome = match (mandatory, met.len()) {
        (true, _) => Outcome::Required,
        (false, 1) => Outcome::Recommended,
        (false, _) => Outcome::NotRequired,
    };
    if outcome != Outcome::Required {
        why.push(
            "No Article 35(3) case applies and nothing on the ICO's list is indicated: record \
             this screening decision with the DPO's view."
                .to_owned(),
        );
    }
    (outcome, why)
}

fn edpb_why(met: &[&str]) -> String {
    match met {
        [] => "None of the nine EDPB criteria is met.".to_owned(),
        [one] => format!(
            "One of the nine EDPB criteria is met ({one}); the EDPB guidelines treat one \
             criterion alone as not usually high risk, so a DPIA is recommended as good practice."
        ),
        many => format!(
            "{} of the nine EDPB criteria are met ({}); the EDPB guidelines say processing that \
             meets two or more is likely to be high risk and needs a DPIA.",
            many.len(),
            labels::and_list(many)
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::agreement::check_source;

    /// Parts of a small valid agreement; each test changes only what it screens.
    pub(crate) struct Parts {
        pub subjects: &'static str,
        pub fields: &'static str,
        pub flows: &'static str,
        pub parties: &'static str,
        pub lawful_basis: &'static str,
        pub retention: &'static str,
        pub dpia: &'static str,
    }

    impl Default for Parts {
        fn default() -> Self {
            Parts {
                subjects: "[residents]",
                fields: "",
                flows: "",
                parties: "",
                lawful_basis: "",
                retention: "",
                dpia: "{}",
            }
        }
    }

    impl Parts {
        pub(crate) fn yaml(&self) -> String {
            format!(
                "accord: 1
id: test-agreement
title: Test agreement
version: 1
owner: {{ name: Owner, email: owner@council.example }}
summary: A test.
parties:
  - {{ id: council, name: Test Council, role: controller, sector: local_authority }}
  - {{ id: charity, name: Test Charity, role: recipient, sector: vcs }}
{parties}
purposes:
  - {{ id: help, description: Help people }}
lawful_basis:
  article6: public_task
  legal_power: Test Act 2020 s.1
{lawful_basis}
data_subjects: {subjects}
fields:
  - {{ id: full-name, category: identity }}
{fields}
flows:
  - {{ id: referral, from: council, to: charity, purpose: help, fields: [full-name] }}
{flows}
retention:
  - {{ holder: charity, keep_for: P1Y, from: receipt, then: delete }}
  - {{ holder: council, keep_for: P1Y, from: receipt, then: delete }}
{retention}
term: {{ start: 2026-01-01, review_every: P1Y, termination: Delete within 30 days. }}
dpia: {dpia}
",
                parties = self.parties,
                lawful_basis = self.lawful_basis,
                retention = self.retention,
                subjects = self.subjects,
                fields = self.fields,
                flows = self.flows,
                dpia = self.dpia,
            )
        }

        pub(crate) fn agreement(&self) -> Agreement {
            let yaml = self.yaml();
            let checked = check_source(yaml.as_bytes(), jiff::civil::date(2026, 6, 1));
            match checked.agreement {
                Some(a) => a.into_inner(),
                None => panic!("invalid test agreement: {:#?}\n{yaml}", checked.diagnostics),
            }
        }
    }

    const HEALTH: Parts = Parts {
        subjects: "[patients]",
        fields: "  - { id: diagnosis, category: health }",
        flows: "  - { id: health-referral, from: council, to: charity, purpose: help, fields: [diagnosis] }",
        parties: "",
        lawful_basis: "  article9: health_social_care\n  schedule1: p2_health_social_care",
        retention: "",
        dpia: "{}",
    };

    fn screened(parts: &Parts) -> Screening {
        screen(&parts.agreement())
    }

    fn find<'s>(list: &'s [Criterion], id: &str) -> &'s Criterion {
        list.iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no criterion {id}"))
    }

    fn fired(s: &Screening, id: &str) -> bool {
        let all = s.criteria.iter().chain(&s.article35_3).chain(&s.ico_list);
        let c = all.into_iter().find(|c| c.id == id);
        c.unwrap_or_else(|| panic!("no criterion {id}")).fired
    }

    fn with_dpia(dpia: &'static str) -> Screening {
        screened(&Parts {
            dpia,
            ..Parts::default()
        })
    }

    #[test]
    fn a_plain_agreement_meets_no_criterion() {
        let s = screened(&Parts::default());
        assert_eq!(s.criteria.len(), 9);
        assert_eq!(s.article35_3.len(), 3);
        assert_eq!(s.ico_list.len(), 10);
        assert!(s.criteria.iter().all(|c| !c.fired && !c.reasons.is_empty()));
        assert_eq!(s.outcome, Outcome::NotRequired);
        assert!(s.why[0].contains("None of the nine"));
    }

    #[test]
    fn an_absent_dpia_block_screens_as_every_flag_unset() {
        let parts = Parts {
            dpia: "",
            ..Parts::default()
        };
        assert_eq!(parts.agreement().dpia, None);
        let absent = screened(&parts);
        assert!(absent.criteria.iter().all(|c| !c.fired));
        assert_eq!(absent, with_dpia("{}"));
        assert_eq!(
            find(&absent.criteria, "large-scale").reasons,
            [
                "The agreement does not declare processing on a large scale (dpia.large_scale is not set)."
            ]
        );
    }

    #[test]
    fn each_flag_fires_its_criterion_alone() {
        let cases = [
            ("scoring", "evaluation-scoring"),
            ("automated_decisions", "automated-decisions"),
            ("monitoring", "systematic-monitoring"),
            ("large_scale", "large-scale"),
            ("matching", "matching-combining"),
            ("innovative_technology", "innovative-technology"),
            ("service_access", "prevents-rights-or-services"),
        ];
        for (flag, id) in cases {
            let yaml: &'static str = Box::leak(format!("{{ {flag}: true }}").into_boxed_str());
            let s = with_dpia(yaml);
            let on: Vec<&str> = s.fired_criteria().map(|c| c.id).collect();
            assert_eq!(on, [id], "flag {flag}");
            assert!(find(&s.criteria, id).reasons[0].contains(&format!("dpia.{flag})")));
            let off = with_dpia("{}");
            assert!(!find(&off.criteria, id).fired);
            assert!(find(&off.criteria, id).reasons[0].contains("is not set"));
        }
    }

    #[test]
    fn sensitive_data_fires_on_carried_special_or_criminal_fields() {
        let s = screened(&HEALTH);
        let c = find(&s.criteria, "sensitive-data");
        assert!(c.fired);
        assert_eq!(
            c.reasons,
            [
                "Field 'diagnosis' is special category data (Article 9: health), carried by health-referral."
            ]
        );
        let criminal = screened(&Parts {
            fields: "  - { id: offences, category: criminal_offence }",
            flows: "  - { id: markers, from: council, to: charity, purpose: help, fields: [offences] }",
            lawful_basis: "  article10: official_authority",
            ..Parts::default()
        });
        let c = find(&criminal.criteria, "sensitive-data");
        assert_eq!(
            c.reasons,
            ["Field 'offences' is criminal offence data (Article 10), carried by markers."]
        );
        assert!(c.fired);
    }

    #[test]
    fn sensitive_data_ignores_fields_no_flow_carries() {
        let s = screened(&Parts {
            fields: "  - { id: diagnosis, category: health }",
            ..Parts::default()
        });
        assert!(!fired(&s, "sensitive-data"));
    }

    #[test]
    fn vulnerable_subjects_fire_on_children_or_vulnerable_adults() {
        for subjects in ["[residents, children]", "[vulnerable_adults]"] {
            let s = screened(&Parts {
                subjects,
                ..Parts::default()
            });
            assert!(fired(&s, "vulnerable-subjects"), "{subjects}");
        }
        let both = screened(&Parts {
            subjects: "[children, vulnerable_adults]",
            ..Parts::default()
        });
        assert_eq!(
            find(&both.criteria, "vulnerable-subjects").reasons,
            ["data_subjects lists 'children' and 'vulnerable_adults'."]
        );
        let s = screened(&Parts {
            subjects: "[adults, pupils]",
            ..Parts::default()
        });
        assert!(!fired(&s, "vulnerable-subjects"));
    }

    #[test]
    fn two_sending_controllers_combine_datasets() {
        let s = screened(&Parts {
            parties: "  - { id: trust, name: Test Trust, role: controller, sector: nhs }",
            flows: "  - { id: back, from: trust, to: council, purpose: help, fields: [full-name] }",
            ..Parts::default()
        });
        let c = find(&s.criteria, "matching-combining");
        assert!(c.fired);
        assert!(c.reasons[0].contains("2 controllers send data into the sharing"));
        // A controller that only receives does not combine anything.
        let s = screened(&Parts {
            parties: "  - { id: trust, name: Test Trust, role: controller, sector: nhs }",
            flows: "  - { id: on, from: council, to: trust, purpose: help, fields: [full-name] }",
            retention: "  - { holder: trust, keep_for: P1Y, from: receipt, then: delete }",
            ..Parts::default()
        });
        assert!(!fired(&s, "matching-combining"));
        assert!(find(&s.criteria, "matching-combining").reasons[0].contains("only one controller"));
    }

    #[test]
    fn two_criteria_make_a_dpia_required_and_one_recommended() {
        let one = with_dpia("{ large_scale: true }");
        assert_eq!(one.outcome, Outcome::Recommended);
        let two = with_dpia("{ large_scale: true, innovative_technology: true }");
        assert_eq!(two.outcome, Outcome::Required);
        assert!(two.why[0].starts_with("2 of the nine EDPB criteria are met"));
    }

    #[test]
    fn article_35_3_cases() {
        let a = with_dpia("{ automated_decisions: true, scoring: true }");
        assert!(fired(&a, "article-35-3-a"));
        assert!(!fired(
            &with_dpia("{ automated_decisions: true }"),
            "article-35-3-a"
        ));

        let b = screened(&Parts {
            dpia: "{ large_scale: true }",
            ..HEALTH
        });
        assert!(fired(&b, "article-35-3-b"));
        assert!(b.why.iter().any(|w| w.starts_with("Article 35(3)(b)")));
        assert!(!fired(&screened(&HEALTH), "article-35-3-b"));

        let c = with_dpia("{ large_scale: true, monitoring: true }");
        assert!(fired(&c, "article-35-3-c"));
        assert!(find(&c.article35_3, "article-35-3-c").reasons[1].contains("publicly accessible"));
        assert!(!fired(&with_dpia("{ monitoring: true }"), "article-35-3-c"));
    }

    #[test]
    fn data_matching_alone_is_on_the_ico_list_so_required() {
        let s = with_dpia("{ matching: true }");
        assert!(fired(&s, "ico-data-matching"));
        assert_eq!(s.outcome, Outcome::Required);
        assert!(
            s.why
                .iter()
                .any(|w| w.contains("ICO's list") && w.contains("Data matching"))
        );
    }

    #[test]
    fn ico_entries_that_need_another_criterion() {
        let alone = with_dpia("{ innovative_technology: true }");
        assert!(!fired(&alone, "ico-innovative-technology"));
        assert!(
            find(&alone.ico_list, "ico-innovative-technology").reasons[0]
                .contains("no other EDPB criterion")
        );
        let with_scale = with_dpia("{ innovative_technology: true, large_scale: true }");
        assert!(fired(&with_scale, "ico-innovative-technology"));

        assert!(!fired(&with_dpia("{ monitoring: true }"), "ico-tracking"));
        assert!(fired(
            &with_dpia("{ monitoring: true, scoring: true }"),
            "ico-tracking"
        ));

        let biometric = screened(&Parts {
            subjects: "[children]",
            fields: "  - { id: face, category: biometric }",
            flows: "  - { id: faces, from: council, to: charity, purpose: help, fields: [face] }",
            lawful_basis: "  article9: explicit_consent",
            ..Parts::default()
        });
        assert!(fired(&biometric, "ico-biometric"));
        assert!(!fired(&biometric, "ico-genetic"));
    }

    #[test]
    fn ico_entries_from_flag_pairs() {
        assert!(fired(
            &with_dpia("{ scoring: true, large_scale: true }"),
            "ico-large-scale-profiling"
        ));
        assert!(!fired(
            &with_dpia("{ scoring: true }"),
            "ico-large-scale-profiling"
        ));

        let service = with_dpia("{ service_access: true, automated_decisions: true }");
        assert!(fired(&service, "ico-denial-of-service"));
        assert!(!fired(
            &with_dpia("{ service_access: true }"),
            "ico-denial-of-service"
        ));
        let on_health = screened(&Parts {
            dpia: "{ service_access: true }",
            ..HEALTH
        });
        assert!(fired(&on_health, "ico-denial-of-service"));

        let children = screened(&Parts {
            subjects: "[children]",
            dpia: "{ scoring: true }",
            ..Parts::default()
        });
        assert!(fired(&children, "ico-targeting-vulnerable"));
        let not_profiled = screened(&Parts {
            subjects: "[children]",
            ..Parts::default()
        });
        assert!(!fired(&not_profiled, "ico-targeting-vulnerable"));
    }

    #[test]
    fn genetic_data_is_on_the_ico_list_with_another_criterion() {
        let genetic = |dpia| Parts {
            fields: "  - { id: genome, category: genetic }",
            flows: "  - { id: samples, from: council, to: charity, purpose: help, fields: [genome] }",
            lawful_basis: "  article9: explicit_consent",
            dpia,
            ..Parts::default()
        };
        let alone = screened(&genetic("{}"));
        assert!(fired(&alone, "sensitive-data"));
        let c = find(&alone.ico_list, "ico-genetic");
        assert!(!c.fired);
        assert_eq!(
            c.reasons,
            [
                "A flow carries genetic data, but no other EDPB criterion is met, which the ICO's \
                 list requires for this entry."
            ]
        );
        let large = screened(&genetic("{ large_scale: true }"));
        let c = find(&large.ico_list, "ico-genetic");
        assert!(c.fired);
        assert_eq!(
            c.reasons,
            ["A flow carries genetic data, together with: Data processed on a large scale."]
        );
        assert!(!fired(&large, "ico-biometric"));
        assert!(!fired(&with_dpia("{ large_scale: true }"), "ico-genetic"));
    }

    #[test]
    fn automated_decisions_about_children_target_the_vulnerable() {
        let s = screened(&Parts {
            subjects: "[children]",
            dpia: "{ automated_decisions: true }",
            ..Parts::default()
        });
        let c = find(&s.ico_list, "ico-targeting-vulnerable");
        assert!(c.fired);
        assert_eq!(
            c.reasons,
            [
                "The data of children is used for profiling or automated decisions (dpia.scoring \
                 or dpia.automated_decisions)."
            ]
        );
        assert!(!fired(
            &with_dpia("{ automated_decisions: true }"),
            "ico-targeting-vulnerable"
        ));
    }

    #[test]
    fn service_decisions_on_criminal_offence_data_are_denial_of_service() {
        let criminal = |dpia| Parts {
            fields: "  - { id: offences, category: criminal_offence }",
            flows: "  - { id: markers, from: council, to: charity, purpose: help, fields: [offences] }",
            lawful_basis: "  article10: official_authority",
            dpia,
            ..Parts::default()
        };
        let s = screened(&criminal("{ service_access: true }"));
        let c = find(&s.ico_list, "ico-denial-of-service");
        assert!(c.fired);
        assert_eq!(
            c.reasons,
            [
                "Decisions about access to a service or right (dpia.service_access) rest on \
                 special category or criminal offence data carried by the flows."
            ]
        );
        let not_set = screened(&criminal("{}"));
        let c = find(&not_set.ico_list, "ico-denial-of-service");
        assert!(!c.fired);
        assert_eq!(c.reasons, ["dpia.service_access is not set."]);
        let automated = with_dpia("{ service_access: true, automated_decisions: true }");
        assert_eq!(
            find(&automated.ico_list, "ico-denial-of-service").reasons,
            [
                "Decisions about access to a service or right (dpia.service_access) rest on \
                 automated decision-making (dpia.automated_decisions)."
            ]
        );
    }

    #[test]
    fn entries_the_format_cannot_answer_say_so() {
        let s = screened(&Parts::default());
        for id in ["ico-invisible-processing", "ico-physical-harm"] {
            let c = find(&s.ico_list, id);
            assert!(!c.recorded && !c.fired);
            assert_eq!(c.reasons.len(), 1);
            assert!(c.reasons[0].contains("the assessor must decide"));
        }
        assert!(s.criteria.iter().all(|c| c.recorded));
    }

    #[test]
    fn social_care_records_prompt_the_physical_harm_question() {
        let s = screened(&Parts {
            fields: "  - { id: care-plan, category: social_care }",
            flows: "  - { id: plan, from: council, to: charity, purpose: help, fields: [care-plan] }",
            ..Parts::default()
        });
        let c = find(&s.ico_list, "ico-physical-harm");
        assert!(!c.recorded && !c.fired);
        assert!(c.reasons[1].contains("social care records (care-plan)"));
    }
}
