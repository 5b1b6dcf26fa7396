//! Agreements: the list, an agreement's page (summary, diagram, versions, signatures, status),
//! the diff of two versions, its DPIA and YAML, signing, and an officer's suspend, reinstate
//! and terminate — each irreversible step behind a check-answers page.

use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Console;
use super::confirm::{ConfirmPage, Hidden, Row};
use super::csrf::Checked;
use super::csrf::carries_csrf;
use super::errors::{WebError, WebResult};
use super::render::{pages, see_other};
use super::session::{Viewer, encode};
use super::sign_in::{FieldError, field_error};
use super::urls;
use crate::agreement::lifecycle::{Control, Status};
use crate::agreement::validate::placeholders::unfilled_in;
use crate::agreement::vocab::SignatureRole;
use crate::auth::{OFFICERS, READERS, ReadScope, Role};
use crate::dpia;
use crate::inputs::{Problem, Reason, SignerName};
use crate::registry::queries::{Due, ListFilter, Paging};
use crate::registry::stored::VersionInfo;

const PER_PAGE: u64 = 25;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    party: Option<String>,
    awaiting: Option<String>,
    due: Option<String>,
    after: Option<String>,
    page: Option<u64>,
}

pub fn parse_status(text: &str) -> Option<Status> {
    Status::ALL.into_iter().find(|s| s.as_str() == text)
}

fn blank_to_none(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[handler]
pub async fn list(
    console: Data<&Console>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let scope = viewer
        .principal()
        .read_scope()
        .map_err(|d| WebError::Forbidden(d.0))?;
    let status = match blank_to_none(&q.status) {
        None => None,
        Some(s) => Some(
            parse_status(s)
                .ok_or_else(|| WebError::BadRequest(format!("there is no status '{s}'")))?,
        ),
    };
    let due = match blank_to_none(&q.due) {
        None => None,
        Some("review") => Some(Due::Review),
        Some("term_end") => Some(Due::TermEnd),
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "'{other}' is not review or term_end"
            )));
        }
    };
    let (party, awaiting) = match scope {
        ReadScope::Everything => (blank_to_none(&q.party), blank_to_none(&q.awaiting)),
        ReadScope::Party(own) => (Some(own), blank_to_none(&q.awaiting).map(|_| own)),
    };
    let filter = ListFilter {
        status,
        party,
        awaiting,
        due,
    };
    let page_no = q.page.unwrap_or(1).clamp(1, 1_000_000_000);
    let after = blank_to_none(&q.after).map(|a| a.chars().take(200).collect::<String>());
    let found = console
        .registry
        .agreements(
            &filter,
            after.as_deref(),
            Paging::new(Some(page_no), Some(PER_PAGE)),
        )
        .await?;
    let mut keep = String::new();
    for (k, v) in [
        ("status", status.map(|s| s.as_str())),
        (
            "party",
            if matches!(scope, ReadScope::Everything) {
                party
            } else {
                None
            },
        ),
        ("awaiting", awaiting),
        ("due", blank_to_none(&q.due)),
    ] {
        if let Some(v) = v {
            keep.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    let next = found
        .next_after
        .as_ref()
        .map(|a| format!("/agreements?after={}{keep}", encode(a)));
    let statuses: Vec<Value> = Status::ALL
        .iter()
        .map(|s| json!({ "value": s.as_str(), "selected": status == Some(*s) }))
        .collect();
    let data = json!({
        "items": found.items,
        "total": found.total,
        "matched": crate::text::count(found.total, "agreement matches", "agreements match"),
        "next": next,
        "first": if after.is_some() { Some(format!("/agreements?{}", keep.trim_start_matches('&'))) } else { None },
        "statuses": statuses,
        "party": party,
        "party_fixed": !matches!(scope, ReadScope::Everything),
        "officer": viewer.allow(OFFICERS).is_ok(),
    });
    Ok(pages().page(Some(&viewer), "agreements", "Agreements", data))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
}

/// What a finished action says on the agreement's page (fixed texts, never from the query).
fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "saved" => Some("The draft has been saved."),
        "drafted" => Some(
            "The draft has been made from the template. Fill in what is listed below, then save \
             the filled agreement as a new version.",
        ),
        "signed" => Some("Your signature has been recorded."),
        "suspended" => Some("The agreement is suspended: the gate refuses its flows."),
        "reinstated" => Some("The agreement is reinstated."),
        "terminated" => Some("The agreement is terminated."),
        _ => None,
    }
}

#[handler]
pub async fn page(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let registry = &console.registry;
    registry.readable(viewer.principal(), &id, None).await?;
    let summary = registry.agreement(&id).await?;
    let versions = registry.versions(&id).await?;
    let (shown, agreement) = registry.agreement_at(&id, None).await?;
    let today = console.clock.today();
    let doc = dpia::generate(&agreement, today).in_register(shown);
    let who = viewer.principal();
    let my_party = who
        .bound_party()
        .ok()
        .filter(|_| who.role == Role::Signatory);
    let version_rows: Vec<Value> = versions
        .iter()
        .rev()
        .map(|v| {
            let can_sign = my_party.is_some_and(|p| v.awaiting.iter().any(|a| a == p))
                && v.status == Status::Draft;
            json!({
                "v": v,
                "status": v.status.as_str(),
                "can_sign": can_sign,
                "sign_href": urls::sign(&id, v.number),
                "source_href": urls::source(&id, v.number),
            })
        })
        .collect();
    let latest = versions.last();
    let officer = viewer.allow(OFFICERS).is_ok();
    let actions: Vec<Value> = if officer {
        summary
            .control
            .moves()
            .iter()
            .map(|&to| {
                let (action, verb, _) = control_words(to);
                let href = urls::control(&id, action);
                json!({ "action": action, "text": verb, "href": href })
            })
            .collect()
    } else {
        Vec::new()
    };
    // The access requests this agreement was drafted from, for those who read requests.
    let requests = if viewer.allow(READERS).is_ok() {
        console.access.drafted_into(&id).await?
    } else {
        Vec::new()
    };
    // The handover dashboard, for readers of an agreement that names contractors.
    let handover: Vec<serde_json::Value> =
        if viewer.allow(READERS).is_ok() && !agreement.contractors.is_empty() {
            console
                .handover
                .handover(viewer.principal(), &id)
                .await?
                .engagements
                .iter()
                .map(|e| {
                    json!({
                        "party": e.party_name, "accepted": e.accepted, "total": e.total,
                        "overdue": e.overdue, "end": e.engagement_end, "days": e.days_to_end,
                        "ended": e.days_to_end < 0, "completed": e.completed_at.is_some(),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
    // What a template left to fill in the newest version, while it is a draft.
    let placeholders: Vec<Value> = match latest.filter(|v| v.status == Status::Draft) {
        Some(v) => {
            let text = registry.version_source(&id, v.number).await?;
            unfilled_in(text.as_bytes())
                .into_iter()
                .map(|d| json!({ "line": d.pos.line, "message": d.message }))
                .collect()
        }
        None => Vec::new(),
    };
    let data = json!({
        "id": id,
        "placeholders": placeholders,
        "template_href": urls::template(&id),
        "handover": handover,
        "summary": summary,
        "status": summary.status.as_str(),
        "why": status_why(&summary, latest),
        "published": summary.status == Status::Active && agreement.published(),
        "unpublished_why": unpublished_why(*summary.status, agreement.published()),
        "shown": shown,
        "doc": doc,
        "term": {
            "start": agreement.term.start.to_string(),
            "end": agreement.term.end.map(|d| d.to_string()),
            "review_every": agreement.term.review_every.to_string(),
            "next_review": agreement.term.next_review().map(|d| d.to_string()),
        },
        "versions": version_rows,
        "compare": versions.len() > 1,
        "numbers": versions.iter().map(|v| v.number).collect::<Vec<_>>(),
        "latest": latest,
        "actions": actions,
        "officer": officer,
        "done": done_message(q.done.as_deref()),
        "dpia_href": urls::dpia(&id, false, None),
        "dpia_md_href": urls::dpia(&id, true, None),
        "diagram_alt": diagram_alt(&doc),
        "requests": requests,
    });
    Ok(pages().page(Some(&viewer), "agreement", &summary.title, data))
}

/// Why the transparency register does not show the agreement, in words (`None` when it does):
/// it shows only published agreements in force.
fn unpublished_why(status: Status, publishes: bool) -> Option<&'static str> {
    match (status, publishes) {
        (Status::Active, true) => None,
        (_, false) => Some("its file does not say transparency: publish: true"),
        (Status::Suspended, true) => Some("while it is suspended"),
        (Status::Draft, true) => Some("until this version is in force"),
        (Status::Terminated | Status::Expired | Status::Superseded, true) => {
            Some("now that it is no longer in force")
        }
    }
}

/// The status in a sentence, with its reason.
fn status_why(
    s: &crate::registry::queries::AgreementSummary,
    latest: Option<&VersionInfo>,
) -> String {
    // The reason as a sentence: one full stop however the officer ended it.
    let reason =
        crate::text::sentences(&[s.control_reason.as_deref().unwrap_or("no reason recorded")]);
    match *s.status {
        Status::Suspended => {
            format!("Suspended by an officer: {reason} The gate refuses its flows.")
        }
        Status::Terminated => {
            format!("Terminated: {reason} It takes no new versions or signatures.")
        }
        Status::Expired => "Its term has ended, so the gate refuses its flows.".to_owned(),
        Status::Draft => match latest {
            Some(v) if !v.awaiting.is_empty() => format!(
                "A draft: waiting for the senior officer of {} to sign.",
                v.awaiting.join(", ")
            ),
            _ => "A draft.".to_owned(),
        },
        Status::Active => match latest {
            Some(v) if v.status == Status::Draft => format!(
                "In force (version {}); version {} is a draft waiting for signatures.",
                s.current_version.unwrap_or_default(),
                v.number
            ),
            _ => format!(
                "In force (version {}): every party has signed.",
                s.current_version.unwrap_or_default()
            ),
        },
        Status::Superseded => "Superseded by a later version.".to_owned(),
    }
}

/// The diagram as text, for people who cannot see it.
fn diagram_alt(doc: &dpia::DpiaDocument) -> String {
    let flows: Vec<String> = doc
        .description
        .flows
        .iter()
        .map(|f| format!("{} sends {} to {}", f.from, f.fields, f.to))
        .collect();
    format!("Data-flow diagram: {}.", flows.join("; "))
}

#[derive(Deserialize, Default)]
pub struct DiffQuery {
    from: Option<i32>,
    to: Option<i32>,
}

#[handler]
pub async fn diff(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> WebResult<Response> {
    let (Some(from), Some(to)) = (q.from, q.to) else {
        return Err(WebError::BadRequest(
            "choose two versions to compare".into(),
        ));
    };
    let registry = &console.registry;
    registry
        .readable(viewer.principal(), &id, Some(from))
        .await?;
    registry.readable(viewer.principal(), &id, Some(to)).await?;
    let text = registry.diff(&id, from, to).await?;
    let lines: Vec<Value> = text
        .lines()
        .map(|l| {
            let kind = match l.chars().next() {
                Some('+') if !l.starts_with("+++") => "added",
                Some('-') if !l.starts_with("---") => "removed",
                Some('@') => "hunk",
                _ => "same",
            };
            json!({ "text": l, "kind": kind })
        })
        .collect();
    let data = json!({ "id": id, "from": from, "to": to, "lines": lines, "same": text.is_empty() });
    let title = format!("Changes from version {from} to {to}");
    Ok(pages().page(Some(&viewer), "diff", &title, data))
}

#[derive(Deserialize, Default)]
pub struct VersionQuery {
    version: Option<i32>,
}

async fn dpia_document(
    console: &Console,
    viewer: &Viewer,
    id: &str,
    version: Option<i32>,
) -> WebResult<dpia::DpiaDocument> {
    console
        .registry
        .readable(viewer.principal(), id, version)
        .await?;
    let (number, agreement) = console.registry.agreement_at(id, version).await?;
    let today = console.clock.today();
    Ok(dpia::generate(&agreement, today).in_register(number))
}

/// The DPIA as its own HTML document (its inline stylesheet is allowed by hash, as the API's).
#[handler]
pub async fn dpia_html(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> WebResult<Response> {
    let doc = dpia_document(&console, &viewer, &id, q.version).await?;
    let html = console
        .dpia
        .0
        .render(&doc)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(
            poem::http::header::CONTENT_SECURITY_POLICY,
            crate::api::headers::html_policy(&html),
        )
        .body(html))
}

#[handler]
pub async fn dpia_markdown(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> WebResult<Response> {
    let doc = dpia_document(&console, &viewer, &id, q.version).await?;
    let md = console
        .dpia
        .1
        .render(&doc)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Response::builder()
        .content_type("text/markdown; charset=utf-8")
        .header(
            poem::http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"dpia-{}.md\"",
                id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
            ),
        )
        .body(md))
}

/// One version's YAML as received, as plain text (never rendered).
#[handler]
pub async fn source(
    console: Data<&Console>,
    viewer: Viewer,
    Path((id, n)): Path<(String, i32)>,
) -> WebResult<Response> {
    console
        .registry
        .readable(viewer.principal(), &id, Some(n))
        .await?;
    let text = console.registry.version_source(&id, n).await?;
    Ok(Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(text))
}

#[derive(Deserialize, Default)]
pub struct SignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

async fn sign_page(
    console: &Console,
    viewer: &Viewer,
    id: &str,
    n: i32,
    form: &SignForm,
    errors: &[FieldError],
    status: StatusCode,
) -> WebResult<Response> {
    let party = viewer
        .principal()
        .bound_party()
        .map_err(|e| WebError::Forbidden(e.to_string()))?;
    console
        .registry
        .readable(viewer.principal(), id, Some(n))
        .await?;
    let (_, agreement) = console.registry.agreement_at(id, Some(n)).await?;
    let today = console.clock.today();
    let doc = dpia::generate(&agreement, today).in_register(n);
    let roles: Vec<Value> = SignatureRole::ALL
        .iter()
        .map(|r| json!({ "value": r.as_str(), "label": r.label(), "checked": form.role == r.as_str() }))
        .collect();
    let data = json!({
        "id": id, "n": n, "title": agreement.title, "party": party,
        "screening": doc.summary, "need": doc.need,
        "name": if form.name.is_empty() { viewer.principal().name.clone() } else { form.name.clone() },
        "roles": roles, "errors": errors,
        "dpia_href": urls::dpia(id, false, Some(n)),
    });
    Ok(pages().page_with(status, Some(viewer), "sign", "Sign the agreement", data))
}

#[handler]
pub async fn sign_form(
    console: Data<&Console>,
    viewer: Viewer,
    Path((id, n)): Path<(String, i32)>,
) -> WebResult<Response> {
    viewer.allow(&[Role::Signatory])?;
    sign_page(
        &console,
        &viewer,
        &id,
        n,
        &SignForm::default(),
        &[],
        StatusCode::OK,
    )
    .await
}

#[handler]
pub async fn sign_submit(
    console: Data<&Console>,
    Path((id, n)): Path<(String, i32)>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<SignForm>>,
) -> WebResult<Response> {
    viewer.allow(&[Role::Signatory])?;
    let mut errors = Vec::new();
    let name = SignerName::parse(&f.name);
    match &name {
        Err(Problem::Blank) => errors.push(field_error(
            "name",
            "Enter your full name, as it should appear on the agreement",
        )),
        Err(p) => errors.push(field_error("name", &p.message("your name"))),
        Ok(_) => {}
    }
    let role = SignatureRole::from_text(&f.role);
    if role.is_none() {
        errors.push(field_error(
            "role-senior_officer",
            "Choose whether you sign as the senior officer or the data protection officer",
        ));
    }
    let (Ok(name), Some(role), true) = (name, role, errors.is_empty()) else {
        return sign_page(
            &console,
            &viewer,
            &id,
            n,
            &f,
            &errors,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    if f.step == "edit" {
        return sign_page(&console, &viewer, &id, n, &f, &[], StatusCode::OK).await;
    }
    let here = urls::sign(&id, n);
    if f.step != "confirm" {
        console
            .registry
            .readable(viewer.principal(), &id, Some(n))
            .await?;
        let party = viewer
            .principal()
            .bound_party()
            .unwrap_or_default()
            .to_owned();
        let check = ConfirmPage {
            heading: "Check before you sign".into(),
            rows: vec![
                Row::new("Agreement", format!("{id}, version {n}")),
                Row::new("Signing for", party),
                Row::new("Your name", name.as_str()),
                Row::new("Signing as", role.label()),
            ],
            hidden: vec![
                Hidden::new("name", name.as_str()),
                Hidden::new("role", f.role.as_str()),
            ],
            action: here.clone(),
            back: here,
            editable: true,
            warning: "A signature cannot be withdrawn. When every party's senior officer has \
                      signed, the version comes into force."
                .into(),
            button: "Sign the agreement".into(),
        };
        let title = "Check before you sign";
        return Ok(pages().show(StatusCode::OK, Some(&viewer), title, &check));
    }
    console
        .registry
        .sign(&id, n, viewer.principal(), &name, role)
        .await?;
    Ok(see_other(&urls::agreement(&id, Some("signed"))))
}

#[derive(Deserialize, Default)]
pub struct ControlForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    reason: String,
}

/// The page's words for a move to `to`: its path segment, its verb, and what it did.
fn control_words(to: Control) -> (&'static str, &'static str, &'static str) {
    match to {
        Control::Suspended => ("suspend", "Suspend", "suspended"),
        Control::Open => ("reinstate", "Reinstate", "reinstated"),
        Control::Terminated => ("terminate", "Terminate", "terminated"),
    }
}

/// The move a path segment names, with its verb and what it did.
fn control_of(action: &str) -> WebResult<(Control, &'static str, &'static str)> {
    [Control::Suspended, Control::Open, Control::Terminated]
        .into_iter()
        .map(|to| (to, control_words(to)))
        .find(|(_, (slug, _, _))| *slug == action)
        .map(|(to, (_, verb, done))| (to, verb, done))
        .ok_or_else(|| WebError::NotFound(format!("there is no action '{action}'")))
}

fn control_page(
    viewer: &Viewer,
    id: &str,
    action: &str,
    verb: &str,
    reason: &str,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let data = json!({
        "id": id, "action": action, "verb": verb, "reason": reason, "errors": errors,
        "terminate": action == "terminate",
        "href": urls::control(id, action),
        "back": urls::agreement(id, None),
    });
    pages().page_with(
        status,
        Some(viewer),
        "control",
        &format!("{verb} the agreement"),
        data,
    )
}

#[handler]
pub async fn control_form(
    console: Data<&Console>,
    viewer: Viewer,
    Path((id, action)): Path<(String, String)>,
) -> WebResult<Response> {
    viewer.allow(OFFICERS)?;
    let (_, verb, _) = control_of(&action)?;
    console.registry.agreement(&id).await?;
    Ok(control_page(
        &viewer,
        &id,
        &action,
        verb,
        "",
        &[],
        StatusCode::OK,
    ))
}

#[handler]
pub async fn control_submit(
    console: Data<&Console>,
    Path((id, action)): Path<(String, String)>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<ControlForm>>,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    let (to, verb, done) = control_of(&action)?;
    let reason = match Reason::parse(&f.reason) {
        Ok(reason) => reason,
        Err(p) => {
            let errors = [field_error("reason", &p.message("the reason"))];
            let status = StatusCode::BAD_REQUEST;
            return Ok(control_page(
                &viewer, &id, &action, verb, &f.reason, &errors, status,
            ));
        }
    };
    if f.step == "edit" {
        return Ok(control_page(
            &viewer,
            &id,
            &action,
            verb,
            &f.reason,
            &[],
            StatusCode::OK,
        ));
    }
    let here = urls::control(&id, &action);
    if f.step != "confirm" {
        console.registry.agreement(&id).await?;
        let warning = match to {
            Control::Suspended => "While suspended, the gate refuses every flow of this agreement.",
            Control::Open => "The gate will allow this agreement's flows again.",
            Control::Terminated => {
                "Termination is final: the agreement takes no new versions or signatures, and the gate refuses its flows for good."
            }
        };
        let heading = format!("Check before you {}", verb.to_lowercase());
        let check = ConfirmPage {
            heading: heading.clone(),
            rows: vec![
                Row::new("Agreement", id.as_str()),
                Row::new("Action", verb),
                Row::new("Reason", reason.as_str()),
            ],
            hidden: vec![Hidden::new("reason", reason.as_str())],
            action: here.clone(),
            back: here,
            editable: true,
            warning: warning.into(),
            button: format!("{verb} the agreement"),
        };
        return Ok(pages().show(StatusCode::OK, Some(&viewer), &heading, &check));
    }
    console
        .registry
        .set_control(&id, to, &reason, &who.actor())
        .await?;
    Ok(see_other(&urls::agreement(&id, Some(done))))
}

carries_csrf!(ControlForm, SignForm);
