//! Drafting: paste or upload YAML, press Check to see every finding in an error summary linked
//! to its line in the source shown below, and Save to store it as a draft version. Starting
//! points: a blank skeleton, or a copy of an existing agreement's current version.

use poem::http::StatusCode;
use poem::web::{Data, Form, Multipart, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Console;
use super::errors::{WebError, WebResult};
use super::render::{pages, see_other};
use super::session::{Viewer, encode};
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
}

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
        (_, Some(id)) => {
            let (n, _) = console.registry.agreement_at(id, None).await?;
            console.registry.version_source(id, n).await?
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

/// The draft page: the source in a text area; after a check, the findings in an error summary
/// (each linked to its line) and the source with line numbers.
fn draft_page(
    viewer: &Viewer,
    source: &str,
    findings: Option<&[Diagnostic]>,
    form_errors: &[Value],
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
    viewer: Viewer,
    Form(f): Form<DraftForm>,
) -> WebResult<Response> {
    viewer.check_csrf(&f.csrf)?;
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
        Ok(Added::Created(v) | Added::Existing(v)) => Ok(see_other(&format!(
            "/agreements/{}?done=saved",
            encode(&v.agreement_id)
        ))),
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
    viewer: Viewer,
    mut parts: Multipart,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    let (mut csrf, mut file) = (String::new(), None::<Vec<u8>>);
    while let Some(field) = parts
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?
    {
        match field.name() {
            Some("csrf") => {
                csrf = field
                    .text()
                    .await
                    .map_err(|e| WebError::BadRequest(e.to_string()))?
            }
            Some("file") => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| WebError::BadRequest(e.to_string()))?;
                file = Some(bytes);
            }
            _ => {}
        }
    }
    viewer.check_csrf(&csrf)?;
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
