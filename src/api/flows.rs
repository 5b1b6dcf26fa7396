//! `/api/v1/flows`: the gate. `check` asks whether a flow may happen now; `POST /flows` sends
//! records through it. Every decision is in the audit log before the answer leaves.

use crate::inputs::SubjectRef;
use std::collections::HashMap;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{ApiRequest, ApiResponse, Object, OpenApi, Union};
use serde_json::Value;

use super::ApiTags;
use super::auth::{Allowed, GateAskers, GateSenders};
use super::error::{ApiError, ErrorBody, Errors, S400, S401, S403, S413, S415, S503};
use super::json_body::{Described, SerdeJson};
use super::text::NonBlank;
use crate::flows::{CheckAnswer, Gate, SendAnswer, SendRequest, Sent};
use crate::gate::CheckRequest;
use crate::openapi_types::CheckRequestSchema;
use crate::openapi_types::OnExtraFields;

pub struct FlowsApi {
    pub gate: Gate,
}

/// The check's fields plus the records. Read by serde (`SendRequest`), so that a record with a
/// duplicate key is refused rather than silently collapsed, and any unknown key refused.
#[derive(ApiRequest)]
pub enum SendBody {
    Json(Described<SendRequest, SendRequestSchema>),
}

/// Records sent through the gate: the check's question, and the records themselves.
#[derive(Object)]
#[oai(rename = "SendRequest", deny_unknown_fields)]
pub struct SendRequestSchema {
    /// The agreement's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub agreement: String,
    /// The sending party's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub from: String,
    /// The receiving party's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub to: String,
    /// The purpose's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub purpose: String,
    /// The field ids to be sent. Every key the records carry is decided on too.
    #[oai(validator(max_items = 10000, max_length = 200))]
    pub fields: Vec<String>,
    /// The flow's id. Without it, any flow of the agreement with this `from`, `to` and
    /// `purpose` matches.
    #[oai(nullable, validator(min_length = 1, max_length = 200))]
    pub flow: Option<String>,
    /// The records: flat objects of field id to a value (a scalar or a list of scalars). A key
    /// may appear once in a record.
    #[oai(validator(min_items = 1, max_items = 10000))]
    pub records: Vec<HashMap<String, RecordValue>>,
    /// One opaque reference to the data subject per record (as many as there are records), for
    /// rights requests and legal holds.
    #[oai(nullable)]
    pub subject_refs: Option<Vec<NonBlank<{ SubjectRef::MAX }>>>,
    /// `reject` (the default): deny a send carrying fields the flow does not permit; `strip`:
    /// drop them and decide on the rest.
    pub on_extra_fields: Option<OnExtraFields>,
}

/// A record's value: a scalar (text, number, boolean or null) or a list of scalars. A nested
/// object cannot be minimised field by field, so it is refused (400).
pub struct RecordValue(pub Value);

impl Type for RecordValue {
    const IS_REQUIRED: bool = true;
    type RawValueType = Value;
    type RawElementValueType = Value;

    fn name() -> std::borrow::Cow<'static, str> {
        "RecordValue".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let scalars = || {
            ["string", "number", "boolean"]
                .into_iter()
                .map(|ty| MetaSchemaRef::Inline(Box::new(MetaSchema::new(ty))))
                .collect::<Vec<_>>()
        };
        let scalar = |nullable| MetaSchema {
            any_of: scalars(),
            nullable,
            ..MetaSchema::ANY
        };
        let list = MetaSchema {
            items: Some(Box::new(MetaSchemaRef::Inline(Box::new(scalar(true))))),
            ..MetaSchema::new("array")
        };
        let mut any = scalar(true);
        any.any_of.push(MetaSchemaRef::Inline(Box::new(list)));
        MetaSchemaRef::Inline(Box::new(any))
    }

    fn as_raw_value(&self) -> Option<&Value> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Value> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromJSON for RecordValue {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(RecordValue(value.unwrap_or_default()))
    }
}

impl ToJSON for RecordValue {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.clone())
    }
}

/// `{agreement, from, to, purpose, fields, flow?}`, read by serde: a number where text
/// belongs, or an unknown key, is refused (400), not reinterpreted.
#[derive(ApiRequest)]
pub enum CheckBody {
    Json(Described<CheckRequest, CheckRequestSchema>),
}

/// A 403 from the gate: a decision to deny (recorded, with its reasons), or a refusal before
/// any decision (the token's role or party may not ask this).
#[derive(Union)]
pub enum DeniedOrRefused {
    Denied(CheckAnswer),
    Refused(ErrorBody),
}

#[derive(ApiResponse)]
pub enum SendResponse {
    /// Allowed: the minimised records, and the holding now recorded.
    #[oai(status = 200)]
    Allowed(SerdeJson<SendAnswer>),
    /// Denied: the decision and its reasons (nothing was stored but the audit record); or
    /// refused before deciding, as `{code, message}`: this token may not send for `from`.
    #[oai(status = 403)]
    Denied(Described<CheckAnswer, DeniedOrRefused>),
}

/// What the gate may answer with besides its decision (and, for a send, its 403).
type GateErrors = Errors<(S400, S401, S403, S413, S415, S503)>;
type SendErrors = Errors<(S400, S401, S413, S415, S503)>;

#[OpenApi(tag = "ApiTags::Gate")]
impl FlowsApi {
    /// May this flow happen now? 200 with a decision (allow or deny) and its reasons.
    /// A gate client may ask only about flows to or from its own party (403 otherwise).
    #[oai(path = "/flows/check", method = "post")]
    async fn check(
        &self,
        caller: Allowed<GateAskers>,
        body: CheckBody,
    ) -> Result<SerdeJson<CheckAnswer>, GateErrors> {
        let who = &caller.0;
        let CheckBody::Json(Described(req, _)) = body;
        let answer = self.gate.check(who, req).await.map_err(ApiError::from)?;
        Ok(SerdeJson(answer))
    }

    /// Send records through the gate: 200 with only the permitted fields of each record and
    /// the holding recorded for retention; 403 with the decision when denied.
    #[oai(path = "/flows", method = "post")]
    async fn send(
        &self,
        caller: Allowed<GateSenders>,
        body: SendBody,
    ) -> Result<SendResponse, SendErrors> {
        let who = &caller.0;
        let SendBody::Json(Described(req, _)) = body;
        match self.gate.send(who, req).await.map_err(ApiError::from)? {
            Sent::Allowed(answer) => Ok(SendResponse::Allowed(SerdeJson(*answer))),
            Sent::Denied(answer) => Ok(SendResponse::Denied(Described::new(answer))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem_openapi::registry::Registry;
    use serde_json::json;

    /// The document's `SendRequest`: its properties, and which are required.
    fn documented() -> (Vec<String>, Vec<String>) {
        let mut registry = Registry::new();
        SendRequestSchema::register(&mut registry);
        let schema = &registry.schemas["SendRequest"];
        let names = schema
            .properties
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        let required = schema.required.iter().map(|n| n.to_string()).collect();
        (names, required)
    }

    fn full() -> Value {
        json!({
            "agreement": "a", "from": "b", "to": "c", "purpose": "d", "fields": ["x"],
            "flow": "f", "records": [{"x": 1, "y": ["z", null]}], "subject_refs": ["S1"],
            "on_extra_fields": "strip"
        })
    }

    fn reads(body: &Value) -> bool {
        serde_json::from_value::<SendRequest>(body.clone()).is_ok()
    }

    #[test]
    fn the_documented_send_names_exactly_the_keys_serde_reads() {
        let (names, required) = documented();
        let body = full();
        let sent: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        let mut sorted = names.clone();
        sorted.sort();
        let mut keys = sent.clone();
        keys.sort();
        assert_eq!(sorted, keys, "documented keys vs the keys of a full send");
        assert!(reads(&body), "a full send reads");
        for name in &names {
            let mut without = body.clone();
            without.as_object_mut().unwrap().remove(name);
            assert_eq!(
                reads(&without),
                !required.contains(name),
                "without {name}: required is {required:?}"
            );
        }
        let mut extra = body.clone();
        extra["unknown"] = json!(1);
        assert!(!reads(&extra), "an unknown key is refused");
        for nullable in ["flow", "subject_refs"] {
            let mut null = body.clone();
            null[nullable] = Value::Null;
            assert!(reads(&null), "{nullable}: null reads as absent");
        }
    }
}
