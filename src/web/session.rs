//! Who is looking at a page. [`Viewer`]: a signed-in person, from the session cookie, or else
//! the request ends at the sign-in page — a GET remembering where it was going, a POST also
//! keeping what the form held when the form is the browser's own (its token is the ended
//! session's), so a session that expired mid-form loses nothing typed, and a form from
//! another site is never posted again.
//! [`Visitor`]: anyone, with the visit cookie that binds the CSRF tokens of the sign-in forms.

use poem::http::{Method, StatusCode, header};
use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};

use super::errors::WebError;
use super::render::see_other;
use super::{Console, cookies, csrf};
use crate::auth::{Principal, Role};
use crate::people::{self, Session};

/// A signed-in person.
pub struct Viewer {
    pub session: Session,
}

impl Viewer {
    pub fn principal(&self) -> &Principal {
        &self.session.principal
    }

    /// The token this person's forms carry.
    pub fn csrf(&self) -> String {
        csrf::token(&self.session.secret)
    }

    /// `Err` (403) unless this person's role is one of `roles`: the API's rule.
    pub fn allow(&self, roles: &[Role]) -> Result<&Principal, WebError> {
        self.session
            .principal
            .allow(roles)
            .map_err(|d| WebError::Forbidden(d.0))
    }
}

impl super::csrf::GuardsForms for Viewer {
    fn read<'a>(req: &'a Request, body: &'a mut RequestBody) -> super::csrf::Reading<'a, Self> {
        Box::pin(Viewer::from_request(req, body))
    }

    fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        if csrf::valid(&self.session.secret, given) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl super::csrf::GuardsForms for Visitor {
    fn read<'a>(req: &'a Request, body: &'a mut RequestBody) -> super::csrf::Reading<'a, Self> {
        Box::pin(Visitor::from_request(req, body))
    }

    /// A visit that has just begun (no cookie came) has posted no form of its own.
    fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        if !self.new && csrf::valid(&self.secret, given) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl<'a> FromRequest<'a> for Viewer {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let console = console(req)?;
        let secret = cookies::read(req, cookies::SESSION);
        if let Some(secret) = &secret {
            let found = console
                .people
                .session(secret)
                .await
                .map_err(|e| WebError::from(e).into_poem())?;
            if let Some(session) = found {
                return Ok(Viewer { session });
            }
        }
        let here = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let to = format!("/sign-in?next={}", encode(&here));
            return Err(poem::Error::from_response(see_other(&to)));
        }
        let fields = match body.take() {
            Ok(b) if is_form(req) => {
                let bytes = b.into_bytes().await.unwrap_or_default();
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let kept = own_form(secret.as_deref(), fields);
        let notice = if kept.is_empty() {
            "You need to sign in to continue. You will start this page again."
        } else {
            "Your session ended, so you need to sign in again. What you entered has been kept."
        };
        let visit = Visitor::from_request_without_body(req).await?;
        let page = super::sign_in::page(
            &visit,
            StatusCode::UNAUTHORIZED,
            &here,
            "",
            &[],
            &kept,
            Some(notice),
            console.sso.is_some(),
        );
        Err(poem::Error::from_response(visit.with_cookie(page)))
    }
}

/// The fields of a form posted after its session ended, to post again once the person has
/// signed in — only if the form proves it came from one of this browser's own pages: its CSRF
/// token is the ended session's, whose secret the browser still sends. A form from another
/// site carries no session cookie (`SameSite=Lax`) or no token of it, so nothing of it is
/// ever posted again: signing in leads to its page's first step. The old token is dropped.
fn own_form(session: Option<&str>, fields: Vec<(String, String)>) -> Vec<(String, String)> {
    let token = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
    match (session, token) {
        (Some(secret), Some(token)) if csrf::valid(secret, token) => {
            fields.into_iter().filter(|(k, _)| k != "csrf").collect()
        }
        _ => Vec::new(),
    }
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// Anyone, signed in or not, with the value that binds their pre-sign-in CSRF tokens.
pub struct Visitor {
    secret: String,
    /// Set when the visitor had no visit cookie: the answer must set it.
    new: bool,
    secure: bool,
}

impl Visitor {
    pub fn csrf(&self) -> String {
        csrf::token(&self.secret)
    }

    /// The answer, setting the visit cookie if it was new.
    pub fn with_cookie(&self, resp: Response) -> Response {
        let mut resp = resp.into_response();
        if self.new
            && let Ok(v) = cookies::set(cookies::VISIT, &self.secret, self.secure).parse()
        {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        resp
    }
}

impl<'a> FromRequest<'a> for Visitor {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Self::from_request_without_body(req).await
    }
}

impl Visitor {
    async fn from_request_without_body(req: &Request) -> poem::Result<Visitor> {
        let secure = console(req)?.secure_cookies;
        match cookies::read(req, cookies::VISIT).filter(|v| v.len() == 64) {
            Some(secret) => Ok(Visitor {
                secret,
                new: false,
                secure,
            }),
            None => {
                let secret = people::random_secret().map_err(|e| WebError::from(e).into_poem())?;
                Ok(Visitor {
                    secret,
                    new: true,
                    secure,
                })
            }
        }
    }
}

pub fn console(req: &Request) -> poem::Result<&Console> {
    req.data::<Console>().ok_or_else(|| {
        WebError::Internal("the console is missing from request data".into()).into_poem()
    })
}

/// `text` as a query parameter value.
pub fn encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// A path to go to after sign-in: only a path on this site (never `//host` or a URL), else home.
pub fn local_path(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if ok { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path("/agreements?status=draft"),
            "/agreements?status=draft"
        );
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "evil",
            "/a\nb",
            "",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
