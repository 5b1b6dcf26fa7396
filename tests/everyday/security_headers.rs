//! What every answer carries whatever it is (src/api/headers.rs): a Content-Security-Policy
//! with no inline script anywhere, nosniff, no framing, no referrer, no caching of data; and the
//! `Allow` header of every 405, for every path of the OpenAPI document. The headers do not
//! depend on the database, so these run on SQLite only.

use crate::support;

use std::collections::BTreeSet;

use accord::auth::Role;
use base64::Engine;
use reqwest::Method;
use sha2::{Digest, Sha256};
use support::app::{Backend, TestApp};

const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

struct Answer {
    what: String,
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("{}: no {name} header", self.what))
            .to_str()
            .unwrap()
    }

    fn policy(&self) -> &str {
        self.header("content-security-policy")
    }
}

async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: &str,
) -> Answer {
    let mut req = app.http.request(method.clone(), app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if !body.is_empty() {
        req = req
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let resp = req.send().await.unwrap();
    Answer {
        what: format!("{method} {path}"),
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

/// The headers every answer carries, and `Cache-Control: no-store` unless it is a static file.
fn assert_common(a: &Answer) {
    assert_eq!(a.header("x-content-type-options"), "nosniff", "{}", a.what);
    assert_eq!(a.header("x-frame-options"), "DENY", "{}", a.what);
    assert_eq!(a.header("referrer-policy"), "no-referrer", "{}", a.what);
    let policy = a.policy();
    assert!(
        policy.starts_with("default-src 'none'"),
        "{}: {policy}",
        a.what
    );
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "{}: {policy}",
        a.what
    );
    assert!(!policy.contains("unsafe-inline"), "{}: {policy}", a.what);
    assert!(!policy.contains("unsafe-eval"), "{}: {policy}", a.what);
}

fn assert_api(a: &Answer) {
    assert_common(a);
    assert_eq!(a.policy(), API_POLICY, "{}", a.what);
    assert_eq!(a.header("cache-control"), "no-store", "{}", a.what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_answer_carries_the_security_headers() {
    let app = TestApp::start(Backend::Sqlite).await;
    let report = app
        .registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let admin = app.token(Role::Admin, None).await;
    let t = Some(admin.as_str());
    let id = "camden-foodbank-referrals";

    // JSON, text and every kind of error.
    let answers = [
        (
            call(&app, t, Method::GET, "/api/v1/agreements", "").await,
            200,
        ),
        (
            call(
                &app,
                t,
                Method::GET,
                &format!("/api/v1/agreements/{id}/dpia?format=md"),
                "",
            )
            .await,
            200,
        ),
        (
            call(&app, t, Method::GET, "/api/v1/register.csv", "").await,
            200,
        ),
        (
            call(&app, None, Method::GET, "/api/v1/openapi.json", "").await,
            200,
        ),
        (call(&app, None, Method::GET, "/healthz", "").await, 200),
        (
            call(&app, None, Method::GET, "/api/v1/agreements", "").await,
            401,
        ),
        (
            call(&app, t, Method::GET, "/api/v1/agreements/no-such", "").await,
            404,
        ),
        (
            call(&app, t, Method::GET, "/api/v1/no-such-route", "").await,
            404,
        ),
        (
            call(&app, t, Method::DELETE, "/api/v1/agreements", "").await,
            405,
        ),
        (
            call(
                &app,
                t,
                Method::POST,
                &format!("/api/v1/agreements/{id}/suspend"),
                "{",
            )
            .await,
            400,
        ),
        (
            call(&app, t, Method::GET, "/api/v1/holdings?page=x", "").await,
            400,
        ),
    ];
    for (a, status) in &answers {
        assert_eq!(a.status, *status, "{}: {}", a.what, a.body);
        assert_api(a);
    }

    // HTML: the DPIA may use its own stylesheet, by hash, and nothing else.
    let dpia = call(
        &app,
        t,
        Method::GET,
        &format!("/api/v1/agreements/{id}/dpia?format=html"),
        "",
    )
    .await;
    assert_eq!(dpia.status, 200, "{}", dpia.body);
    assert_common(&dpia);
    assert_eq!(dpia.header("cache-control"), "no-store");
    let policy = dpia.policy();
    assert!(!policy.contains("script-src"), "{policy}");
    let css = stylesheet(&dpia.body);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes()));
    assert!(
        policy.contains(&format!("style-src 'sha256-{hash}'")),
        "the DPIA's stylesheet is not allowed by its hash: {policy}"
    );
    assert!(
        !dpia.body.to_lowercase().contains("<script"),
        "a script in the DPIA"
    );

    // The page an emailed link opens: a form back to Accord, no style, no script.
    let confirm = call(
        &app,
        None,
        Method::GET,
        "/api/v1/deletions/confirm?token=ab12",
        "",
    )
    .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert_common(&confirm);
    assert!(
        confirm.policy().contains("form-action 'self'"),
        "{}",
        confirm.policy()
    );
    assert!(
        !confirm.policy().contains("style-src"),
        "{}",
        confirm.policy()
    );

    // The docs: script and style only from files of Accord's own, none inline.
    let docs = call(&app, None, Method::GET, "/api/docs", "").await;
    assert_eq!(docs.status, 200, "{}", docs.body);
    assert_common(&docs);
    let policy = docs.policy();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("style-src 'self'"), "{policy}");
    assert!(
        !docs.body.contains("<style"),
        "inline style in the docs page"
    );
    let lower = docs.body.to_lowercase();
    for piece in lower.split("<script").skip(1) {
        let (tag, rest) = piece.split_once('>').unwrap();
        assert!(
            tag.contains("src=\"/api/docs/"),
            "a script not from /api/docs: {tag}"
        );
        assert!(rest.starts_with("</script>"), "an inline script: {rest}");
    }
    for (path, kind, needle) in [
        (
            "/api/docs/swagger-ui-bundle.js",
            "text/javascript",
            "SwaggerUIBundle",
        ),
        ("/api/docs/swagger-ui.css", "text/css", ".swagger-ui"),
        (
            "/api/docs/start.js",
            "text/javascript",
            "/api/v1/openapi.json",
        ),
    ] {
        assert!(
            docs.body.contains(&format!("\"{path}\"")),
            "the page does not load {path}"
        );
        let a = call(&app, None, Method::GET, path, "").await;
        assert_eq!(a.status, 200, "{path}");
        assert!(
            a.header("content-type").starts_with(kind),
            "{path}: {}",
            a.header("content-type")
        );
        assert!(a.body.contains(needle), "{path} has no {needle}");
        assert_common(&a);
    }
}

/// The text of the one `<style>` element of a page.
fn stylesheet(html: &str) -> &str {
    let start = html.find("<style>").expect("a <style> element") + "<style>".len();
    let end = html[start..].find("</style>").expect("</style>");
    assert_eq!(html.matches("<style").count(), 1, "one stylesheet");
    &html[start..start + end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_405_lists_the_methods_its_path_supports() {
    let app = TestApp::start(Backend::Sqlite).await;
    let doc: serde_json::Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 20, "{} paths", paths.len());
    for (template, ops) in paths {
        let mut methods: BTreeSet<String> = ops
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        if methods.contains("GET") {
            methods.insert("HEAD".into());
        }
        let path = format!("/api/v1{}", fill(template));
        for wrong in [Method::PUT, Method::DELETE, Method::PATCH] {
            let a = call(&app, None, wrong.clone(), &path, "").await;
            assert_eq!(a.status, 405, "{}: {}", a.what, a.body);
            let allowed: BTreeSet<String> = a
                .header("allow")
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(allowed, methods, "{}", a.what);
            assert_api(&a);
        }
    }
    for (path, allow) in [
        ("/healthz", "GET, HEAD"),
        ("/api/v1/openapi.json", "GET, HEAD"),
    ] {
        let a = call(&app, None, Method::POST, path, "").await;
        assert_eq!(a.status, 405, "{}", a.what);
        assert_eq!(a.header("allow"), allow, "{}", a.what);
    }
}

/// A concrete path for a template: each `{param}` a UUID (which every kind of id parses as or
/// is routed by).
fn fill(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                "01900000-0000-7000-8000-000000000000"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
