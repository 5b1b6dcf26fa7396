//! What the fuzz targets share: the gate's index over the sample agreements (as
//! `core/src/gate/decide.rs`'s tests build one), the days decisions are taken on, and the promises
//! every decision must keep, checked with `assert!` so that a broken promise is a crash.
//!
//! Only public APIs of `accord` are used, so the targets follow the main crate's changes.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, LazyLock};

use accord_core::agreement::lifecycle::{Control, Stored};
use accord_core::agreement::{ValidAgreement, check_source};
use accord_core::gate::{
    CheckRequest, Decision, Index, IndexedAgreement, Outcome, ReasonCode, VersionInForce, decide,
};
use jiff::civil::{Date, date};

/// The sample agreements, compiled in so a target needs no files at run time.
pub const SAMPLES: [&str; 5] = [
    include_str!("../../agreements/camden-foodbank-referrals.yaml"),
    include_str!("../../agreements/hmo-licensing-enforcement.yaml"),
    include_str!("../../agreements/hospital-discharge.yaml"),
    include_str!("../../agreements/school-attendance-pooling.yaml"),
    include_str!("../../agreements/vulnerability-hub.yaml"),
];

/// The day the samples are checked on (the date the main crate's tests use): every sample is
/// in its term and every assurance current.
pub const TODAY: Date = date(2026, 11, 21);

/// The days each request is decided on: today, before every sample's term, and after it.
pub const DAYS: [Date; 3] = [TODAY, date(2019, 1, 1), date(2041, 6, 30)];

/// The samples, checked (each must be valid).
pub static AGREEMENTS: LazyLock<Vec<Arc<ValidAgreement>>> = LazyLock::new(|| {
    SAMPLES
        .iter()
        .map(|src| {
            let checked = check_source(src.as_bytes(), TODAY);
            Arc::new(checked.agreement.expect("every sample agreement is valid"))
        })
        .collect()
});

/// Indexes over the samples: (1) every sample active and open under its own id, and each also
/// under derived ids in every other state (`<id>~suspended`, `~terminated`, `~draft`,
/// `~superseded`, `~none` with no version); (2) the same with two parties suspended.
pub static INDEXES: LazyLock<[Index; 2]> = LazyLock::new(|| {
    let build = |suspended: &[&str]| {
        let mut entries = Vec::new();
        for a in AGREEMENTS.iter() {
            let id = a.id.as_str().to_owned();
            entries.push(IndexedAgreement::active(3, a.clone()));
            let variants = [
                ("suspended", Control::Suspended, Some(Stored::Active)),
                ("terminated", Control::Terminated, Some(Stored::Active)),
                ("draft", Control::Open, Some(Stored::Draft)),
                ("superseded", Control::Open, Some(Stored::Superseded)),
                ("none", Control::Open, None),
            ];
            for (suffix, control, stored) in variants {
                entries.push(IndexedAgreement {
                    id: format!("{id}~{suffix}"),
                    control,
                    version: stored.map(|stored| VersionInForce {
                        number: 2,
                        stored,
                        amendments: 0,
                        agreement: a.clone(),
                    }),
                });
            }
        }
        Index::build(entries, suspended.iter().map(|s| s.to_string()))
    };
    [build(&[]), build(&["foodbank", "metis"])]
});

/// Decides `req` over every index of the samples on every day, checking each answer.
pub fn decide_everywhere(req: &CheckRequest) {
    for index in INDEXES.iter() {
        decide_everywhere_in(index, req);
    }
}

/// Decides `req` over `index` on every day, checking each answer.
pub fn decide_everywhere_in(index: &Index, req: &CheckRequest) {
    for day in DAYS {
        let d = decide(index, req, day);
        assert_keeps_promises(req, &d);
    }
}

/// The distinct strings of `items`, first occurrence first.
pub fn distinct(items: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    items
        .iter()
        .map(String::as_str)
        .filter(|s| seen.insert(*s))
        .collect()
}

/// What `Decision` promises (core/src/gate/wire.rs, core/src/gate/decide.rs): every distinct requested
/// field exactly once, in request order, in `permitted_fields` or `denied_fields`; an allow
/// carries the single reason `permitted`, no denied field and a flow; a deny has reasons, none
/// of them `permitted`, in the fixed order of their codes.
pub fn assert_keeps_promises(req: &CheckRequest, d: &Decision) {
    let asked = distinct(&req.fields);
    let position = |f: &String| asked.iter().position(|a| *a == f.as_str());
    for list in [&d.permitted_fields, &d.denied_fields] {
        let at: Vec<Option<usize>> = list.iter().map(position).collect();
        assert!(
            at.iter().all(Option::is_some),
            "{req:?} -> {d:?}: a field not asked"
        );
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{req:?} -> {d:?}: order or repeat"
        );
    }
    let both: BTreeSet<&str> = d
        .permitted_fields
        .iter()
        .chain(&d.denied_fields)
        .map(String::as_str)
        .collect();
    assert_eq!(
        both.len(),
        d.permitted_fields.len() + d.denied_fields.len(),
        "{req:?} -> {d:?}: a field both permitted and denied"
    );
    assert_eq!(both.len(), asked.len(), "{req:?} -> {d:?}: a field missing");
    let codes: Vec<ReasonCode> = d.reasons.iter().map(|r| r.code).collect();
    match d.decision {
        Outcome::Allow => {
            assert_eq!(codes, [ReasonCode::Permitted], "{req:?} -> {d:?}");
            assert!(d.denied_fields.is_empty(), "{req:?} -> {d:?}");
            assert!(d.flow.is_some() && d.agreement_version.is_some(), "{d:?}");
        }
        Outcome::Deny => {
            assert!(
                !codes.is_empty(),
                "{req:?} -> {d:?}: a deny without reasons"
            );
            assert!(!codes.contains(&ReasonCode::Permitted), "{req:?} -> {d:?}");
            assert!(
                codes.windows(2).all(|w| w[0] <= w[1]),
                "{d:?}: reasons out of order"
            );
        }
    }
}
