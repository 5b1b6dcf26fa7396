//! `/api/v1/parties`: suspend a party across every agreement (after a breach), and reinstate it.

use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::ApiTags;
use super::agreements::ReasonGiven;
use super::auth::{Caller, OFFICERS, READERS};
use super::error::{ApiError, Errors, S400, S401, S403, S404, S409, S413, S415};
use crate::registry::Registry;
use crate::registry::control::PartySuspension;

/// What suspending or reinstating a party may answer with.
type ChangeErrors = Errors<(S400, S401, S403, S404, S409, S413, S415)>;

pub struct PartiesApi {
    pub registry: Registry,
}

#[OpenApi(prefix_path = "/parties", tag = "ApiTags::Parties")]
impl PartiesApi {
    /// Party suspensions, newest first (`active=true`: only those in force).
    #[oai(path = "/suspensions", method = "get")]
    async fn suspensions(
        &self,
        caller: Caller,
        active: Query<Option<bool>>,
    ) -> Result<Json<Vec<PartySuspension>>, Errors<(S400, S401, S403)>> {
        caller.allow(READERS)?;
        let found = self
            .registry
            .party_suspensions(active.0.unwrap_or(false))
            .await;
        Ok(Json(found.map_err(ApiError::from)?))
    }

    /// Suspend a party in every agreement: the gate refuses flows to and from it.
    #[oai(path = "/:party/suspend", method = "post")]
    async fn suspend(
        &self,
        caller: Caller,
        #[oai(validator(pattern = r"^[a-z0-9][a-z0-9-]*$"))] party: Path<String>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<PartySuspension>, ChangeErrors> {
        let who = caller.allow(OFFICERS)?;
        let done = self
            .registry
            .suspend_party(&party, &body.reason, &who.actor())
            .await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    #[oai(path = "/:party/reinstate", method = "post")]
    async fn reinstate(
        &self,
        caller: Caller,
        #[oai(validator(pattern = r"^[a-z0-9][a-z0-9-]*$"))] party: Path<String>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<PartySuspension>, ChangeErrors> {
        let who = caller.allow(OFFICERS)?;
        let done = self
            .registry
            .reinstate_party(&party, &body.reason, &who.actor())
            .await;
        Ok(Json(done.map_err(ApiError::from)?))
    }
}
