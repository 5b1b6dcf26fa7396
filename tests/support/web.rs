//! A person's browser, as the web console's HTTP tests need it: cookies kept between requests,
//! redirects not followed (so each answer can be asserted), forms posted as a browser posts
//! them. (The real browser, Chromium, drives the pages in tests/external/web_browser.rs.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use accord::auth::Role;
use accord::clock::Clock;
use accord::people::{self, NewUser};

use super::app::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The first form's CSRF token on the page.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf")
            .unwrap_or_else(|| panic!("no csrf field on the page:\n{}", self.body))
    }
}

/// The value of the first `<input type="hidden" name=NAME value=…>` in `html` (unescaped).
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.into(), value.into());
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            let mut jar = self.cookies.lock().unwrap();
            if text.contains("Max-Age=0") {
                jar.remove(k);
            } else {
                jar.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    /// Posts a `multipart/form-data` form, as a browser sends a form with a file input: each
    /// part a name, a file name for files, and its bytes.
    pub async fn post_multipart(&self, path: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Page {
        let boundary = "----accord-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    /// Fetches `path`, then posts `form` to `action` with that page's CSRF token.
    pub async fn submit(&self, path: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "GET {path}: {}", page.body);
        let csrf = page.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        self.post(action, &all).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.submit(
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password), ("next", "/")],
        )
        .await
    }
}

/// A person with `role` (and `party` where the role needs one) whose password is set to
/// [`PASSWORD`]; returns their e-mail address.
pub async fn person(app: &TestApp, role: Role, party: Option<&str>) -> String {
    let n = uuid::Uuid::now_v7().simple().to_string();
    let email = format!("{}-{}@council.example", role, &n[n.len() - 8..]);
    let now = app.clock.now();
    let db = app.registry.db();
    let new = NewUser {
        email: &email,
        name: &format!("Test {role}"),
        role,
        party,
    };
    let (_, token) = people::accounts::create(db, now, new, "test")
        .await
        .unwrap();
    people::accounts::set_password(db, now, &token, PASSWORD)
        .await
        .unwrap();
    email
}

/// A browser signed in as a new person with `role`.
pub async fn signed_in(app: &TestApp, role: Role, party: Option<&str>) -> Browser {
    let email = person(app, role, party).await;
    let b = Browser::new(app);
    let page = b.sign_in(&email, PASSWORD).await;
    assert_eq!(page.status, 303, "sign-in as {role}: {}", page.body);
    b
}
