//! Contractor handover pages: the task list (a contractor's items, or every contractor's for
//! readers), an agreement's handover dashboard, an item's page (submit; accept or return),
//! ending an engagement early, the knowledge pack, and search over accepted knowledge. The use
//! cases decide who may do what.

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
use super::errors::{WebError, WebResult};
use super::multipart::Parts;
use super::render::{pages, see_other};
use super::session::Viewer;
use super::sign_in::{FieldError, field_error};
use super::urls;
use crate::auth::{OFFICERS, Role};
use crate::handover::files::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS};
use crate::handover::items::State;
use crate::handover::records::{Credential, NewAttachment, NewSubmission};
use crate::handover::{HandoverError, pack};
use crate::inputs::Reason;
use crate::text::count;

fn item_id(id: &str) -> WebResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| WebError::NotFound("there is no such handover item".into()))
}

/// The task list: each item with its status, grouped by agreement and contractor.
#[handler]
pub async fn tasks(console: Data<&Console>, viewer: Viewer) -> WebResult<Response> {
    let items = console.handover.my_items(viewer.principal()).await?;
    let mut groups: Vec<Value> = Vec::new();
    for (title, i) in &items {
        let key = format!("{} {}", i.agreement_id, i.party_id);
        if groups.last().is_none_or(|g| g["key"] != key.as_str()) {
            groups.push(json!({
                "key": key, "title": title, "agreement_id": i.agreement_id, "party": i.party_id,
                "items": [],
            }));
        }
        if let Some(list) = groups.last_mut().and_then(|g| g["items"].as_array_mut()) {
            list.push(item_json(i));
        }
    }
    // Groups in order of agreement, then contractor; items by due date within each.
    groups.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    let submitted = items
        .iter()
        .filter(|(_, i)| i.state == State::Submitted)
        .count();
    let overdue = items.iter().filter(|(_, i)| i.overdue).count();
    let data = json!({
        "groups": groups,
        "contractor": viewer.principal().role == Role::Contractor,
        "submitted": submitted, "overdue": overdue,
        "done": items.iter().filter(|(_, i)| i.state == State::Accepted).count(),
        "total": items.len(),
    });
    Ok(pages().page(Some(&viewer), "handover_tasks", "Handover", data))
}

fn item_json(i: &crate::handover::records::Item) -> Value {
    let tag = match *i.state {
        State::Accepted => "tag-done",
        State::Submitted => "tag-active",
        State::Returned => "tag-flag",
        State::Open if i.overdue => "tag-flag",
        State::Open => "",
    };
    json!({ "i": i, "tag": tag, "status": if i.overdue && i.state == State::Open { "Overdue" } else { i.state.label() } })
}

/// An agreement's handover: each contractor's progress, overdue items and days to the end.
#[handler]
pub async fn dashboard(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    let view = console.handover.handover(viewer.principal(), &id).await?;
    let engagements: Vec<Value> = view
        .engagements
        .iter()
        .map(|e| {
            json!({
                "e": e,
                "items": e.items.iter().map(item_json).collect::<Vec<_>>(),
                "ended": e.days_to_end < 0,
                "when": if e.days_to_end < 0 {
                    format!("{} ago", count((-e.days_to_end) as u64, "day", "days"))
                } else {
                    format!("in {}", count(e.days_to_end as u64, "day", "days"))
                },
                "end_href": urls::engagement_end(&id, &e.party_id),
                "end_words": in_words(&e.engagement_end),
                "ended_early_words": e.ended_early.as_ref().map(|x| in_words(&x.ended_on)),
            })
        })
        .collect();
    let data = json!({
        "id": id, "title": view.title, "engagements": engagements,
        "officer": viewer.allow(OFFICERS).is_ok(),
        "done": (done.done.as_deref() == Some("ended")).then_some("The engagement was ended. Its access has ended and its handover items are due."),
    });
    Ok(pages().page(Some(&viewer), "handover_agreement", "Handover", data))
}

/// A `YYYY-MM-DD` date as people write it ("21 November 2026"); as given if it is not one.
fn in_words(day: &str) -> String {
    day.parse()
        .map_or_else(|_| day.to_owned(), crate::dpia::labels::date)
}

/// What a page was sent back to say was done.
#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    reason: String,
}

/// The engagement `party` under `id` as the viewer sees it, for the pages that end it.
async fn engagement(
    console: &Console,
    viewer: &Viewer,
    id: &str,
    party: &str,
) -> WebResult<(String, crate::handover::records::Engagement)> {
    viewer.allow(OFFICERS)?;
    let view = console.handover.handover(viewer.principal(), id).await?;
    let e = view
        .engagements
        .into_iter()
        .find(|e| e.party_id == party)
        .ok_or_else(|| WebError::NotFound(format!("'{party}' is not a contractor of {id}")))?;
    Ok((view.title, e))
}

fn end_page(
    viewer: &Viewer,
    id: &str,
    title: &str,
    e: &crate::handover::records::Engagement,
    reason: &str,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let data = json!({
        "id": id, "title": title, "party_name": e.party_name, "reason": reason, "errors": errors,
        "href": urls::engagement_end(id, &e.party_id),
        "back": urls::handover(id, None),
    });
    let heading = format!("End the engagement of {} early", e.party_name);
    pages().page_with(status, Some(viewer), "engagement_end", &heading, data)
}

/// The first step of ending an engagement early: why.
#[handler]
pub async fn end_form(
    console: Data<&Console>,
    viewer: Viewer,
    Path((id, party)): Path<(String, String)>,
) -> WebResult<Response> {
    let (title, e) = engagement(&console, &viewer, &id, &party).await?;
    Ok(end_page(&viewer, &id, &title, &e, "", &[], StatusCode::OK))
}

/// The reason, then check your answers, then the end itself.
#[handler]
pub async fn end_submit(
    console: Data<&Console>,
    Path((id, party)): Path<(String, String)>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<EndForm>>,
) -> WebResult<Response> {
    let (title, e) = engagement(&console, &viewer, &id, &party).await?;
    let reason = match Reason::parse(&f.reason) {
        Ok(reason) => reason,
        Err(p) => {
            let errors = [field_error(
                "reason",
                &p.message("why the engagement ends now"),
            )];
            let status = StatusCode::BAD_REQUEST;
            return Ok(end_page(
                &viewer, &id, &title, &e, &f.reason, &errors, status,
            ));
        }
    };
    if f.step == "edit" {
        return Ok(end_page(
            &viewer,
            &id,
            &title,
            &e,
            &f.reason,
            &[],
            StatusCode::OK,
        ));
    }
    let here = urls::engagement_end(&id, &party);
    if f.step != "confirm" {
        let today = crate::dpia::labels::date(console.clock.today());
        let heading = "Check before you end the engagement";
        let check = ConfirmPage {
            heading: heading.into(),
            rows: vec![
                Row::new("Agreement", title.as_str()),
                Row::new("Contractor", e.party_name.as_str()),
                Row::new("The engagement ends", format!("Today, {today}")),
                Row::new("Reason", reason.as_str()),
            ],
            hidden: vec![Hidden::new("reason", reason.as_str())],
            action: here.clone(),
            back: here,
            editable: true,
            warning: format!(
                "This cannot be undone. The gate refuses {}'s flows under this agreement at \
                 once, its access ends, and every handover item still open is due.",
                e.party_name
            ),
            button: "End the engagement".into(),
        };
        return Ok(pages().show(StatusCode::OK, Some(&viewer), heading, &check));
    }
    console
        .handover
        .end_early(viewer.principal(), &id, &party, &reason)
        .await?;
    Ok(see_other(&urls::handover(&id, Some("ended"))))
}

async fn item_page(
    console: &Console,
    viewer: &Viewer,
    id: &str,
    item: Uuid,
    errors: &[FieldError],
    typed: &SubmitFields,
    status: StatusCode,
) -> WebResult<Response> {
    let who = viewer.principal();
    let d = console.handover.item(who, id, item).await?;
    let i = &d.item;
    let may_submit = who.role == Role::Contractor
        && matches!(*i.state, State::Open | State::Returned | State::Submitted);
    let may_review = who.allow(OFFICERS).is_ok() && i.state == State::Submitted;
    let shown = item_json(i);
    let data = json!({
        "id": id, "d": d, "tag": shown["tag"], "status": shown["status"],
        "may_submit": may_submit, "may_review": may_review,
        "credentials": i.kind.lists_credentials(),
        // The hint's example is dated today: a date in the past or today is what the form takes.
        "example_date": console.clock.today().to_string(),
        "errors": errors, "body": typed.body, "rows": typed.credentials,
        "max_files": MAX_ATTACHMENTS, "max_kib": MAX_ATTACHMENT_BYTES / 1024,
        "latest_comments": d.reviews.first().filter(|r| r.action == "returned").map(|r| r.comments.clone()),
    });
    Ok(pages().page_with(status, Some(viewer), "handover_item", &i.title, data))
}

/// One item: what it asks for, its history, and the form the viewer may use.
#[handler]
pub async fn item_view(
    console: Data<&Console>,
    viewer: Viewer,
    Path((id, item)): Path<(String, String)>,
) -> WebResult<Response> {
    let item = item_id(&item)?;
    item_page(
        &console,
        &viewer,
        &id,
        item,
        &[],
        &SubmitFields::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Default)]
struct SubmitFields {
    body: String,
    credentials: String,
    files: Vec<NewAttachment>,
}

/// `account | who rotates it | YYYY-MM-DD`, one a line; or every line that is not.
fn credential_rows(text: &str) -> Result<Vec<Credential>, Vec<String>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [account, rotated_by, done_on] = cells[..] else {
            problems.push(format!(
                "Line {} of the credentials must have three parts separated by |: the account, who rotates it, and the date it was done",
                n + 1
            ));
            continue;
        };
        out.push(Credential {
            account: account.to_owned(),
            rotated_by: rotated_by.to_owned(),
            done_on: done_on.to_owned(),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A contractor submits a version (a multipart form: text, credentials, files).
#[handler]
pub async fn submit(
    console: Data<&Console>,
    Path((id, item)): Path<(String, String)>,
    Checked(viewer, parts): Checked<Viewer, Parts>,
) -> WebResult<Response> {
    let item = item_id(&item)?;
    let (body, credentials) = (
        parts.text("body").to_owned(),
        parts.text("credentials").to_owned(),
    );
    let files = parts
        .into_files()
        .into_iter()
        .filter(|f| f.field == "files" && !f.name.is_empty())
        .map(|f| NewAttachment {
            name: f.name,
            bytes: f.bytes,
        })
        .collect();
    let mut f = SubmitFields {
        body,
        credentials,
        files,
    };
    // A table the page cannot read is refused as the use case refuses a bad row: every
    // problem at once, each in the error summary.
    let submitted = match credential_rows(&f.credentials) {
        Err(problems) => Err(HandoverError::Credentials(problems)),
        Ok(credentials) => {
            let new = NewSubmission {
                body: f.body.clone(),
                credentials,
                attachments: std::mem::take(&mut f.files),
            };
            console
                .handover
                .submit(viewer.principal(), &id, item, new)
                .await
        }
    };
    let e = match submitted {
        Ok(_) => return Ok(see_other(&urls::handover_item(&id, &item.to_string()))),
        Err(e) => e,
    };
    use crate::handover::files::Refused;
    let (status, problems): (StatusCode, Vec<(&str, String)>) = match e {
        HandoverError::Secret { field, file, found } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![(
                field,
                crate::handover::records::secret_message(file.as_deref(), &found),
            )],
        ),
        e @ HandoverError::Unreadable(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec![("files", e.to_string())],
        ),
        HandoverError::Attachment(r) => {
            let status = match r {
                Refused::Type { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Refused::Name => StatusCode::BAD_REQUEST,
                Refused::TooBig { .. } | Refused::TooMany => StatusCode::PAYLOAD_TOO_LARGE,
            };
            (status, vec![("files", r.to_string())])
        }
        HandoverError::Credentials(all) => (
            StatusCode::BAD_REQUEST,
            all.into_iter().map(|m| ("credentials", m)).collect(),
        ),
        HandoverError::BadInput(m) => (StatusCode::BAD_REQUEST, vec![("body", m)]),
        e => return Err(e.into()),
    };
    let errors: Vec<_> = problems
        .iter()
        .map(|(field, m)| field_error(field, &crate::text::capitalised(m)))
        .collect();
    item_page(&console, &viewer, &id, item, &errors, &f, status).await
}

#[derive(Deserialize, Default)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comments: String,
}

/// An officer accepts or returns the latest submission.
#[handler]
pub async fn review(
    console: Data<&Console>,
    Path((id, item, action)): Path<(String, String, String)>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<ReviewForm>>,
) -> WebResult<Response> {
    let item = item_id(&item)?;
    let who = viewer.principal();
    let done = match action.as_str() {
        "accept" => console.handover.accept(who, &id, item, &f.comments).await,
        "return" => {
            console
                .handover
                .return_item(who, &id, item, &f.comments)
                .await
        }
        _ => return Err(WebError::NotFound("there is no such action".into())),
    };
    match done {
        Ok(_) => Ok(see_other(&urls::handover_item(&id, &item.to_string()))),
        Err(HandoverError::BadInput(m)) => {
            let errors = [field_error("comments", &crate::text::capitalised(&m))];
            item_page(
                &console,
                &viewer,
                &id,
                item,
                &errors,
                &SubmitFields::default(),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// An attachment, downloaded.
#[handler]
pub async fn download(
    console: Data<&Console>,
    viewer: Viewer,
    Path((id, item, file)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let item = item_id(&item)?;
    let file = item_id(&file)?;
    let (name, media_type, bytes) = console
        .handover
        .attachment(viewer.principal(), &id, item, file)
        .await?;
    Ok(Response::builder()
        .content_type(media_type)
        .header(
            "content-disposition",
            crate::handover::files::disposition(&name),
        )
        .header("content-security-policy", super::POLICY)
        .body(bytes))
}

/// The knowledge pack, as a console page ready to print.
#[handler]
pub async fn pack_page(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let p = console.handover.pack(viewer.principal(), &id).await?;
    let data = json!({ "id": id, "html": pack::to_html(&p.markdown) });
    Ok(pages().page(
        Some(&viewer),
        "handover_pack",
        "Handover knowledge pack",
        data,
    ))
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Search accepted handover knowledge.
#[handler]
pub async fn search(
    console: Data<&Console>,
    viewer: Viewer,
    Query(s): Query<SearchQuery>,
) -> WebResult<Response> {
    // The use case decides who may search; a blank query finds nothing.
    let (hits, errors) = match console.handover.search(viewer.principal(), &s.q, 50).await {
        Ok(h) => (h, Vec::new()),
        Err(HandoverError::BadInput(m)) => (
            Vec::new(),
            vec![field_error("q", &crate::text::capitalised(&m))],
        ),
        Err(e) => return Err(e.into()),
    };
    let data =
        json!({ "q": s.q, "hits": hits, "searched": !s.q.trim().is_empty(), "errors": errors });
    Ok(pages().page(
        Some(&viewer),
        "handover_search",
        "Search handover knowledge",
        data,
    ))
}

carries_csrf!(EndForm, ReviewForm);
