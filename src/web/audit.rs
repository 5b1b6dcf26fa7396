//! The audit log: filters and paging by key (log order), and verifying the chain for auditors.

use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};

use super::Console;
use super::csrf::Checked;
use super::csrf::CsrfOnly;
use super::errors::WebResult;
use super::render::pages;
use super::session::{Viewer, encode};
use super::typed::Page;
use crate::audit::{AuditRecord, Filter};
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
    verified: Option<Verified>,
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
    let log = AuditLogPage {
        next: found.next_after.map(|a| format!("/audit?after={a}{keep}")),
        first: filter
            .after
            .map(|_| format!("/audit?{}", keep.trim_start_matches('&'))),
        items: found
            .items
            .into_iter()
            .map(|r| Entry {
                details: r.details.to_string(),
                r,
            })
            .collect(),
        action: filter.action,
        actor: filter.actor,
        subject: filter.subject,
        verified,
    };
    Ok(pages().show(StatusCode::OK, Some(viewer), "Audit log", &log))
}

/// A page of the audit log, filtered, with the outcome of verifying the chain when asked.
#[derive(Serialize)]
pub struct AuditLogPage {
    pub items: Vec<Entry>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// The next page, when there is one.
    pub next: Option<String>,
    /// The first page, when this is not it.
    pub first: Option<String>,
    pub verified: Option<Verified>,
}

/// One record, its details as text.
#[derive(Serialize)]
pub struct Entry {
    pub r: AuditRecord,
    pub details: String,
}

/// What verifying the chain found, in words.
#[derive(Serialize)]
pub struct Verified {
    pub ok: bool,
    pub text: String,
}

impl Page for AuditLogPage {
    const TEMPLATE: &'static str = "audit";

    fn example() -> AuditLogPage {
        let details = serde_json::json!({ "version": 1 });
        AuditLogPage {
            items: vec![Entry {
                details: details.to_string(),
                r: AuditRecord {
                    seq: 1,
                    id: uuid::Uuid::nil(),
                    at: "2026-11-21T12:00:00Z".into(),
                    actor: "Priya Shah".into(),
                    action: "version.activated".into(),
                    subject: "agreement:camden-foodbank-referrals".into(),
                    details,
                    prev_hash: "0".repeat(64),
                    hash: "1".repeat(64),
                },
            }],
            action: Some("version.activated".into()),
            actor: Some("Priya Shah".into()),
            subject: Some("agreement:camden-foodbank-referrals".into()),
            next: Some("/audit?after=1".into()),
            first: Some("/audit?".into()),
            verified: Some(Verified {
                ok: true,
                text: "The chain is intact: 1 records, head 1111.".into(),
            }),
        }
    }
}

/// Walks the whole chain (as `accord audit verify` does) and shows the outcome.
#[handler]
pub async fn verify(
    console: Data<&Console>,
    Checked(viewer, Form(_)): Checked<Viewer, Form<CsrfOnly>>,
) -> WebResult<Response> {
    viewer.allow(READERS)?;
    let outcome = match console.audit.verify().await? {
        Ok(v) => Verified {
            ok: true,
            text: format!(
                "The chain is intact: {} records, head {}.",
                v.records, v.head
            ),
        },
        Err(t) => Verified {
            ok: false,
            text: format!("The chain is broken at record {}: {}.", t.seq, t.problem),
        },
    };
    render(&console, &viewer, &AuditQuery::default(), Some(outcome)).await
}
