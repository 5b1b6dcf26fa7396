//! The public access-request form, for people with no account: start with an e-mail address,
//! confirm it through a one-time link, then fill the request in one section at a time through
//! a private link (the link is the key; its forms carry the visit's CSRF token), check the
//! answers, submit, answer questions, follow the decision.

use poem::http::StatusCode;
use poem::web::{Data, Form, Path, RemoteAddr};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Console;
use super::csrf::Checked;
use super::csrf::carries_csrf;
use super::csrf::{CsrfOnly, MessageForm};
use super::errors::{WebError, WebResult};
use super::message::MessagePage;
use super::render::{pages, see_other};
use super::session::Visitor;
use super::sign_in::{FieldError, address, field_error};
use super::typed::Page;
use crate::access::form::{self, Answer, Kind, Problem, Source, Step};
use crate::access::requests::{AccessError, AccessRequest, Actor, Either};
use crate::access::states::Status;

fn base(token: &str) -> String {
    format!("/request-access/r/{token}")
}

fn errors_of(problems: &[Problem]) -> Vec<FieldError> {
    problems
        .iter()
        .map(|p| field_error(p.field, &p.message))
        .collect()
}

#[handler]
pub fn start_form(visit: Visitor) -> Response {
    visit.with_cookie(start_page(&visit, "", &[], StatusCode::OK))
}

fn start_page(visit: &Visitor, email: &str, errors: &[FieldError], status: StatusCode) -> Response {
    let page = StartPage {
        email: email.to_owned(),
        errors: errors.to_vec(),
        visit_csrf: visit.csrf(),
        steps: Step::ALL.iter().map(|s| s.title()).collect(),
    };
    pages().show(status, None, "Ask for access to data", &page)
}

/// The start of an access request: the form's sections, and an e-mail address to confirm.
#[derive(Serialize)]
pub struct StartPage {
    pub email: String,
    pub errors: Vec<FieldError>,
    pub visit_csrf: String,
    /// The sections the request has, by title.
    pub steps: Vec<&'static str>,
}

/// Asking for a new private link, by e-mail address.
#[derive(Serialize)]
pub struct RenewPage {
    pub email: String,
    pub errors: Vec<FieldError>,
    pub visit_csrf: String,
}

/// Confirming an e-mail address: a button, since a GET (a mail scanner's) changes nothing.
#[derive(Serialize)]
pub struct ConfirmAddressPage {
    pub token: String,
    pub visit_csrf: String,
}

impl Page for StartPage {
    const TEMPLATE: &'static str = "request_start";

    fn example() -> StartPage {
        StartPage {
            email: "sam.okoro@foodbank.example".into(),
            errors: vec![field_error("email", "Enter an e-mail address")],
            visit_csrf: "0".repeat(64),
            steps: Step::ALL.iter().map(|s| s.title()).collect(),
        }
    }
}

impl Page for RenewPage {
    const TEMPLATE: &'static str = "request_renew";

    fn example() -> RenewPage {
        RenewPage {
            email: "sam.okoro@foodbank.example".into(),
            errors: vec![field_error("email", "Enter an e-mail address")],
            visit_csrf: "0".repeat(64),
        }
    }
}

impl Page for ConfirmAddressPage {
    const TEMPLATE: &'static str = "request_confirm";

    fn example() -> ConfirmAddressPage {
        ConfirmAddressPage {
            token: "0".repeat(64),
            visit_csrf: "0".repeat(64),
        }
    }
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

#[handler]
pub async fn start(
    console: Data<&Console>,
    remote: &RemoteAddr,
    Checked(visit, Form(f)): Checked<Visitor, Form<StartForm>>,
) -> WebResult {
    let email = f.email.trim();
    match console.access.start(email, &address(remote)).await {
        Ok(()) => {}
        Err(AccessError::Problems(p)) => {
            return Ok(visit.with_cookie(start_page(
                &visit,
                email,
                &errors_of(&p),
                StatusCode::BAD_REQUEST,
            )));
        }
        Err(AccessError::Throttled) => {
            let e = [field_error(
                "email",
                "Too many requests have been started from here. Try again in 15 minutes.",
            )];
            return Ok(visit.with_cookie(start_page(
                &visit,
                email,
                &e,
                StatusCode::TOO_MANY_REQUESTS,
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let said = MessagePage::new(
        "Check your e-mail",
        format!(
            "We have sent a link to {email}. Open it within 24 hours to confirm your address and \
             continue your request. If it has not arrived in a few minutes, check your junk \
             folder, or start again."
        ),
        Some(("/request-access", "Start again")),
    );
    let page = pages().show(StatusCode::OK, None, "Check your e-mail", &said);
    Ok(visit.with_cookie(page))
}

#[handler]
pub fn renew_form(visit: Visitor) -> Response {
    visit.with_cookie(renew_page(&visit, "", &[], StatusCode::OK))
}

fn renew_page(visit: &Visitor, email: &str, errors: &[FieldError], status: StatusCode) -> Response {
    let page = RenewPage {
        email: email.to_owned(),
        errors: errors.to_vec(),
        visit_csrf: visit.csrf(),
    };
    pages().show(status, None, "Get a new link to your request", &page)
}

/// Sends new private links to the address's open requests; the same answer whether or not
/// it has any.
#[handler]
pub async fn renew(
    console: Data<&Console>,
    remote: &RemoteAddr,
    Checked(visit, Form(f)): Checked<Visitor, Form<StartForm>>,
) -> WebResult {
    let email = f.email.trim();
    let problem = match console.access.renew(email, &address(remote)).await {
        Ok(()) => None,
        Err(AccessError::Problems(p)) => Some((errors_of(&p), StatusCode::BAD_REQUEST)),
        Err(AccessError::Throttled) => Some((
            vec![field_error(
                "email",
                "Too many links have been asked for from here. Try again in 15 minutes.",
            )],
            StatusCode::TOO_MANY_REQUESTS,
        )),
        Err(e) => return Err(e.into()),
    };
    if let Some((errors, status)) = problem {
        return Ok(visit.with_cookie(renew_page(&visit, email, &errors, status)));
    }
    let said = MessagePage::new(
        "Check your e-mail",
        format!(
            "If {email} has a request that is still open, we have sent it a new private link. \
             Links sent before stop working."
        ),
        None,
    );
    let page = pages().show(StatusCode::OK, None, "Check your e-mail", &said);
    Ok(visit.with_cookie(page))
}

#[handler]
pub fn confirm_form(visit: Visitor, Path(token): Path<String>) -> Response {
    // A GET changes nothing: mail scanners open links. The button posts.
    let page = ConfirmAddressPage {
        token,
        visit_csrf: visit.csrf(),
    };
    let title = "Confirm your e-mail address";
    visit.with_cookie(pages().show(StatusCode::OK, None, title, &page))
}

#[handler]
pub async fn confirm(
    console: Data<&Console>,
    Path(token): Path<String>,
    Checked(_, Form(_)): Checked<Visitor, Form<CsrfOnly>>,
) -> WebResult {
    let (_, resume) = console.access.confirm(&token).await?;
    Ok(see_other(&base(&resume)))
}

/// The request's page: the task list while the requester can change it, its status, the
/// thread, and the answer form when a question waits.
#[handler]
pub async fn tasks(
    console: Data<&Console>,
    visit: Visitor,
    Path(token): Path<String>,
) -> WebResult {
    let r = console.access.by_link(&token).await?;
    Ok(visit.with_cookie(tasks_page(&console, &visit, &token, &r, &[], "", None).await?))
}

async fn tasks_page(
    console: &Console,
    visit: &Visitor,
    token: &str,
    r: &AccessRequest,
    errors: &[FieldError],
    message: &str,
    notice: Option<&str>,
) -> WebResult<Response> {
    let progress = console.access.progress(r).await?;
    let task_list: Vec<Value> = progress
        .iter()
        .map(|(step, problems)| {
            let complete = problems.is_empty();
            let state = if complete {
                "Completed"
            } else if r.answers.started(*step) {
                "In progress"
            } else {
                "Not started"
            };
            json!({
                "slug": step.slug(), "title": step.title(), "complete": complete, "state": state,
                "href": format!("{}/step/{}", base(token), step.slug()),
            })
        })
        .collect();
    let done = progress.iter().filter(|(_, p)| p.is_empty()).count();
    let thread: Vec<Value> = console
        .access
        .messages(r.id)
        .await?
        .into_iter()
        .map(|m| json!({ "author": m.author, "at": m.at, "body": m.body }))
        .collect();
    let data = json!({
        "r": r, "errors": errors, "notice": notice, "message": message,
        "editable": r.status.with_requester(), "draft": r.status == Status::Draft,
        "answering": r.status == Status::InfoRequested,
        "withdrawable": !r.status.is_final(),
        "tasks": task_list, "done": done, "total": progress.len(), "complete": done == progress.len(),
        "thread": thread, "base": base(token), "visit_csrf": visit.csrf(),
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(pages().page_with(
        status,
        None,
        "request_tasks",
        &format!("Request {}", r.reference),
        data,
    ))
}

fn step_of(slug: &str) -> Result<Step, WebError> {
    Step::from_slug(slug).ok_or_else(|| WebError::NotFound("There is no such section.".into()))
}

#[handler]
pub async fn step_form(
    console: Data<&Console>,
    visit: Visitor,
    Path((token, slug)): Path<(String, String)>,
) -> WebResult {
    let step = step_of(&slug)?;
    let r = console.access.by_link(&token).await?;
    if !r.status.with_requester() {
        return Ok(see_other(&base(&token)));
    }
    let answers = r.answers.clone();
    Ok(visit.with_cookie(
        step_page(
            &console,
            &visit,
            &token,
            &r,
            step,
            &answers,
            &[],
            StatusCode::OK,
        )
        .await?,
    ))
}

#[allow(clippy::too_many_arguments)]
async fn step_page(
    console: &Console,
    visit: &Visitor,
    token: &str,
    r: &AccessRequest,
    step: Step,
    answers: &form::Answers,
    problems: &[Problem],
    status: StatusCode,
) -> WebResult<Response> {
    let choices = console.access.choices(answers).await?;
    let questions: Vec<Value> = step
        .questions()
        .iter()
        .map(|q| {
            let error = problems
                .iter()
                .find(|p| p.field == q.name)
                .map(|p| p.message.clone());
            let chosen: Vec<String> = match answers.0.get(q.name) {
                Some(Answer::One(v)) => vec![v.clone()],
                Some(Answer::Many(v)) => v.clone(),
                None => Vec::new(),
            };
            let (choice, multiple, source) = match q.kind {
                Kind::One(s) => (true, false, Some(s)),
                Kind::Many(s) => (true, true, Some(s)),
                _ => (false, false, None),
            };
            let options: Vec<Value> = form::options_for(q, &choices)
                .into_iter()
                .enumerate()
                .map(|(i, o)| {
                    let none = o.value.is_empty();
                    json!({
                        "id": if i == 0 { q.name.to_owned() } else { format!("{}-{i}", q.name) },
                        "checked": if none { chosen.is_empty() } else { chosen.contains(&o.value) },
                        "value": o.value, "label": o.label, "flag": o.flag,
                    })
                })
                .collect();
            let select = !multiple
                && matches!(source, Some(Source::Schedule1 | Source::Targets))
                && options.len() > 12;
            json!({
                "name": q.name, "label": q.label, "hint": q.hint, "required": q.required,
                "error": error, "choice": choice, "select": select,
                "type": match q.kind {
                    Kind::Many(_) => "checkbox",
                    Kind::One(_) => "radio",
                    Kind::Email => "email",
                    // Dates are typed as text (YYYY-MM-DD), as GOV.UK advises: a browser's
                    // date picker differs in every browser and fails many keyboard users.
                    _ => "text",
                },
                "autocomplete": match q.name {
                    "requester_name" => Some("name"),
                    "requester_email" => Some("email"),
                    "requester_role" => Some("organization-title"),
                    "org_name" => Some("organization"),
                    _ => None,
                },
                "paragraph": q.kind == Kind::Paragraph,
                "value": chosen.first().cloned().unwrap_or_default(),
                "options": options,
            })
        })
        .collect();
    let number = Step::ALL.iter().position(|s| *s == step).unwrap_or(0) + 1;
    let data = json!({
        "errors": errors_of(problems), "questions": questions, "title": step.title(),
        "slug": step.slug(), "number": number, "total": Step::ALL.len(),
        "reference": r.reference, "base": base(token), "visit_csrf": visit.csrf(),
    });
    Ok(pages().page_with(status, None, "request_step", step.title(), data))
}

#[handler]
pub async fn step_save(
    console: Data<&Console>,
    Path((token, slug)): Path<(String, String)>,
    Checked(visit, Form(posted)): Checked<Visitor, Form<Vec<(String, String)>>>,
) -> WebResult {
    let step = step_of(&slug)?;
    match console.access.save_step(&token, step, &posted).await {
        Ok(r) => {
            let progress = console.access.progress(&r).await?;
            // The next section not yet complete, else the task list.
            let next = step.next().into_iter().chain(Step::ALL).find(|s| {
                progress
                    .iter()
                    .any(|(p, probs)| p == s && !probs.is_empty())
            });
            Ok(match next {
                Some(s) if !r.answers.started(s) => {
                    see_other(&format!("{}/step/{}", base(&token), s.slug()))
                }
                _ => see_other(&base(&token)),
            })
        }
        Err(AccessError::Problems(problems)) => {
            let r = console.access.by_link(&token).await?;
            let answers = r.answers.with_step(step, &posted);
            Ok(visit.with_cookie(
                step_page(
                    &console,
                    &visit,
                    &token,
                    &r,
                    step,
                    &answers,
                    &problems,
                    StatusCode::BAD_REQUEST,
                )
                .await?,
            ))
        }
        Err(AccessError::WrongState { .. }) => Ok(see_other(&base(&token))),
        Err(e) => Err(e.into()),
    }
}

/// Every answer, as the check page and the officers' page show it.
pub fn answer_sections(
    answers: &form::Answers,
    choices: &form::Choices,
    href: impl Fn(Step) -> String,
) -> Vec<Value> {
    Step::ALL
        .iter()
        .map(|step| {
            let rows: Vec<Value> = step
                .questions()
                .iter()
                .map(|q| {
                    let label_of = |v: &str| match q.kind {
                        Kind::One(s) | Kind::Many(s) => form::options(s, choices)
                            .into_iter()
                            .find(|o| o.value == v)
                            .map(|o| match o.flag {
                                Some(f) => format!("{} ({f})", o.label),
                                None => o.label,
                            })
                            .unwrap_or_else(|| v.to_owned()),
                        _ => v.to_owned(),
                    };
                    let value = match answers.0.get(q.name) {
                        Some(Answer::One(v)) => label_of(v),
                        Some(Answer::Many(vs)) => vs
                            .iter()
                            .map(|v| label_of(v))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        None => "Not answered".to_owned(),
                    };
                    json!({ "label": q.label, "value": value })
                })
                .collect();
            json!({ "title": step.title(), "slug": step.slug(), "href": href(*step), "rows": rows })
        })
        .collect()
}

#[handler]
pub async fn check(
    console: Data<&Console>,
    visit: Visitor,
    Path(token): Path<String>,
) -> WebResult {
    let r = console.access.by_link(&token).await?;
    Ok(visit.with_cookie(check_page(&console, &visit, &token, &r, &[]).await?))
}

async fn check_page(
    console: &Console,
    visit: &Visitor,
    token: &str,
    r: &AccessRequest,
    errors: &[FieldError],
) -> WebResult<Response> {
    let choices = console.access.choices(&r.answers).await?;
    let b = base(token);
    let sections = answer_sections(&r.answers, &choices, |s| format!("{b}/step/{}", s.slug()));
    let data = json!({
        "sections": sections, "errors": errors, "reference": r.reference,
        "draft": r.status == Status::Draft, "editable": r.status.with_requester(),
        "base": b, "visit_csrf": visit.csrf(),
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(pages().page_with(status, None, "request_check", "Check your answers", data))
}

#[handler]
pub async fn submit(
    console: Data<&Console>,
    Path(token): Path<String>,
    Checked(visit, Form(_)): Checked<Visitor, Form<CsrfOnly>>,
) -> WebResult {
    match console
        .access
        .submit(Actor::Link, Either::Link(&token))
        .await
    {
        Ok(r) => Ok(visit.with_cookie(
            tasks_page(
                &console,
                &visit,
                &token,
                &r,
                &[],
                "",
                Some(&format!(
                    "Request submitted. Your reference is {}. We have sent you an e-mail \
                     confirming it.",
                    r.reference
                )),
            )
            .await?,
        )),
        Err(AccessError::Incomplete(steps)) => {
            let r = console.access.by_link(&token).await?;
            let errors: Vec<FieldError> = steps
                .iter()
                .map(|(s, p)| field_error(s.slug(), &format!("{}: {}", s.title(), p[0].message)))
                .collect();
            Ok(visit.with_cookie(check_page(&console, &visit, &token, &r, &errors).await?))
        }
        // A second submit (a double click) lands on the request as it stands.
        Err(AccessError::WrongState { .. }) => Ok(see_other(&base(&token))),
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn answer(
    console: Data<&Console>,
    Path(token): Path<String>,
    Checked(visit, Form(f)): Checked<Visitor, Form<MessageForm>>,
) -> WebResult {
    match console
        .access
        .answer(Actor::Link, Either::Link(&token), &f.message)
        .await
    {
        Ok(r) => Ok(visit.with_cookie(
            tasks_page(
                &console,
                &visit,
                &token,
                &r,
                &[],
                "",
                Some("Your answer has been sent. The review continues."),
            )
            .await?,
        )),
        Err(AccessError::BadInput(m)) => {
            let r = console.access.by_link(&token).await?;
            let e = [field_error("message", &crate::text::capitalised(&m))];
            Ok(visit
                .with_cookie(tasks_page(&console, &visit, &token, &r, &e, &f.message, None).await?))
        }
        Err(AccessError::WrongState { .. }) => Ok(see_other(&base(&token))),
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn withdraw_form(
    console: Data<&Console>,
    visit: Visitor,
    Path(token): Path<String>,
) -> WebResult {
    let r = console.access.by_link(&token).await?;
    if r.status.is_final() {
        return Ok(see_other(&base(&token)));
    }
    let data =
        json!({ "reference": r.reference, "base": base(&token), "visit_csrf": visit.csrf() });
    Ok(visit.with_cookie(pages().page(None, "request_withdraw", "Withdraw the request", data)))
}

#[handler]
pub async fn withdraw(
    console: Data<&Console>,
    Path(token): Path<String>,
    Checked(_, Form(_)): Checked<Visitor, Form<CsrfOnly>>,
) -> WebResult {
    match console
        .access
        .withdraw(Actor::Link, Either::Link(&token))
        .await
    {
        Ok(_) | Err(AccessError::WrongState { .. }) => Ok(see_other(&base(&token))),
        Err(e) => Err(e.into()),
    }
}

carries_csrf!(StartForm);
