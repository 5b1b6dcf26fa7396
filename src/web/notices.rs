//! The notices a public service carries, for anyone and setting no cookie: the privacy notice
//! where the request form collects personal details (UK GDPR Article 13), the accessibility
//! statement (the Public Sector Bodies Accessibility Regulations 2018) and the cookies page.
//! Every page's footer links all three; the privacy notice's details come from the settings
//! (`access::requests::Service`), and every e-mail ends with its address.

use poem::web::Data;
use poem::{Response, handler};
use serde_json::json;

use super::Console;
use super::cookies;
use super::render::pages;

#[handler]
pub fn privacy(console: Data<&Console>) -> Response {
    let service = console.access.service();
    let data = json!({
        "organisation": service.organisation,
        "contact": service.privacy_contact,
        "link_days": service.link_days,
        "keep_closed_days": service.keep_closed_days,
    });
    pages().page(
        None,
        "privacy",
        "Privacy notice: asking for access to data",
        data,
    )
}

#[handler]
pub fn accessibility(console: Data<&Console>) -> Response {
    let data = json!({ "organisation": console.access.service().organisation });
    pages().page(None, "accessibility", "Accessibility statement", data)
}

#[handler]
pub fn cookies_page() -> Response {
    let data = json!({
        "session": cookies::SESSION, "visit": cookies::VISIT, "sso": cookies::SSO,
    });
    pages().page(None, "cookies", "Cookies", data)
}
