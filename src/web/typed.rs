//! Typed pages: a page's data is a Rust type (serde), not a `json!` block, so a field the
//! template needs cannot be left out, and a test renders every typed page's template, in
//! handlebars' strict mode, from an example of its type that fills every optional part: a
//! misspelt key in its template fails `cargo test`, not a person's visit.
//!
//! Pages still built from `json!` are listed in [`UNTYPED`]; the test fails if a template is in
//! neither list, so a new page is typed, and the list only shrinks.

use serde::Serialize;
use serde_json::Value;

use super::audit::AuditLogPage;
use super::confirm::ConfirmPage;
use super::deletions::DeletionsPage;
use super::errors::ErrorPage;
use super::holdings::HoldingsPage;
use super::holds::{HoldsPage, NewHoldPage, ReleaseHoldPage};
use super::message::MessagePage;
use super::notices::{AccessibilityPage, CookiesPage, PrivacyPage};
use super::register::RegisterPage;
use super::request_access::{ConfirmAddressPage, RenewPage, StartPage};
use super::sign_in::{ChangePasswordPage, ResumePage, SetPasswordPage, SignInPage, SignedOutPage};

/// A page's data, typed.
pub trait Page: Serialize {
    /// Its template in `templates/web/` (without `.hbs`).
    const TEMPLATE: &'static str;

    /// The page with every optional part present and every list non-empty, for the test that
    /// renders every template.
    fn example() -> Self
    where
        Self: Sized;
}

/// Every typed page's template and example, for the test.
pub fn examples() -> Vec<(&'static str, Value)> {
    fn one<P: Page>() -> (&'static str, Value) {
        let value = serde_json::to_value(P::example()).expect("a page's data is JSON");
        (P::TEMPLATE, value)
    }
    vec![
        one::<ConfirmPage>(),
        one::<MessagePage>(),
        one::<PrivacyPage>(),
        one::<AccessibilityPage>(),
        one::<CookiesPage>(),
        one::<ErrorPage>(),
        one::<ResumePage>(),
        one::<SignedOutPage>(),
        one::<SignInPage>(),
        one::<SetPasswordPage>(),
        one::<ChangePasswordPage>(),
        one::<NewHoldPage>(),
        one::<ReleaseHoldPage>(),
        one::<HoldsPage>(),
        one::<StartPage>(),
        one::<RenewPage>(),
        one::<ConfirmAddressPage>(),
        one::<AuditLogPage>(),
        one::<HoldingsPage>(),
        one::<RegisterPage>(),
        one::<DeletionsPage>(),
    ]
}

/// The templates whose pages are still built from `json!` (issue #28: each is to be typed), and
/// the register's feed, a document. `layout` and the partials are not pages.
pub const UNTYPED: &[&str] = &[
    "access_decide",
    "access_queue",
    "access_request",
    "agreement",
    "agreements",
    "control",
    "diff",
    "draft",
    "draft_copy",
    "engagement_end",
    "from_template",
    "handover_agreement",
    "handover_item",
    "handover_pack",
    "handover_search",
    "handover_tasks",
    "home",
    "request_check",
    "request_step",
    "request_tasks",
    "request_withdraw",
    "sign",
    "transparency_agreement",
    "transparency_feed",
    "transparency_list",
];

/// What is not a page: the frame every page is drawn in, and the partials pages include.
pub const NOT_PAGES: &[&str] = &["layout", "error_summary", "field_error"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::render;

    #[test]
    fn every_typed_page_renders_from_its_example_in_strict_mode() {
        render::init().unwrap();
        let examples = examples();
        assert!(!examples.is_empty());
        for (template, data) in examples {
            let html = render::pages().html(None, template, "Example", data);
            assert!(
                html.is_ok(),
                "the {template} page did not render from its example"
            );
        }
    }

    #[test]
    fn every_page_template_is_typed_or_listed_as_not_yet() {
        let typed: Vec<&str> = examples().into_iter().map(|(t, _)| t).collect();
        for name in render::template_names() {
            let listed = UNTYPED.contains(&name) || NOT_PAGES.contains(&name);
            assert!(
                typed.contains(&name) != listed,
                "{name}: a page template is either typed (a Page in typed::examples) or in \
                 typed::UNTYPED, not both and not neither"
            );
        }
        for name in UNTYPED.iter().chain(NOT_PAGES) {
            assert!(
                render::template_names().any(|n| n == *name),
                "{name} is listed but is no template"
            );
        }
    }

    #[test]
    fn a_misspelt_key_in_a_typed_page_fails() {
        // The check above is only as good as strict mode: a key the data lacks must fail.
        let mut hb = handlebars::Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_template_string("t", "{{page.heding}}").unwrap();
        let data = serde_json::json!({ "page": ConfirmPage::example() });
        assert!(hb.render("t", &data).is_err());
    }
}
