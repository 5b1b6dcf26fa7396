//! The two pages an emailed deletion link opens: the confirmation form (opening the link does
//! not confirm, since mail scanners follow links) and the thank-you page. Built-in handlebars
//! templates under `templates/deletions/`, compiled once, strict, with all text escaped.

use std::sync::OnceLock;

use handlebars::{Handlebars, RenderError};
use serde_json::json;
use uuid::Uuid;

const CONFIRM: &str = include_str!("../../templates/deletions/confirm.html.hbs");
const CONFIRMED: &str = include_str!("../../templates/deletions/confirmed.html.hbs");

/// The compiled pages, or why they did not compile (a bug here, which the tests below catch;
/// a request then gets a 500, never a panic).
fn pages() -> Result<&'static Handlebars<'static>, RenderError> {
    static PAGES: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    let compiled = PAGES.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_template_string("confirm", CONFIRM)
            .and_then(|()| hb.register_template_string("confirmed", CONFIRMED))
            .map_err(|e| e.to_string())?;
        Ok(hb)
    });
    compiled
        .as_ref()
        .map_err(|e| RenderError::from(handlebars::RenderErrorReason::Other(e.clone())))
}

/// The form that confirms with `token` when its button is pressed. Only the token's first 64
/// hexadecimal digits are kept: nothing else can be a token.
pub fn confirm(token: &str) -> Result<String, RenderError> {
    let token: String = token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    pages()?.render("confirm", &json!({ "token": token }))
}

/// The page shown once request `id` is confirmed.
pub fn confirmed(id: Uuid) -> Result<String, RenderError> {
    pages()?.render("confirmed", &json!({ "request_id": id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_carries_only_the_tokens_hex_digits() {
        let page = confirm("ab12\"><script>alert(1)</script>cd").unwrap();
        assert!(page.contains("name=token value=\"ab12cae1ccd\""), "{page}");
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("<form method=post action=\"/api/v1/deletions/confirm\">"));
    }

    #[test]
    fn the_thank_you_page_names_the_request() {
        let id = Uuid::now_v7();
        assert!(
            confirmed(id)
                .unwrap()
                .contains(&format!("Deletion request {id} is confirmed"))
        );
    }
}
