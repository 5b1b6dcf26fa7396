//! Single sign-on pages: `/sign-in/sso` sends the person to the organisation's identity
//! provider (remembering the sign-in's state in a cookie), and `/sign-in/sso/callback` is
//! where the provider sends them back. The work is `people::sso`'s; refusals are pages that
//! say what to do. `/sso/back-channel-logout` is not a page: the provider's server posts a
//! logout token there when the person signs out at the provider.

use poem::http::{StatusCode, header};
use poem::web::{Data, Query, RemoteAddr};
use poem::{Body, IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::errors::{WebError, WebResult};
use super::render::see_other;
use super::session::local_path;
use super::sign_in::address;
use super::{Console, cookies};
use crate::people::logout_token::MAX_TOKEN_BYTES;
use crate::people::sso::{Sso, SsoError};

#[derive(Deserialize, Default)]
pub struct Start {
    #[serde(default)]
    next: Option<String>,
}

/// What the provider sends back: a code and the state, or an error.
#[derive(Deserialize, Default)]
pub struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

fn sso(console: &Console) -> Result<&Sso, WebError> {
    console
        .sso
        .as_ref()
        .ok_or_else(|| WebError::NotFound("single sign-on is not set up here".into()))
}

#[handler]
pub async fn start(console: Data<&Console>, Query(q): Query<Start>) -> WebResult {
    let next = local_path(q.next.as_deref().unwrap_or("/"));
    let (url, state) = sso(&console)?.start(next).await?;
    let mut resp = see_other(&url);
    if let Ok(v) = cookies::set(cookies::SSO, &state, console.secure_cookies).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[handler]
pub async fn callback(
    console: Data<&Console>,
    req: &Request,
    remote: &RemoteAddr,
    Query(q): Query<Callback>,
) -> WebResult {
    let sso = sso(&console)?;
    if let Some(error) = q.error {
        return Err(SsoError::Provider(error).into());
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(SsoError::UnknownState.into());
    };
    // Only the browser that began this sign-in may finish it.
    if cookies::read(req, cookies::SSO).as_deref() != Some(state.as_str()) {
        return Err(SsoError::UnknownState.into());
    }
    let (session, next) = sso.finish(&state, &code, &address(remote)).await?;
    let mut resp = see_other(local_path(&next));
    for cookie in [
        cookies::set(cookies::SESSION, &session.secret, console.secure_cookies),
        cookies::clear(cookies::SSO, console.secure_cookies),
    ] {
        if let Ok(v) = cookie.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// The provider's back-channel logout: a form post of `logout_token` from the provider's server
/// (no browser, so no cookie and no CSRF token: the provider's signature on the token is the
/// proof). 200 when the token is good, whether or not a session it names was still open here;
/// 400 with OpenID's `{error, error_description}` when it is not (or the body is not one
/// form field of at most the token's cap); 404 when single sign-on is not set up; 503 when
/// the provider's keys cannot be read. Every answer carries `Cache-Control: no-store`.
#[handler]
pub async fn back_channel_logout(console: Data<&Console>, body: Body) -> Response {
    let Some(sso) = console.sso.as_ref() else {
        return logout_answer(
            StatusCode::NOT_FOUND,
            Some(("not_found", "single sign-on is not set up here")),
        );
    };
    let bad = |why: &str| logout_answer(StatusCode::BAD_REQUEST, Some(("invalid_request", why)));
    // The field's name and the form's encoding add a little to the token's own cap.
    let Ok(bytes) = body.into_bytes_limit(MAX_TOKEN_BYTES + 64).await else {
        return bad("the body is not a form of one logout token within its size cap");
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let tokens: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.as_str())
        .collect();
    let [token] = tokens[..] else {
        return bad("the body must carry exactly one logout_token");
    };
    match sso.back_channel_logout(token).await {
        Ok(ended) => {
            tracing::info!(ended, "the identity provider signed a person out");
            logout_answer(StatusCode::OK, None)
        }
        Err(SsoError::Invalid(why)) => {
            tracing::warn!(%why, "a back-channel logout was refused");
            bad(&why)
        }
        Err(SsoError::Unreachable(why)) => {
            tracing::warn!(%why, "a back-channel logout could not be checked");
            logout_answer(
                StatusCode::SERVICE_UNAVAILABLE,
                Some((
                    "temporarily_unavailable",
                    "the provider's keys cannot be read",
                )),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "a back-channel logout failed");
            logout_answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(("server_error", "the sessions could not be ended; try again")),
            )
        }
    }
}

fn logout_answer(status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let builder = Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, "no-store");
    match error {
        None => builder.finish(),
        Some((error, description)) => builder
            .content_type("application/json")
            .body(
                serde_json::json!({ "error": error, "error_description": description }).to_string(),
            )
            .into_response(),
    }
}
