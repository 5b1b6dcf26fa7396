//! The gate's decision against Cedar evaluating the same rules, in the same run.
//!
//! One generated agreement: 10 parties (one a processor under `contractors`, with assurance
//! dates), 5 purposes, 50 fields, 20 flows of 15 fields each. The request asks for 10 fields of
//! the flow into the processor, so every rule has work to do; it is allowed.
//!
//! Cedar gets every advantage we can give it: its `PolicySet`, `Entities`, `Authorizer` and
//! `Request`s are built once outside the timed loop (we time only `is_authorized`), while
//! `accord-decide` times the whole `decide` call from request to owned answer. Dates are Cedar
//! `Long`s (yyyymmdd), cheaper than its datetime extension. The rules, as policies:
//! one `permit` per flow (sender, recipient, purpose, fields), and one `forbid` each for an
//! inactive agreement, a date outside the term, a suspended party, an expired recipient
//! assurance and an ended contractor engagement.
//!
//! Two encodings of the field check, both timed:
//! - `cedar-one-request`: the request's fields in the context, each flow's policy testing
//!   `[...].containsAll(context.fields)`. The cheapest encoding, but it answers only yes or no:
//!   not which fields are permitted, which the gate must say.
//! - `cedar-request-per-field`: the idiomatic Cedar model, where the field is the resource and
//!   belongs to (`in`) the flows that carry it; one `is_authorized` per requested field. This
//!   answers what the gate answers (per-field permitted or denied).
//!
//! The goal is judged against the cheaper, `cedar-one-request`.
//!
//!     cargo bench --features bench-cedar --bench gate
//!
//! The feature brings in `cedar-policy`, which nothing else uses, so that the test command
//! does not compile it.

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;

use accord_core::agreement::check_source;
use accord_core::gate::{CheckRequest, Index, IndexedAgreement, Outcome, decide};
use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::{Date, date};
use serde_json::{Value, json};

const PARTIES: usize = 10;
const PURPOSES: usize = 5;
const FIELDS: usize = 50;
const FLOWS: usize = 20;
const FLOW_FIELDS: usize = 15;
const ASKED_FLOW: usize = 8;
const ASKED_FIELDS: usize = 10;
const PROCESSOR: usize = 9;

fn party(i: usize) -> String {
    format!("p{i}")
}

fn field(i: usize) -> String {
    format!("f{i:02}")
}

fn purpose(i: usize) -> String {
    format!("purpose-{i}")
}

/// Flow `i`: its sender, recipient, purpose and fields. Routes are distinct and never circular.
struct FlowSpec {
    id: String,
    from: String,
    to: String,
    purpose: String,
    fields: Vec<String>,
}

fn flow(i: usize) -> FlowSpec {
    FlowSpec {
        id: format!("flow-{i:02}"),
        from: party(i % PARTIES),
        to: party((i + 1 + i / PARTIES) % PARTIES),
        purpose: purpose(i % PURPOSES),
        fields: (0..FLOW_FIELDS)
            .map(|j| field((3 * i + j) % FIELDS))
            .collect(),
    }
}

fn agreement_yaml() -> String {
    let mut y = String::from(
        "accord: 1\nid: bench-gate\ntitle: Gate benchmark\nversion: 1\n\
         owner: { name: Bench Owner, email: owner@bench.example }\n\
         summary: A generated agreement with many fields and flows.\nparties:\n",
    );
    for p in 0..PARTIES {
        let (role, sector) = match p {
            0 => ("controller", "local_authority"),
            PROCESSOR => ("processor\n    contract: Contract PX-9", "private"),
            _ => ("recipient", "vcs"),
        };
        y += &format!(
            "  - id: {id}\n    name: Party {p}\n    role: {role}\n    sector: {sector}\n\
             \x20   dpo: {{ name: Dpo {p}, email: dpo@{id}.example }}\n\
             \x20   signatory: {{ name: Signer {p}, email: signer@{id}.example }}\n\
             \x20   assurance:\n      dspt: {{ status: standards_met, expires: 2030-06-30 }}\n\
             \x20     cyber_essentials: {{ expires: 2030-01-31 }}\n",
            id = party(p)
        );
    }
    y += "purposes:\n";
    for p in 0..PURPOSES {
        y += &format!("  - id: {}\n", purpose(p));
    }
    y += "lawful_basis:\n  article6: public_task\n  legal_power: Local Government Act 1972 s.111\n\
          data_subjects: [residents]\nfields:\n";
    for f in 0..FIELDS {
        y += &format!("  - id: {}\n    category: identity\n", field(f));
    }
    y += "flows:\n";
    for f in (0..FLOWS).map(flow) {
        y += &format!(
            "  - id: {}\n    from: {}\n    to: {}\n    purpose: {}\n    fields: [{}]\n",
            f.id,
            f.from,
            f.to,
            f.purpose,
            f.fields.join(", ")
        );
    }
    y += "retention:\n";
    for p in 0..PARTIES {
        y += &format!(
            "  - holder: {}\n    keep_for: P90D\n    from: receipt\n    then: delete\n",
            party(p)
        );
    }
    y += "term:\n  start: 2026-01-01\n  end: 2030-12-31\n  review_every: P12M\n\
          \x20 termination: Each recipient deletes what it holds within 30 days.\n\
          contractors:\n";
    y += &format!(
        "  - party: {}\n    engagement_end: 2030-12-31\n",
        party(PROCESSOR)
    );
    y
}

fn today() -> Date {
    date(2026, 11, 21)
}

fn index() -> Index {
    let checked = check_source(agreement_yaml().as_bytes(), today());
    let agreement = checked.agreement.unwrap_or_else(|| {
        panic!(
            "the generated agreement is invalid: {:#?}",
            checked.diagnostics
        )
    });
    let indexed = IndexedAgreement::active(1, Arc::new(agreement));
    Index::build(vec![indexed], [])
}

fn request() -> CheckRequest {
    let f = flow(ASKED_FLOW);
    CheckRequest {
        agreement: "bench-gate".into(),
        from: f.from,
        to: f.to,
        purpose: f.purpose,
        fields: f.fields[..ASKED_FIELDS].to_vec(),
        flow: None,
    }
}

/// The non-flow rules as Cedar `forbid`s; `recipient` is where the receiving party is in the
/// request (`resource`, or `context.recipient` when the resource is a field).
fn cedar_forbids(recipient: &str) -> String {
    let r = recipient;
    format!(
        r#"
@id("agreement-not-active")
forbid(principal, action == Action::"share", resource) unless {{ context.agreement.active }};
@id("outside-term")
forbid(principal, action == Action::"share", resource)
when {{ context.today < context.agreement.start || context.today > context.agreement.end }};
@id("party-suspended")
forbid(principal, action == Action::"share", resource)
when {{ principal.suspended || {r}.suspended }};
@id("assurance-expired")
forbid(principal, action == Action::"share", resource)
when {{ ({r} has dspt_expires && {r}.dspt_expires < context.today) ||
       ({r} has ce_expires && {r}.ce_expires < context.today) }};
@id("contractor-engagement-ended")
forbid(principal, action == Action::"share", resource)
when {{ (principal has engagement_end && principal.engagement_end < context.today) ||
       ({r} has engagement_end && {r}.engagement_end < context.today) }};
"#
    )
}

fn quoted(fields: &[String]) -> String {
    let q: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
    q.join(", ")
}

/// One policy per flow; the request's fields must all be in the flow's list.
fn cedar_policies_one_request() -> PolicySet {
    let mut text = cedar_forbids("resource");
    for f in (0..FLOWS).map(flow) {
        text += &format!(
            "@id(\"{}\")\npermit(principal == Party::\"{}\", action == Action::\"share\", \
             resource == Party::\"{}\")\nwhen {{ context.purpose == \"{}\" && \
             [{}].containsAll(context.fields) }};\n",
            f.id,
            f.from,
            f.to,
            f.purpose,
            quoted(&f.fields)
        );
    }
    PolicySet::from_str(&text).unwrap()
}

/// One policy per flow; the field (the resource) must be in the flow.
fn cedar_policies_per_field() -> PolicySet {
    let mut text = cedar_forbids("context.recipient");
    for f in (0..FLOWS).map(flow) {
        text += &format!(
            "@id(\"{}\")\npermit(principal == Party::\"{}\", action == Action::\"share\", \
             resource in Flow::\"{}\")\nwhen {{ context.recipient == Party::\"{}\" && \
             context.purpose == \"{}\" }};\n",
            f.id, f.from, f.id, f.to, f.purpose
        );
    }
    PolicySet::from_str(&text).unwrap()
}

fn uid(ty: &str, id: &str) -> Value {
    json!({ "type": ty, "id": id })
}

/// Parties with their suspension, assurance and engagement dates; the agreement with its state
/// and term; fields as members of the flows that carry them.
fn cedar_entities() -> Entities {
    let mut all = vec![json!({
        "uid": uid("Agreement", "bench-gate"),
        "attrs": { "active": true, "start": 20260101, "end": 20301231 },
        "parents": []
    })];
    for p in 0..PARTIES {
        let mut attrs = json!({ "suspended": false, "dspt_expires": 20300630,
                                "ce_expires": 20300131 });
        if p == PROCESSOR {
            attrs["engagement_end"] = json!(20301231);
        }
        all.push(json!({ "uid": uid("Party", &party(p)), "attrs": attrs, "parents": [] }));
    }
    let flows: Vec<FlowSpec> = (0..FLOWS).map(flow).collect();
    for f in &flows {
        all.push(json!({ "uid": uid("Flow", &f.id), "attrs": {}, "parents": [] }));
    }
    for i in (0..FIELDS).map(field) {
        let parents: Vec<Value> = flows
            .iter()
            .filter(|f| f.fields.contains(&i))
            .map(|f| uid("Flow", &f.id))
            .collect();
        all.push(json!({ "uid": uid("Field", &i), "attrs": {}, "parents": parents }));
    }
    Entities::from_json_value(Value::Array(all), None).unwrap()
}

fn entity(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_str(&format!("{ty}::\"{id}\"")).unwrap()
}

fn context(mut extra: Value) -> Context {
    extra["agreement"] = json!({ "__entity": uid("Agreement", "bench-gate") });
    extra["today"] = json!(20261121);
    Context::from_json_value(extra, None).unwrap()
}

fn cedar_one_request(req: &CheckRequest) -> Request {
    let ctx = context(json!({ "purpose": req.purpose, "fields": req.fields }));
    let share = entity("Action", "share");
    Request::new(
        entity("Party", &req.from),
        share,
        entity("Party", &req.to),
        ctx,
        None,
    )
    .unwrap()
}

fn cedar_requests_per_field(req: &CheckRequest) -> Vec<Request> {
    let recipient = json!({ "__entity": uid("Party", &req.to) });
    req.fields
        .iter()
        .map(|f| {
            let ctx = context(json!({ "purpose": req.purpose, "recipient": recipient }));
            let (from, share) = (entity("Party", &req.from), entity("Action", "share"));
            Request::new(from, share, entity("Field", f), ctx, None).unwrap()
        })
        .collect()
}

/// Both engines must reach the same verdicts before their speed means anything: the request is
/// allowed, and adding a field outside the flow denies it.
fn agree(index: &Index, cedar: &(PolicySet, PolicySet, Entities)) {
    let (one, per_field, entities) = cedar;
    let auth = Authorizer::new();
    let mut bad = request();
    bad.fields
        .push(field((3 * ASKED_FLOW + FLOW_FIELDS) % FIELDS));
    for (req, allow) in [(request(), true), (bad, false)] {
        assert_eq!(
            decide(index, &req, today()).decision == Outcome::Allow,
            allow
        );
        let r = auth.is_authorized(&cedar_one_request(&req), one, entities);
        assert_eq!(r.decision() == Decision::Allow, allow, "{r:?}");
        let all = cedar_requests_per_field(&req)
            .iter()
            .all(|q| auth.is_authorized(q, per_field, entities).decision() == Decision::Allow);
        assert_eq!(all, allow);
    }
}

fn bench(c: &mut Criterion) {
    let index = index();
    let req = request();
    let cedar = (
        cedar_policies_one_request(),
        cedar_policies_per_field(),
        cedar_entities(),
    );
    agree(&index, &cedar);
    let (one, per_field, entities) = &cedar;
    let auth = Authorizer::new();
    let one_request = cedar_one_request(&req);
    let per_field_requests = cedar_requests_per_field(&req);

    let mut group = c.benchmark_group("gate-decide");
    group.bench_function("accord-decide", |b| {
        b.iter(|| decide(black_box(&index), black_box(&req), today()))
    });
    group.bench_function("cedar-one-request", |b| {
        b.iter(|| auth.is_authorized(black_box(&one_request), one, entities))
    });
    group.bench_function("cedar-request-per-field", |b| {
        b.iter(|| {
            per_field_requests
                .iter()
                .map(|q| auth.is_authorized(black_box(q), per_field, entities))
                .filter(|r| r.decision() == Decision::Allow)
                .count()
        })
    });
    group.finish();

    c.bench_function("gate-index-build", |b| b.iter(index_from_parsed(&index)));
}

/// Rebuilding the index from already-parsed agreements, as the service does on every lifecycle
/// change (parsing happens once, when a version is stored).
fn index_from_parsed(index: &Index) -> impl FnMut() -> Index + '_ {
    move || {
        let (number, agreement) = index.version("bench-gate").unwrap();
        let indexed = IndexedAgreement::active(number, Arc::clone(agreement));
        Index::build(vec![indexed], [])
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
