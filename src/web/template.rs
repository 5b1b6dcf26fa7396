//! Templates in the console (docs/templates.md): an agreement downloaded as a template by
//! whoever may read it, and a new agreement started from a template by an officer: a shipped
//! template or an uploaded one, the new id and the start date, each problem in the error
//! summary linked to its field, then check your answers, then the draft's page listing every
//! placeholder still to fill.

use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Console;
use super::confirm::{ConfirmPage, Hidden, Row};
use super::csrf::Checked;
use super::csrf::carries_csrf;
use super::draft::MAX_SOURCE;
use super::errors::{WebError, WebResult};
use super::multipart::Parts;
use super::render::{pages, see_other};
use super::session::Viewer;
use super::sign_in::{FieldError, field_error};
use super::urls;
use crate::agreement::values::parse_date;
use crate::auth::OFFICERS;
use crate::check::on_blocking_thread;
use crate::registry::RegistryError;
use crate::registry::templates::FromTemplate;
use crate::template::import::{Problem, import};
use crate::template::{new_id, shipped};

/// The choice that means "the file I upload".
const UPLOAD: &str = "upload";

/// The agreement's current version (in force, else the newest) as a template, downloaded.
#[handler]
pub async fn download(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> WebResult<Response> {
    console
        .registry
        .readable(viewer.principal(), &id, None)
        .await?;
    let text = console.registry.export_template(&id, None).await?;
    // The export succeeded, so `id` is an agreement's id: a slug, safe in the header.
    Ok(Response::builder()
        .content_type("application/yaml; charset=utf-8")
        .header(
            "Content-Disposition",
            format!("attachment; filename=\"{id}-template.yaml\""),
        )
        .body(text))
}

/// What the officer entered: the template chosen, the new id and the start date.
#[derive(Deserialize, Default)]
pub struct Answers {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    template: String,
    /// An uploaded template's text, carried through check your answers.
    #[serde(default)]
    text: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    start: String,
}

#[handler]
pub async fn form(viewer: Viewer) -> WebResult<Response> {
    viewer.allow(OFFICERS)?;
    Ok(form_page(
        &viewer,
        &Answers::default(),
        &[],
        &[],
        StatusCode::OK,
    ))
}

/// The form, with what was entered, the errors by field and the template's problems.
fn form_page(
    viewer: &Viewer,
    answers: &Answers,
    errors: &[FieldError],
    problems: &[Problem],
    status: StatusCode,
) -> Response {
    let mut templates: Vec<Value> = shipped::ALL
        .iter()
        .map(|t| {
            json!({
                "value": t.name, "label": format!("{} ({})", t.title(), t.name),
                "checked": answers.template == t.name,
            })
        })
        .collect();
    templates.push(json!({
        "value": UPLOAD, "label": "Upload a template", "checked": answers.template == UPLOAD,
    }));
    let problems: Vec<Value> = problems
        .iter()
        .map(|p| json!({ "line": p.pos.line, "column": p.pos.column, "code": p.code, "message": p.message }))
        .collect();
    let data = json!({
        "templates": templates,
        "first_radio": first_radio(),
        "id": answers.id,
        "start": answers.start,
        "errors": errors,
        "problems": problems,
    });
    pages().page_with(
        status,
        Some(viewer),
        "from_template",
        "Start from a template",
        data,
    )
}

/// The field the error summary links to for a problem with the choice: the first radio.
fn first_radio() -> String {
    format!(
        "template-{}",
        shipped::ALL.first().map_or(UPLOAD, |t| t.name)
    )
}

/// The first step: the choice, an uploaded file, the id and the date, checked; then check
/// your answers.
#[handler]
pub async fn submit(
    console: Data<&Console>,
    Checked(viewer, parts): Checked<Viewer, Parts>,
) -> WebResult<Response> {
    viewer.allow(OFFICERS)?;
    let answers = Answers {
        csrf: parts.text("csrf").to_owned(),
        template: parts.text("template").to_owned(),
        text: String::new(),
        id: parts.text("id").to_owned(),
        start: parts.text("start").to_owned(),
    };
    let file = parts.file("file").map(|f| f.bytes.clone());
    let mut errors = Vec::new();
    let bytes: Option<Vec<u8>> = match answers.template.as_str() {
        "" => {
            errors.push(field_error(&first_radio(), "Choose a template"));
            None
        }
        UPLOAD => match file.filter(|b| !b.is_empty()) {
            None => {
                errors.push(field_error("file", "Choose the template file to upload"));
                None
            }
            Some(b) if b.len() > MAX_SOURCE => {
                errors.push(field_error("file", "The template must be at most 1 MiB"));
                None
            }
            Some(b) => Some(b),
        },
        name => match shipped::find(name) {
            Some(t) => Some(t.text.as_bytes().to_vec()),
            None => {
                errors.push(field_error(&first_radio(), "Choose one of the templates"));
                None
            }
        },
    };
    let id = check_id(&console, &answers.id, &mut errors).await?;
    let start = check_start(&answers.start, &mut errors);
    let (Some(bytes), Some(id), Some(start), true) = (bytes, id, start, errors.is_empty()) else {
        return Ok(form_page(
            &viewer,
            &answers,
            &errors,
            &[],
            StatusCode::BAD_REQUEST,
        ));
    };
    let today = console.clock.today();
    let (template, new) = (bytes.clone(), id.clone());
    let imported = on_blocking_thread(move || import(&template, &new, start, today)).await;
    let draft = match imported {
        Ok(d) => d,
        Err(problems) => return Ok(with_problems(&viewer, &answers, &problems)),
    };
    let unfilled = draft.unfilled();
    let chosen = match shipped::find(&answers.template) {
        Some(t) => format!("{} ({})", t.title(), t.name),
        None => "The file you uploaded".to_owned(),
    };
    let mut hidden = vec![
        Hidden::new("template", answers.template.as_str()),
        Hidden::new("id", id.as_str()),
        Hidden::new("start", start.to_string()),
    ];
    if answers.template == UPLOAD {
        hidden.push(Hidden::new("text", String::from_utf8_lossy(&bytes)));
    }
    let heading = "Check before you create the draft";
    let check = ConfirmPage {
        heading: heading.into(),
        rows: vec![
            Row::new("Template", chosen),
            Row::new("New agreement", id.as_str()),
            Row::new("Starts on", start.to_string()),
            Row::new("Placeholders to fill in", unfilled.to_string()),
        ],
        warning: format!(
            "Accord stores version 1 of {id} as a draft. Nobody can sign it until every \
             placeholder is filled in."
        ),
        button: "Create the draft".into(),
        action: "/agreements/new/template/create".into(),
        hidden,
        editable: false,
        back: "/agreements/new/template".into(),
    };
    Ok(pages().show(StatusCode::OK, Some(&viewer), heading, &check))
}

/// The answers confirmed: the draft is stored, and its page lists what is left to fill.
#[handler]
pub async fn create(
    console: Data<&Console>,
    Checked(viewer, Form(answers)): Checked<Viewer, Form<Answers>>,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    let bytes = match shipped::find(&answers.template) {
        Some(t) => t.text.as_bytes(),
        None if answers.template == UPLOAD => answers.text.as_bytes(),
        None => return Err(WebError::BadRequest("choose a template".into())),
    };
    let mut errors = Vec::new();
    let Some(start) = check_start(&answers.start, &mut errors) else {
        return Ok(form_page(
            &viewer,
            &answers,
            &errors,
            &[],
            StatusCode::BAD_REQUEST,
        ));
    };
    let made = console
        .registry
        .import_template(bytes, &answers.id, Some(start), &who.actor())
        .await;
    let (status, message) = match made {
        Ok(d) => {
            let page = urls::agreement(&d.version.agreement_id, Some("drafted"));
            return Ok(see_other(&page));
        }
        Err(FromTemplate::Problems(problems)) => {
            return Ok(with_problems(&viewer, &answers, &problems));
        }
        Err(FromTemplate::Registry(RegistryError::BadRequest(m))) => (StatusCode::BAD_REQUEST, m),
        Err(FromTemplate::Registry(RegistryError::Conflict(m))) => (StatusCode::CONFLICT, m),
        Err(FromTemplate::Registry(e)) => return Err(e.into()),
    };
    let errors = [field_error("id", &message)];
    Ok(form_page(&viewer, &answers, &errors, &[], status))
}

/// The form again, the template's problems listed under it.
fn with_problems(viewer: &Viewer, answers: &Answers, problems: &[Problem]) -> Response {
    let (n, s) = (problems.len(), if problems.len() == 1 { "" } else { "s" });
    let field = if answers.template == UPLOAD {
        "file".to_owned()
    } else {
        first_radio()
    };
    let text = format!("The template has {n} problem{s}, listed below; no draft was made");
    let errors = [field_error(&field, &text)];
    form_page(
        viewer,
        answers,
        &errors,
        problems,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// The new id, when it is an id no agreement has; else an error for its field.
async fn check_id(
    console: &Console,
    text: &str,
    errors: &mut Vec<FieldError>,
) -> WebResult<Option<crate::agreement::values::Slug>> {
    if text.trim().is_empty() {
        errors.push(field_error("id", "Enter the new agreement's id"));
        return Ok(None);
    }
    let id = match new_id(text) {
        Ok(id) => id,
        Err(why) => {
            errors.push(field_error("id", &why));
            return Ok(None);
        }
    };
    match console.registry.agreement(id.as_str()).await {
        Ok(_) => {
            let msg = format!("There is already an agreement '{id}': choose another id");
            errors.push(field_error("id", &msg));
            Ok(None)
        }
        Err(RegistryError::NotFound(_)) => Ok(Some(id)),
        Err(e) => Err(e.into()),
    }
}

/// The start date, when it is one; else an error for its field.
fn check_start(text: &str, errors: &mut Vec<FieldError>) -> Option<jiff::civil::Date> {
    let text = text.trim();
    let why = if text.is_empty() {
        "Enter the date the agreement starts"
    } else {
        match parse_date(text) {
            Some(day) => return Some(day),
            None => "Enter the start date as YYYY-MM-DD, for example 2027-04-01",
        }
    };
    errors.push(field_error("start", why));
    None
}

carries_csrf!(Answers);
