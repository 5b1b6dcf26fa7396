//! Deletion requests: the list by status and method, an officer's confirmation of a manual
//! (or escalated) one behind a check-answers page, and certificates of confirmed ones.

use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use poem::http::StatusCode;

use super::Console;
use super::confirm::{ConfirmPage, Row};
use super::csrf::{Checked, CsrfOnly};
use super::errors::{WebError, WebResult};
use super::render::{pages, see_other};
use super::session::{Viewer, encode};
use crate::auth::{OFFICERS, READERS};
use crate::registry::queries::Paging;
use crate::retention::certificate as cert;

const PER_PAGE: u64 = 25;
const STATUSES: [&str; 3] = ["requested", "escalated", "deleted"];
const METHODS: [&str; 3] = ["webhook", "email", "manual"];

#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    method: Option<String>,
    page: Option<u64>,
}

fn one_of(v: &Option<String>, allowed: &[&'static str]) -> WebResult<Option<&'static str>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => allowed
            .iter()
            .find(|a| **a == s)
            .map(|a| Some(*a))
            .ok_or_else(|| {
                WebError::BadRequest(format!("'{s}' is not one of {}", allowed.join(", ")))
            }),
    }
}

#[handler]
pub async fn list(
    console: Data<&Console>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    viewer.allow(READERS)?;
    let status = one_of(&q.status, &STATUSES)?;
    let method = one_of(&q.method, &METHODS)?;
    let page_no = q.page.unwrap_or(1).clamp(1, 1_000_000_000);
    let (items, total) = console
        .retention
        .requests_page(status, method, Paging::new(Some(page_no), Some(PER_PAGE)))
        .await?;
    let officer = viewer.allow(OFFICERS).is_ok();
    let rows: Vec<_> = items
        .iter()
        .map(|r| {
            json!({
                "r": r,
                "holdings": r.holdings.len(),
                "confirmable": officer && r.status != "deleted",
                "certificate": r.status == "deleted",
            })
        })
        .collect();
    let mut keep = String::new();
    for (k, v) in [("status", status), ("method", method)] {
        if let Some(v) = v {
            keep.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    let data = json!({
        "items": rows, "total": total,
        "statuses": STATUSES.iter().map(|s| json!({ "value": s, "selected": status == Some(*s) })).collect::<Vec<_>>(),
        "methods": METHODS.iter().map(|m| json!({ "value": m, "selected": method == Some(*m) })).collect::<Vec<_>>(),
        "next": (page_no * PER_PAGE < total).then(|| format!("/deletions?page={}{keep}", page_no + 1)),
    });
    Ok(pages().page(Some(&viewer), "deletions", "Deletion requests", data))
}

fn parse_id(id: &str) -> WebResult<Uuid> {
    Uuid::parse_str(id)
        .map_err(|_| WebError::NotFound(format!("there is no deletion request '{id}'")))
}

#[handler]
pub async fn confirm_form(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> WebResult<Response> {
    viewer.allow(OFFICERS)?;
    let id = parse_id(&id)?;
    let r = console.retention.request(id).await?;
    let check = ConfirmPage {
        heading: "Confirm that the data has been deleted".into(),
        rows: vec![
            Row::new(
                "Agreement",
                format!("{}, version {}", r.agreement_id, r.version),
            ),
            Row::new("Holder", r.holder.as_str()),
            Row::new("Action required", r.action.as_str()),
            Row::new("Holdings covered", r.holdings.len().to_string()),
            Row::new("Requested", r.created_at.as_str()),
        ],
        hidden: Vec::new(),
        action: format!("/deletions/{id}/confirm"),
        back: "/deletions".into(),
        editable: false,
        warning: "Confirm only once the holder has told you the data is gone. The confirmation \
                  is recorded with your name and cannot be undone."
            .into(),
        button: "Confirm deletion".into(),
    };
    Ok(pages().show(StatusCode::OK, Some(&viewer), "Confirm deletion", &check))
}

#[handler]
pub async fn confirm_submit(
    console: Data<&Console>,
    Path(id): Path<String>,
    Checked(viewer, Form(_)): Checked<Viewer, Form<CsrfOnly>>,
) -> WebResult<Response> {
    let who = viewer.allow(OFFICERS)?;
    let id = parse_id(&id)?;
    console.retention.confirm(id, &who.actor()).await?;
    Ok(see_other(&format!("/deletions/{id}/certificate")))
}

/// A confirmed request's certificate: the same page the API gives (no personal data).
#[handler]
pub async fn certificate(
    console: Data<&Console>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> WebResult<Response> {
    viewer.allow(READERS)?;
    let certificate = console.retention.certificate(parse_id(&id)?).await?;
    let html = cert::html(&certificate).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(
            poem::http::header::CONTENT_SECURITY_POLICY,
            crate::api::headers::html_policy(&html),
        )
        .body(html))
}
