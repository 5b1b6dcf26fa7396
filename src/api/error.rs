//! The HTTP error boundary: every error leaves as `{"code", "message"}` with its status, mapped
//! here and nowhere else. Errors raised by poem itself (bad JSON, unknown route, missing token)
//! are rewritten into the same shape by [`normalise`].

use poem::Response;
use poem::http::StatusCode;
use serde::Serialize;

use crate::agreement::Diagnostic;
use crate::auth::RevokeError;
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
    TooLarge(String),
    #[error("the agreement has errors")]
    Invalid(Vec<Diagnostic>),
    #[error("{0}; try again")]
    Unavailable(String),
    #[error("internal error (request {0})")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostics: Option<Vec<DiagnosticBody<'a>>>,
}

#[derive(Serialize)]
struct DiagnosticBody<'a> {
    line: u32,
    column: u32,
    severity: crate::agreement::Severity,
    code: crate::agreement::Code,
    message: &'a str,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-agreement"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
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
                        severity: d.severity(),
                        code: d.code,
                        message: &d.message,
                    })
                    .collect(),
            ),
            _ => None,
        };
        let body = Body {
            code,
            message: self.to_string(),
            diagnostics,
        };
        with_challenge(json_response(status, &body))
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        match e {
            RegistryError::NotFound(m) => ApiError::NotFound(m),
            RegistryError::Conflict(m) => ApiError::Conflict(m),
            RegistryError::BadRequest(m) => ApiError::BadRequest(m),
            RegistryError::Forbidden(m) => ApiError::Forbidden(m),
            RegistryError::Invalid(ds) => ApiError::Invalid(ds),
            RegistryError::Db(e) => internal(&e),
        }
    }
}

impl From<GateError> for ApiError {
    fn from(e: GateError) -> ApiError {
        match e {
            GateError::Forbidden(m) => ApiError::Forbidden(m),
            GateError::BadRequest(m) => ApiError::BadRequest(m),
            GateError::Journal(j) => {
                let reference = uuid::Uuid::now_v7();
                tracing::error!(error = %j, %reference, "a decision was not recorded, so not given");
                ApiError::Unavailable(format!(
                    "the decision could not be recorded, so it is not given (reference \
                     {reference})"
                ))
            }
        }
    }
}

impl From<RevokeError> for ApiError {
    fn from(e: RevokeError) -> ApiError {
        match e {
            RevokeError::NotFound(_) => ApiError::NotFound(e.to_string()),
            RevokeError::OwnToken | RevokeError::LastAdmin => ApiError::Conflict(e.to_string()),
            RevokeError::Db(e) => internal(&e),
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
    let status = err.status();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        s if s.is_server_error() => "internal",
        _ => "error",
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
        &Body {
            code,
            message,
            diagnostics: None,
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
