//! The lawful basis must fit the data: a legal power for public tasks, an Article 9 condition
//! (and its DPA 2018 Schedule 1 condition) for special category data, Article 10 authority for
//! criminal offence data, and the warnings about bases public authorities should not use.

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::{Agreement, LawfulBasis};
use crate::agreement::vocab::{Article6, Article10, FieldCategory, Needed};
use crate::path;

pub fn check(a: &Agreement, f: &mut Findings) {
    let lb = &a.lawful_basis;
    article6(a, f);
    shared_categories(a, f);
    if let Some(art9) = lb.article9
        && art9.needs_schedule1().is_some()
        && lb.schedule1.is_empty()
    {
        let msg = format!(
            "article9 '{art9}' needs a DPA 2018 Schedule 1 condition ({}), but \
             lawful_basis.schedule1 is missing",
            art9.needs_schedule1()
                .map_or(String::new(), Needed::describe)
        );
        f.at(
            Code::Article9NeedsSchedule1,
            &path!["lawful_basis", "article9"],
            msg,
        );
    }
    if lb.article10 == Some(Article10::Schedule1) && lb.schedule1.is_empty() {
        let msg = "article10 'schedule1' relies on a DPA 2018 Schedule 1 condition, but \
                   lawful_basis.schedule1 is missing";
        f.at(
            Code::Schema,
            &path!["lawful_basis", "article10"],
            msg.to_owned(),
        );
    }
    schedule1_fit(lb, f);
    policy_document(lb, f);
}

fn article6(a: &Agreement, f: &mut Findings) {
    let basis = a.lawful_basis.article6;
    let here = path!["lawful_basis", "article6"];
    if basis.needs_legal_power() && a.lawful_basis.legal_power.is_none() {
        let msg = format!(
            "article6 '{basis}' relies on a statute: give lawful_basis.legal_power (e.g. \
             'Care Act 2014 s.2')"
        );
        f.at(Code::MissingLegalPower, &here, msg);
    }
    let public_controller = a
        .parties
        .iter()
        .find(|p| p.role.is_controller() && p.sector.is_public());
    let Some(authority) = public_controller else {
        return;
    };
    match basis {
        Article6::LegitimateInterests => {
            let msg = format!(
                "controller '{}' is a public authority, which cannot rely on legitimate \
                 interests for its tasks (UK GDPR Article 6(1)); consider public_task",
                authority.id
            );
            f.at(Code::PublicAuthorityLegitimateInterests, &here, msg);
        }
        Article6::Consent => {
            let msg = format!(
                "controller '{}' is a public authority relying on consent; the ICO warns such \
                 consent is rarely freely given (power imbalance); consider public_task",
                authority.id
            );
            f.at(Code::ConsentPowerImbalance, &here, msg);
        }
        _ => {}
    }
}

/// Special category and criminal offence fields that a flow carries need their conditions.
fn shared_categories(a: &Agreement, f: &mut Findings) {
    let lb = &a.lawful_basis;
    let carried = a.carried_fields();
    for (i, field) in a.fields.iter().enumerate() {
        if !carried.contains(field.id.as_str()) {
            continue;
        }
        let here = path!["fields", i, "category"];
        if field.category.is_special() && lb.article9.is_none() {
            let msg = format!(
                "field '{}' is {} data (special category) but lawful_basis.article9 is missing",
                field.id, field.category
            );
            f.at(Code::SpecialCategoryWithoutArticle9, &here, msg);
        }
        if field.category == FieldCategory::CriminalOffence && lb.article10.is_none() {
            let msg = format!(
                "field '{}' is criminal offence data but lawful_basis.article10 is missing",
                field.id
            );
            f.at(Code::CriminalDataWithoutArticle10, &here, msg);
        }
    }
}

/// Each listed Schedule 1 condition must support something: article9's Part, or the criminal
/// data when article10 is `schedule1` (DPA 2018 s.10(5): any Part 1, 2 or 3 condition).
fn schedule1_fit(lb: &LawfulBasis, f: &mut Findings) {
    if lb.schedule1.is_empty() {
        return;
    }
    let need = lb.article9.and_then(|a| a.needs_schedule1());
    let for_criminal_data = lb.article10 == Some(Article10::Schedule1);
    let mut reported = 0;
    for (j, &code) in lb.schedule1.iter().enumerate() {
        let fits_article9 = need.is_some_and(|n| n.is_met_by(code));
        if fits_article9 || for_criminal_data {
            continue;
        }
        let why = match (lb.article9, need) {
            (Some(art9), Some(n)) => format!("article9 '{art9}' needs {}", n.describe()),
            (Some(art9), None) => format!("article9 '{art9}' needs no Schedule 1 condition"),
            (None, _) => "there is no article9 condition".to_owned(),
        };
        let msg = format!(
            "Schedule 1 condition '{code}' (Part {}) does not fit: {why}, and article10 is not \
             'schedule1'",
            code.part()
        );
        f.at(
            Code::Schedule1Mismatch,
            &path!["lawful_basis", "schedule1", j],
            msg,
        );
        reported += 1;
    }
    let Some(n) = need else { return };
    let single_already_reported = lb.schedule1.len() == 1 && reported == 1;
    if !lb.schedule1.iter().any(|&c| n.is_met_by(c)) && !single_already_reported {
        let msg = format!(
            "article9 '{}' needs {} among the Schedule 1 conditions, and none is listed",
            lb.article9.map_or("", |a| a.as_str()),
            n.describe()
        );
        f.at(
            Code::Schedule1Mismatch,
            &path!["lawful_basis", "schedule1"],
            msg,
        );
    }
}

fn policy_document(lb: &LawfulBasis, f: &mut Findings) {
    if lb.appropriate_policy_document.is_some() {
        return;
    }
    let first = lb.schedule1.iter().position(|c| c.needs_policy_document());
    if let Some(j) = first {
        let msg = format!(
            "Schedule 1 condition '{}' needs an appropriate policy document (DPA 2018 Sch 1 \
             Part 4); give lawful_basis.appropriate_policy_document",
            lb.schedule1[j]
        );
        let here = path!["lawful_basis", "schedule1", j];
        f.at(Code::MissingAppropriatePolicyDocument, &here, msg);
    }
}
