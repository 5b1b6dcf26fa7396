//! The web console's error boundary: every error a page meets becomes a page saying what
//! happened and what to do, with its status, mapped here and nowhere else. Faults of the
//! server are logged with a reference the page shows; their details never reach the page.

use poem::Response;
use poem::error::ResponseError;
use poem::http::StatusCode;
use serde_json::json;

use super::render::pages;
use crate::access::requests::AccessError;
use crate::people::PeopleError;
use crate::registry::RegistryError;
use crate::retention::RetentionError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    Forbidden(String),
    #[error("this form has expired or did not come from Accord")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
    /// Something Accord depends on (the identity provider) does not answer.
    #[error("{0}")]
    Unavailable(String),
    /// A requester's link that opens nothing (used, expired or mistyped): 404, with the way
    /// to a new one.
    #[error(
        "This link is not valid: it may have been used already, or have expired. Links to \
         confirm an e-mail address work once, for 24 hours; a private link to a request works \
         for a while after it is sent, and you can ask for a new one."
    )]
    RequesterLink,
}

impl WebError {
    pub fn into_poem(self) -> poem::Error {
        poem::Error::from(self)
    }

    fn heading(&self) -> &'static str {
        match self {
            WebError::Forbidden(_) => "You cannot do this",
            WebError::Csrf => "This form cannot be used",
            WebError::NotFound(_) => "Page not found",
            WebError::BadRequest(_) => "There is a problem with what was sent",
            WebError::Conflict(_) => "This cannot be done now",
            WebError::Internal(_) => "Sorry, there is a problem with the service",
            WebError::Unavailable(_) => "Sign-in is not available just now",
            WebError::RequesterLink => "This link does not work",
        }
    }
}

impl ResponseError for WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound(_) | WebError::RequesterLink => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Unavailable(_) => StatusCode::BAD_GATEWAY,
        }
    }

    fn as_response(&self) -> Response {
        let message = match self {
            WebError::Internal(detail) => {
                let reference = uuid::Uuid::now_v7();
                tracing::error!(error = %detail, %reference, "a page failed");
                format!("Try again later. If it keeps happening, quote reference {reference}.")
            }
            WebError::Csrf => "Go back, reload the page and try again.".to_owned(),
            other => other.to_string(),
        };
        let link = matches!(self, WebError::RequesterLink).then(
            || json!({ "href": "/request-access/renew", "text": "Get a new link to your request" }),
        );
        let data = json!({ "heading": self.heading(), "message": message, "link": link });
        pages().page_with(self.status(), None, "error", self.heading(), data)
    }
}

impl From<RegistryError> for WebError {
    fn from(e: RegistryError) -> WebError {
        match e {
            RegistryError::NotFound(m) => WebError::NotFound(m),
            RegistryError::Conflict(m) => WebError::Conflict(m),
            RegistryError::BadRequest(m) => WebError::BadRequest(m),
            RegistryError::Forbidden(m) => WebError::Forbidden(m),
            RegistryError::Invalid(ds) => {
                WebError::BadRequest(format!("the agreement has {} errors", ds.len()))
            }
            RegistryError::Db(e) => WebError::Internal(e.to_string()),
        }
    }
}

impl From<crate::handover::HandoverError> for WebError {
    fn from(e: crate::handover::HandoverError) -> WebError {
        use crate::handover::HandoverError as E;
        match e {
            E::NotFound(m) => WebError::NotFound(m),
            E::NotAllowed(m) => WebError::Forbidden(m),
            E::WrongState { .. } | E::Conflict(_) => WebError::Conflict(e.to_string()),
            E::BadInput(_)
            | E::Credentials(_)
            | E::Secret { .. }
            | E::Attachment(_)
            | E::Unreadable(_) => WebError::BadRequest(e.to_string()),
            E::Registry(r) => r.into(),
            E::Mail(m) => WebError::Internal(m.to_string()),
            E::Db(d) => WebError::Internal(d.to_string()),
        }
    }
}

impl From<crate::people::sso::SsoError> for WebError {
    fn from(e: crate::people::sso::SsoError) -> WebError {
        use crate::people::sso::SsoError as E;
        match e {
            E::UnknownState | E::Provider(_) | E::Invalid(_) => {
                WebError::BadRequest(format!("{e}. Start again from the sign-in page."))
            }
            E::NoRole => WebError::Forbidden(format!(
                "{e}. Ask your information governance team to add you to an Accord group, then sign in again."
            )),
            E::Disabled => WebError::Forbidden(e.to_string()),
            E::Unreachable(m) => {
                tracing::error!(error = %m, "the identity provider cannot be reached");
                WebError::Unavailable(
                    "Accord cannot reach your organisation's sign-in service. Try again later, or sign in with a password if you have one.".into(),
                )
            }
            E::People(p) => p.into(),
        }
    }
}

impl From<RetentionError> for WebError {
    fn from(e: RetentionError) -> WebError {
        match e {
            RetentionError::NotFound(m) => WebError::NotFound(m),
            RetentionError::Conflict(m) => WebError::Conflict(m),
            RetentionError::BadRequest(m) => WebError::BadRequest(m),
            RetentionError::Internal(m) => WebError::Internal(m),
            RetentionError::Db(e) => WebError::Internal(e.to_string()),
        }
    }
}

impl From<PeopleError> for WebError {
    fn from(e: PeopleError) -> WebError {
        match e {
            PeopleError::Db(e) => WebError::Internal(e.to_string()),
            PeopleError::Random(m) | PeopleError::Hash(m) => WebError::Internal(m),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

impl From<AccessError> for WebError {
    fn from(e: AccessError) -> WebError {
        match e {
            AccessError::NotFound => WebError::NotFound("There is no such access request.".into()),
            AccessError::BadLink => WebError::RequesterLink,
            AccessError::NotAllowed(m) => WebError::Forbidden(m),
            AccessError::WrongState { .. } | AccessError::Throttled => {
                WebError::Conflict(e.to_string())
            }
            AccessError::Unconfirmed => {
                WebError::Conflict(crate::text::capitalised(&e.to_string()))
            }
            AccessError::Problems(_) | AccessError::Incomplete(_) | AccessError::BadInput(_) => {
                WebError::BadRequest(e.to_string())
            }
            AccessError::DraftInvalid(_) => WebError::Conflict(
                "The agreement this request would draft has errors: see the preview.".into(),
            ),
            AccessError::Registry(r) => r.into(),
            AccessError::People(p) => p.into(),
            AccessError::Mail(m) => WebError::Internal(m.to_string()),
            AccessError::Db(d) => WebError::Internal(d.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for WebError {
    fn from(e: sea_orm::DbErr) -> WebError {
        WebError::Internal(e.to_string())
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

/// Calls `next`; a path nothing serves, outside the API, is answered with a page, not the
/// API's JSON (a person followed a link or typed an address).
pub async fn unknown_paths_as_pages<E: poem::Endpoint>(
    next: &E,
    req: poem::Request,
) -> poem::Result<Response> {
    let api = req.uri().path().starts_with("/api/");
    match next.call(req).await {
        Ok(r) => Ok(poem::IntoResponse::into_response(r)),
        Err(e) if !api && e.is::<poem::error::NotFoundError>() => Err(WebError::NotFound(
            "If you typed the address, check it is correct. If you followed a link, it may be out of date."
                .into(),
        )
        .into_poem()),
        Err(e) => Err(e),
    }
}
