//! The notices a public service carries, for anyone and setting no cookie: the privacy notice
//! where the request form collects personal details (UK GDPR Article 13), the accessibility
//! statement (the Public Sector Bodies Accessibility Regulations 2018) and the cookies page.
//! Every page's footer links all three; the privacy notice's details come from the settings
//! (`access::requests::Service`), and every e-mail ends with its address.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};
use serde::Serialize;

use super::Console;
use super::cookies;
use super::render::pages;
use super::typed::Page;

/// The privacy notice of the request form: who runs the service, whom to ask, how long things
/// are kept.
#[derive(Serialize)]
pub struct PrivacyPage {
    pub organisation: String,
    /// The data protection officer's address, if the settings give one.
    pub contact: Option<String>,
    /// How many days a private link works.
    pub link_days: u16,
    /// How many days a closed request is kept before it is erased.
    pub keep_closed_days: u16,
}

/// The accessibility statement.
#[derive(Serialize)]
pub struct AccessibilityPage {
    pub organisation: String,
}

/// The cookies page: the names of the three cookies Accord sets.
#[derive(Serialize)]
pub struct CookiesPage {
    pub session: &'static str,
    pub visit: &'static str,
    pub sso: &'static str,
}

impl Page for PrivacyPage {
    const TEMPLATE: &'static str = "privacy";

    fn example() -> PrivacyPage {
        PrivacyPage {
            organisation: "London Borough of Camden".into(),
            contact: Some("dpo@camden.example".into()),
            link_days: 90,
            keep_closed_days: 365,
        }
    }
}

impl Page for AccessibilityPage {
    const TEMPLATE: &'static str = "accessibility";

    fn example() -> AccessibilityPage {
        AccessibilityPage {
            organisation: "London Borough of Camden".into(),
        }
    }
}

impl Page for CookiesPage {
    const TEMPLATE: &'static str = "cookies";

    fn example() -> CookiesPage {
        CookiesPage::now()
    }
}

impl CookiesPage {
    fn now() -> CookiesPage {
        CookiesPage {
            session: cookies::SESSION,
            visit: cookies::VISIT,
            sso: cookies::SSO,
        }
    }
}

#[handler]
pub fn privacy(console: Data<&Console>) -> Response {
    let service = console.access.service();
    let page = PrivacyPage {
        organisation: service.organisation.clone(),
        contact: service.privacy_contact.clone(),
        link_days: service.link_days,
        keep_closed_days: service.keep_closed_days,
    };
    let title = "Privacy notice: asking for access to data";
    pages().show(StatusCode::OK, None, title, &page)
}

#[handler]
pub fn accessibility(console: Data<&Console>) -> Response {
    let page = AccessibilityPage {
        organisation: console.access.service().organisation.clone(),
    };
    pages().show(StatusCode::OK, None, "Accessibility statement", &page)
}

#[handler]
pub fn cookies_page() -> Response {
    pages().show(StatusCode::OK, None, "Cookies", &CookiesPage::now())
}
