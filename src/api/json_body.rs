//! `SerdeJson<T>`: a JSON body read and written by serde, described in the OpenAPI document by
//! `T`'s poem-openapi schema. poem-openapi's own `Json` goes through a `serde_json::Value`
//! tree both ways and quietly turns a number where text belongs into text; serde reads the
//! bytes straight into `T`, so `T`'s serde attributes decide (`deny_unknown_fields`, wrong
//! types refused), and writes `T` straight to bytes. The gate answers with it: it is on the
//! hot path, and a partner's malformed request must be refused, not reinterpreted.
//!
//! `T`'s serde and poem-openapi derives must agree on names; the gate's tests read the
//! answers back through the schema's field names.

use std::marker::PhantomData;

use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};
use poem_openapi::ApiResponse;
use poem_openapi::error::ParseRequestPayloadError;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct SerdeJson<T>(pub T);

impl<T: Type> Payload for SerdeJson<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    /// `application/json` or `application/*+json`, with any parameters.
    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        let essence = essence.to_ascii_lowercase();
        essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned> ParsePayload for SerdeJson<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = Vec::<u8>::from_request(request, body).await?;
        serde_json::from_slice(&data).map(SerdeJson).map_err(|e| {
            ParseRequestPayloadError {
                reason: e.to_string(),
            }
            .into()
        })
    }
}

impl<T: Serialize + Send> IntoResponse for SerdeJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .content_type("application/json; charset=utf-8")
                .body(body),
            Err(e) => poem::error::ResponseError::as_response(&super::error::internal(&e)),
        }
    }
}

impl<T: Type + Serialize + Send> ApiResponse for SerdeJson<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: <Self as Payload>::CONTENT_TYPE,
                    schema: T::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A JSON body read by serde into `T` (strictly: `T`'s serde attributes decide, and a duplicate
/// key in a record is refused), described in the OpenAPI document by `D`'s schema: for a `T`
/// whose serde reading poem-openapi cannot derive a schema for (the gate's send, whose records
/// are read by hand). A test beside each `D` checks that it names exactly the keys `T` reads.
pub struct Described<T, D>(pub T, pub PhantomData<fn() -> D>);

impl<T: Send, D: Type> Payload for Described<T, D> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        <SerdeJson<D> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

impl<T: DeserializeOwned + Send, D: Type> ParsePayload for Described<T, D> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = Vec::<u8>::from_request(request, body).await?;
        serde_json::from_slice(&data)
            .map(|t| Described(t, PhantomData))
            .map_err(|e| {
                ParseRequestPayloadError {
                    reason: e.to_string(),
                }
                .into()
            })
    }
}

impl<T: Serialize + Send, D: Type> IntoResponse for Described<T, D> {
    fn into_response(self) -> Response {
        SerdeJson(self.0).into_response()
    }
}

impl<T, D> Described<T, D> {
    pub fn new(t: T) -> Self {
        Described(t, PhantomData)
    }
}
