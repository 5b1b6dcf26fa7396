//! The headers every answer carries, set in one place, after everything else has answered
//! (errors included):
//!
//! - `Content-Security-Policy`: the policy the answer set itself, if any (the web console's
//!   pages, `crate::web::POLICY`, and its documents); else JSON and text answers `default-src 'none'; frame-ancestors
//!   'none'`; HTML answers (DPIA, deletion certificate, confirmation pages) may use only their
//!   own inline stylesheets, each allowed by its SHA-256, so no script runs and no other style
//!   applies; the docs page its same-origin files ([`super::docs::POLICY`]). No inline script
//!   anywhere.
//! - `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`.
//! - `Cache-Control: no-store`, unless the answer set its own (only the docs' static files do).
//! - `Allow` on a 405: the methods the path supports, from the OpenAPI document
//!   ([`super::spec::PathMethods`]).
//! - `Strict-Transport-Security: max-age=31536000` when Accord terminates TLS itself
//!   (`serve --tls-cert`), so a browser never comes back over plain HTTP.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use sha2::{Digest, Sha256};

use super::docs;
use super::spec::PathMethods;

/// The policy of every answer that is not HTML.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Calls `next` and sets the headers above on whatever it answers.
pub async fn secure<E: Endpoint>(
    next: &E,
    req: Request,
    methods: &PathMethods,
    hsts: bool,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => super::error::normalise(e),
    };
    let own = resp.headers().get(header::CONTENT_SECURITY_POLICY).cloned();
    let policy = if let Some(own) = own.as_ref().and_then(|v| v.to_str().ok()) {
        // The web console's pages and documents set their own (src/web/mod.rs).
        own.to_owned()
    } else if path == docs::PAGE || path == format!("{}/", docs::PAGE) {
        docs::POLICY.to_owned()
    } else if is_html(&resp) {
        let body = resp.take_body().into_bytes().await.unwrap_or_default();
        let policy = html_policy(&String::from_utf8_lossy(&body));
        resp.set_body(body);
        policy
    } else {
        API_POLICY.to_owned()
    };
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && !resp.headers().contains_key(header::ALLOW)
        && let Some(allow) = methods.allow(&path)
        && let Ok(v) = HeaderValue::from_str(&allow)
    {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    Ok(resp)
}

fn is_html(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("text/html")
        })
}

/// The policy of an HTML answer: nothing but its own inline stylesheets (by hash) and forms
/// posting back to Accord.
pub fn html_policy(html: &str) -> String {
    let mut style = String::new();
    for css in stylesheets(html) {
        let hash = STANDARD.encode(Sha256::digest(css.as_bytes()));
        style.push_str(&format!(" 'sha256-{hash}'"));
    }
    let style = if style.is_empty() {
        String::new()
    } else {
        format!("; style-src{style}")
    };
    format!(
        "default-src 'none'{style}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The text of each `<style …>…</style>` element, exactly as the browser hashes it.
fn stylesheets(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = find_tag(rest, "<style") {
        let after = &rest[open..];
        let Some(end_of_tag) = after.find('>') else {
            break;
        };
        let content = &after[end_of_tag + 1..];
        let Some(close) = find_tag(content, "</style") else {
            break;
        };
        found.push(&content[..close]);
        rest = &content[close..];
    }
    found
}

/// Where `tag` (lowercase) starts in `text`, ignoring ASCII case, as a whole tag name.
fn find_tag(text: &str, tag: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(tag) {
        let at = from + i;
        let next = lower.as_bytes().get(at + tag.len()).copied();
        if matches!(
            next,
            Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/') | None
        ) {
            return Some(at);
        }
        from = at + tag.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_inline_stylesheet_is_allowed_by_its_hash_and_nothing_else_is() {
        let html = "<!doctype html><style>p{color:red}</style><STYLE media=print>\n@page{}\n</STYLE>\
                    <stylesheet-like></stylesheet-like><p>hi</p>";
        let policy = html_policy(html);
        let h1 = STANDARD.encode(Sha256::digest(b"p{color:red}"));
        let h2 = STANDARD.encode(Sha256::digest(b"\n@page{}\n"));
        assert_eq!(
            policy,
            format!(
                "default-src 'none'; style-src 'sha256-{h1}' 'sha256-{h2}'; base-uri 'none'; \
                 form-action 'self'; frame-ancestors 'none'"
            )
        );
        assert!(!policy.contains("unsafe-inline") && !policy.contains("script-src"));
    }

    #[test]
    fn html_without_a_stylesheet_allows_no_style() {
        let policy = html_policy("<p>Thank you</p><form method=post></form>");
        assert!(!policy.contains("style-src"), "{policy}");
        assert!(policy.starts_with("default-src 'none'"), "{policy}");
    }
}
