//! `accord_core::agreement::check_source` on arbitrary bytes: it never panics, returns an agreement
//! exactly when it found no error, and an agreement it accepts can be indexed and decided on.
#![no_main]

use std::sync::Arc;

use accord_core::agreement::check_source;
use accord_core::gate::{CheckRequest, Index, IndexedAgreement};
use accord_fuzz::{TODAY, decide_everywhere_in};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let checked = check_source(data, TODAY);
    assert_eq!(
        checked.agreement.is_some(),
        !checked.has_errors(),
        "an agreement comes out exactly when there is no error: {:?}",
        checked.diagnostics
    );
    for d in &checked.diagnostics {
        assert!(
            d.pos.line >= 1 && d.pos.column >= 1,
            "{d:?}: a finding without a place"
        );
    }
    let Some(agreement) = checked.agreement else {
        return;
    };
    serde_json::to_string(&*agreement).expect("a checked agreement serialises");
    let agreement = Arc::new(agreement);
    let index = Index::build(vec![IndexedAgreement::active(1, agreement.clone())], []);
    for flow in &agreement.flows {
        let req = CheckRequest {
            agreement: agreement.id.as_str().to_owned(),
            from: flow.from.as_str().to_owned(),
            to: flow.to.as_str().to_owned(),
            purpose: flow.purpose.as_str().to_owned(),
            fields: flow.fields.iter().map(|f| f.as_str().to_owned()).collect(),
            flow: Some(flow.id.as_str().to_owned()),
        };
        decide_everywhere_in(&index, &req);
    }
});
