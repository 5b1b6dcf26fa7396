//! `/api/v1/parties`: suspend a party across every agreement (after a breach), and reinstate it.

use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::ApiTags;
use super::agreements::ReasonGiven;
use super::auth::{Allowed, Officers, Readers};
use super::error::{ApiError, Errors, S400, S401, S403, S404, S409, S413, S415};
use super::text::reason;
use crate::agreement::values::Slug;
use crate::registry::Registry;
use crate::registry::control::PartySuspension;

/// What suspending or reinstating a party may answer with.
type ChangeErrors = Errors<(S400, S401, S403, S404, S409, S413, S415)>;

/// A party id in a path: a slug (`[a-z0-9][a-z0-9-]*`, the pattern the document states); a 400
/// naming it otherwise, before any lookup.
pub struct PartyId(pub String);

impl poem_openapi::types::Type for PartyId {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> std::borrow::Cow<'static, str> {
        "PartyId".into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(
            poem_openapi::registry::MetaSchema {
                pattern: Some(Slug::PATTERN.to_owned()),
                ..poem_openapi::registry::MetaSchema::new("string")
            },
        ))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl poem_openapi::types::ParseFromParameter for PartyId {
    fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
        match crate::inputs::PartyId::parse(value) {
            Ok(id) => Ok(PartyId(id.as_str().to_owned())),
            Err(p) => Err(poem_openapi::types::ParseError::custom(format!(
                "'{value}' is not a party id: {}",
                p.message("a party id").to_lowercase()
            ))),
        }
    }
}

pub struct PartiesApi {
    pub registry: Registry,
}

#[OpenApi(prefix_path = "/parties", tag = "ApiTags::Parties")]
impl PartiesApi {
    /// Party suspensions, newest first (`active=true`: only those in force).
    #[oai(path = "/suspensions", method = "get")]
    async fn suspensions(
        &self,
        _caller: Allowed<Readers>,
        active: Query<Option<bool>>,
    ) -> Result<Json<Vec<PartySuspension>>, Errors<(S400, S401, S403)>> {
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
        caller: Allowed<Officers>,
        party: Path<PartyId>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<PartySuspension>, ChangeErrors> {
        self.control(&caller, &party.0, &body, true).await
    }

    /// Lift the party's suspension in force.
    #[oai(path = "/:party/reinstate", method = "post")]
    async fn reinstate(
        &self,
        caller: Allowed<Officers>,
        party: Path<PartyId>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<PartySuspension>, ChangeErrors> {
        self.control(&caller, &party.0, &body, false).await
    }
}

impl PartiesApi {
    /// Suspends the party (`suspend`) or lifts its suspension, for an officer, with the reason
    /// given.
    async fn control(
        &self,
        caller: &Allowed<Officers>,
        party: &PartyId,
        body: &ReasonGiven,
        suspend: bool,
    ) -> Result<Json<PartySuspension>, ChangeErrors> {
        let actor = caller.0.actor();
        let done = if suspend {
            self.registry
                .suspend_party(&party.0, &reason(&body.reason)?, &actor)
                .await
        } else {
            self.registry
                .reinstate_party(&party.0, &reason(&body.reason)?, &actor)
                .await
        };
        Ok(Json(done.map_err(ApiError::from)?))
    }
}
