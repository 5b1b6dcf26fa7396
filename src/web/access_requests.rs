//! The officers' side of access requests: the queue (filters, ages), one request (its answers,
//! a live preview of the agreement approval would draft, with `accord check`'s findings and
//! the DPIA screening, the thread), and the moves: take into review, ask the requester, write
//! a message, approve or reject (each checked before it is made).

use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Console;
use super::confirm::{ConfirmPage, Hidden, Row};
use super::csrf::Checked;
use super::csrf::carries_csrf;
use super::csrf::{CsrfOnly, MessageForm};
use super::errors::{WebError, WebResult};
use super::render::{pages, see_other};
use super::request_access::answer_sections;
use super::session::{Viewer, encode};
use super::sign_in::{FieldError, field_error};
use crate::access::requests::{AccessError, Actor, Either, QueueFilter};
use crate::access::states::Status;
use crate::auth::{OFFICERS, READERS};

const PER_PAGE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    status: Option<String>,
    party: Option<String>,
    after: Option<Uuid>,
}

#[handler]
pub async fn queue(
    console: Data<&Console>,
    viewer: Viewer,
    Query(q): Query<QueueQuery>,
) -> WebResult {
    let who = viewer.allow(READERS)?;
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    let status = match status {
        None => None,
        Some(s) => Some(
            Status::parse(s)
                .ok_or_else(|| WebError::BadRequest(format!("'{s}' is not a request status")))?,
        ),
    };
    let party = q
        .party
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.chars().take(200).collect::<String>());
    let found = console
        .access
        .queue(
            who,
            &QueueFilter {
                status,
                party: party.clone(),
                after: q.after,
                limit: PER_PAGE,
            },
        )
        .await?;
    let mut keep = String::new();
    if let Some(s) = status {
        keep.push_str(&format!("&status={s}"));
    }
    if let Some(p) = &party {
        keep.push_str(&format!("&party={}", encode(p)));
    }
    let statuses: Vec<Value> = Status::ALL
        .iter()
        .map(|s| json!({ "value": s.as_str(), "label": s.label(), "selected": Some(*s) == status }))
        .collect();
    let data = json!({
        "items": found.items, "total": found.total,
        "matched": crate::text::count(found.total, "request matches", "requests match"),
        "statuses": statuses, "party": party,
        "next": found.next_after.map(|a| format!("/access-requests?after={a}{keep}")),
        "first": q.after.map(|_| format!("/access-requests?{}", keep.trim_start_matches('&'))),
    });
    Ok(pages().page(Some(&viewer), "access_queue", "Access requests", data))
}

#[handler]
pub async fn page(console: Data<&Console>, viewer: Viewer, Path(id): Path<Uuid>) -> WebResult {
    request_page(&console, &viewer, id, &[], "", StatusCode::OK).await
}

async fn request_page(
    console: &Console,
    viewer: &Viewer,
    id: Uuid,
    errors: &[FieldError],
    message: &str,
    status: StatusCode,
) -> WebResult<Response> {
    let who = viewer.allow(READERS)?;
    let r = console.access.get(who, id).await?;
    let choices = console.access.choices(&r.answers).await?;
    let sections = answer_sections(&r.answers, &choices, |_| String::new());
    let thread = console.access.messages(id).await?;
    let preview = if r.status.is_final() || r.status == Status::Draft {
        None
    } else {
        match console.access.preview(id).await {
            Ok(p) => {
                let mut v = json!(p);
                v["unavailable"] = Value::Null;
                Some(v)
            }
            Err(AccessError::BadInput(m)) => Some(json!({ "unavailable": m })),
            Err(e) => return Err(e.into()),
        }
    };
    let officer = who.allow(OFFICERS).is_ok();
    let here = format!("/access-requests/{id}");
    let data = json!({
        "r": r, "sections": sections, "thread": thread, "preview": preview,
        "errors": errors, "message": message, "here": here,
        "can_review": officer && r.status == Status::Submitted,
        "can_ask": officer && matches!(*r.status, Status::Submitted | Status::InReview),
        "can_decide": officer && matches!(*r.status, Status::Submitted | Status::InReview),
        "can_reject": officer && matches!(*r.status, Status::Submitted | Status::InReview | Status::InfoRequested),
        "can_message": officer && !r.status.is_final(),
    });
    Ok(pages().page_with(
        status,
        Some(viewer),
        "access_request",
        &format!("Access request {}", r.reference),
        data,
    ))
}

#[handler]
pub async fn review(
    console: Data<&Console>,
    Path(id): Path<Uuid>,
    Checked(viewer, Form(_)): Checked<Viewer, Form<CsrfOnly>>,
) -> WebResult {
    let who = viewer.allow(OFFICERS)?;
    console.access.start_review(who, id).await?;
    Ok(see_other(&format!("/access-requests/{id}")))
}

/// Asks the requester a question (`ask`) or writes in the thread (`message`).
#[handler]
pub async fn write(
    console: Data<&Console>,
    Path((id, kind)): Path<(Uuid, String)>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<MessageForm>>,
) -> WebResult {
    let who = viewer.allow(OFFICERS)?;
    let done = match kind.as_str() {
        "ask" => console.access.ask(who, id, &f.message).await.map(|_| ()),
        "message" => console
            .access
            .post_message(Actor::Principal(who), Either::Id(id), &f.message)
            .await
            .map(|_| ()),
        _ => return Err(WebError::NotFound("There is no such page.".into())),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/access-requests/{id}"))),
        Err(AccessError::BadInput(m)) => {
            let errors = [field_error(&kind, &m)];
            request_page(
                &console,
                &viewer,
                id,
                &errors,
                &f.message,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    conditions: String,
    /// The existing party the officer says the requester is (only offered on a clash).
    #[serde(default)]
    as_party: String,
    #[serde(default)]
    step: String,
}

/// The requester's new party id, and the existing id their name clashes with, if any.
async fn clash_of(console: &Console, id: Uuid) -> (String, Option<String>) {
    match console.access.preview(id).await {
        Ok(p) => (p.party_id, p.clash),
        Err(_) => (String::new(), None),
    }
}

fn decision_of(decision: &str) -> Result<(&'static str, bool), WebError> {
    match decision {
        "approve" => Ok(("Approve", true)),
        "reject" => Ok(("Reject", false)),
        _ => Err(WebError::NotFound("There is no such page.".into())),
    }
}

#[handler]
pub async fn decide_form(
    console: Data<&Console>,
    viewer: Viewer,
    Path((id, decision)): Path<(Uuid, String)>,
) -> WebResult {
    let who = viewer.allow(OFFICERS)?;
    let (verb, approving) = decision_of(&decision)?;
    let r = console.access.get(who, id).await?;
    let party = if approving {
        clash_of(&console, id).await
    } else {
        (String::new(), None)
    };
    Ok(decide_page(
        &viewer,
        Decision {
            id,
            reference: &r.reference,
            decision: &decision,
            verb,
            approving,
        },
        Entered::default(),
        &party,
        &[],
        StatusCode::OK,
    ))
}

/// Which decision a form is for.
struct Decision<'a> {
    id: Uuid,
    reference: &'a str,
    decision: &'a str,
    verb: &'a str,
    approving: bool,
}

/// What the officer has entered.
#[derive(Default)]
struct Entered<'a> {
    reasons: &'a str,
    conditions: &'a str,
    as_party: &'a str,
}

fn decide_page(
    viewer: &Viewer,
    d: Decision,
    a: Entered,
    (party_id, clash): &(String, Option<String>),
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let data = json!({
        "id": d.id, "reference": d.reference, "decision": d.decision, "verb": d.verb,
        "approving": d.approving, "reasons": a.reasons, "conditions": a.conditions,
        "as_party": a.as_party, "party_id": party_id, "clash": clash, "errors": errors,
    });
    pages().page_with(
        status,
        Some(viewer),
        "access_decide",
        &format!("{} access request {}", d.verb, d.reference),
        data,
    )
}

#[handler]
pub async fn decide(
    console: Data<&Console>,
    Path((id, decision)): Path<(Uuid, String)>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<DecisionForm>>,
) -> WebResult {
    let who = viewer.allow(OFFICERS)?;
    let (verb, approving) = decision_of(&decision)?;
    let r = console.access.get(who, id).await?;
    let reasons = f.reasons.trim();
    let conditions = if approving { f.conditions.trim() } else { "" };
    let party = if approving {
        clash_of(&console, id).await
    } else {
        (String::new(), None)
    };
    // Only the clashing party may be chosen; anything else is a new party.
    let as_party = match &party.1 {
        Some(clash) if f.as_party == *clash => clash.as_str(),
        _ => "",
    };
    let mut errors = Vec::new();
    if reasons.is_empty() || reasons.chars().count() > 4000 {
        errors.push(field_error(
            "reasons",
            "Enter the reasons for the decision, in at most 4,000 characters",
        ));
    }
    if conditions.chars().count() > 4000 {
        errors.push(field_error(
            "conditions",
            "Enter the conditions in at most 4,000 characters",
        ));
    }
    if !errors.is_empty() || f.step == "edit" {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        return Ok(decide_page(
            &viewer,
            Decision {
                id,
                reference: &r.reference,
                decision: &decision,
                verb,
                approving,
            },
            Entered {
                reasons,
                conditions,
                as_party,
            },
            &party,
            &errors,
            status,
        ));
    }
    let here = format!("/access-requests/{id}/decide/{decision}");
    if f.step != "confirm" {
        let mut rows = vec![
            Row::new("Request", r.reference.as_str()),
            Row::new("Organisation", r.organisation.clone().unwrap_or_default()),
            Row::new("Decision", verb),
            Row::new("Reasons", reasons),
        ];
        let mut hidden = vec![Hidden::new("reasons", reasons)];
        if approving {
            let shown = if conditions.is_empty() {
                "None"
            } else {
                conditions
            };
            rows.push(Row::new("Conditions", shown));
            hidden.push(Hidden::new("conditions", conditions));
            if party.1.is_some() {
                let value = if as_party.is_empty() {
                    format!("A new party, with the id {}", party.0)
                } else {
                    format!("The existing party {as_party}")
                };
                rows.push(Row::new("Party", value));
                hidden.push(Hidden::new("as_party", as_party));
            }
        }
        let warning = if approving {
            "Approving drafts the agreement into the register and tells the requester. The draft still needs every party's signatures."
        } else {
            "Rejecting is final: the requester is told, with your reasons."
        };
        let heading = format!("Check before you {}", verb.to_lowercase());
        let check = ConfirmPage {
            heading: heading.clone(),
            rows,
            hidden,
            action: here.clone(),
            back: here,
            editable: true,
            warning: warning.into(),
            button: format!("{verb} the request"),
        };
        return Ok(pages().show(StatusCode::OK, Some(&viewer), &heading, &check));
    }
    if approving {
        let as_party = (!as_party.is_empty()).then_some(as_party);
        console
            .access
            .approve(who, id, reasons, conditions, as_party)
            .await?;
    } else {
        console.access.reject(who, id, reasons).await?;
    }
    Ok(see_other(&format!("/access-requests/{id}")))
}

carries_csrf!(DecisionForm);
