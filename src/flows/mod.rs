//! The gate's use cases: check a flow, and send records through it. Each decides with the pure
//! core over the registry's current index (no database read), records the decision durably in
//! the audit log through the [`journal`], and only then answers. An allowed send also records
//! a holding, in the same transaction as its decision.

pub mod holdings;
pub mod journal;

pub use crate::gate::{SendRequest, records};

use crate::inputs::SubjectRef;
use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

use jiff::Timestamp;
use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::gate::limits::MAX_FIELDS;
use crate::gate::{CheckRequest, Decision, Index, Outcome, decide};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::store::entity::holding;
use crate::store::time::stamp;
use crate::transparency::counts::{Counted, month_of};
use journal::{Entry, Journal, JournalError};
use records::{OnExtraFields, minimise};

/// The gate: decisions over the registry's index, made durable by the journal.
#[derive(Clone)]
pub struct Gate {
    registry: Registry,
    journal: Journal,
    metrics: Metrics,
}

/// A decision as answered: its id (the id of its audit record) and the decision.
#[derive(Debug, Clone, Serialize, Object)]
pub struct CheckAnswer {
    pub decision_id: Uuid,
    #[oai(flatten)]
    #[serde(flatten)]
    pub decision: crate::openapi_types::Decision,
}

/// An allowed send: the decision, the minimised records, and the holding now recorded.
#[derive(Debug, Clone, Serialize, Object)]
pub struct SendAnswer {
    pub decision_id: Uuid,
    #[oai(flatten)]
    #[serde(flatten)]
    pub decision: crate::openapi_types::Decision,
    /// The records, each holding only the permitted fields (JSON objects).
    pub records: Vec<Value>,
    /// Fields removed from the records (with `on_extra_fields: strip`).
    pub stripped_fields: Vec<String>,
    pub holding_id: Uuid,
    /// When the recipient must delete (or anonymise, or return) the records; null while
    /// retention runs from the end of an open-ended agreement.
    #[oai(nullable)]
    pub delete_by: Option<String>,
}

/// What a send came to: both are decisions, recorded.
#[derive(Debug)]
pub enum Sent {
    Allowed(Box<SendAnswer>),
    /// Nothing was stored but the audit record.
    Denied(CheckAnswer),
}

/// What stops a question or a send before it is a decision (nothing recorded), or stops a
/// decision from being given (it could not be recorded).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl crate::failure::Failure for GateError {
    fn kind(&self) -> crate::failure::Kind {
        use crate::failure::Kind;
        match self {
            GateError::Forbidden(_) => Kind::Forbidden,
            GateError::BadRequest(_) => Kind::BadRequest,
            // A decision not recorded is not given: try again.
            GateError::Journal(_) => Kind::Unavailable,
        }
    }
}

impl Gate {
    /// `metrics` counts every decision given, with its latency.
    pub fn new(registry: Registry, journal: Journal, metrics: Metrics) -> Gate {
        Gate {
            registry,
            journal,
            metrics,
        }
    }

    /// May this flow happen now? Always a decision (allow or deny), recorded before answering.
    pub async fn check(
        &self,
        caller: &Principal,
        req: CheckRequest,
    ) -> Result<CheckAnswer, GateError> {
        bound_to_party(caller, &req, Use::Ask)?;
        let started = Instant::now();
        let now = self.registry.clock().now();
        let decision = decide(
            &self.registry.gate_index(),
            &req,
            crate::clock::london_date(now),
        );
        let asked = Asked {
            req: &req,
            stripped: &[],
        };
        let id = Uuid::now_v7();
        let entry = entry(id, now, caller, "gate.check", asked, &decision, None);
        self.journal.record(entry).await?;
        self.metrics.decided(&decision, started.elapsed());
        Ok(CheckAnswer {
            decision_id: id,
            decision: decision.into(),
        })
    }

    /// Sends records through the gate: minimised to the permitted fields, recorded as a holding.
    /// A deny stores nothing but its audit record. With `on_extra_fields: strip`, fields that
    /// are the only reason to deny are dropped and the rest decided on again.
    pub async fn send(&self, caller: &Principal, req: SendRequest) -> Result<Sent, GateError> {
        let mut asked = req.check();
        bound_to_party(caller, &asked, Use::Send)?;
        let subject_refs = check_shape(&req)?;
        let started = Instant::now();
        let index = self.registry.gate_index();
        let now = self.registry.clock().now();
        let today = crate::clock::london_date(now);
        asked.fields = requested_and_present(&req)?;
        let mut decision = decide(&index, &asked, today);
        let mut stripped = Vec::new();
        if decision.decision == Outcome::Deny
            && req.on_extra_fields == OnExtraFields::Strip
            && only_fields_refused(&decision)
        {
            stripped = std::mem::take(&mut decision.denied_fields);
            asked.fields = decision.permitted_fields.clone();
            decision = decide(&index, &asked, today);
        }
        let said = Asked {
            req: &asked,
            stripped: &stripped,
        };
        let id = Uuid::now_v7();
        if decision.decision == Outcome::Deny {
            let entry = entry(id, now, caller, "gate.send", said, &decision, None);
            self.journal.record(entry).await?;
            self.metrics.decided(&decision, started.elapsed());
            return Ok(Sent::Denied(CheckAnswer {
                decision_id: id,
                decision: decision.into(),
            }));
        }
        let permitted: BTreeSet<&str> = decision
            .permitted_fields
            .iter()
            .map(String::as_str)
            .collect();
        let records = minimise(req.records, &permitted);
        let holding = holding(
            &index,
            id,
            &asked,
            &decision,
            records.len(),
            &subject_refs,
            now,
        );
        let (holding_id, delete_by) = (holding.id, holding.delete_by.clone());
        let held = Some((holding, subject_refs));
        let entry = entry(id, now, caller, "gate.send", said, &decision, held);
        self.journal.record(entry).await?;
        self.metrics.decided(&decision, started.elapsed());
        Ok(Sent::Allowed(Box::new(SendAnswer {
            decision_id: id,
            decision: decision.into(),
            records: records.into_iter().map(Value::Object).collect(),
            stripped_fields: stripped,
            holding_id,
            delete_by,
        })))
    }
}

/// The journal entry of a decision: its audit record, and an allowed send's holding.
fn entry(
    id: Uuid,
    at: Timestamp,
    caller: &Principal,
    action: &'static str,
    asked: Asked<'_>,
    d: &Decision,
    holding: Option<(holding::Model, Vec<String>)>,
) -> Entry {
    let req = asked.req;
    let details = DecisionDetails {
        decision: d.decision,
        denied_fields: Listed(&d.denied_fields),
        denied_fields_total: d.denied_fields.len(),
        fields: Listed(&req.fields),
        fields_total: req.fields.len(),
        flow: req.flow.as_deref(),
        from: &req.from,
        holding_id: holding.as_ref().map(|(h, _)| h.id),
        matched_flow: d.flow.as_deref(),
        purpose: &req.purpose,
        reasons: d.reasons.iter().map(|r| r.code).collect(),
        records: holding.as_ref().map(|(h, _)| h.record_count),
        stripped_fields: Listed(asked.stripped),
        stripped_fields_total: asked.stripped.len(),
        to: &req.to,
        version: d.agreement_version,
    };
    let details = serde_json::to_string(&details).unwrap_or_else(|_| "{}".into());
    let counted = d.agreement_version.map(|_| Counted {
        agreement: req.agreement.clone(),
        month: month_of(at),
        allowed: d.decision == Outcome::Allow,
    });
    Entry {
        decision_id: id,
        at,
        actor: caller.actor(),
        action,
        subject: format!("agreement:{}", req.agreement),
        details,
        holding,
        counted,
    }
}

/// The question as decided, and any fields stripped before deciding it.
#[derive(Clone, Copy)]
struct Asked<'a> {
    req: &'a CheckRequest,
    stripped: &'a [String],
}

/// The holding an allowed send leaves with `to`, due for deletion by the rule of the flow it
/// was decided under, in the index it was decided with.
fn holding(
    index: &Index,
    decision_id: Uuid,
    req: &CheckRequest,
    d: &Decision,
    records: usize,
    subjects: &[String],
    now: Timestamp,
) -> holding::Model {
    let flow = d.flow.clone().unwrap_or_default();
    let delete_by = index.delete_by(&req.agreement, &flow, now);
    let then = d.retention.as_ref().map(|r| r.then.as_str());
    holding::Model {
        id: Uuid::now_v7(),
        decision_id,
        agreement_id: req.agreement.clone(),
        version: d.agreement_version.unwrap_or_default(),
        flow_id: flow,
        from_party: req.from.clone(),
        holder: req.to.clone(),
        purpose: req.purpose.clone(),
        fields: serde_json::to_string(&d.permitted_fields).unwrap_or_else(|_| "[]".into()),
        record_count: records as i32,
        subject_count: subjects.len() as i32,
        received_at: stamp(now),
        delete_by: delete_by.map(stamp),
        then_action: then.unwrap_or("delete").to_owned(),
        state: "held".to_owned(),
    }
}

/// What the audit record of a decision says, beyond its actor and subject. Fields in
/// alphabetical order, as the log has always had them. Its size is bounded whatever was asked:
/// each list of fields names at most [`AUDIT_LISTED`] (ids of at most 200 characters) and
/// counts them all; the reasons are codes, of which a decision has few.
#[derive(Serialize)]
struct DecisionDetails<'a> {
    decision: Outcome,
    denied_fields: Listed<'a>,
    denied_fields_total: usize,
    fields: Listed<'a>,
    fields_total: usize,
    flow: Option<&'a str>,
    from: &'a str,
    holding_id: Option<Uuid>,
    matched_flow: Option<&'a str>,
    purpose: &'a str,
    reasons: Vec<crate::gate::ReasonCode>,
    records: Option<i32>,
    /// Fields dropped by `on_extra_fields: strip` before deciding: they never left.
    #[serde(skip_serializing_if = "Listed::is_empty")]
    stripped_fields: Listed<'a>,
    #[serde(skip_serializing_if = "is_zero")]
    stripped_fields_total: usize,
    to: &'a str,
    version: Option<i32>,
}

/// Most field ids one list of a decision's audit record names; `*_total` counts them all.
pub const AUDIT_LISTED: usize = 50;

/// The first [`AUDIT_LISTED`] ids of a list, as the audit record keeps them.
#[derive(Clone, Copy)]
struct Listed<'a>(&'a [String]);

impl Listed<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Listed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().take(AUDIT_LISTED))
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a gate client does with a flow: ask about it, or send records along it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Allowed from either end of the flow.
    Ask,
    /// Allowed only to the sender: nobody records a transfer another party made.
    Send,
}

/// A gate client asks only about flows to or from its own party, and sends records only as
/// `from`. Other roles are not bound to a party.
fn bound_to_party(caller: &Principal, req: &CheckRequest, how: Use) -> Result<(), GateError> {
    if caller.role != Role::GateClient {
        return Ok(());
    }
    let party = caller
        .bound_party()
        .map_err(|e| GateError::Forbidden(e.to_string()))?;
    let message = if req.from == party {
        return Ok(());
    } else if req.to != party {
        format!("this token acts for '{party}', which is neither 'from' nor 'to'")
    } else if how == Use::Ask {
        return Ok(());
    } else {
        format!(
            "this token acts for '{party}' and sends only as 'from': it cannot send records \
             on behalf of '{}'",
            req.from
        )
    };
    Err(GateError::Forbidden(message))
}

/// Refuses what cannot be a send at all (400, not a decision); returns the distinct subjects.
fn check_shape(req: &SendRequest) -> Result<Vec<String>, GateError> {
    let bad = |m: String| Err(GateError::BadRequest(m));
    if req.records.is_empty() {
        return bad("'records' is empty: send at least one record".into());
    }
    let Some(refs) = &req.subject_refs else {
        return Ok(Vec::new());
    };
    if refs.len() != req.records.len() {
        return bad(format!(
            "{} subject_refs for {} records: give one per record",
            refs.len(),
            req.records.len()
        ));
    }
    if let Some(r) = refs.iter().find(|r| {
        r.chars().all(crate::agreement::values::is_blank) || r.chars().count() > SubjectRef::MAX
    }) {
        return bad(format!(
            "subject_ref '{}' must be 1 to {} characters",
            crate::agreement::decode::clip(r),
            SubjectRef::MAX
        ));
    }
    let distinct: BTreeSet<&String> = refs.iter().collect();
    Ok(distinct.into_iter().cloned().collect())
}

/// The requested fields, then any other field the records carry, in first-seen order: every
/// field that would leave is decided on. Linear in the records' size; at most [`MAX_FIELDS`]
/// distinct fields, or the send is refused before any decision.
fn requested_and_present(req: &SendRequest) -> Result<Vec<String>, GateError> {
    let mut seen: HashSet<&str> = req.fields.iter().map(String::as_str).collect();
    let mut fields = req.fields.clone();
    for record in &req.records {
        for (key, _) in &record.0 {
            if seen.insert(key) {
                if seen.len() > MAX_FIELDS {
                    return Err(GateError::BadRequest(format!(
                        "the fields requested and the records' keys name more than {MAX_FIELDS} \
                         distinct fields"
                    )));
                }
                fields.push(key.clone());
            }
        }
    }
    Ok(fields)
}

fn only_fields_refused(d: &Decision) -> bool {
    !d.permitted_fields.is_empty()
        && d.reasons
            .iter()
            .all(|r| r.code == crate::gate::ReasonCode::FieldNotPermitted)
}
