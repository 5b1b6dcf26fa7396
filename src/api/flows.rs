//! `/api/v1/flows`: the gate. `check` asks whether a flow may happen now; `POST /flows` sends
//! records through it. Every decision is in the audit log before the answer leaves.

use poem::Result;
use poem_openapi::payload::Binary;
use poem_openapi::{ApiRequest, ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::Caller;
use super::error::ApiError;
use super::json_body::SerdeJson;
use crate::auth::Role;
use crate::flows::{CheckAnswer, Gate, SendAnswer, SendRequest, Sent};
use crate::gate::CheckRequest;

pub struct FlowsApi {
    pub gate: Gate,
}

/// The check's fields plus `records` (JSON objects of field id to value), optional
/// `subject_refs` (one opaque reference per record) and `on_extra_fields` (`reject`, the
/// default, or `strip`). Read as raw JSON so that a record with a duplicate key is refused
/// rather than silently collapsed.
#[derive(ApiRequest)]
pub enum SendBody {
    #[oai(content_type = "application/json")]
    Json(Binary<Vec<u8>>),
}

/// `{agreement, from, to, purpose, fields, flow?}`, read by serde: a number where text
/// belongs, or an unknown key, is refused (400), not reinterpreted.
#[derive(ApiRequest)]
pub enum CheckBody {
    Json(SerdeJson<CheckRequest>),
}

#[derive(ApiResponse)]
pub enum SendResponse {
    /// Allowed: the minimised records, and the holding now recorded.
    #[oai(status = 200)]
    Allowed(SerdeJson<SendAnswer>),
    /// Denied: the decision and its reasons. Nothing was stored but the audit record.
    #[oai(status = 403)]
    Denied(SerdeJson<CheckAnswer>),
}

#[OpenApi(tag = "ApiTags::Gate")]
impl FlowsApi {
    /// May this flow happen now? Always 200 with a decision (allow or deny) and its reasons.
    /// A gate client may ask only about flows to or from its own party.
    #[oai(path = "/flows/check", method = "post")]
    async fn check(&self, caller: Caller, body: CheckBody) -> Result<SerdeJson<CheckAnswer>> {
        let who = caller.allow(&[Role::GateClient, Role::Admin, Role::IgOfficer])?;
        let CheckBody::Json(SerdeJson(req)) = body;
        let answer = self.gate.check(who, req).await.map_err(ApiError::from)?;
        Ok(SerdeJson(answer))
    }

    /// Send records through the gate: 200 with only the permitted fields of each record and
    /// the holding recorded for retention; 403 with the decision when denied.
    #[oai(path = "/flows", method = "post")]
    async fn send(&self, caller: Caller, body: SendBody) -> Result<SendResponse> {
        let who = caller.allow(&[Role::GateClient])?;
        let SendBody::Json(bytes) = body;
        let req: SendRequest = serde_json::from_slice(&bytes.0)
            .map_err(|e| ApiError::BadRequest(format!("the request is not a valid send: {e}")))?;
        match self.gate.send(who, req).await.map_err(ApiError::from)? {
            Sent::Allowed(answer) => Ok(SendResponse::Allowed(SerdeJson(*answer))),
            Sent::Denied(answer) => Ok(SendResponse::Denied(SerdeJson(answer))),
        }
    }
}
