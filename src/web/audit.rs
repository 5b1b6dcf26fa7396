//! The audit log: filters and paging by key (log order), and verifying the chain for auditors.

use poem::web::{Data, Form, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::json;

use super::Console;
use super::csrf::Checked;
use super::csrf::CsrfOnly;
use super::errors::WebResult;
use super::render::pages;
use super::session::{Viewer, encode};
use crate::audit::Filter;
use crate::auth::READERS;

const PER_PAGE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    subject: Option<String>,
    after: Option<i64>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(400).collect())
}

#[handler]
pub async fn page(
    console: Data<&Console>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> WebResult<Response> {
    viewer.allow(READERS)?;
    render(&console, &viewer, &q, None).await
}

async fn render(
    console: &Console,
    viewer: &Viewer,
    q: &AuditQuery,
    verified: Option<serde_json::Value>,
) -> WebResult<Response> {
    let filter = Filter {
        action: given(&q.action),
        actor: given(&q.actor),
        subject: given(&q.subject),
        after: q.after.filter(|a| *a >= 0),
        ..Default::default()
    };
    let found = console.audit.page(&filter, PER_PAGE).await?;
    let mut keep = String::new();
    for (k, v) in [
        ("action", &filter.action),
        ("actor", &filter.actor),
        ("subject", &filter.subject),
    ] {
        if let Some(v) = v {
            keep.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    let items: Vec<_> = found
        .items
        .iter()
        .map(|r| json!({ "r": r, "details": r.details.to_string() }))
        .collect();
    let data = json!({
        "items": items,
        "action": filter.action, "actor": filter.actor, "subject": filter.subject,
        "next": found.next_after.map(|a| format!("/audit?after={a}{keep}")),
        "first": filter.after.map(|_| format!("/audit?{}", keep.trim_start_matches('&'))),
        "verified": verified,
    });
    Ok(pages().page(Some(viewer), "audit", "Audit log", data))
}

/// Walks the whole chain (as `accord audit verify` does) and shows the outcome.
#[handler]
pub async fn verify(
    console: Data<&Console>,
    Checked(viewer, Form(_)): Checked<Viewer, Form<CsrfOnly>>,
) -> WebResult<Response> {
    viewer.allow(READERS)?;
    let outcome = match console.audit.verify().await? {
        Ok(v) => {
            json!({ "ok": true, "text": format!("The chain is intact: {} records, head {}.", v.records, v.head) })
        }
        Err(t) => {
            json!({ "ok": false, "text": format!("The chain is broken at record {}: {}.", t.seq, t.problem) })
        }
    };
    render(&console, &viewer, &AuditQuery::default(), Some(outcome)).await
}
