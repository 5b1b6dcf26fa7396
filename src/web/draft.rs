//! Drafting: paste or upload YAML, press Check to see every finding in an error summary linked
//! to its line in the source shown below, and Save to store it as a draft version. Starting
//! points: a blank skeleton, or a copy of an existing agreement's current version.

use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Console;
use super::csrf::Checked;
use super::csrf::carries_csrf;
use super::errors::WebResult;
use super::multipart::Parts;
use super::render::{pages, see_other};
use super::session::Viewer;
use super::sign_in::FieldError;
use super::urls;
use crate::agreement::Diagnostic;
use crate::auth::OFFICERS;
use crate::check::check_blocking;
use crate::registry::RegistryError;
use crate::registry::versions::{Added, Origin};

/// The skeleton a blank draft starts from: it passes `accord check` (a test keeps it so).
pub const SKELETON: &str = include_str!("../../templates/web/skeleton.yaml");
/// Largest agreement read, as for the agreements folder and the API.
pub const MAX_SOURCE: usize = 1024 * 1024;

#[derive(Deserialize, Default)]
pub struct Start {
    start: Option<String>,
    copy: Option<String>,
    /// A copy's new id and title, from the copy page.
    id: Option<String>,
    title: Option<String>,
}

/// Longest title a copy is given here, in characters.
const MAX_TITLE: usize = 200;

#[handler]
pub async fn form(
    console: Data<&Console>,
    viewer: Viewer,
    Query(q): Query<Start>,
) -> WebResult<Response> {
    viewer.allow(OFFICERS)?;
    let source = match (
        q.start.as_deref(),
        q.copy.as_deref().map(str::trim).filter(|c| !c.is_empty()),
    ) {
        (_, Some(from)) => {
            let (n, _) = console.registry.agreement_at(from, None).await?;
            let original = console.registry.version_source(from, n).await?;
            match copy_of(&console, from, &original, &q).await? {
                Ok(source) => source,
                Err((status, data)) => {
                    return Ok(pages().page_with(
                        status,
                        Some(&viewer),
                        "draft_copy",
                        "Copy an agreement",
                        data,
                    ));
                }
            }
        }
        (Some("blank"), None) => SKELETON.to_owned(),
        _ => String::new(),
    };
    let choosing = source.is_empty() && q.start.is_none();
    let page = console
        .registry
        .agreements(
            &Default::default(),
            None,
            crate::registry::queries::Paging::new(Some(1), Some(500)),
        )
        .await?;
    let existing: Vec<&str> = page.items.iter().map(|a| a.id.as_str()).collect();
    Ok(draft_page(
        &viewer,
        &source,
        None,
        &[],
        choosing,
        &existing,
        StatusCode::OK,
    ))
}

/// A copy of `from` under the new id and title the officer gave, or the page asking for them
/// (its status and data, with what is wrong if they were given): a copy never keeps the
/// original's id, so saving it cannot add a version to the original.
async fn copy_of(
    console: &Console,
    from: &str,
    original: &str,
    q: &Start,
) -> WebResult<Result<String, (StatusCode, Value)>> {
    let summary = console.registry.agreement(from).await?;
    let (id, title) = match (&q.id, &q.title) {
        (Some(id), Some(title)) => (id.trim().to_owned(), title.trim().to_owned()),
        _ => {
            let data = json!({
                "from": from, "from_title": summary.title, "errors": [],
                "id": format!("{from}-copy"), "title": format!("Copy of {}", summary.title),
            });
            return Ok(Err((StatusCode::OK, data)));
        }
    };
    let mut errors = Vec::new();
    if crate::agreement::values::Slug::parse(&id).is_none() || id.len() > MAX_TITLE {
        errors.push(super::sign_in::field_error(
            "id",
            "Enter an id of small letters, digits and hyphens, starting with a letter or digit",
        ));
    } else if console.registry.agreement(&id).await.is_ok() {
        errors.push(super::sign_in::field_error(
            "id",
            "An agreement with this id exists already: enter a new id",
        ));
    }
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        errors.push(super::sign_in::field_error(
            "title",
            "Enter the new agreement's title, in at most 200 characters",
        ));
    }
    let copied = crate::agreement::copy::as_new(original, &id, &title);
    if errors.is_empty()
        && let Some(source) = copied
    {
        return Ok(Ok(source));
    }
    let data = json!({
        "from": from, "from_title": summary.title, "errors": errors, "id": id, "title": title,
    });
    Ok(Err((StatusCode::BAD_REQUEST, data)))
}

/// The draft page: the source in a text area; after a check, the findings in an error summary
/// (each linked to its line) and the source with line numbers.
fn draft_page(
    viewer: &Viewer,
    source: &str,
    findings: Option<&[Diagnostic]>,
    form_errors: &[FieldError],
    choosing: bool,
    existing: &[&str],
    status: StatusCode,
) -> Response {
    let (errors, warnings): (Vec<Value>, Vec<Value>) = findings
        .unwrap_or_default()
        .iter()
        .map(|d| {
            json!({
                "line": d.pos.line, "column": d.pos.column, "code": d.code.as_str(),
                "severity": d.severity().to_string(), "message": d.message, "error": d.is_error(),
            })
        })
        .partition(|f| f["error"] == Value::Bool(true));
    let flagged: std::collections::BTreeSet<u32> = findings
        .unwrap_or_default()
        .iter()
        .map(|d| d.pos.line)
        .collect();
    let lines: Vec<Value> = if findings.is_some() {
        source
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let n = i as u32 + 1;
                json!({ "n": n, "text": l, "flagged": flagged.contains(&n) })
            })
            .collect()
    } else {
        Vec::new()
    };
    let data = json!({
        "source": source,
        "checked": findings.is_some(),
        "error_count": errors.len(),
        "errors": errors,
        "warnings": warnings,
        "clean": findings.is_some_and(|f| !f.iter().any(Diagnostic::is_error)),
        "lines": lines,
        "form_errors": form_errors,
        "choosing": choosing,
        "existing": existing,
    });
    pages().page_with(status, Some(viewer), "draft", "Draft an agreement", data)
}

#[derive(Deserialize, Default)]
pub struct DraftForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    action: String,
}

#[handler]
pub async fn submit(
    console: Data<&Console>,
    Checked(viewer, Form(f)): Checked<Viewer, Form<DraftForm>>,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    check_or_save(
        &console,
        &viewer,
        &who.actor(),
        &f.source,
        f.action == "save",
    )
    .await
}

async fn check_or_save(
    console: &Console,
    viewer: &Viewer,
    actor: &str,
    source: &str,
    save: bool,
) -> WebResult<Response> {
    if source.trim().is_empty() {
        let errors = [super::sign_in::field_error(
            "source",
            "Paste the agreement's YAML, or upload its file",
        )];
        return Ok(draft_page(
            viewer,
            source,
            None,
            &errors,
            false,
            &[],
            StatusCode::BAD_REQUEST,
        ));
    }
    if source.len() > MAX_SOURCE {
        let errors = [super::sign_in::field_error(
            "source",
            "The agreement must be at most 1 MiB",
        )];
        return Ok(draft_page(
            viewer,
            "",
            None,
            &errors,
            false,
            &[],
            StatusCode::BAD_REQUEST,
        ));
    }
    let today = console.clock.today();
    let checked = check_blocking(source.as_bytes().to_vec(), today).await;
    let has_errors = checked.diagnostics.iter().any(Diagnostic::is_error);
    if !save || has_errors {
        let status = if has_errors {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return Ok(draft_page(
            viewer,
            source,
            Some(&checked.diagnostics),
            &[],
            false,
            &[],
            status,
        ));
    }
    match console
        .registry
        .add_version(source.as_bytes(), actor, Origin::Upload)
        .await
    {
        Ok(Added::Created(v) | Added::Existing(v)) => {
            Ok(see_other(&urls::agreement(&v.agreement_id, Some("saved"))))
        }
        Err(RegistryError::Invalid(ds)) => Ok(draft_page(
            viewer,
            source,
            Some(&ds),
            &[],
            false,
            &[],
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(RegistryError::Conflict(m)) => {
            let errors = [super::sign_in::field_error("source", &m)];
            Ok(draft_page(
                viewer,
                source,
                Some(&checked.diagnostics),
                &errors,
                false,
                &[],
                StatusCode::CONFLICT,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// An uploaded file, read within the cap, then checked as if pasted.
#[handler]
pub async fn upload(
    console: Data<&Console>,
    Checked(viewer, parts): Checked<Viewer, Parts>,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    let file = parts.file("file").map(|f| f.bytes.clone());
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let errors = [super::sign_in::field_error(
            "file",
            "Choose a YAML file to upload",
        )];
        return Ok(draft_page(
            &viewer,
            "",
            None,
            &errors,
            false,
            &[],
            StatusCode::BAD_REQUEST,
        ));
    };
    let Ok(text) = String::from_utf8(bytes) else {
        let errors = [super::sign_in::field_error(
            "file",
            "The file must be UTF-8 text (YAML)",
        )];
        return Ok(draft_page(
            &viewer,
            "",
            None,
            &errors,
            false,
            &[],
            StatusCode::BAD_REQUEST,
        ));
    };
    check_or_save(&console, &viewer, &who.actor(), &text, false).await
}

carries_csrf!(DraftForm);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;

    #[test]
    fn the_skeleton_passes_check() {
        let today = jiff::civil::date(2026, 12, 5);
        let checked = check_source(SKELETON.as_bytes(), today);
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
