//! The web console: server-rendered pages for people (IG officers, signatories, auditors,
//! administrators), beside the JSON API and sharing its use cases, roles and errors. One file
//! per page area; `cookies`, `csrf`, `session`, `errors` and `render` beside them.
//!
//! Pages work without JavaScript (there is none). Every form that changes anything posts a
//! CSRF token bound to the session (`csrf.rs`); every page is rendered by handlebars, which
//! escapes all text; every answer carries [`POLICY`], which allows no inline script or style.

pub mod access_requests;
pub mod agreements;
pub mod assets;
pub mod audit;
pub mod confirm;
pub mod cookies;
pub mod csrf;
pub mod deletions;
pub mod draft;
pub mod errors;
pub mod handover;
pub mod holdings;
pub mod holds;
pub mod home;
pub mod message;
pub mod multipart;
pub mod notices;
pub mod register;
pub mod render;
pub mod request_access;
pub mod session;
pub mod sign_in;
pub mod sso;
pub mod template;
pub mod transparency;
pub mod typed;
pub mod urls;

use std::sync::Arc;

use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response, Route, get, post};

use crate::access::requests::Access;
use crate::app::App;
use crate::clock::Clock;
use crate::dpia::Renderer;
use crate::handover::Handover;
use crate::registry::Registry;
use crate::retention::Retention;

/// The Content-Security-Policy of every console page: its own stylesheet and images, forms that
/// post back here, and nothing else (no script at all, no framing).
pub const POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Lets each page's sign-out form lead on to the identity provider at `origin`: a browser
/// holds a form to its page's `form-action` through every redirect of the answer, and a single
/// sign-on's sign-out redirects to the provider. Only answers carrying [`POLICY`] change.
pub async fn signing_out_to<E: Endpoint>(
    next: &E,
    req: Request,
    origin: Option<&str>,
) -> poem::Result<Response> {
    let mut resp = next.call(req).await?.into_response();
    if let Some(origin) = origin
        && resp
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .is_some_and(|v| v == POLICY)
    {
        let policy = POLICY.replacen(
            "form-action 'self'",
            &format!("form-action 'self' {origin}"),
            1,
        );
        if let Ok(v) = HeaderValue::from_str(&policy) {
            resp.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    Ok(resp)
}

/// What every page handler reads: the use cases, the page templates, and how cookies are set.
#[derive(Clone)]
pub struct Console {
    pub clock: Arc<dyn Clock>,
    pub registry: Registry,
    pub retention: Retention,
    pub access: Access,
    pub handover: Handover,
    pub people: crate::people::People,
    pub audit: crate::audit::Audit,
    pub holdings: crate::flows::holdings::Holdings,
    pub dpia: Arc<(Renderer, Renderer)>,
    /// Cookies carry `Secure` (Accord is reached over TLS: its public URL is https).
    pub secure_cookies: bool,
    /// Single sign-on, when configured.
    pub sso: Option<crate::people::sso::Sso>,
    /// The public transparency register's reads.
    pub transparency: crate::transparency::register::Register,
    /// Where Accord is reached (the feed's links are absolute).
    pub public_url: String,
}

impl Console {
    /// What the pages use, taken from the app; fails if a page template does not compile.
    pub fn new(app: &App) -> Result<Console, String> {
        render::init()?;
        Ok(Console {
            clock: app.clock.clone(),
            registry: app.registry.clone(),
            retention: app.retention.clone(),
            access: app.access.clone(),
            handover: app.handover.clone(),
            people: app.people.clone(),
            audit: app.audit.clone(),
            holdings: app.holdings.clone(),
            dpia: app.dpia.clone(),
            secure_cookies: app.settings.public_url.starts_with("https://"),
            sso: app.sso.clone(),
            transparency: crate::transparency::register::Register::new(app.registry.clone()),
            public_url: app.settings.public_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

/// A GET of a path that only takes a form: the page the form is on, this many segments up.
/// Signing in after a form that could not be kept (see `session.rs`) leads there, to the
/// page's first step, never to a replay of the form.
struct PageOf(usize);

impl Endpoint for PageOf {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let mut path = req.uri().path();
        for _ in 0..self.0 {
            path = path.rsplit_once('/').map_or("", |(up, _)| up);
        }
        Ok(render::see_other(if path.is_empty() { "/" } else { path }))
    }
}

/// `route` with the console's pages added (they read the [`Console`] from the request's data).
pub fn routes(route: Route) -> Route {
    route
        .at("/", get(home::page))
        .at("/sign-in", get(sign_in::form).post(sign_in::submit))
        .at("/sign-out", get(PageOf(1)).post(sign_in::sign_out))
        .at(crate::people::sso::SIGNED_OUT, get(sign_in::signed_out))
        .at("/sign-in/sso", get(sso::start))
        .at("/sign-in/sso/callback", get(sso::callback))
        .at(
            crate::people::sso::BACK_CHANNEL_LOGOUT,
            post(sso::back_channel_logout),
        )
        .at(
            "/set-password/:token",
            get(sign_in::set_form).post(sign_in::set_submit),
        )
        .at(
            "/account/password",
            get(sign_in::change_form).post(sign_in::change_submit),
        )
        .at("/agreements", get(agreements::list))
        .at("/agreements/new", get(draft::form).post(draft::submit))
        .at("/agreements/new/upload", get(PageOf(1)).post(draft::upload))
        .at(
            "/agreements/new/template",
            get(template::form).post(template::submit),
        )
        .at(
            "/agreements/new/template/create",
            get(PageOf(1)).post(template::create),
        )
        .at("/agreements/:id", get(agreements::page))
        .at("/agreements/:id/diff", get(agreements::diff))
        .at("/agreements/:id/template", get(template::download))
        .at("/agreements/:id/dpia", get(agreements::dpia_html))
        .at("/agreements/:id/dpia.md", get(agreements::dpia_markdown))
        .at(
            "/agreements/:id/versions/:n/source",
            get(agreements::source),
        )
        .at(
            "/agreements/:id/versions/:n/sign",
            get(agreements::sign_form).post(agreements::sign_submit),
        )
        .at(
            "/agreements/:id/control/:action",
            get(agreements::control_form).post(agreements::control_submit),
        )
        .at("/register", get(register::page))
        .at("/register.csv", get(register::csv))
        .at("/audit", get(audit::page))
        .at("/audit/verify", get(PageOf(1)).post(audit::verify))
        .at("/holdings", get(holdings::page))
        .at("/holds", get(holds::list))
        .at("/holds/new", get(holds::new_form).post(holds::new_submit))
        .at(
            "/holds/:id/release",
            get(holds::release_form).post(holds::release_submit),
        )
        .at("/deletions", get(deletions::list))
        .at(
            "/deletions/:id/confirm",
            get(deletions::confirm_form).post(deletions::confirm_submit),
        )
        .at("/deletions/:id/certificate", get(deletions::certificate))
        .at(
            "/request-access",
            get(request_access::start_form).post(request_access::start),
        )
        .at(
            "/request-access/confirm/:token",
            get(request_access::confirm_form).post(request_access::confirm),
        )
        .at(
            "/request-access/renew",
            get(request_access::renew_form).post(request_access::renew),
        )
        .at("/request-access/r/:token", get(request_access::tasks))
        .at(
            "/request-access/r/:token/step/:step",
            get(request_access::step_form).post(request_access::step_save),
        )
        .at("/request-access/r/:token/check", get(request_access::check))
        .at(
            "/request-access/r/:token/submit",
            post(request_access::submit),
        )
        .at(
            "/request-access/r/:token/answer",
            post(request_access::answer),
        )
        .at(
            "/request-access/r/:token/withdraw",
            get(request_access::withdraw_form).post(request_access::withdraw),
        )
        .at("/access-requests", get(access_requests::queue))
        .at("/access-requests/:id", get(access_requests::page))
        .at(
            "/access-requests/:id/review",
            get(PageOf(1)).post(access_requests::review),
        )
        .at(
            "/access-requests/:id/write/:kind",
            get(PageOf(2)).post(access_requests::write),
        )
        .at(
            "/access-requests/:id/decide/:decision",
            get(access_requests::decide_form).post(access_requests::decide),
        )
        .at("/handover", get(handover::tasks))
        .at("/handover/search", get(handover::search))
        .at("/agreements/:id/handover", get(handover::dashboard))
        .at("/agreements/:id/handover/pack", get(handover::pack_page))
        .at(
            "/agreements/:id/handover/engagements/:party/end",
            get(handover::end_form).post(handover::end_submit),
        )
        .at("/agreements/:id/handover/:item", get(handover::item_view))
        .at(
            "/agreements/:id/handover/:item/submit",
            get(PageOf(1)).post(handover::submit),
        )
        .at(
            "/agreements/:id/handover/:item/review/:action",
            get(PageOf(2)).post(handover::review),
        )
        .at(
            "/agreements/:id/handover/:item/files/:file",
            get(handover::download),
        )
        .at("/transparency", get(transparency::list))
        .at("/transparency.csv", get(transparency::list_csv))
        .at("/transparency/feed.atom", get(transparency::feed))
        .at("/transparency/:id", get(transparency::agreement))
        .at(
            "/transparency/:id/counts.csv",
            get(transparency::counts_csv),
        )
        .at("/privacy", get(notices::privacy))
        .at("/accessibility", get(notices::accessibility))
        .at("/cookies", get(notices::cookies_page))
        .at("/assets/:name", get(assets::serve))
}
