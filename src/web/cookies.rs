//! The console's two cookies, read and written in one place:
//!
//! - `accord_session`: a session's random id (256 bits; the database keeps only its hash);
//! - `accord_visit`: a random value given to a visitor who is not signed in, which binds the
//!   CSRF tokens of the sign-in and set-password forms (so a stranger's page cannot sign
//!   someone in as the stranger).
//!
//! Both are HttpOnly, SameSite=Lax, path `/`, and Secure when Accord is served over TLS.
//! Neither has a max-age: the session's limits are kept by the server.

use poem::Request;
use poem::http::header;
use poem::web::cookie::{Cookie, SameSite};

pub const SESSION: &str = "accord_session";
pub const VISIT: &str = "accord_visit";
/// The `state` of a single sign-on begun in this browser, so only this browser can finish it.
pub const SSO: &str = "accord_sso";

/// The value of cookie `name` on the request, if any.
pub fn read(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| Cookie::parse(pair.trim()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value_str().to_owned())
}

/// The `Set-Cookie` value that stores `value` under `name`.
pub fn set(name: &str, value: &str, secure: bool) -> String {
    let mut c = Cookie::new_with_str(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    c.to_string()
}

/// The `Set-Cookie` value that removes cookie `name`.
pub fn clear(name: &str, secure: bool) -> String {
    let mut c = Cookie::new_with_str(name, "");
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    c.set_max_age(std::time::Duration::ZERO);
    c.to_string()
}
