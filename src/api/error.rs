//! The HTTP error boundary: every error leaves as `{"code", "message"}` with its status, mapped
//! here and nowhere else. Errors raised by poem itself (bad JSON, unknown route, missing token)
//! are rewritten into the same shape by [`normalise`].
//!
//! The OpenAPI document learns the same from here: an operation returns
//! `Result<T, Errors<(S400, S401, …)>>`, naming the error statuses it may answer with, and
//! [`Errors`] documents each as the one [`ErrorBody`] schema, described in one place
//! ([`ErrorStatus`]).

use std::marker::PhantomData;

use poem::Response;
use poem::http::StatusCode;
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object};
use serde::Serialize;

use crate::agreement::Diagnostic;
use crate::auth::RevokeError;
use crate::failure::{Failure, Kind};
use crate::flows::GateError;
use crate::registry::RegistryError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TimedOut(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the agreement has errors")]
    Invalid(Vec<Diagnostic>),
    #[error("some answers need changing")]
    Answers(Vec<crate::access::form::Problem>),
    #[error("{0}")]
    TooMany(String),
    #[error("{0}; try again")]
    Unavailable(String),
    #[error("internal error (request {0})")]
    Internal(String),
}

/// Every error answer: what kind of error (`code`), and why, for a person (`message`).
#[derive(Debug, Serialize, Object)]
#[oai(rename = "Error")]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Only on 422 (`invalid-agreement`): every finding, each at its line and column.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub diagnostics: Option<Vec<DiagnosticBody>>,
    /// Only on 422 (`invalid`) from an access request: every problem, by question.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub problems: Option<Vec<ProblemBody>>,
}

/// One problem with an access request's answers.
#[derive(Debug, Serialize, Object)]
pub struct ProblemBody {
    /// The question's name (a key of `answers`, or `email`).
    pub field: String,
    pub message: String,
}

/// The kind of an error; each status has one, but 422 (`invalid-agreement`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Enum)]
#[serde(rename_all = "kebab-case")]
#[oai(rename_all = "kebab-case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidAgreement,
    Invalid,
    TooManyRequests,
    Unavailable,
    Internal,
    Error,
}

/// One finding of `accord check`, as a 422 lists it.
#[derive(Debug, Serialize, Object)]
pub struct DiagnosticBody {
    pub line: u32,
    pub column: u32,
    /// `error` or `warning`.
    pub severity: String,
    /// The finding's code (docs/diagnostics.md).
    pub code: String,
    pub message: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            ApiError::TimedOut(_) => (StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            ApiError::Unsupported(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            ApiError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidAgreement,
            ),
            ApiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyRequests),
            ApiError::Answers(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }
}

/// One error status an operation may answer with, and what it means, for the document.
pub trait ErrorStatus {
    const STATUS: u16;
    const DESCRIPTION: &'static str;
}

macro_rules! error_statuses {
    ($($name:ident = $status:literal, $description:literal;)*) => {$(
        #[doc = $description]
        pub struct $name;
        impl ErrorStatus for $name {
            const STATUS: u16 = $status;
            const DESCRIPTION: &'static str = $description;
        }
    )*};
}

error_statuses! {
    S400 = 400, "The request is malformed: a parameter or the body does not fit the schema, or breaks a rule stated in the message.";
    S401 = 401, "No valid bearer token (`WWW-Authenticate: Bearer`).";
    S403 = 403, "The token's role (or party) may not do this.";
    S404 = 404, "What the path names does not exist.";
    S408 = 408, "The request body did not arrive within the server's deadline; the connection is closed.";
    S409 = 409, "The request conflicts with the current state (stated in the message).";
    S413 = 413, "The request body is larger than the server's limit.";
    S415 = 415, "The body's Content-Type is not one this operation reads.";
    S422 = 422, "The agreement has errors: every finding, each at its line and column.";
    S422A = 422, "Some answers break the form's rules: every problem, by question (`problems`).";
    S413H = 413, "The request body is larger than the server's limit, an attachment is larger than 512 KiB, or there are more than 4.";
    S415H = 415, "The body is not JSON, or an attachment is not PDF, PNG, JPEG, plain text, Markdown or CSV (read from its bytes, matching its name's ending).";
    S422H = 422, "The text looks like it holds a secret (a private key, a known token, a random key): `problems` names where, never the text.";
    S429 = 429, "Too many requests from this address or for this e-mail address; try again in 15 minutes.";
    S503 = 503, "The decision could not be recorded, so it is not given; try again.";
}

/// The error statuses of one operation: a tuple of [`ErrorStatus`] markers.
pub trait ErrorStatuses {
    fn each() -> Vec<(u16, &'static str)>;
}

macro_rules! statuses_for_tuples {
    ($($t:ident),+) => {
        impl<$($t: ErrorStatus),+> ErrorStatuses for ($($t,)+) {
            fn each() -> Vec<(u16, &'static str)> {
                vec![$(($t::STATUS, $t::DESCRIPTION)),+]
            }
        }
    };
}

statuses_for_tuples!(A);
statuses_for_tuples!(A, B);
statuses_for_tuples!(A, B, C);
statuses_for_tuples!(A, B, C, D);
statuses_for_tuples!(A, B, C, D, E);
statuses_for_tuples!(A, B, C, D, E, F);
statuses_for_tuples!(A, B, C, D, E, F, G);
statuses_for_tuples!(A, B, C, D, E, F, G, H);

/// An operation's error: any [`ApiError`] (answered as ever), documented as the statuses `S`
/// name, each with the [`ErrorBody`] schema.
pub struct Errors<S>(pub ApiError, PhantomData<fn() -> S>);

impl<S> From<ApiError> for Errors<S> {
    fn from(e: ApiError) -> Self {
        Errors(e, PhantomData)
    }
}

impl<S> From<Errors<S>> for poem::Error {
    fn from(e: Errors<S>) -> poem::Error {
        e.0.into()
    }
}

impl<S: ErrorStatuses> ApiResponse for Errors<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: S::each()
                .into_iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: ErrorBody::schema_ref(),
                    }],
                    headers: if status == 401 {
                        vec![MetaHeader {
                            name: "www-authenticate".into(),
                            description: Some("`Bearer`".into()),
                            required: true,
                            deprecated: false,
                            schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
                        }]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn as_response(&self) -> Response {
        let (status, code) = self.status_and_code();
        let diagnostics = match self {
            ApiError::Invalid(ds) => Some(
                ds.iter()
                    .map(|d| DiagnosticBody {
                        line: d.pos.line,
                        column: d.pos.column,
                        severity: d.severity().to_string(),
                        code: d.code.to_string(),
                        message: d.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        let problems = match self {
            ApiError::Answers(ps) => Some(
                ps.iter()
                    .map(|p| ProblemBody {
                        field: p.field.to_owned(),
                        message: p.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        let body = ErrorBody {
            code,
            message: self.to_string(),
            diagnostics,
            problems,
        };
        with_challenge(json_response(status, &body))
    }
}

impl ApiError {
    /// The answer to a failure of `kind` saying `message`, with [`Kind::status`] as its status.
    /// An internal failure is logged, and answered with a reference only.
    pub fn of(kind: Kind, message: String) -> ApiError {
        match kind {
            Kind::BadRequest => ApiError::BadRequest(message),
            Kind::Forbidden => ApiError::Forbidden(message),
            Kind::NotFound => ApiError::NotFound(message),
            Kind::Conflict => ApiError::Conflict(message),
            Kind::TooLarge => ApiError::TooLarge(message),
            Kind::Unsupported => ApiError::Unsupported(message),
            Kind::Invalid => ApiError::Answers(vec![crate::access::form::Problem {
                field: "body",
                message,
            }]),
            Kind::TooMany => ApiError::TooMany(message),
            Kind::Unavailable => ApiError::Unavailable(message),
            Kind::Internal => internal(&message),
        }
    }

    /// The answer to a domain error, by its kind.
    fn failed(e: &(impl Failure + std::fmt::Display)) -> ApiError {
        ApiError::of(e.kind(), e.to_string())
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        match e {
            RegistryError::Invalid(ds) => ApiError::Invalid(ds),
            e => ApiError::failed(&e),
        }
    }
}

impl From<GateError> for ApiError {
    fn from(e: GateError) -> ApiError {
        match e {
            GateError::Journal(j) => {
                let reference = uuid::Uuid::now_v7();
                tracing::error!(error = %j, %reference, "a decision was not recorded, so not given");
                ApiError::Unavailable(format!(
                    "the decision could not be recorded, so it is not given (reference \
                     {reference})"
                ))
            }
            e => ApiError::failed(&e),
        }
    }
}

impl From<RevokeError> for ApiError {
    fn from(e: RevokeError) -> ApiError {
        ApiError::failed(&e)
    }
}

impl From<crate::access::requests::AccessError> for ApiError {
    fn from(e: crate::access::requests::AccessError) -> ApiError {
        use crate::access::requests::AccessError as E;
        match e {
            E::Problems(ps) => ApiError::Answers(ps),
            E::Incomplete(steps) => {
                ApiError::Answers(steps.into_iter().flat_map(|(_, p)| p).collect())
            }
            E::DraftInvalid(_) => ApiError::Conflict(
                "the agreement the request would draft has errors; see the preview".into(),
            ),
            E::Registry(r) => r.into(),
            e => ApiError::failed(&e),
        }
    }
}

impl From<crate::handover::HandoverError> for ApiError {
    fn from(e: crate::handover::HandoverError) -> ApiError {
        use crate::handover::HandoverError as E;
        let kind = e.kind();
        match e {
            E::Secret { field, file, found } => {
                ApiError::Answers(vec![crate::access::form::Problem {
                    field: if field == "files" {
                        "attachments"
                    } else {
                        field
                    },
                    message: crate::handover::records::secret_message(file.as_deref(), &found),
                }])
            }
            E::Attachment(r) => ApiError::of(kind, r.to_string()),
            E::Registry(r) => r.into(),
            e => ApiError::failed(&e),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> ApiError {
        internal(&e)
    }
}

/// Logs the cause (it may hold details a caller must not see) and answers with a reference.
pub fn internal(e: &dyn std::fmt::Display) -> ApiError {
    let reference = uuid::Uuid::now_v7().to_string();
    tracing::error!(error = %e, reference, "internal error");
    ApiError::Internal(reference)
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_string(body)
        .unwrap_or_else(|_| r#"{"code":"internal","message":"error"}"#.into());
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(text)
}

/// Rewrites any error response into `{code, message}`: poem's own errors carry a status and
/// plain text; ours already have the shape.
pub fn normalise(err: poem::Error) -> Response {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return poem::error::ResponseError::as_response(api);
    }
    // The web console answers its errors as pages, and ends a request early with a whole
    // answer (a redirect to sign-in); both are already what the browser should get.
    if let Some(page) = err.downcast_ref::<crate::web::errors::WebError>() {
        return poem::error::ResponseError::as_response(page);
    }
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let code = match status {
        StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Invalid,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::Error,
    };
    let message = match status {
        StatusCode::UNAUTHORIZED => "a valid bearer token is required".to_owned(),
        s if s.is_server_error() => {
            tracing::error!(error = %err, "internal error");
            "internal error".to_owned()
        }
        _ => err.to_string(),
    };
    with_challenge(json_response(
        status,
        &ErrorBody {
            code,
            message,
            diagnostics: None,
            problems: None,
        },
    ))
}

/// A 401 names the scheme to use (RFC 7235), whichever path produced it.
fn with_challenge(mut resp: Response) -> Response {
    if resp.status() == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            "www-authenticate",
            poem::http::HeaderValue::from_static("Bearer"),
        );
    }
    resp
}
