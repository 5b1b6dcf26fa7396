//! `/api/v1/audit`: the audit log, in order, filterable, paginated by cursor.

use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;

use super::ApiTags;
use super::auth::{Allowed, Readers};
use super::error::{ApiError, Errors, S400, S401, S403};
use super::query::{Rfc3339, instant};
use crate::audit::{Audit, AuditPage, Filter};

pub struct AuditApi {
    pub audit: Audit,
}

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditApi {
    /// Audit records in log order. Filter by action, subject, actor and time (RFC 3339);
    /// page with `after` (the `next_after` of the previous page) and `limit` (at most 1000).
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/audit", method = "get")]
    async fn audit(
        &self,
        _caller: Allowed<Readers>,
        action: Query<Option<String>>,
        subject: Query<Option<String>>,
        actor: Query<Option<String>>,
        since: Query<Option<Rfc3339>>,
        until: Query<Option<Rfc3339>>,
        after: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] limit: Query<Option<u64>>,
    ) -> Result<Json<AuditPage>, Errors<(S400, S401, S403)>> {
        let filter = Filter {
            action: action.0,
            subject: subject.0,
            actor: actor.0,
            after: after.0,
            since: instant("since", since.0)?,
            until: instant("until", until.0)?,
        };
        let page = self.audit.page(&filter, limit.0.unwrap_or(100)).await;
        Ok(Json(page.map_err(ApiError::from)?))
    }
}
