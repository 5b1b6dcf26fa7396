//! Approval drafts the agreement: for every sample agreement as the target (joining it) and
//! for every organisation in the samples (a new agreement), a complete request drafts YAML
//! that `accord check` passes with no error. Hostile answers stay text: they never become
//! YAML structure, and every answer reads back exactly as typed.

use crate::support;

use accord::access::drafting::{Addressed, Drafting, draft};
use accord::access::form::{Answers, Choices, Step, check_all};
use accord::agreement::check_source;
use accord::agreement::diagnostic::Severity;
use accord::agreement::model::Agreement;
use jiff::civil::{Date, date};

fn today() -> Date {
    date(2026, 12, 5)
}

fn samples() -> Vec<Agreement> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("agreements").unwrap() {
        let path = entry.unwrap().path();
        let checked = check_source(&std::fs::read(&path).unwrap(), today());
        let agreement = checked
            .agreement
            .unwrap_or_else(|| panic!("{} has errors", path.display()));
        out.push((*agreement).clone());
    }
    out.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    assert!(out.len() >= 5);
    out
}

fn choices_for(target: &Addressed) -> Choices {
    match target {
        Addressed::Agreement(a) => Choices {
            targets: vec![(format!("agreement:{}", a.id), a.title.clone())],
            ..Default::default()
        }
        .with_agreement(a),
        Addressed::Organisation(p) => Choices {
            targets: vec![(format!("party:{}", p.id), p.name.clone())],
            ..Default::default()
        },
    }
}

/// Complete answers, with `text` in every free-text answer. Fields: the first three the
/// target offers, so special category data is asked for where a sample has it.
fn answers(target: &Addressed, choices: &Choices, text: &str) -> Answers {
    let target_value = choices.targets[0].0.clone();
    let data: Vec<String> = match target {
        Addressed::Agreement(_) => choices.fields.iter().take(4).map(|f| f.0.clone()).collect(),
        Addressed::Organisation(_) => vec!["identity".into(), "contact".into(), "health".into()],
    };
    let data: Vec<&str> = data.iter().map(String::as_str).collect();
    let posted = support::access::answers(&target_value, &data, text);
    let mut a = Answers::default();
    for step in Step::ALL {
        a = a.with_step(step, &posted);
    }
    for (step, problems) in check_all(&a, choices, today()) {
        assert!(problems.is_empty(), "{step:?}: {problems:?}");
    }
    a
}

fn errors_of(yaml: &str) -> Vec<String> {
    check_source(yaml.as_bytes(), today())
        .diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .map(|d| format!("{d:?}"))
        .collect()
}

fn targets(samples: &[Agreement]) -> Vec<Addressed<'_>> {
    let mut out: Vec<Addressed> = samples.iter().map(Addressed::Agreement).collect();
    let mut seen = Vec::new();
    for a in samples {
        for p in &a.parties {
            if !seen.contains(&p.id.to_string()) {
                seen.push(p.id.to_string());
                out.push(Addressed::Organisation(p));
            }
        }
    }
    out
}

#[test]
fn every_sample_and_every_organisation_drafts_clean() {
    let samples = samples();
    let all = targets(&samples);
    assert!(all.len() > samples.len() + 5, "organisations too");
    for target in &all {
        let choices = choices_for(target);
        let a = answers(target, &choices, "");
        let d = Drafting {
            addressed: match target {
                Addressed::Agreement(x) => Addressed::Agreement(x),
                Addressed::Organisation(p) => Addressed::Organisation(p),
            },
            reference: "AR-2026-0001",
            today: today(),
            choices: &choices,
            taken: &[],
            as_party: None,
        };
        let drafted = draft(&a, &d).unwrap();
        let errors = errors_of(&drafted.yaml);
        assert!(
            errors.is_empty(),
            "{}:\n{errors:#?}\n{}",
            drafted.agreement_id,
            drafted.yaml
        );
        let checked = check_source(drafted.yaml.as_bytes(), today());
        let agreement = checked.agreement.unwrap();
        assert_eq!(agreement.id.as_str(), drafted.agreement_id);
        assert!(
            agreement.signatures.is_empty(),
            "every party signs the draft"
        );
        let party = agreement
            .parties
            .iter()
            .find(|p| p.name == "Hope Foodbank")
            .expect("the requester is a party");
        assert!(
            agreement
                .flows
                .iter()
                .any(|f| f.to.as_str() == party.id.as_str()),
            "a flow to the requester"
        );
        assert!(
            drafted.yaml.contains("# OFFICER:"),
            "comments for the officer"
        );
        if let Addressed::Agreement(original) = target {
            assert_eq!(agreement.version.get(), original.version.get() + 1);
            assert_eq!(agreement.parties.len(), original.parties.len() + 1);
            assert_eq!(agreement.flows.len(), original.flows.len() + 1);
        }
    }
}

#[test]
fn hostile_answers_stay_text() {
    let samples = samples();
    let hostile =
        " {{x}} : | \n- id: evil\n# not a comment\n'\"<script>alert(1)</script> &amp; *a &a !!str";
    for target in targets(&samples) {
        let choices = choices_for(&target);
        let a = answers(&target, &choices, hostile);
        let drafted = draft(
            &a,
            &Drafting {
                addressed: target,
                reference: "AR-2026-0002",
                today: today(),
                choices: &choices,
                taken: &[],
                as_party: None,
            },
        )
        .unwrap();
        let errors = errors_of(&drafted.yaml);
        assert!(errors.is_empty(), "{errors:#?}\n{}", drafted.yaml);
        let agreement = check_source(drafted.yaml.as_bytes(), today())
            .agreement
            .unwrap();
        let party = agreement
            .parties
            .iter()
            .find(|p| p.name.starts_with("Hope Foodbank"))
            .unwrap();
        assert_eq!(
            party.name,
            format!("Hope Foodbank{hostile}"),
            "read back as typed"
        );
        assert!(
            !agreement.parties.iter().any(|p| p.id.as_str() == "evil"),
            "no structure from answers"
        );
        let purpose = agreement.purposes.last().unwrap();
        assert_eq!(
            purpose.description.as_deref(),
            Some(format!("To make up food parcels{hostile}").as_str())
        );
    }
}
