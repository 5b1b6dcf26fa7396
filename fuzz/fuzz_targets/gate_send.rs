//! The gate's send as `POST /api/v1/flows` reads it: `SendRequest` (with its strictly read
//! records) from arbitrary bytes with serde_json; when it parses, the decision as
//! `flows::Gate::send` takes it (the fields asked and every field the records carry; with
//! `on_extra_fields: strip`, decided again without the refused fields), then minimisation.
#![no_main]

use std::collections::BTreeSet;

use accord_core::gate::SendRequest;
use accord_core::gate::records::{OnExtraFields, minimise};
use accord_core::gate::{Outcome, ReasonCode, decide};
use accord_fuzz::{DAYS, INDEXES, assert_keeps_promises, decide_everywhere};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = serde_json::from_slice::<SendRequest>(data) else {
        return;
    };
    // The records' keys, read again as plain JSON (what was accepted is valid JSON), so this
    // target does not depend on how `Record` stores its fields.
    let value: Value = serde_json::from_slice(data).expect("an accepted send is JSON");
    let keys: Vec<BTreeSet<String>> = value["records"]
        .as_array()
        .expect("records is a list")
        .iter()
        .map(|r| {
            r.as_object()
                .expect("a record is an object")
                .keys()
                .cloned()
                .collect()
        })
        .collect();
    assert_eq!(keys.len(), req.records.len());

    let mut asked = req.check();
    decide_everywhere(&asked);
    for key in keys.iter().flatten() {
        if !asked.fields.contains(key) {
            asked.fields.push(key.clone());
        }
    }
    let mut last = None;
    for index in INDEXES.iter() {
        for day in DAYS {
            let mut d = decide(index, &asked, day);
            assert_keeps_promises(&asked, &d);
            let only_fields = !d.permitted_fields.is_empty()
                && d.reasons
                    .iter()
                    .all(|r| r.code == ReasonCode::FieldNotPermitted);
            if d.decision == Outcome::Deny
                && req.on_extra_fields == OnExtraFields::Strip
                && only_fields
            {
                let mut again = asked.clone();
                again.fields = d.permitted_fields.clone();
                d = decide(index, &again, day);
                assert_keeps_promises(&again, &d);
                assert_eq!(
                    d.decision,
                    Outcome::Allow,
                    "stripping leaves only permitted fields"
                );
            }
            last = Some(d);
        }
    }
    let d = last.expect("decided at least once");
    let permitted: BTreeSet<&str> = d.permitted_fields.iter().map(String::as_str).collect();
    let out = minimise(req.records, &permitted);
    assert_eq!(out.len(), keys.len(), "one record out per record in");
    for (record, sent) in out.iter().zip(&keys) {
        let kept: BTreeSet<&str> = record.keys().map(String::as_str).collect();
        let expected: BTreeSet<&str> = sent
            .iter()
            .map(String::as_str)
            .filter(|k| permitted.contains(k))
            .collect();
        assert_eq!(kept, expected, "exactly the permitted fields sent are kept");
    }
});
