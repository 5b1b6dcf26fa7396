//! Pages as HTML: the handlebars templates of `templates/web/`, built into the binary (so
//! `serve` works from any folder), each page inside `layout.hbs`. Handlebars escapes every
//! value it writes with `{{…}}`; no template writes user text with `{{{…}}}`.

use handlebars::Handlebars;
use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::POLICY;
use super::session::Viewer;
use crate::auth::{HANDOVER_READERS, OFFICERS, READERS, Role};

/// Every page template, by name, with its source.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../templates/web/layout.hbs")),
    (
        "error_summary",
        include_str!("../../templates/web/error_summary.hbs"),
    ),
    (
        "field_error",
        include_str!("../../templates/web/field_error.hbs"),
    ),
    ("error", include_str!("../../templates/web/error.hbs")),
    ("sign_in", include_str!("../../templates/web/sign_in.hbs")),
    (
        "signed_out",
        include_str!("../../templates/web/signed_out.hbs"),
    ),
    ("resume", include_str!("../../templates/web/resume.hbs")),
    (
        "set_password",
        include_str!("../../templates/web/set_password.hbs"),
    ),
    (
        "change_password",
        include_str!("../../templates/web/change_password.hbs"),
    ),
    ("message", include_str!("../../templates/web/message.hbs")),
    ("privacy", include_str!("../../templates/web/privacy.hbs")),
    (
        "accessibility",
        include_str!("../../templates/web/accessibility.hbs"),
    ),
    ("cookies", include_str!("../../templates/web/cookies.hbs")),
    (
        "draft_copy",
        include_str!("../../templates/web/draft_copy.hbs"),
    ),
    (
        "request_renew",
        include_str!("../../templates/web/request_renew.hbs"),
    ),
    ("home", include_str!("../../templates/web/home.hbs")),
    (
        "agreements",
        include_str!("../../templates/web/agreements.hbs"),
    ),
    (
        "agreement",
        include_str!("../../templates/web/agreement.hbs"),
    ),
    ("diff", include_str!("../../templates/web/diff.hbs")),
    ("draft", include_str!("../../templates/web/draft.hbs")),
    ("sign", include_str!("../../templates/web/sign.hbs")),
    ("control", include_str!("../../templates/web/control.hbs")),
    ("confirm", include_str!("../../templates/web/confirm.hbs")),
    ("register", include_str!("../../templates/web/register.hbs")),
    ("audit", include_str!("../../templates/web/audit.hbs")),
    ("holdings", include_str!("../../templates/web/holdings.hbs")),
    ("holds", include_str!("../../templates/web/holds.hbs")),
    ("hold_new", include_str!("../../templates/web/hold_new.hbs")),
    (
        "hold_release",
        include_str!("../../templates/web/hold_release.hbs"),
    ),
    (
        "deletions",
        include_str!("../../templates/web/deletions.hbs"),
    ),
    (
        "request_start",
        include_str!("../../templates/web/request_start.hbs"),
    ),
    (
        "request_confirm",
        include_str!("../../templates/web/request_confirm.hbs"),
    ),
    (
        "request_tasks",
        include_str!("../../templates/web/request_tasks.hbs"),
    ),
    (
        "request_step",
        include_str!("../../templates/web/request_step.hbs"),
    ),
    (
        "request_check",
        include_str!("../../templates/web/request_check.hbs"),
    ),
    (
        "request_withdraw",
        include_str!("../../templates/web/request_withdraw.hbs"),
    ),
    (
        "access_queue",
        include_str!("../../templates/web/access_queue.hbs"),
    ),
    (
        "access_request",
        include_str!("../../templates/web/access_request.hbs"),
    ),
    (
        "access_decide",
        include_str!("../../templates/web/access_decide.hbs"),
    ),
    (
        "handover_tasks",
        include_str!("../../templates/web/handover_tasks.hbs"),
    ),
    (
        "handover_agreement",
        include_str!("../../templates/web/handover_agreement.hbs"),
    ),
    (
        "engagement_end",
        include_str!("../../templates/web/engagement_end.hbs"),
    ),
    (
        "handover_item",
        include_str!("../../templates/web/handover_item.hbs"),
    ),
    (
        "handover_pack",
        include_str!("../../templates/web/handover_pack.hbs"),
    ),
    (
        "from_template",
        include_str!("../../templates/web/from_template.hbs"),
    ),
    (
        "handover_search",
        include_str!("../../templates/web/handover_search.hbs"),
    ),
    (
        "transparency_list",
        include_str!("../../templates/web/transparency_list.hbs"),
    ),
    (
        "transparency_agreement",
        include_str!("../../templates/web/transparency_agreement.hbs"),
    ),
    (
        "transparency_feed",
        include_str!("../../templates/web/transparency_feed.atom.hbs"),
    ),
];

pub struct Pages {
    hb: Handlebars<'static>,
}

static PAGES: std::sync::OnceLock<Result<Pages, String>> = std::sync::OnceLock::new();

/// Compiles the page templates once; `Err` names a template that does not compile (a fault of
/// the build, which `serve` reports at start rather than on the first page).
/// The name of every template the pages use.
pub fn template_names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(name, _)| *name)
}

pub fn init() -> Result<(), String> {
    PAGES
        .get_or_init(Pages::load)
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

/// The compiled page templates. Only called after [`init`] succeeded (`Console::new`).
pub fn pages() -> &'static Pages {
    match PAGES.get_or_init(Pages::load) {
        Ok(p) => p,
        Err(e) => unreachable!("Console::new checked the templates: {e}"),
    }
}

impl Pages {
    fn load() -> Result<Pages, String> {
        let mut hb = Handlebars::new();
        crate::templates::strict_conditionals(&mut hb);
        hb.set_strict_mode(true);
        for (name, source) in TEMPLATES {
            hb.register_template_string(name, *source)
                .map_err(|e| format!("web template {name}: {e}"))?;
        }
        Ok(Pages { hb })
    }

    /// A page: `template` inside the layout, with what every page shows (who is signed in,
    /// the navigation their role may use, the CSRF token of their forms).
    pub fn page(
        &self,
        viewer: Option<&Viewer>,
        template: &str,
        title: &str,
        data: Value,
    ) -> Response {
        self.page_with(StatusCode::OK, viewer, template, title, data)
    }

    pub fn page_with(
        &self,
        status: StatusCode,
        viewer: Option<&Viewer>,
        template: &str,
        title: &str,
        data: Value,
    ) -> Response {
        match self.html(viewer, template, title, data) {
            Ok(html) => html_response(status, html),
            Err(failed) => *failed,
        }
    }

    /// A typed page ([`Page`](super::typed::Page)) inside the layout, with `status`.
    pub fn show<P: super::typed::Page>(
        &self,
        status: StatusCode,
        viewer: Option<&Viewer>,
        title: &str,
        page: &P,
    ) -> Response {
        match serde_json::to_value(page) {
            Ok(data) => self.page_with(status, viewer, P::TEMPLATE, title, data),
            Err(e) => *failed(&e, P::TEMPLATE),
        }
    }

    /// A page's HTML, for an answer that needs its bytes (to tag it for caches); `Err` is the
    /// answer to give when a template fails, already logged.
    pub fn html(
        &self,
        viewer: Option<&Viewer>,
        template: &str,
        title: &str,
        data: Value,
    ) -> Result<String, Box<Response>> {
        // A page listing problems says so first in its title, so that a screen reader
        // announces it before anything else (as GOV.UK pages do).
        let title = if lists_problems(&data) {
            format!("Error: {title}")
        } else {
            title.to_owned()
        };
        let ctx = json!({
            "title": title,
            "viewer": viewer.map(|v| nav(v)),
            "csrf": viewer.map(|v| v.csrf()),
            "page": data,
        });
        let body = self.hb.render(template, &ctx).and_then(|content| {
            let mut outer = ctx.clone();
            outer["content"] = Value::String(content);
            self.hb.render("layout", &outer)
        });
        body.map_err(|e| failed(&e, template))
    }

    /// A document that is not a page (the register's Atom feed): `template` alone, escaped as
    /// HTML, which is also well-formed XML text.
    pub fn document(&self, template: &str, data: &Value) -> Result<String, Box<Response>> {
        self.hb
            .render(template, data)
            .map_err(|e| failed(&e, template))
    }
}

/// Whether a page's data holds problems for its error summary: `errors` (the draft page's
/// findings too) or the draft page's `form_errors`, not empty.
fn lists_problems(data: &Value) -> bool {
    ["errors", "form_errors"]
        .iter()
        .any(|k| data[k].as_array().is_some_and(|a| !a.is_empty()))
}

/// The answer when a template fails: logged with a reference, shown without detail.
fn failed(e: &dyn std::fmt::Display, template: &str) -> Box<Response> {
    let reference = uuid::Uuid::now_v7();
    tracing::error!(error = %e, %reference, template, "a page did not render");
    Box::new(html_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "<!doctype html><html lang=\"en\"><title>Sorry, there is a problem</title>\
             <h1>Sorry, there is a problem with the service</h1>\
             <p>Reference {reference}.</p></html>"
        ),
    ))
}

/// An HTML answer with the console's policy.
pub fn html_response(status: StatusCode, html: String) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, POLICY)
        .body(html)
        .into_response()
}

/// A redirect after a form (303, so the browser follows with GET).
pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

#[derive(Serialize)]
struct Nav<'a> {
    name: &'a str,
    role: &'a str,
    party: Option<&'a str>,
    reads_all: bool,
    officer: bool,
    signatory: bool,
    handover: bool,
    /// May open the agreements list (its read scope: readers, or a signatory's party).
    agreements: bool,
    /// Signed in with a password, which the person can change here (a single sign-on
    /// session's password, if any, is the provider's business).
    password: bool,
}

fn nav(v: &Viewer) -> Nav<'_> {
    let p = &v.session.principal;
    Nav {
        name: &p.name,
        role: p.role.as_str(),
        party: p.bound_party().ok(),
        reads_all: READERS.contains(&p.role),
        officer: OFFICERS.contains(&p.role),
        signatory: p.role == Role::Signatory,
        handover: HANDOVER_READERS.contains(&p.role),
        agreements: p.read_scope().is_ok(),
        password: v.session.via == crate::people::sessions::Via::Password,
    }
}
