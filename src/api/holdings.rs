//! `/api/v1/holdings`: who holds what about whom, and until when.

use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use uuid::Uuid;

use super::ApiTags;
use super::auth::{Allowed, Readers};
use super::error::{ApiError, Errors, S400, S401, S403, S404};
use crate::flows::holdings::{HoldingFilter, HoldingInfo, HoldingPage, Holdings};
use crate::registry::queries::Paging;

pub struct HoldingsApi {
    pub holdings: Holdings,
}

#[OpenApi(tag = "ApiTags::Gate")]
impl HoldingsApi {
    /// Holdings, oldest first. Filter by agreement, holder, a data subject's reference (for
    /// rights requests), or retention ending before a time (RFC 3339).
    #[oai(path = "/holdings", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        _caller: Allowed<Readers>,
        agreement: Query<Option<String>>,
        holder: Query<Option<String>>,
        subject_ref: Query<Option<String>>,
        due_before: Query<Option<super::query::Rfc3339>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000000")))] page: Query<
            Option<u64>,
        >,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<
            Option<u64>,
        >,
    ) -> Result<Json<HoldingPage>, Errors<(S400, S401, S403)>> {
        let due_before = super::query::instant("due_before", due_before.0)?;
        let filter = HoldingFilter {
            agreement: agreement.0,
            holder: holder.0,
            subject_ref: subject_ref.0,
            due_before,
        };
        let found = self
            .holdings
            .list(&filter, Paging::new(page.0, per_page.0))
            .await;
        Ok(Json(found.map_err(ApiError::from)?))
    }

    #[oai(path = "/holdings/:id", method = "get")]
    async fn get(
        &self,
        _caller: Allowed<Readers>,
        id: Path<Uuid>,
    ) -> Result<Json<HoldingInfo>, Errors<(S400, S401, S403, S404)>> {
        let found = self.holdings.get(id.0).await.map_err(ApiError::from)?;
        found
            .map(Json)
            .ok_or_else(|| ApiError::NotFound(format!("no holding {}", id.0)).into())
    }
}
