//! Legal holds: the list, placing one, and releasing one — each behind a check-answers page.

use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Console;
use super::confirm::{ConfirmPage, Hidden, Row};
use super::csrf::Checked;
use super::csrf::carries_csrf;
use super::errors::{WebError, WebResult};
use super::render::{pages, see_other};
use super::session::Viewer;
use super::sign_in::{FieldError, field_error};
use super::typed::Page;
use crate::auth::{OFFICERS, READERS};
use crate::inputs::{HoldScope, Reason, ScopePart, ScopeProblem};
use crate::retention::holds::{HoldKind, LegalHold, Scope};

#[handler]
pub async fn list(console: Data<&Console>, viewer: Viewer) -> WebResult<Response> {
    viewer.allow(READERS)?;
    let holds = console.retention.holds(false).await?;
    let (in_force, released): (Vec<_>, Vec<_>) =
        holds.into_iter().partition(|h| h.released_at.is_none());
    let view = |h: LegalHold| HoldView {
        kind: HoldKind::parse(&h.kind).unwrap_or(HoldKind::Other).label(),
        h,
    };
    let page = HoldsPage {
        in_force: in_force.into_iter().map(view).collect(),
        released: released.into_iter().take(50).map(view).collect(),
        officer: viewer.allow(OFFICERS).is_ok(),
    };
    Ok(pages().show(StatusCode::OK, Some(&viewer), "Legal holds", &page))
}

/// The legal holds: those in force, and the 50 released last.
#[derive(Serialize)]
pub struct HoldsPage {
    pub in_force: Vec<HoldView>,
    pub released: Vec<HoldView>,
    /// Whether the viewer may place and release holds.
    pub officer: bool,
}

/// One hold, with what it is for in words.
#[derive(Serialize)]
pub struct HoldView {
    pub h: LegalHold,
    pub kind: &'static str,
}

impl Page for HoldsPage {
    const TEMPLATE: &'static str = "holds";

    fn example() -> HoldsPage {
        let hold = |released: bool| HoldView {
            h: LegalHold {
                id: Uuid::nil(),
                kind: "litigation".into(),
                reason: "A claim was filed".into(),
                scope: Scope {
                    agreement: Some("camden-foodbank-referrals".into()),
                    party: Some("foodbank".into()),
                    subject_ref: Some("R-77".into()),
                },
                placed_at: "2026-11-21T12:00:00Z".into(),
                placed_by: "Priya Shah".into(),
                released_at: released.then(|| "2026-12-01T12:00:00Z".into()),
                released_by: released.then(|| "Priya Shah".into()),
                release_reason: released.then(|| "The claim was settled".into()),
            },
            kind: HoldKind::Litigation.label(),
        };
        HoldsPage {
            in_force: vec![hold(false)],
            released: vec![hold(true)],
            officer: true,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct HoldForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    party: String,
    #[serde(default)]
    subject: String,
}

fn new_page(viewer: &Viewer, f: &HoldForm, errors: &[FieldError], status: StatusCode) -> Response {
    let page = NewHoldPage {
        kinds: HoldKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str(),
                label: k.label(),
                checked: f.kind == k.as_str(),
            })
            .collect(),
        reason: f.reason.clone(),
        agreement: f.agreement.clone(),
        party: f.party.clone(),
        subject: f.subject.clone(),
        errors: errors.to_vec(),
    };
    pages().show(status, Some(viewer), "Place a legal hold", &page)
}

/// Placing a legal hold: what for, why, and what it keeps, as typed so far.
#[derive(Serialize)]
pub struct NewHoldPage {
    pub kinds: Vec<Choice>,
    pub reason: String,
    pub agreement: String,
    pub party: String,
    pub subject: String,
    pub errors: Vec<FieldError>,
}

/// One radio button.
#[derive(Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// Releasing a legal hold: why.
#[derive(Serialize)]
pub struct ReleaseHoldPage {
    pub id: Uuid,
    pub reason: String,
    pub errors: Vec<FieldError>,
    /// Where the form posts.
    pub href: String,
}

impl Page for NewHoldPage {
    const TEMPLATE: &'static str = "hold_new";

    fn example() -> NewHoldPage {
        NewHoldPage {
            kinds: HoldKind::ALL
                .iter()
                .map(|k| Choice {
                    value: k.as_str(),
                    label: k.label(),
                    checked: *k == HoldKind::Litigation,
                })
                .collect(),
            reason: "A claim was filed".into(),
            agreement: "camden-foodbank-referrals".into(),
            party: "foodbank".into(),
            subject: "R-77".into(),
            errors: vec![field_error("reason", "Enter the reason for the hold")],
        }
    }
}

impl Page for ReleaseHoldPage {
    const TEMPLATE: &'static str = "hold_release";

    fn example() -> ReleaseHoldPage {
        let id = Uuid::nil();
        ReleaseHoldPage {
            id,
            reason: "The claim was settled".into(),
            errors: vec![field_error(
                "reason",
                "Enter the reason for releasing the hold",
            )],
            href: format!("/holds/{id}/release"),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Prefill {
    subject: Option<String>,
    agreement: Option<String>,
}

#[handler]
pub fn new_form(viewer: Viewer, Query(q): Query<Prefill>) -> WebResult<Response> {
    viewer.allow(OFFICERS)?;
    let f = HoldForm {
        subject: q.subject.unwrap_or_default(),
        agreement: q.agreement.unwrap_or_default(),
        ..Default::default()
    };
    Ok(new_page(&viewer, &f, &[], StatusCode::OK))
}

/// A field left blank is a part of the scope not given.
fn given(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty()).then_some(v)
}

#[handler]
pub async fn new_submit(
    console: Data<&Console>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<HoldForm>>,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    let mut errors = Vec::new();
    let kind = HoldKind::parse(&f.kind);
    if kind.is_none() {
        errors.push(field_error(
            "kind-litigation",
            "Choose what the hold is for",
        ));
    }
    let reason = Reason::parse(&f.reason);
    if let Err(p) = &reason {
        errors.push(field_error("reason", &p.message("the reason for the hold")));
    }
    let scope = HoldScope::parse(given(&f.agreement), given(&f.party), given(&f.subject));
    if let Err(problems) = &scope {
        for p in problems {
            let field = match p {
                ScopeProblem::Nothing | ScopeProblem::Part(ScopePart::Agreement, _) => "agreement",
                ScopeProblem::Part(ScopePart::Party, _) => "party",
                ScopeProblem::Part(ScopePart::SubjectRef, _) => "subject",
            };
            errors.push(field_error(field, &p.message()));
        }
    }
    let (Some(kind), Ok(reason), Ok(scope), true) = (kind, reason, scope, errors.is_empty()) else {
        return Ok(new_page(&viewer, &f, &errors, StatusCode::BAD_REQUEST));
    };
    if f.step == "edit" {
        return Ok(new_page(&viewer, &f, &[], StatusCode::OK));
    }
    if f.step != "confirm" {
        let none = "(any)";
        let page = ConfirmPage {
            heading: "Check the hold before you place it".into(),
            rows: vec![
                Row::new("For", kind.label()),
                Row::new("Reason", reason.as_str()),
                Row::new("Agreement", scope.agreement().unwrap_or(none)),
                Row::new("Party", scope.party().unwrap_or(none)),
                Row::new("Subject reference", scope.subject_ref().unwrap_or(none)),
            ],
            hidden: vec![
                Hidden::new("kind", f.kind.as_str()),
                Hidden::new("reason", f.reason.as_str()),
                Hidden::new("agreement", f.agreement.as_str()),
                Hidden::new("party", f.party.as_str()),
                Hidden::new("subject", f.subject.as_str()),
            ],
            action: "/holds/new".into(),
            back: "/holds/new".into(),
            editable: true,
            warning: "While the hold is in force, nothing it covers is deleted, even when \
                      retention ends."
                .into(),
            button: "Place the hold".into(),
        };
        return Ok(pages().show(StatusCode::OK, Some(&viewer), "Check the hold", &page));
    }
    match console
        .retention
        .place_hold(kind, &reason, &scope, &who.actor())
        .await
    {
        Ok(_) => Ok(see_other("/holds")),
        Err(crate::retention::RetentionError::BadRequest(m)) => {
            let errors = [field_error("agreement", &m)];
            Ok(new_page(&viewer, &f, &errors, StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    reason: String,
}

fn parse_id(id: &str) -> WebResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| WebError::NotFound(format!("there is no hold '{id}'")))
}

fn release_page(
    viewer: &Viewer,
    id: Uuid,
    reason: &str,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let page = ReleaseHoldPage {
        id,
        reason: reason.to_owned(),
        errors: errors.to_vec(),
        href: format!("/holds/{id}/release"),
    };
    pages().show(status, Some(viewer), "Release a legal hold", &page)
}

#[handler]
pub async fn release_form(viewer: Viewer, Path(id): Path<String>) -> WebResult<Response> {
    viewer.allow(OFFICERS)?;
    Ok(release_page(
        &viewer,
        parse_id(&id)?,
        "",
        &[],
        StatusCode::OK,
    ))
}

#[handler]
pub async fn release_submit(
    console: Data<&Console>,
    Path(id): Path<String>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<ReleaseForm>>,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    let id = parse_id(&id)?;
    let reason = match Reason::parse(&f.reason) {
        Ok(reason) => reason,
        Err(p) => {
            let errors = [field_error(
                "reason",
                &p.message("why the hold is released"),
            )];
            let status = StatusCode::BAD_REQUEST;
            return Ok(release_page(&viewer, id, &f.reason, &errors, status));
        }
    };
    if f.step == "edit" {
        return Ok(release_page(&viewer, id, &f.reason, &[], StatusCode::OK));
    }
    if f.step != "confirm" {
        let href = format!("/holds/{id}/release");
        let page = ConfirmPage {
            heading: "Check before you release the hold".into(),
            rows: vec![
                Row::new("Hold", id.to_string()),
                Row::new("Reason", reason.as_str()),
            ],
            hidden: vec![Hidden::new("reason", f.reason.as_str())],
            action: href.clone(),
            back: href,
            editable: true,
            warning: "Once released, what the hold kept is deleted at the next sweep if its \
                      retention has ended."
                .into(),
            button: "Release the hold".into(),
        };
        let title = "Check before you release";
        return Ok(pages().show(StatusCode::OK, Some(&viewer), title, &page));
    }
    console
        .retention
        .release_hold(id, &reason, &who.actor())
        .await?;
    Ok(see_other("/holds"))
}

carries_csrf!(HoldForm, ReleaseForm);
