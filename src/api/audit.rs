//! `/api/v1/audit`: the audit log, in order, filterable, paginated by cursor.

use poem::Result;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::auth::{Caller, READERS};
use super::error::ApiError;
use crate::audit::{Filter, list};
use crate::registry::Registry;

pub struct AuditApi {
    pub registry: Registry,
}

#[derive(Debug, Object)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: Uuid,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Object)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<i64>,
}

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditApi {
    /// Audit records in log order. Filter by action, subject, actor and time (RFC 3339);
    /// page with `after` (the `next_after` of the previous page) and `limit` (at most 1000).
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/audit", method = "get")]
    async fn audit(
        &self,
        caller: Caller,
        action: Query<Option<String>>,
        subject: Query<Option<String>>,
        actor: Query<Option<String>>,
        since: Query<Option<String>>,
        until: Query<Option<String>>,
        after: Query<Option<i64>>,
        limit: Query<Option<u64>>,
    ) -> Result<Json<AuditPage>> {
        caller.allow(READERS)?;
        let filter = Filter {
            action: action.0,
            subject: subject.0,
            actor: actor.0,
            after: after.0,
            since: instant("since", since.0)?,
            until: instant("until", until.0)?,
        };
        let limit = limit.0.unwrap_or(100).clamp(1, 1000);
        let rows = list(self.registry.db(), &filter, limit)
            .await
            .map_err(ApiError::from)?;
        let next_after = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|r| r.seq))
            .flatten();
        let items = rows
            .into_iter()
            .map(|r| AuditRecord {
                details: serde_json::from_str(&r.details)
                    .unwrap_or(serde_json::Value::String(r.details)),
                seq: r.seq,
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                subject: r.subject,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect();
        Ok(Json(AuditPage { items, next_after }))
    }
}

fn instant(name: &str, text: Option<String>) -> Result<Option<jiff::Timestamp>, ApiError> {
    text.map(|t| {
        t.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "'{name}' must be an RFC 3339 time, like 2026-11-21T09:00:00Z"
            ))
        })
    })
    .transpose()
}
