//! The YAML that approving an access request drafts (`accord_core::access::drafting::draft`), with
//! arbitrary text in every free-text answer, addressed to each sample agreement (joining it)
//! and to an organisation (a new agreement). Drafting never panics, and what the requester
//! typed stays text: the draft is YAML that parses, with only the agreement format's top-level
//! keys, and the requesting organisation's name and the purpose (and, in a new agreement, the
//! legal power) read back exactly as typed.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use accord_core::access::drafting::{Addressed, Drafting, draft};
use accord_core::access::form::{Answer, Answers, Choices};
use accord_fuzz::{AGREEMENTS, TODAY};
use libfuzzer_sys::fuzz_target;
use serde_yaml::Value;

/// The free-text answers the fuzzer fills, in the order its pieces are used.
const TEXTS: [&str; 9] = [
    "org_name",
    "org_address",
    "requester_name",
    "purpose",
    "benefits",
    "necessity",
    "legal_power",
    "onward_details",
    "rights",
];

/// The top-level keys an agreement may have: those of the format's JSON Schema, which is
/// generated from the model, so a key the format gains is known here at once.
static KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let schema = accord_core::agreement::schema::json_schema();
    let keys: Vec<String> = schema["properties"]
        .as_object()
        .expect("the schema lists the top-level keys")
        .keys()
        .cloned()
        .collect();
    assert!(keys.iter().any(|k| k == "flows"), "{keys:?}");
    keys
});

fn answers(texts: &[String], fields: &[String]) -> Answers {
    let one = |v: &str| Answer::One(v.to_owned());
    let mut a: BTreeMap<String, Answer> = [
        ("org_ico", one("ZA123456")),
        ("org_sector", one("vcs")),
        ("dspt_status", one("standards_met")),
        ("dspt_expires", one("2027-06-30")),
        ("iso27001", one("no")),
        ("requester_role", one("Operations manager")),
        ("requester_email", one("ann@hope.example")),
        ("dpo_name", one("Dan Poe")),
        ("dpo_email", one("dpo@hope.example")),
        ("subjects", Answer::Many(vec!["residents".into()])),
        ("volume", one("About 200 residents a month")),
        ("frequency", one("on_demand")),
        ("article6", one("public_task")),
        ("article9", one("health_social_care")),
        (
            "schedule1",
            Answer::Many(vec!["p2_health_social_care".into()]),
        ),
        ("article10", one("official_authority")),
        ("keep_for", one("P6M")),
        ("then", one("delete")),
        ("deletion_method", one("email")),
        ("deletion_email", one("data@hope.example")),
        ("onward", one("yes")),
        ("processors", one("no")),
        ("rights_email", one("rights@hope.example")),
        ("start", one("2027-01-04")),
        ("end", one("2028-01-03")),
        ("data", Answer::Many(fields.to_vec())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, text) in TEXTS.iter().zip(texts) {
        a.insert((*name).to_owned(), Answer::One(text.clone()));
    }
    Answers(a)
}

/// `joined`: the draft is the addressed agreement's next version, whose lawful basis stays
/// its own (the requester's proposal goes in a comment for the officer).
fn read_back(yaml: &str, texts: &[String], joined: bool) {
    let doc: Value = serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let top = doc.as_mapping().expect("a mapping at the top");
    for key in top.keys() {
        let key = key.as_str().expect("text keys");
        assert!(
            KEYS.iter().any(|k| k == key),
            "unexpected top-level key {key:?}\n{yaml}"
        );
    }
    let names: Vec<&str> = doc["parties"]
        .as_sequence()
        .expect("parties")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&texts[0].as_str()),
        "{names:?} lacks {:?}\n{yaml}",
        texts[0]
    );
    let purposes: Vec<&str> = doc["purposes"]
        .as_sequence()
        .expect("purposes")
        .iter()
        .filter_map(|p| p["description"].as_str())
        .collect();
    assert!(
        purposes.contains(&texts[3].as_str()),
        "{purposes:?}\n{yaml}"
    );
    if !joined {
        let power = doc["lawful_basis"]["legal_power"].as_str();
        assert_eq!(power, Some(texts[6].as_str()), "{yaml}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut texts: Vec<String> = text.split('\u{1}').map(str::to_owned).collect();
    texts.resize(TEXTS.len(), "x".to_owned());
    // The form refuses a blank answer to these questions, so a complete request has none.
    for t in &mut texts {
        if t.trim().is_empty() {
            t.insert(0, 'x');
        }
    }
    let samples = &*AGREEMENTS;
    let agreement = &samples[usize::from(pick) % samples.len()];
    let choices = Choices {
        targets: vec![(
            format!("agreement:{}", agreement.id),
            agreement.title.clone(),
        )],
        ..Default::default()
    }
    .with_agreement(agreement);
    let fields: Vec<String> = choices.fields.iter().take(3).map(|f| f.0.clone()).collect();
    let a = answers(&texts, &fields);
    let joined = draft(
        &a,
        &Drafting {
            addressed: Addressed::Agreement(agreement),
            reference: "AR-2026-0001",
            today: TODAY,
            choices: &choices,
            taken: &[],
            as_party: None,
        },
    )
    .expect("an agreement always serialises");
    read_back(&joined.yaml, &texts, true);

    let provider = &agreement.parties[usize::from(pick / 8) % agreement.parties.len()];
    let choices = Choices {
        targets: vec![(format!("party:{}", provider.id), provider.name.clone())],
        ..Default::default()
    };
    let categories = [
        "identity".to_owned(),
        "contact".to_owned(),
        "health".to_owned(),
    ];
    let a = answers(&texts, &categories);
    let new = draft(
        &a,
        &Drafting {
            addressed: Addressed::Organisation(provider),
            reference: "AR-2026-0002",
            today: TODAY,
            choices: &choices,
            taken: &[],
            as_party: None,
        },
    )
    .expect("an agreement always serialises");
    read_back(&new.yaml, &texts, false);
});
