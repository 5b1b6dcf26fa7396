//! Single sign-on pages: `/sign-in/sso` sends the person to the organisation's identity
//! provider (remembering the sign-in's state in a cookie), and `/sign-in/sso/callback` is
//! where the provider sends them back. The work is `people::sso`'s; refusals are pages that
//! say what to do.

use poem::http::header;
use poem::web::{Data, Query, RemoteAddr};
use poem::{Request, handler};
use serde::Deserialize;

use super::errors::{WebError, WebResult};
use super::render::see_other;
use super::session::local_path;
use super::sign_in::address;
use super::{Console, cookies};
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
