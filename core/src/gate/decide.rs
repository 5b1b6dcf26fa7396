//! The decision: every rule of docs/api.md ("The gate") over a compiled [`Index`]. Pure: no
//! I/O, no clock (today is handed in), nothing allocated beyond the answer.
//!
//! Rules run in the order their reason codes are listed in the spec and each adds its own
//! reasons, so a deny lists *all* that is wrong, always in the same order: an IG officer sees the
//! whole picture from one refusal, and the audit log reads the same for the same request.

use std::collections::HashSet;

use jiff::civil::Date;

use super::index::{Compiled, CompiledFlow, Index, Route, RouteFlows};
use super::limits::MAX_FIELD_REASONS;
use super::wire::{CheckRequest, Decision, Outcome, Reason, ReasonCode, Retention};
use crate::agreement::lifecycle::{self, Control, Status};

/// Decides whether `req` may happen on `today` (a Europe/London date). Deny by default: the
/// answer is `allow` only when no rule fails and every requested field is permitted.
pub fn decide(index: &Index, req: &CheckRequest, today: Date) -> Decision {
    let Some(entry) = index.entry(&req.agreement) else {
        let message = format!("no agreement '{}' is registered", req.agreement);
        return refused_outright(req, ReasonCode::UnknownAgreement, message);
    };
    let Some(v) = &entry.version else {
        let message = format!(
            "agreement '{}' has no version in force: no version has been signed by every party",
            req.agreement
        );
        return refused_outright(req, ReasonCode::AgreementNotActive, message);
    };
    decide_under(index, v, entry.control, req, today)
}

/// A deny when there is no version to judge the rest of the request against: only the one
/// reason, and no field permitted.
fn refused_outright(req: &CheckRequest, code: ReasonCode, message: String) -> Decision {
    Decision {
        decision: Outcome::Deny,
        agreement_version: None,
        flow: None,
        permitted_fields: Vec::new(),
        denied_fields: distinct(&req.fields),
        reasons: vec![Reason { code, message }],
        retention: None,
    }
}

fn decide_under(
    index: &Index,
    v: &Compiled,
    control: Control,
    req: &CheckRequest,
    today: Date,
) -> Decision {
    let mut reasons = Vec::new();
    let from = v.party(&req.from);
    let to = v.party(&req.to);
    not_active(v, control, req, today, &mut reasons);
    outside_term(v, req, today, &mut reasons);
    let ends = ends(req, from, to);
    unknown_parties(ends, &req.agreement, &mut reasons);
    suspended_parties(index, ends, &mut reasons);
    let matched = matching_flows(v, req, from, to, &mut reasons);
    let (permitted, denied) = partition_fields(v, req, matched.as_ref(), &mut reasons);
    expired_assurance(v, req, to, today, &mut reasons);
    ended_engagements(v, ends, today, &mut reasons);
    let flow = matched.as_ref().and_then(|m| m.chosen(v, &permitted));
    let decision = match &matched {
        Some(m) if reasons.is_empty() => {
            reasons.push(permitted_reason(v, req, m));
            Outcome::Allow
        }
        _ => Outcome::Deny,
    };
    Decision {
        decision,
        agreement_version: Some(v.number),
        flow: flow.map(|f| f.id.to_string()),
        permitted_fields: permitted,
        denied_fields: denied,
        reasons,
        retention: flow.and_then(|f| f.retention.as_ref().map(Retention::from)),
    }
}

fn push(reasons: &mut Vec<Reason>, code: ReasonCode, message: String) {
    reasons.push(Reason { code, message });
}

/// `agreement-not-active`: drafts, superseded versions, and agreements an officer suspended or
/// terminated. Expiry is left to `outside-term`, which also covers a term not yet begun.
fn not_active(
    v: &Compiled,
    control: Control,
    req: &CheckRequest,
    today: Date,
    reasons: &mut Vec<Reason>,
) {
    let (id, n) = (&req.agreement, v.number);
    let message = match lifecycle::status(v.stored, control, None, today) {
        Status::Active | Status::Expired => return,
        Status::Draft => {
            format!("version {n} of agreement '{id}' is a draft: not every party has signed it")
        }
        Status::Superseded => {
            format!("version {n} of agreement '{id}' has been superseded by a newer version")
        }
        Status::Suspended => format!(
            "agreement '{id}' is suspended: no data may flow until an IG officer reinstates it"
        ),
        Status::Terminated => format!("agreement '{id}' has been terminated"),
    };
    push(reasons, ReasonCode::AgreementNotActive, message);
}

/// `outside-term`: the term runs from `start` to `end`, both days included.
fn outside_term(v: &Compiled, req: &CheckRequest, today: Date, reasons: &mut Vec<Reason>) {
    let term = &v.agreement.term;
    let id = &req.agreement;
    let message = if today < term.start {
        format!(
            "agreement '{id}' starts on {}; no data may flow before then",
            term.start
        )
    } else if let Some(end) = term.end.filter(|end| *end < today) {
        format!("agreement '{id}' ended on {end}")
    } else {
        return;
    };
    push(reasons, ReasonCode::OutsideTerm, message);
}

/// The request's two ends, each with its party index if the agreement has it. A party named
/// as both (which no flow allows) is judged once.
type Ends<'r> = [Option<(&'r str, Option<u32>)>; 2];

fn ends(req: &CheckRequest, from: Option<u32>, to: Option<u32>) -> Ends<'_> {
    let other = (req.to != req.from).then_some((req.to.as_str(), to));
    [Some((req.from.as_str(), from)), other]
}

fn unknown_parties(ends: Ends, agreement: &str, reasons: &mut Vec<Reason>) {
    for (party, index) in ends.into_iter().flatten() {
        if index.is_none() {
            let message = format!("'{party}' is not a party to agreement '{agreement}'");
            push(reasons, ReasonCode::UnknownParty, message);
        }
    }
}

fn suspended_parties(index: &Index, ends: Ends, reasons: &mut Vec<Reason>) {
    for (party, _) in ends.into_iter().flatten() {
        if index.is_suspended(party) {
            let message = format!("party '{party}' is suspended from sharing under any agreement");
            push(reasons, ReasonCode::PartySuspended, message);
        }
    }
}

/// The flow(s) a request may proceed under.
enum Matched<'a> {
    /// The flow the request named.
    Named(&'a CompiledFlow),
    /// Every flow on the request's route; their fields are pooled.
    Route(&'a RouteFlows),
}

impl<'v> Matched<'v> {
    fn permits(&self, bit: u32) -> bool {
        match self {
            Matched::Named(flow) => flow.fields.contains(bit),
            Matched::Route(rf) => rf.union.contains(bit),
        }
    }

    /// The flow the decision is recorded under (and whose retention applies): the named one;
    /// else the first on the route that alone carries every permitted field, since that is the
    /// flow the request fits; else the first on the route.
    fn chosen(&self, v: &'v Compiled, permitted: &[String]) -> Option<&'v CompiledFlow> {
        let rf = match self {
            Matched::Named(flow) => return Some(flow),
            Matched::Route(rf) => rf,
        };
        let mut flows = rf.flows.iter().map(|&i| &v.flows[i as usize]);
        let carries_all = |f: &&CompiledFlow| {
            permitted
                .iter()
                .all(|name| v.field(name).is_some_and(|bit| f.fields.contains(bit)))
        };
        if rf.flows.len() > 1
            && let Some(fits) = flows.clone().find(carries_all)
        {
            return Some(fits);
        }
        flows.next()
    }

    fn names(&self, v: &Compiled) -> String {
        match self {
            Matched::Named(flow) => format!("flow '{}'", flow.id),
            Matched::Route(rf) => {
                let ids: Vec<String> = rf
                    .flows
                    .iter()
                    .map(|&i| format!("'{}'", v.flows[i as usize].id))
                    .collect();
                match ids.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("flows {} or {last}", rest.join(", "))
                    }
                    _ => format!("flow {}", ids.concat()),
                }
            }
        }
    }
}

/// `no-matching-flow`: the named flow must exist and run from `from` to `to` for `purpose`;
/// without a name, some flow must.
fn matching_flows<'v>(
    v: &'v Compiled,
    req: &CheckRequest,
    from: Option<u32>,
    to: Option<u32>,
    reasons: &mut Vec<Reason>,
) -> Option<Matched<'v>> {
    let route = match (from, to, v.purpose(&req.purpose)) {
        (Some(from), Some(to), Some(purpose)) => Some(Route { from, to, purpose }),
        _ => None,
    };
    let found = match &req.flow {
        Some(id) => v
            .flow(id)
            .filter(|f| Some(f.route) == route)
            .map(Matched::Named),
        None => route.and_then(|r| v.route(r)).map(Matched::Route),
    };
    if found.is_none() {
        push(reasons, ReasonCode::NoMatchingFlow, no_flow_message(v, req));
    }
    found
}

fn no_flow_message(v: &Compiled, req: &CheckRequest) -> String {
    let (id, from, to, purpose) = (&req.agreement, &req.from, &req.to, &req.purpose);
    let asked = format!("from '{from}' to '{to}' for purpose '{purpose}'");
    let Some(name) = &req.flow else {
        let unknown_purpose = v.purpose(purpose).is_none();
        let note = if unknown_purpose {
            format!(" (it has no purpose '{purpose}')")
        } else {
            String::new()
        };
        return format!("no flow in agreement '{id}' sends data {asked}{note}");
    };
    match v.agreement.flow(name) {
        None => format!("agreement '{id}' has no flow '{name}'"),
        Some(f) => format!(
            "flow '{name}' sends data from '{}' to '{}' for purpose '{}', not {asked}",
            f.from, f.to, f.purpose
        ),
    }
}

/// `field-not-permitted`, one reason per field the matched flow(s) do not carry, the first
/// [`MAX_FIELD_REASONS`] by name and the rest counted in one more. Each distinct requested
/// field lands in exactly one list, in request order; with no flow matched, none is permitted
/// (and `no-matching-flow` already says why). Linear in the number of requested fields.
fn partition_fields(
    v: &Compiled,
    req: &CheckRequest,
    matched: Option<&Matched>,
    reasons: &mut Vec<Reason>,
) -> (Vec<String>, Vec<String>) {
    let Some(m) = matched else {
        return (Vec::new(), distinct(&req.fields));
    };
    let mut seen: HashSet<&str> = HashSet::with_capacity(req.fields.len());
    let mut permitted: Vec<String> = Vec::new();
    let mut denied = Vec::new();
    let mut names = None;
    for name in &req.fields {
        if !seen.insert(name) {
            continue;
        }
        let bit = v.field(name);
        if bit.is_some_and(|b| m.permits(b)) {
            permitted.push(name.clone());
            continue;
        }
        if denied.len() < MAX_FIELD_REASONS {
            let undeclared = if bit.is_none() {
                format!(" (agreement '{}' does not declare it)", req.agreement)
            } else {
                String::new()
            };
            let by = names.get_or_insert_with(|| m.names(v));
            let message = format!("field '{name}' is not in {by}{undeclared}");
            push(reasons, ReasonCode::FieldNotPermitted, message);
        }
        denied.push(name.clone());
    }
    if let Some(more) = denied
        .len()
        .checked_sub(MAX_FIELD_REASONS)
        .filter(|n| *n > 0)
    {
        let by = names.get_or_insert_with(|| m.names(v));
        let message =
            format!("{more} more requested fields are not in {by}; denied_fields lists every one");
        push(reasons, ReasonCode::FieldNotPermitted, message);
    }
    (permitted, denied)
}

/// `assurance-expired`: the recipient's DSPT assessment or Cyber Essentials certificate ran out
/// before today (its expiry day itself still counts).
fn expired_assurance(
    v: &Compiled,
    req: &CheckRequest,
    to: Option<u32>,
    today: Date,
    reasons: &mut Vec<Reason>,
) {
    let Some(facts) = to.map(|i| &v.party_facts[i as usize]) else {
        return;
    };
    let held = [
        ("DSPT assessment", facts.dspt_expires),
        (
            "Cyber Essentials certificate",
            facts.cyber_essentials_expires,
        ),
    ];
    for (what, expires) in held {
        if let Some(day) = expires.filter(|d| *d < today) {
            let message = format!("the {what} of recipient '{}' expired on {day}", req.to);
            push(reasons, ReasonCode::AssuranceExpired, message);
        }
    }
}

/// `contractor-engagement-ended`: a contractor named as sender or recipient after its
/// `engagement_end` (the day itself still counts).
fn ended_engagements(v: &Compiled, ends: Ends, today: Date, reasons: &mut Vec<Reason>) {
    for (party, index) in ends.into_iter().flatten() {
        let end = index.and_then(|i| v.party_facts[i as usize].engagement_end);
        if let Some(day) = end.filter(|d| *d < today) {
            let message = format!("the engagement of contractor '{party}' ended on {day}");
            push(reasons, ReasonCode::ContractorEngagementEnded, message);
        }
    }
}

fn permitted_reason(v: &Compiled, req: &CheckRequest, matched: &Matched) -> Reason {
    let by = matched.names(v);
    Reason {
        code: ReasonCode::Permitted,
        message: format!(
            "'{}' may send these fields to '{}' for purpose '{}' by {by} of agreement '{}' version {}",
            req.from, req.to, req.purpose, req.agreement, v.number
        ),
    }
}

/// The requested fields without repeats, in order of first mention.
fn distinct(fields: &[String]) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::with_capacity(fields.len());
    fields
        .iter()
        .filter(|f| seen.insert(f.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::civil::date;

    use super::*;
    use crate::agreement::lifecycle::Stored;
    use crate::agreement::{ValidAgreement, check_source};
    use crate::gate::index::{IndexedAgreement, VersionInForce};

    const FOODBANK: &str = "camden-foodbank-referrals";
    const HOSPITAL: &str = "hospital-discharge";
    const HMO: &str = "hmo-licensing-enforcement";

    fn today() -> Date {
        date(2026, 11, 21)
    }

    /// A sample agreement with each `(old, new)` text replaced once.
    fn edited(name: &str, edits: &[(&str, &str)]) -> Arc<ValidAgreement> {
        let path = format!(
            "{}/agreements/{name}.yaml",
            concat!(env!("CARGO_MANIFEST_DIR"), "/..")
        );
        let mut text = std::fs::read_to_string(path).unwrap();
        for (old, new) in edits {
            assert!(text.contains(old), "{old}");
            text = text.replacen(old, new, 1);
        }
        Arc::new(check_source(text.as_bytes(), today()).agreement.unwrap())
    }

    fn index_with(name: &str, stored: Stored, control: Control, suspended: &[&str]) -> Index {
        let a = IndexedAgreement {
            id: name.into(),
            control,
            version: Some(VersionInForce {
                number: 3,
                stored,
                amendments: 0,
                agreement: edited(name, &[]),
            }),
        };
        Index::build(vec![a], suspended.iter().map(|s| s.to_string()))
    }

    fn index(name: &str) -> Index {
        index_with(name, Stored::Active, Control::Open, &[])
    }

    fn request(
        agreement: &str,
        from: &str,
        to: &str,
        purpose: &str,
        fields: &[&str],
    ) -> CheckRequest {
        CheckRequest {
            agreement: agreement.into(),
            from: from.into(),
            to: to.into(),
            purpose: purpose.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            flow: None,
        }
    }

    fn referral(fields: &[&str]) -> CheckRequest {
        request(FOODBANK, "camden", "foodbank", "food-parcels", fields)
    }

    fn named(mut req: CheckRequest, flow: &str) -> CheckRequest {
        req.flow = Some(flow.into());
        req
    }

    fn codes(d: &Decision) -> Vec<ReasonCode> {
        d.reasons.iter().map(|r| r.code).collect()
    }

    fn assert_allowed(d: &Decision) {
        assert_eq!(d.decision, Outcome::Allow, "{:#?}", d.reasons);
        assert_eq!(codes(d), [ReasonCode::Permitted]);
        assert!(d.denied_fields.is_empty());
    }

    /// The decision denies with exactly `expected`, and each reason's message says `words`.
    fn assert_denied(d: &Decision, expected: &[(ReasonCode, &str)]) {
        assert_eq!(d.decision, Outcome::Deny);
        let got: Vec<_> = d
            .reasons
            .iter()
            .map(|r| (r.code, r.message.as_str()))
            .collect();
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for ((code, message), (want, words)) in got.iter().zip(expected) {
            assert_eq!(code, want, "{got:#?}");
            assert!(message.contains(words), "{message:?} lacks {words:?}");
        }
    }

    #[test]
    fn a_flow_within_every_rule_is_allowed() {
        let d = decide(
            &index(FOODBANK),
            &referral(&["full-name", "address"]),
            today(),
        );
        assert_allowed(&d);
        assert_eq!(d.permitted_fields, ["full-name", "address"]);
        assert_eq!(d.agreement_version, Some(3));
        assert_eq!(d.flow.as_deref(), Some("referral"));
        assert!(d.reasons[0].message.contains("by flow 'referral'"));
        let r = d.retention.unwrap();
        assert_eq!(
            (&*r.keep_for, &*r.from, &*r.then),
            ("P6M", "receipt", "delete")
        );
    }

    #[test]
    fn an_unknown_agreement_is_the_only_reason() {
        let mut req = named(referral(&["full-name", "address", "full-name"]), "nope");
        req.agreement = "camden-foodbank".into();
        req.from = "nobody".into();
        let d = decide(&index(FOODBANK), &req, date(2000, 1, 1));
        assert_denied(&d, &[(ReasonCode::UnknownAgreement, "'camden-foodbank'")]);
        assert_eq!(d.agreement_version, None);
        assert_eq!((d.flow, d.retention), (None, None));
        assert!(d.permitted_fields.is_empty());
        assert_eq!(d.denied_fields, ["full-name", "address"]);
    }

    #[test]
    fn an_agreement_never_activated_is_not_active() {
        let a = IndexedAgreement {
            id: FOODBANK.into(),
            control: Control::Open,
            version: None,
        };
        let d = decide(&Index::build(vec![a], []), &referral(&["phone"]), today());
        assert_denied(
            &d,
            &[(ReasonCode::AgreementNotActive, "no version in force")],
        );
        assert_eq!(d.denied_fields, ["phone"]);
    }

    #[test]
    fn drafts_superseded_suspended_and_terminated_agreements_are_not_active() {
        let cases = [
            (Stored::Draft, Control::Open, "is a draft"),
            (Stored::Superseded, Control::Open, "superseded"),
            (Stored::Active, Control::Suspended, "is suspended"),
            (Stored::Active, Control::Terminated, "terminated"),
            (Stored::Draft, Control::Terminated, "terminated"),
        ];
        for (stored, control, words) in cases {
            let index = index_with(FOODBANK, stored, control, &[]);
            let d = decide(&index, &referral(&["phone"]), today());
            assert_denied(&d, &[(ReasonCode::AgreementNotActive, words)]);
            assert_eq!(d.permitted_fields, ["phone"], "the other rules still run");
            assert_eq!(d.flow.as_deref(), Some("referral"));
        }
    }

    #[test]
    fn outside_the_term_both_ends_included() {
        let index = index(FOODBANK);
        let req = referral(&["phone"]);
        let d = decide(&index, &req, date(2026, 3, 31));
        assert_denied(&d, &[(ReasonCode::OutsideTerm, "starts on 2026-04-01")]);
        assert_allowed(&decide(&index, &req, date(2026, 4, 1)));
        let renewed = edited(FOODBANK, &[("expires: 2027-05-31", "expires: 2029-05-31")]);
        let index = Index::build(vec![indexed(FOODBANK, renewed)], []);
        assert_allowed(&decide(&index, &req, date(2027, 6, 30)));
        let d = decide(&index, &req, date(2028, 3, 31));
        assert!(!codes(&d).contains(&ReasonCode::OutsideTerm), "{d:#?}");
        let d = decide(&index, &req, date(2028, 4, 1));
        assert!(d.reasons[0].message.contains("ended on 2028-03-31"));
        assert_eq!(d.reasons[0].code, ReasonCode::OutsideTerm);
    }

    fn indexed(id: &str, agreement: Arc<ValidAgreement>) -> IndexedAgreement {
        IndexedAgreement {
            id: id.into(),
            ..IndexedAgreement::active(1, agreement)
        }
    }

    #[test]
    fn parties_must_belong_to_the_agreement() {
        let index = index(FOODBANK);
        let req = request(FOODBANK, "camden", "acme", "food-parcels", &["phone"]);
        let d = decide(&index, &req, today());
        assert_denied(
            &d,
            &[
                (ReasonCode::UnknownParty, "'acme' is not a party"),
                (ReasonCode::NoMatchingFlow, "from 'camden' to 'acme'"),
            ],
        );
        assert_eq!(d.denied_fields, ["phone"]);
        let both = request(FOODBANK, "x", "y", "food-parcels", &[]);
        let d = decide(&index, &both, today());
        assert_eq!(
            codes(&d),
            [
                ReasonCode::UnknownParty,
                ReasonCode::UnknownParty,
                ReasonCode::NoMatchingFlow
            ]
        );
        let itself = request(FOODBANK, "x", "x", "food-parcels", &[]);
        assert_eq!(decide(&index, &itself, today()).reasons.len(), 2);
    }

    #[test]
    fn a_suspended_party_at_either_end_is_refused() {
        let req = referral(&["phone"]);
        for party in ["camden", "foodbank"] {
            let index = index_with(FOODBANK, Stored::Active, Control::Open, &[party]);
            let d = decide(&index, &req, today());
            let words = format!("party '{party}' is suspended");
            assert_denied(&d, &[(ReasonCode::PartySuspended, &words)]);
        }
        let elsewhere = index_with(FOODBANK, Stored::Active, Control::Open, &["lth"]);
        assert_allowed(&decide(&elsewhere, &req, today()));
    }

    #[test]
    fn there_must_be_a_flow_for_the_route_and_purpose() {
        let index = index(FOODBANK);
        let backwards = request(FOODBANK, "foodbank", "camden", "food-parcels", &["phone"]);
        let d = decide(&index, &backwards, today());
        assert_denied(&d, &[(ReasonCode::NoMatchingFlow, "no flow in agreement")]);
        assert_eq!((d.flow, d.retention), (None, None));
        assert_eq!(d.denied_fields, ["phone"]);
        let purpose = request(FOODBANK, "camden", "foodbank", "marketing", &["phone"]);
        let d = decide(&index, &purpose, today());
        assert_denied(
            &d,
            &[(ReasonCode::NoMatchingFlow, "no purpose 'marketing'")],
        );
    }

    #[test]
    fn a_named_flow_must_exist_and_match_the_request() {
        let index = index(FOODBANK);
        let d = decide(&index, &named(referral(&["phone"]), "referral"), today());
        assert_allowed(&d);
        let d = decide(&index, &named(referral(&["phone"]), "outcome"), today());
        assert_denied(
            &d,
            &[(
                ReasonCode::NoMatchingFlow,
                "flow 'outcome' sends data from 'foodbank' to 'camden' for purpose 'referral-follow-up', not from 'camden'",
            )],
        );
        let d = decide(&index, &named(referral(&["phone"]), "refferal"), today());
        assert_denied(
            &d,
            &[(ReasonCode::NoMatchingFlow, "has no flow 'refferal'")],
        );
    }

    #[test]
    fn each_field_outside_the_flow_is_refused_by_name() {
        let fields = ["phone", "parcel-outcome", "address", "nhs-number", "phone"];
        let d = decide(&index(FOODBANK), &referral(&fields), today());
        assert_denied(
            &d,
            &[
                (
                    ReasonCode::FieldNotPermitted,
                    "field 'parcel-outcome' is not in flow 'referral'",
                ),
                (ReasonCode::FieldNotPermitted, "does not declare it"),
            ],
        );
        assert_eq!(d.permitted_fields, ["phone", "address"]);
        assert_eq!(d.denied_fields, ["parcel-outcome", "nhs-number"]);
        assert_eq!(
            d.flow.as_deref(),
            Some("referral"),
            "the flow still matched"
        );
        assert!(d.retention.is_some());
    }

    #[test]
    fn without_a_flow_name_the_fields_of_every_matching_flow_pool() {
        let index = index(HOSPITAL);
        let ask = |fields: &[&str]| request(HOSPITAL, "leeds", "lth", "discharge-planning", fields);
        let d = decide(
            &index,
            &ask(&["existing-care", "care-arrangements"]),
            today(),
        );
        assert_allowed(&d);
        assert!(
            d.reasons[0]
                .message
                .contains("flows 'existing-care-details' or 'care-confirmation'")
        );
        assert_eq!(
            d.flow.as_deref(),
            Some("existing-care-details"),
            "none fits: first"
        );
        assert_eq!(d.retention.unwrap().keep_for, "P8Y");
        let d = decide(&index, &ask(&["nhs-number", "care-arrangements"]), today());
        assert_eq!(
            d.flow.as_deref(),
            Some("care-confirmation"),
            "the one that fits"
        );
        let d = decide(&index, &ask(&["clinical-summary"]), today());
        assert_denied(
            &d,
            &[(
                ReasonCode::FieldNotPermitted,
                "not in flows 'existing-care-details' or 'care-confirmation'",
            )],
        );
    }

    #[test]
    fn a_named_flow_permits_only_its_own_fields() {
        let req = request(
            HOSPITAL,
            "leeds",
            "lth",
            "discharge-planning",
            &["existing-care"],
        );
        let d = decide(&index(HOSPITAL), &named(req, "care-confirmation"), today());
        assert_denied(
            &d,
            &[(
                ReasonCode::FieldNotPermitted,
                "field 'existing-care' is not in flow 'care-confirmation'",
            )],
        );
        assert_eq!(d.flow.as_deref(), Some("care-confirmation"));
    }

    #[test]
    fn the_recipients_assurance_must_be_current() {
        let index = index(FOODBANK);
        let req = referral(&["phone"]);
        assert_allowed(&decide(&index, &req, date(2027, 5, 31)));
        let d = decide(&index, &req, date(2027, 6, 1));
        assert_denied(
            &d,
            &[(
                ReasonCode::AssuranceExpired,
                "Cyber Essentials certificate of recipient 'foodbank' expired on 2027-05-31",
            )],
        );
        let sender_lapsed = date(2027, 7, 1);
        let outcome = request(FOODBANK, "foodbank", "camden", "referral-follow-up", &[]);
        let d = decide(&index, &outcome, sender_lapsed);
        assert_denied(
            &d,
            &[(
                ReasonCode::AssuranceExpired,
                "DSPT assessment of recipient 'camden'",
            )],
        );
        let both = edited(
            FOODBANK,
            &[(
                "      cyber_essentials:\n        expires: 2027-05-31",
                "      cyber_essentials:\n        expires: 2027-05-31\n      dspt:\n        status: standards_met\n        expires: 2027-01-31",
            )],
        );
        let index = Index::build(vec![indexed(FOODBANK, both)], []);
        let d = decide(&index, &req, date(2027, 6, 1));
        assert_eq!(d.reasons.len(), 2);
        assert!(d.reasons[0].message.contains("DSPT"));
        assert!(d.reasons[1].message.contains("Cyber Essentials"));
    }

    #[test]
    fn a_contractor_past_its_engagement_may_not_send_or_receive() {
        let index = index(HMO);
        let to_metis = |flow: &str| {
            let req = request(HMO, "newham", "metis", "identify-unlicensed-hmos", &[]);
            named(req, flow)
        };
        assert_allowed(&decide(
            &index,
            &to_metis("matching-extract"),
            date(2027, 3, 31),
        ));
        let d = decide(&index, &to_metis("matching-extract"), date(2027, 4, 1));
        assert_denied(
            &d,
            &[(
                ReasonCode::ContractorEngagementEnded,
                "engagement of contractor 'metis' ended on 2027-03-31",
            )],
        );
        let from_metis = request(HMO, "metis", "newham", "identify-unlicensed-hmos", &[]);
        let d = decide(&index, &from_metis, date(2027, 4, 1));
        assert_denied(&d, &[(ReasonCode::ContractorEngagementEnded, "'metis'")]);
    }

    #[test]
    fn every_failing_rule_is_listed_in_the_order_of_the_spec() {
        let index = index_with(FOODBANK, Stored::Active, Control::Suspended, &["foodbank"]);
        let req = request(FOODBANK, "acme", "foodbank", "food-parcels", &["phone"]);
        let d = decide(&index, &req, date(2028, 4, 1));
        assert_eq!(
            codes(&d),
            [
                ReasonCode::AgreementNotActive,
                ReasonCode::OutsideTerm,
                ReasonCode::UnknownParty,
                ReasonCode::PartySuspended,
                ReasonCode::NoMatchingFlow,
                ReasonCode::AssuranceExpired,
            ]
        );
        let index = index_with(HMO, Stored::Active, Control::Open, &["newham"]);
        let req = request(
            HMO,
            "newham",
            "metis",
            "identify-unlicensed-hmos",
            &["uprn", "x", "y"],
        );
        let d = decide(&index, &req, date(2027, 6, 1));
        assert_eq!(
            codes(&d),
            [
                ReasonCode::PartySuspended,
                ReasonCode::FieldNotPermitted,
                ReasonCode::FieldNotPermitted,
                ReasonCode::AssuranceExpired,
                ReasonCode::ContractorEngagementEnded,
            ]
        );
        assert!(codes(&d).is_sorted());
        assert!(d.reasons[1].message.contains("'x'") && d.reasons[2].message.contains("'y'"));
        assert_eq!(
            decide(&index, &req, date(2027, 6, 1)),
            d,
            "the same answer every time"
        );
    }
}
