//! The web console's error boundary: every error a page meets becomes a page saying what
//! happened and what to do, with its status, mapped here and nowhere else. Faults of the
//! server are logged with a reference the page shows; their details never reach the page.

use poem::Response;
use poem::error::ResponseError;
use poem::http::StatusCode;

use serde::Serialize;

use super::message::MessagePage;
use super::render::pages;
use super::typed::Page;
use crate::access::requests::AccessError;
use crate::failure::{Failure, Kind};
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
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    TooMany(String),
    /// Not done now, for a reason of the service's own: try again.
    #[error("{0}")]
    TryLater(String),
    /// The organisation's identity provider does not answer (a gateway's failure: 502).
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

    /// The page for a failure of `kind` saying `message`, with [`Kind::status`] as its status.
    pub fn of(kind: Kind, message: String) -> WebError {
        match kind {
            Kind::BadRequest => WebError::BadRequest(message),
            Kind::Forbidden => WebError::Forbidden(message),
            Kind::NotFound => WebError::NotFound(message),
            Kind::Conflict => WebError::Conflict(message),
            Kind::TooLarge => WebError::TooLarge(message),
            Kind::Unsupported => WebError::Unsupported(message),
            Kind::Invalid => WebError::Invalid(message),
            Kind::TooMany => WebError::TooMany(message),
            Kind::Unavailable => WebError::TryLater(message),
            Kind::Internal => WebError::Internal(message),
        }
    }

    /// The page for a domain error, by its kind.
    fn failed(e: &(impl Failure + std::fmt::Display)) -> WebError {
        WebError::of(e.kind(), crate::text::capitalised(&e.to_string()))
    }

    fn heading(&self) -> &'static str {
        match self {
            WebError::Forbidden(_) => "You cannot do this",
            WebError::Csrf => "This form cannot be used",
            WebError::NotFound(_) => "Page not found",
            WebError::BadRequest(_) => "There is a problem with what was sent",
            WebError::Conflict(_) => "This cannot be done now",
            WebError::TooLarge(_) => "What was sent is too large",
            WebError::Unsupported(_) => "This kind of file cannot be used",
            WebError::Invalid(_) => "Some of what was sent needs changing",
            WebError::TooMany(_) => "Too many attempts",
            WebError::TryLater(_) => "Sorry, this cannot be done just now",
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
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::TryLater(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        let link = matches!(self, WebError::RequesterLink)
            .then_some(("/request-access/renew", "Get a new link to your request"));
        let page = ErrorPage(MessagePage::new(self.heading(), message, link));
        pages().show(self.status(), None, self.heading(), &page)
    }
}

/// The page of an error: what went wrong, what to do, and perhaps a way on besides "Go to your
/// work". A message page's data in the error's own template.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ErrorPage(pub MessagePage);

impl Page for ErrorPage {
    const TEMPLATE: &'static str = "error";

    fn example() -> ErrorPage {
        ErrorPage(MessagePage::new(
            "This link has expired",
            "Private links work for 90 days.",
            Some(("/request-access/renew", "Get a new link to your request")),
        ))
    }
}

impl From<RegistryError> for WebError {
    fn from(e: RegistryError) -> WebError {
        match e {
            RegistryError::Invalid(ds) => WebError::Invalid(format!(
                "The agreement has {}.",
                crate::text::count(ds.len() as u64, "error", "errors")
            )),
            e => WebError::failed(&e),
        }
    }
}

impl From<crate::handover::HandoverError> for WebError {
    fn from(e: crate::handover::HandoverError) -> WebError {
        match e {
            crate::handover::HandoverError::Registry(r) => r.into(),
            e => WebError::failed(&e),
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
        WebError::failed(&e)
    }
}

impl From<PeopleError> for WebError {
    fn from(e: PeopleError) -> WebError {
        WebError::failed(&e)
    }
}

impl From<AccessError> for WebError {
    fn from(e: AccessError) -> WebError {
        match e {
            AccessError::NotFound => WebError::NotFound("There is no such access request.".into()),
            AccessError::BadLink => WebError::RequesterLink,
            AccessError::DraftInvalid(_) => WebError::Conflict(
                "The agreement this request would draft has errors: see the preview.".into(),
            ),
            AccessError::Registry(r) => r.into(),
            e => WebError::failed(&e),
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

#[cfg(test)]
mod tests {
    use poem::error::ResponseError;

    use super::WebError;
    use crate::api::error::ApiError;
    use crate::failure::Kind;

    /// The API and the console answer every kind of failure with the same status.
    #[test]
    fn every_kind_has_one_status_in_the_api_and_in_pages() {
        for kind in Kind::ALL {
            let api = ApiError::of(kind, "why".into());
            let page = WebError::of(kind, "why".into());
            assert_eq!(api.status().as_u16(), kind.status(), "{kind:?} in the API");
            assert_eq!(page.status().as_u16(), kind.status(), "{kind:?} on a page");
        }
    }

    /// The failures the two once answered differently: a throttled access request (429, not
    /// 409) and a refused attachment (413 or 415, not 400).
    #[test]
    fn a_throttled_request_and_a_refused_attachment_read_alike() {
        use crate::access::requests::AccessError;
        use crate::handover::HandoverError;
        use crate::handover::files::Refused;
        let throttled = || AccessError::Throttled;
        assert_eq!(ApiError::from(throttled()).status().as_u16(), 429);
        assert_eq!(WebError::from(throttled()).status().as_u16(), 429);
        let too_many = || HandoverError::Attachment(Refused::TooMany);
        assert_eq!(ApiError::from(too_many()).status().as_u16(), 413);
        assert_eq!(WebError::from(too_many()).status().as_u16(), 413);
    }
}
