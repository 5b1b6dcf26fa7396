//! Signing in and out, setting a password through a one-time link, and changing it.

use poem::http::{StatusCode, header};
use poem::web::{Form, Path, Query, RemoteAddr};
use poem::{IntoResponse, Response, handler};
use serde::{Deserialize, Serialize};

use super::confirm::Hidden;
use super::csrf::Checked;
use super::csrf::CsrfOnly;
use super::csrf::carries_csrf;
use super::errors::WebResult;
use super::message::MessagePage;
use super::render::{pages, see_other};
use super::session::{Viewer, Visitor, local_path};
use super::typed::Page;
use super::{Console, cookies};
use crate::people::sessions::Via;
use crate::people::sso::SIGNED_OUT;
use crate::people::{self, PeopleError};
use poem::web::Data;

/// Prefix of the fields a sign-in form carries for the form whose session ended.
const KEEP: &str = "keep:";

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// A field's error, for the error summary (linked to the field by its id) and beside the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The id of the field it is about.
    pub field: String,
    pub text: String,
}

/// A field's error, for the error summary and beside the field.
pub fn field_error(field: &str, text: &str) -> FieldError {
    FieldError {
        field: field.to_owned(),
        text: text.to_owned(),
    }
}

/// The sign-in page; `kept` is a form to continue after signing in; with `sso`, it offers
/// the organisation's single sign-on first.
#[allow(clippy::too_many_arguments)]
pub fn page(
    visit: &Visitor,
    status: StatusCode,
    next: &str,
    email: &str,
    errors: &[FieldError],
    kept: &[(String, String)],
    notice: Option<&str>,
    sso: bool,
) -> Response {
    let next = local_path(next);
    let page = SignInPage {
        next: next.to_owned(),
        email: email.to_owned(),
        errors: errors.to_vec(),
        kept: kept
            .iter()
            .map(|(k, v)| Hidden::new(&format!("{KEEP}{k}"), v.as_str()))
            .collect(),
        notice: notice.map(str::to_owned),
        visit_csrf: visit.csrf(),
        sso_href: sso.then(|| format!("/sign-in/sso?next={}", super::session::encode(next))),
    };
    pages().show(status, None, "Sign in", &page)
}

/// Signing in: the address typed, a form kept to post after signing in, and single sign-on
/// first when the organisation has it.
#[derive(Serialize)]
pub struct SignInPage {
    /// Where to go after signing in (a path on this site).
    pub next: String,
    pub email: String,
    pub errors: Vec<FieldError>,
    /// A form to post again after signing in, its fields prefixed `keep:`.
    pub kept: Vec<Hidden>,
    /// Why the person is here (a session that ended), said above the form.
    pub notice: Option<String>,
    pub visit_csrf: String,
    /// Single sign-on's start, when the organisation has it.
    pub sso_href: Option<String>,
}

impl Page for SignInPage {
    const TEMPLATE: &'static str = "sign_in";

    fn example() -> SignInPage {
        SignInPage {
            next: "/agreements".into(),
            email: "priya.shah@camden.example".into(),
            errors: vec![field_error("email", "Enter your e-mail address")],
            kept: vec![Hidden::new("keep:reason", "A breach is being investigated")],
            notice: Some("Your session ended. Sign in again to carry on.".into()),
            visit_csrf: "0".repeat(64),
            sso_href: Some("/sign-in/sso?next=%2Fagreements".into()),
        }
    }
}

#[handler]
pub fn form(console: Data<&Console>, visit: Visitor, Query(q): Query<Next>) -> Response {
    let next = q.next.unwrap_or_else(|| "/".into());
    let sso = console.sso.is_some();
    visit.with_cookie(page(&visit, StatusCode::OK, &next, "", &[], &[], None, sso))
}

#[handler]
pub async fn submit(
    console: Data<&Console>,
    remote: &RemoteAddr,
    Checked(visit, Form(fields)): Checked<Visitor, Form<Vec<(String, String)>>>,
) -> WebResult {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let (email, password, next) = (get("email"), get("password"), local_path(get("next")));
    let kept: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(KEEP).map(|k| (k.to_owned(), v.clone())))
        .collect();
    let mut errors = Vec::new();
    if email.trim().is_empty() {
        errors.push(field_error("email", "Enter your e-mail address"));
    }
    if password.is_empty() {
        errors.push(field_error("password", "Enter your password"));
    }
    if !errors.is_empty() {
        let p = page(
            &visit,
            StatusCode::BAD_REQUEST,
            next,
            email,
            &errors,
            &kept,
            None,
            console.sso.is_some(),
        );
        return Ok(visit.with_cookie(p));
    }
    let address = address(remote);
    let session = match console.people.sign_in(email, password, &address).await {
        Ok(s) => s,
        Err(
            e @ (PeopleError::WrongPassword | PeopleError::SsoOnly | PeopleError::Throttled { .. }),
        ) => {
            let status = match e {
                PeopleError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let errors = [field_error(
                "email",
                &crate::text::capitalised(&e.to_string()),
            )];
            let sso = console.sso.is_some();
            let p = page(&visit, status, next, email, &errors, &kept, None, sso);
            return Ok(visit.with_cookie(p));
        }
        Err(e) => return Err(e.into()),
    };
    let cookie = cookies::set(cookies::SESSION, &session.secret, console.secure_cookies);
    let viewer = Viewer { session };
    let mut resp = if kept.is_empty() {
        see_other(next)
    } else {
        let page = ResumePage {
            action: next.to_owned(),
            kept: kept
                .iter()
                .map(|(k, v)| Hidden::new(k, v.as_str()))
                .collect(),
        };
        let title = "Continue where you left off";
        pages().show(StatusCode::OK, Some(&viewer), title, &page)
    };
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

pub(super) fn address(remote: &RemoteAddr) -> String {
    match remote.as_socket_addr() {
        Some(a) => a.ip().to_string(),
        None => remote.to_string(),
    }
}

/// Ends the session, then: a password's session goes back to the sign-in page; a single
/// sign-on's goes on to the identity provider to end its session too, which sends the person
/// back to [`signed_out`]. When the provider cannot end its session (it names no endpoint
/// for it, or cannot be reached), [`signed_out`] says the provider may still remember them.
#[handler]
pub async fn sign_out(
    console: Data<&Console>,
    Checked(viewer, Form(_)): Checked<Viewer, Form<CsrfOnly>>,
) -> WebResult {
    console.people.sign_out(&viewer.session).await?;
    let to = match (viewer.session.via, console.sso.as_ref()) {
        (Via::Password, _) => "/sign-in".to_owned(),
        (Via::SingleSignOn, Some(sso)) => match sso.sign_out_url().await {
            Ok(Some(url)) => url,
            Ok(None) => format!("{SIGNED_OUT}?{PROVIDER_STILL}"),
            Err(e) => {
                tracing::warn!(error = %e, "the identity provider could not be asked to end its session");
                format!("{SIGNED_OUT}?{PROVIDER_STILL}")
            }
        },
        (Via::SingleSignOn, None) => format!("{SIGNED_OUT}?{PROVIDER_STILL}"),
    };
    let mut resp = see_other(&to);
    if let Ok(v) = cookies::clear(cookies::SESSION, console.secure_cookies).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// The query [`signed_out`] is given when the provider's session may outlive Accord's.
const PROVIDER_STILL: &str = "provider=still";

#[derive(Deserialize, Default)]
pub struct SignedOut {
    #[serde(default)]
    provider: Option<String>,
}

/// Where a single sign-on's sign-out ends: said plainly, with a warning when the provider may
/// still remember the person.
#[handler]
pub fn signed_out(Query(q): Query<SignedOut>) -> Response {
    let page = SignedOutPage {
        provider_still: q.provider.as_deref() == Some("still"),
    };
    pages().show(StatusCode::OK, None, "You have signed out", &page)
}

/// After signing in again, the form the session ended on, ready to post again (only a form that
/// came from this browser's own pages is kept: `session::own_form`).
#[derive(Serialize)]
pub struct ResumePage {
    pub action: String,
    pub kept: Vec<Hidden>,
}

/// "You have signed out", warning when the organisation's sign-in service may still remember
/// the person.
#[derive(Serialize)]
pub struct SignedOutPage {
    pub provider_still: bool,
}

impl Page for ResumePage {
    const TEMPLATE: &'static str = "resume";

    fn example() -> ResumePage {
        ResumePage {
            action: "/agreements/example/control/suspend".into(),
            kept: vec![Hidden::new("reason", "A breach is being investigated")],
        }
    }
}

impl Page for SignedOutPage {
    const TEMPLATE: &'static str = "signed_out";

    fn example() -> SignedOutPage {
        SignedOutPage {
            provider_still: true,
        }
    }
}

#[handler]
pub async fn set_form(
    console: Data<&Console>,
    visit: Visitor,
    Path(token): Path<String>,
) -> WebResult {
    let user = console.people.link_user(&token).await;
    let user = match user {
        Ok(u) => u,
        Err(PeopleError::BadLink) => return Ok(bad_link()),
        Err(e) => return Err(e.into()),
    };
    Ok(visit.with_cookie(set_page(&visit, &token, &user.email, &[], StatusCode::OK)))
}

fn set_page(
    visit: &Visitor,
    token: &str,
    email: &str,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let page = SetPasswordPage {
        token: token.to_owned(),
        email: email.to_owned(),
        errors: errors.to_vec(),
        visit_csrf: visit.csrf(),
        min: people::password::MIN_CHARS,
    };
    pages().show(status, None, "Set your password", &page)
}

/// Setting a password through a one-time link.
#[derive(Serialize)]
pub struct SetPasswordPage {
    pub token: String,
    pub email: String,
    pub errors: Vec<FieldError>,
    /// The visit's CSRF token (nobody is signed in yet).
    pub visit_csrf: String,
    /// The fewest characters a password may have.
    pub min: usize,
}

/// Changing one's password, signed in.
#[derive(Serialize)]
pub struct ChangePasswordPage {
    pub errors: Vec<FieldError>,
    /// The fewest characters a password may have.
    pub min: usize,
}

impl Page for SetPasswordPage {
    const TEMPLATE: &'static str = "set_password";

    fn example() -> SetPasswordPage {
        SetPasswordPage {
            token: "0".repeat(64),
            email: "jo.bell@camden.example".into(),
            errors: vec![field_error("password", "Enter the same password twice")],
            visit_csrf: "0".repeat(64),
            min: people::password::MIN_CHARS,
        }
    }
}

impl Page for ChangePasswordPage {
    const TEMPLATE: &'static str = "change_password";

    fn example() -> ChangePasswordPage {
        ChangePasswordPage {
            errors: vec![field_error("current", "Enter your current password")],
            min: people::password::MIN_CHARS,
        }
    }
}

fn bad_link() -> Response {
    let said = MessagePage::new(
        "This link has expired or been used",
        "Ask your Accord administrator for a new link (accord user reset).",
        None,
    );
    pages().show(StatusCode::NOT_FOUND, None, "Link not valid", &said)
}

#[derive(Deserialize)]
pub struct NewPassword {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

#[handler]
pub async fn set_submit(
    console: Data<&Console>,
    Path(token): Path<String>,
    Checked(visit, Form(f)): Checked<Visitor, Form<NewPassword>>,
) -> WebResult {
    let user = match console.people.link_user(&token).await {
        Ok(u) => u,
        Err(PeopleError::BadLink) => return Ok(bad_link()),
        Err(e) => return Err(e.into()),
    };
    let errors = new_password_errors(&f.password, &f.confirm);
    if !errors.is_empty() {
        return Ok(visit.with_cookie(set_page(
            &visit,
            &token,
            &user.email,
            &errors,
            StatusCode::BAD_REQUEST,
        )));
    }
    match console.people.set_password(&token, &f.password).await {
        Ok(_) => {}
        Err(PeopleError::BadLink) => return Ok(bad_link()),
        Err(e) => return Err(e.into()),
    }
    let said = MessagePage::new(
        "Your password is set",
        "You can now sign in with your e-mail address and this password.",
        Some(("/sign-in", "Sign in")),
    );
    Ok(pages().show(StatusCode::OK, None, "Password set", &said))
}

fn new_password_errors(password: &str, confirm: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(why) = people::password::acceptable(password) {
        errors.push(field_error("password", why));
    } else if password != confirm {
        errors.push(field_error("confirm", "Enter the same password twice"));
    }
    errors
}

#[handler]
pub fn change_form(viewer: Viewer) -> Response {
    change_page(&viewer, &[], StatusCode::OK)
}

fn change_page(viewer: &Viewer, errors: &[FieldError], status: StatusCode) -> Response {
    let page = ChangePasswordPage {
        errors: errors.to_vec(),
        min: people::password::MIN_CHARS,
    };
    pages().show(status, Some(viewer), "Change your password", &page)
}

#[derive(Deserialize)]
pub struct ChangePassword {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// A wrong current password counts in the sign-in throttle; once the throttle refuses, the
/// page answers 429 without checking the current password at all.
#[handler]
pub async fn change_submit(
    console: Data<&Console>,
    remote: &RemoteAddr,
    Checked(viewer, Form(f)): Checked<Viewer, Form<ChangePassword>>,
) -> WebResult {
    let mut errors = new_password_errors(&f.password, &f.confirm);
    if f.current.is_empty() {
        errors.insert(0, field_error("current", "Enter your current password"));
    }
    if !errors.is_empty() {
        return Ok(change_page(&viewer, &errors, StatusCode::BAD_REQUEST));
    }
    let id = viewer.principal().id;
    let address = address(remote);
    match console
        .people
        .change_password(id, &f.current, &f.password, &address)
        .await
    {
        Ok(_) => {}
        Err(PeopleError::WrongPassword) => {
            let errors = [field_error("current", "Your current password is not right")];
            return Ok(change_page(&viewer, &errors, StatusCode::BAD_REQUEST));
        }
        Err(e @ PeopleError::Throttled { .. }) => {
            let errors = [field_error(
                "current",
                &crate::text::capitalised(&e.to_string()),
            )];
            return Ok(change_page(&viewer, &errors, StatusCode::TOO_MANY_REQUESTS));
        }
        Err(e) => return Err(e.into()),
    }
    let said = MessagePage::new(
        "Your password has been changed",
        "Every session was signed out, this one too. Sign in with your new password.",
        Some(("/sign-in", "Sign in")),
    );
    let mut resp = pages()
        .show(StatusCode::OK, None, "Password changed", &said)
        .into_response();
    if let Ok(v) = cookies::clear(cookies::SESSION, console.secure_cookies).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

carries_csrf!(ChangePassword, NewPassword);
