//! Deletion requests: the list by status and method, an officer's confirmation of a manual
//! (or escalated) one behind a check-answers page, and certificates of confirmed ones.

use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use poem::http::StatusCode;

use super::Console;
use super::confirm::{ConfirmPage, Row};
use super::csrf::{Checked, CsrfOnly};
use super::errors::{WebError, WebResult};
use super::render::{pages, see_other};
use super::session::{Viewer, encode};
use super::typed::Page;
use crate::auth::{OFFICERS, READERS};
use crate::registry::queries::Paging;
use crate::retention::certificate as cert;
use crate::retention::requests::DeletionRequestInfo;

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
        .into_iter()
        .map(|r| RequestRow {
            holdings: r.holdings.len(),
            confirmable: officer && r.status != "deleted",
            certificate: r.status == "deleted",
            r,
        })
        .collect();
    let mut keep = String::new();
    for (k, v) in [("status", status), ("method", method)] {
        if let Some(v) = v {
            keep.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    let option = |value: &'static str, chosen: Option<&str>| Selectable {
        value,
        selected: chosen == Some(value),
    };
    let requests = DeletionsPage {
        items: rows,
        total,
        statuses: STATUSES.iter().map(|s| option(s, status)).collect(),
        methods: METHODS.iter().map(|m| option(m, method)).collect(),
        next: (page_no * PER_PAGE < total)
            .then(|| format!("/deletions?page={}{keep}", page_no + 1)),
    };
    Ok(pages().show(
        StatusCode::OK,
        Some(&viewer),
        "Deletion requests",
        &requests,
    ))
}

/// The deletion requests, filtered by status and method, a page at a time.
#[derive(Serialize)]
pub struct DeletionsPage {
    pub items: Vec<RequestRow>,
    pub total: u64,
    pub statuses: Vec<Selectable>,
    pub methods: Vec<Selectable>,
    pub next: Option<String>,
}

/// One request, with what the viewer may do with it.
#[derive(Serialize)]
pub struct RequestRow {
    pub r: DeletionRequestInfo,
    /// How many holdings it covers.
    pub holdings: usize,
    /// Whether the viewer may confirm it by hand.
    pub confirmable: bool,
    /// Whether its certificate can be had.
    pub certificate: bool,
}

/// One option of a filter's list.
#[derive(Serialize)]
pub struct Selectable {
    pub value: &'static str,
    pub selected: bool,
}

impl Page for DeletionsPage {
    const TEMPLATE: &'static str = "deletions";

    fn example() -> DeletionsPage {
        let request = |status: &str| DeletionRequestInfo {
            id: Uuid::nil(),
            sweep_id: Uuid::nil(),
            agreement_id: "camden-foodbank-referrals".into(),
            version: 1,
            holder: "foodbank".into(),
            method: "webhook".into(),
            action: "delete".into(),
            status: status.into(),
            attempts: 1,
            last_error: None,
            created_at: "2026-11-21T12:00:00Z".into(),
            confirmed_at: None,
            confirmed_by: None,
            holdings: vec![Uuid::nil()],
        };
        let row = |status: &str| RequestRow {
            r: request(status),
            holdings: 1,
            confirmable: status != "deleted",
            certificate: status == "deleted",
        };
        DeletionsPage {
            items: vec![row("requested"), row("deleted")],
            total: 2,
            statuses: STATUSES
                .iter()
                .map(|s| Selectable {
                    value: s,
                    selected: *s == "requested",
                })
                .collect(),
            methods: METHODS
                .iter()
                .map(|m| Selectable {
                    value: m,
                    selected: false,
                })
                .collect(),
            next: Some("/deletions?page=2".into()),
        }
    }
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
