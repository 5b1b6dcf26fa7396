//! Single sign-on against a real OpenID provider on loopback (node's oidc-provider, which
//! scripts/test.sh installs), on SQLite and on PostgreSQL: a good sign-in; a wrong state, a
//! state from another browser, a replayed code, a bad nonce and an expired ID token, each
//! refused; a person whose claims map to no role refused with a clear page; a role changed
//! at the provider taking effect at the next sign-in; SSO-only accounts refused a password;
//! signing out ending the provider's session too, or warning when the provider cannot; and
//! signing out at the provider ending Accord's sessions (back-channel logout), with every
//! logout token that is not the provider's, for Accord, refused.

use crate::support;

use std::collections::HashMap;

use accord::clock::Clock;
use accord::store::entity::{sso_flow, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use support::app::{Backend, TestApp};
use support::oidc::{Provider, start, start_with};

/// A browser: cookies per origin, redirects followed by hand.
struct Browser {
    http: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

fn origin(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or_default().to_owned()
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    fn cookie_header(&self, url: &str) -> String {
        self.jar
            .get(&origin(url))
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, url: &str) -> Page {
        let r = req
            .header("cookie", self.cookie_header(url))
            .send()
            .await
            .unwrap();
        let jar = self.jar.entry(origin(url)).or_default();
        for v in r.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() {
                    jar.remove(k.trim());
                } else {
                    jar.insert(k.trim().to_owned(), v.to_owned());
                }
            }
        }
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|l| {
            let l = l.to_str().unwrap();
            if l.starts_with('/') {
                format!("http://{}{l}", origin(url))
            } else {
                l.to_owned()
            }
        });
        Page {
            status,
            location,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&mut self, url: &str) -> Page {
        let req = self.http.get(url);
        self.send(req, url).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(url).form(form);
        self.send(req, url).await
    }

    /// From the app's sign-in button through the provider's pages (signing in as `login`,
    /// consenting) to the URL the provider sends back to the app, not yet opened.
    async fn sign_in_at_provider(&mut self, app: &TestApp, login: &str) -> String {
        let mut page = self.get(&app.url("/sign-in/sso?next=%2Fagreements")).await;
        for _ in 0..20 {
            if let Some(to) = page.location.clone() {
                if to.starts_with(&app.url(accord::people::sso::CALLBACK)) {
                    return to;
                }
                page = self.get(&to).await;
                continue;
            }
            assert_eq!(page.status, 200, "{}", page.body);
            let action = page
                .body
                .split("action=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("no form: {}", page.body))
                .to_owned();
            let action = if action.starts_with('/') {
                format!("http://{}{action}", origin(&self.last_provider(app)))
            } else {
                action
            };
            page = if page.body.contains("value=\"login\"") {
                self.post(
                    &action,
                    &[("prompt", "login"), ("login", login), ("password", "any")],
                )
                .await
            } else {
                self.post(&action, &[("prompt", "consent")]).await
            };
        }
        panic!("the provider never sent the browser back");
    }

    fn last_provider(&self, app: &TestApp) -> String {
        let me = origin(&app.base);
        let other = self
            .jar
            .keys()
            .find(|k| **k != me)
            .cloned()
            .unwrap_or_default();
        format!("http://{other}")
    }

    /// Starts a sign-in and follows it: `true` when the provider asks who the person is,
    /// `false` when it remembers them and sends them straight back to the app.
    async fn provider_asks_who(&mut self, app: &TestApp) -> bool {
        let mut page = self.get(&app.url("/sign-in/sso")).await;
        for _ in 0..20 {
            match page.location.clone() {
                Some(to) if to.starts_with(&app.url(accord::people::sso::CALLBACK)) => {
                    return false;
                }
                Some(to) => page = self.get(&to).await,
                None => {
                    assert_eq!(page.status, 200, "{}", page.body);
                    return page.body.contains("value=\"login\"");
                }
            }
        }
        panic!("the sign-in went round in circles");
    }

    /// Signs out through the console's button: the answer to the form.
    async fn sign_out(&mut self, app: &TestApp) -> Page {
        let page = self.get(&app.url("/agreements")).await;
        assert_eq!(page.status, 200, "signed in: {}", page.body);
        let csrf = value_of(&page.body, "csrf");
        self.post(&app.url("/sign-out"), &[("csrf", &csrf)]).await
    }

    /// Opens the provider's sign-out page at `url` and answers "Yes, sign me out": the
    /// provider's answer, a redirect.
    async fn yes_sign_me_out(&mut self, provider: &Provider, url: &str) -> Page {
        let confirm = self.get(url).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        let xsrf = value_of(&confirm.body, "xsrf");
        let done = self
            .post(
                &format!("{}/session/end/confirm", provider.issuer),
                &[("xsrf", &xsrf), ("logout", "yes")],
            )
            .await;
        assert!(matches!(done.status, 302 | 303), "{}", done.body);
        done
    }

    fn session_cookie(&self, app: &TestApp) -> Option<String> {
        self.jar
            .get(&origin(&app.base))
            .and_then(|c| c.get("accord_session").cloned())
    }

    fn has_session(&self, app: &TestApp) -> bool {
        self.jar
            .get(&origin(&app.base))
            .is_some_and(|c| c.contains_key("accord_session"))
    }
}

/// The value of the first form field called `name` in `html`.
fn value_of(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no {name} field: {html}"))
        .to_owned()
}

/// Whether a request carrying only `cookie` as its session is treated as signed in.
async fn still_signed_in(app: &TestApp, cookie: &str) -> bool {
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/agreements"))
        .header("cookie", format!("accord_session={cookie}"))
        .send()
        .await
        .unwrap();
    r.status() == 200
}

/// A browser in which Priya, an officer at the provider, has signed in to Accord through it.
async fn officer_signed_in(app: &TestApp, provider: &Provider) -> Browser {
    provider.accounts(&[("priya", "priya.shah@camden.example", &["accord-officers"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(app, "priya").await;
    assert_eq!(b.get(&back).await.status, 303);
    b
}

async fn account(app: &TestApp, email: &str) -> Option<user::Model> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(app.registry.db())
        .await
        .unwrap()
}

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={value}"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

async fn a_good_sign_in_makes_an_sso_only_account(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    provider.accounts(&[("priya", "priya.shah@camden.example", &["accord-officers"])]);
    let mut b = Browser::new();
    let page = b.get(&app.url("/sign-in")).await;
    assert!(
        page.body.contains("href=\"/sign-in/sso?next"),
        "no sign-on button: {}",
        page.body
    );
    let back = b.sign_in_at_provider(&app, "priya").await;
    let done = b.get(&back).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(app.url("/agreements").as_str())
    );
    assert!(b.has_session(&app));
    let home = b.get(&app.url("/agreements/new")).await;
    assert_eq!(home.status, 200, "an officer drafts");
    let row = account(&app, "priya.shah@camden.example").await.unwrap();
    assert_eq!((row.role.as_str(), row.sso_only), ("ig_officer", true));
    assert!(row.sso_subject.unwrap().starts_with(&provider.issuer));
    // An SSO-only account has no password to sign in with.
    let mut other = Browser::new();
    let form = other.get(&app.url("/sign-in")).await;
    let csrf = form
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let refused = other
        .post(
            &app.url("/sign-in"),
            &[
                ("csrf", &csrf),
                ("email", "priya.shah@camden.example"),
                ("password", "any password at all"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(refused.status, 401);
    // The sign-in's flow is gone: it worked once.
    assert_eq!(
        sso_flow::Entity::find()
            .all(app.registry.db())
            .await
            .unwrap()
            .len(),
        0
    );
}

async fn a_wrong_or_foreign_state_is_refused(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    provider.accounts(&[("priya", "priya.shah@camden.example", &["accord-officers"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "priya").await;
    let forged = replace_param(
        &back,
        "state",
        "0000000000000000000000000000000000000000000000000000000000000000",
    );
    let page = b.get(&forged).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("not one Accord started"),
        "{}",
        page.body
    );
    // The right state, but from a browser that did not begin the sign-in (login CSRF).
    let mut stranger = Browser::new();
    let page = stranger.get(&back).await;
    assert_eq!(page.status, 400);
    assert!(!stranger.has_session(&app) && !b.has_session(&app));
    assert!(account(&app, "priya.shah@camden.example").await.is_none());
}

async fn a_replayed_code_is_refused(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    provider.accounts(&[("priya", "priya.shah@camden.example", &["accord-officers"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "priya").await;
    assert_eq!(b.get(&back).await.status, 303);
    // The same answer again: its state is spent.
    let again = b.get(&back).await;
    assert_eq!(again.status, 400, "{}", again.body);
    // The spent code with a fresh sign-in's state: the provider refuses it.
    let mut c = Browser::new();
    let fresh = c.sign_in_at_provider(&app, "priya").await;
    let code = back
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let replayed = replace_param(&fresh, "code", code);
    let page = c.get(&replayed).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("did not sign you in"), "{}", page.body);
    assert!(!c.has_session(&app));
}

async fn a_bad_nonce_and_an_expired_token_are_refused(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    provider.accounts(&[("priya", "priya.shah@camden.example", &["accord-officers"])]);
    // A token minted for another sign-in: the nonce this sign-in sent is not the token's.
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "priya").await;
    let db = app.registry.db();
    let flows = sso_flow::Entity::find().all(db).await.unwrap();
    assert_eq!(flows.len(), 1);
    let mut flow: sso_flow::ActiveModel = flows[0].clone().into();
    flow.nonce = sea_orm::ActiveValue::Set("a-nonce-from-another-sign-in".into());
    sea_orm::ActiveModelTrait::update(flow, db).await.unwrap();
    let page = b.get(&back).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("could not be verified"), "{}", page.body);
    assert!(!b.has_session(&app));

    // Six minutes on (the provider's ID tokens last five; a sign-in may take ten): expired.
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "priya").await;
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(6));
    let page = b.get(&back).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("could not be verified"), "{}", page.body);
    assert!(!b.has_session(&app));
    assert!(account(&app, "priya.shah@camden.example").await.is_none());
}

async fn claims_with_no_role_get_a_clear_page(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    provider.accounts(&[("sam", "sam@camden.example", &["payroll-team"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "sam").await;
    let page = b.get(&back).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("no role in Accord"), "{}", page.body);
    assert!(page.body.contains("Ask your information governance team"));
    assert!(!b.has_session(&app));
    assert!(
        account(&app, "sam@camden.example").await.is_none(),
        "no account made"
    );
}

async fn a_role_changed_at_the_provider_applies_at_the_next_sign_in(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    provider.accounts(&[("jo", "jo.bell@camden.example", &["accord-officers"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "jo").await;
    assert_eq!(b.get(&back).await.status, 303);
    assert_eq!(b.get(&app.url("/agreements/new")).await.status, 200);

    provider.accounts(&[("jo", "jo.bell@camden.example", &["camden-signatories"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "jo").await;
    assert_eq!(b.get(&back).await.status, 303);
    let row = account(&app, "jo.bell@camden.example").await.unwrap();
    assert_eq!(
        (row.role.as_str(), row.party_id.as_deref()),
        ("signatory", Some("camden"))
    );
    assert_eq!(
        b.get(&app.url("/agreements/new")).await.status,
        403,
        "no longer an officer"
    );
    let changes = accord::store::entity::audit_record::Entity::find()
        .filter(accord::store::entity::audit_record::Column::Action.eq("user.role_from_provider"))
        .all(app.registry.db())
        .await
        .unwrap();
    assert_eq!(changes.len(), 1, "the change is audited");
}

/// A local account with a password is linked by its e-mail at its first single sign-on and
/// keeps its password, until `accord user sso-only` ends that (and its sessions).
async fn a_local_account_is_linked_and_can_be_made_sso_only(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    let email = support::web::person(&app, accord::auth::Role::Auditor, None).await;
    let local = support::web::Browser::new(&app);
    assert_eq!(
        local.sign_in(&email, support::web::PASSWORD).await.status,
        303
    );
    provider.accounts(&[("alex", &email, &["accord-auditors"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "alex").await;
    assert_eq!(b.get(&back).await.status, 303);
    let row = account(&app, &email).await.unwrap();
    assert!(
        row.sso_subject.is_some() && !row.sso_only,
        "linked, password kept"
    );
    assert_eq!(
        local.get("/").await.status,
        200,
        "the password session lives on"
    );

    let out = support::accord(&[
        "user",
        "sso-only",
        "--email",
        &email,
        "--database",
        &app.db_url,
    ]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert!(support::stdout(&out).contains("[single sign-on only]"));
    assert_eq!(local.get("/").await.status, 303, "its sessions ended");
    let again = support::web::Browser::new(&app);
    assert_eq!(
        again.sign_in(&email, support::web::PASSWORD).await.status,
        401
    );
    // Single sign-on still works.
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "alex").await;
    assert_eq!(b.get(&back).await.status, 303);
    // And --off gives the password back.
    let out = support::accord(&[
        "user",
        "sso-only",
        "--off",
        "--email",
        &email,
        "--database",
        &app.db_url,
    ]);
    assert!(out.status.success());
    assert_eq!(
        again.sign_in(&email, support::web::PASSWORD).await.status,
        303
    );
}

/// The provider says no (the person cancelled): a page saying so, nothing signed in.
/// A disabled account is refused though the provider vouches for it.
async fn a_provider_refusal_and_a_disabled_account_get_clear_pages(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    let mut b = Browser::new();
    let page = b
        .get(&app.url("/sign-in/sso/callback?error=access_denied&state=x"))
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("did not sign you in: access_denied"),
        "{}",
        page.body
    );
    let page = b.get(&app.url("/sign-in/sso/callback")).await;
    assert_eq!(page.status, 400, "no code, no state");

    provider.accounts(&[("kim", "kim@camden.example", &["accord-auditors"])]);
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "kim").await;
    assert_eq!(b.get(&back).await.status, 303);
    let row = account(&app, "kim@camden.example").await.unwrap();
    let mut disabled: user::ActiveModel = row.into();
    disabled.disabled_at = sea_orm::ActiveValue::Set(Some("2026-01-01T00:00:00Z".into()));
    sea_orm::ActiveModelTrait::update(disabled, app.registry.db())
        .await
        .unwrap();
    let mut b = Browser::new();
    let back = b.sign_in_at_provider(&app, "kim").await;
    let page = b.get(&back).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("disabled"), "{}", page.body);
    assert!(!b.has_session(&app));
}

/// Signing out of a session opened by single sign-on ends Accord's session, then sends the
/// person to the provider (RP-Initiated Logout: this client's id and where to come back),
/// which ends its own: the next person to sign in at this browser is asked who they are.
async fn signing_out_ends_the_providers_session_too(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    let mut b = officer_signed_in(&app, &provider).await;
    // Signed in at the provider, a new sign-in there comes straight back: nobody is asked.
    assert!(!b.provider_asks_who(&app).await);
    // A browser holds the sign-out form to its page's form-action through the redirect, so
    // the pages allow the provider's origin there, and nothing else.
    let r = reqwest::get(app.url("/sign-in")).await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains(&format!("form-action 'self' {};", provider.issuer)),
        "{csp}"
    );
    assert!(!csp.contains("script-src"), "{csp}");
    let cookie = b.session_cookie(&app).unwrap();
    let out = b.sign_out(&app).await;
    assert_eq!(out.status, 303, "{}", out.body);
    let to = out.location.unwrap();
    assert!(
        to.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{to}"
    );
    let url = reqwest::Url::parse(&to).unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], support::oidc::CLIENT_ID);
    assert_eq!(query["post_logout_redirect_uri"], app.url("/signed-out"));
    assert!(!query.contains_key("id_token_hint"), "no token is kept");
    // Accord's session ended before the provider was asked, whatever the person does there.
    assert!(!b.has_session(&app));
    assert!(!still_signed_in(&app, &cookie).await);
    // At the provider: "Yes, sign me out".
    let done = b.yes_sign_me_out(&provider, &to).await;
    assert_eq!(
        done.location.as_deref(),
        Some(app.url("/signed-out").as_str())
    );
    let page = b.get(&app.url("/signed-out")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("You have signed out of Accord"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("may still remember you"),
        "{}",
        page.body
    );
    // The provider has forgotten her.
    assert!(b.provider_asks_who(&app).await);
    // The sign-out is in the audit log, once.
    let audit = accord::audit::list(app.registry.db(), &Default::default(), 1000)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.action == "user.signed_out")
            .count(),
        1
    );
}

/// A provider with no end-session endpoint (Google's has none): signing out ends Accord's
/// session and says plainly that the provider may still remember the person.
async fn a_provider_that_cannot_sign_out_gets_a_warning(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    let mut b = officer_signed_in(&app, &provider).await;
    let cookie = b.session_cookie(&app).unwrap();
    let out = b.sign_out(&app).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.location.as_deref(),
        Some(app.url("/signed-out?provider=still").as_str())
    );
    assert!(!still_signed_in(&app, &cookie).await);
    let page = b.get(&app.url("/signed-out?provider=still")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("may still remember you"),
        "{}",
        page.body
    );
    // It did: the next sign-in at this browser comes straight back.
    assert!(!b.provider_asks_who(&app).await);
}

/// The live sessions' provider sessions (`sid`), by the e-mail of whose they are.
async fn provider_sessions(app: &TestApp) -> Vec<(String, Option<String>)> {
    use accord::store::entity::web_session;
    let mut out = Vec::new();
    for s in web_session::Entity::find()
        .filter(web_session::Column::EndedAt.is_null())
        .all(app.registry.db())
        .await
        .unwrap()
    {
        let u = user::Entity::find_by_id(s.user_id)
            .one(app.registry.db())
            .await
            .unwrap()
            .unwrap();
        out.push((u.email, s.sso_sid));
    }
    out.sort();
    out
}

/// The back-channel logouts in the audit log: the e-mail of each person signed out.
async fn signed_out_by_the_provider(app: &TestApp) -> Vec<String> {
    let audit = accord::audit::list(app.registry.db(), &Default::default(), 1000)
        .await
        .unwrap();
    audit
        .iter()
        .filter(|r| r.action == "user.signed_out" && r.actor == "single sign-on")
        .map(|r| {
            let details: serde_json::Value = serde_json::from_str(&r.details).unwrap();
            assert_eq!(details["method"], "back-channel logout");
            details["email"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Priya signs out at the provider itself (not through Accord): the provider posts its signed
/// logout token to Accord before it answers her, and her Accord session is over; Sam's, opened
/// through the same provider in another browser, is not.
async fn signing_out_at_the_provider_ends_the_sessions_it_opened(pair: (TestApp, Provider)) {
    let (app, provider) = pair;
    provider.accounts(&[
        ("priya", "priya.shah@camden.example", &["accord-officers"]),
        ("sam", "sam.okoro@camden.example", &["accord-auditors"]),
    ]);
    let mut priya = Browser::new();
    let back = priya.sign_in_at_provider(&app, "priya").await;
    assert_eq!(priya.get(&back).await.status, 303);
    let mut sam = Browser::new();
    let back = sam.sign_in_at_provider(&app, "sam").await;
    assert_eq!(sam.get(&back).await.status, 303);
    let (priya_cookie, sam_cookie) = (
        priya.session_cookie(&app).unwrap(),
        sam.session_cookie(&app).unwrap(),
    );
    // Each session keeps the provider session that opened it.
    let live = provider_sessions(&app).await;
    assert_eq!(live.len(), 2, "{live:?}");
    assert!(live.iter().all(|(_, sid)| sid.is_some()), "{live:?}");
    assert_ne!(live[0].1, live[1].1);
    // A token naming Priya with Sam's provider session ends neither: a sid ends only the
    // sessions of the person the token names.
    let now = app.clock.now().as_second();
    let mixed = serde_json::json!({
        "iss": provider.issuer, "aud": support::oidc::CLIENT_ID, "iat": now, "jti": "mixed",
        "sub": "priya", "sid": live[1].1,
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    assert_eq!(live[1].0, "sam.okoro@camden.example");
    assert_eq!(logout_with(&app, &provider.sign(&mixed)).await.0, 200);
    assert!(still_signed_in(&app, &priya_cookie).await);
    assert!(still_signed_in(&app, &sam_cookie).await);

    priya
        .yes_sign_me_out(&provider, &format!("{}/session/end", provider.issuer))
        .await;
    assert!(!still_signed_in(&app, &priya_cookie).await, "Priya's ended");
    assert!(still_signed_in(&app, &sam_cookie).await, "Sam's did not");
    assert_eq!(
        signed_out_by_the_provider(&app).await,
        ["priya.shah@camden.example"]
    );
}

/// What Accord's back-channel logout answered: its status and JSON (or nothing).
async fn post_logout(app: &TestApp, body: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let _ = app;
    let r = body.send().await.unwrap();
    let status = r.status().as_u16();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

async fn logout_with(app: &TestApp, token: &str) -> (u16, serde_json::Value) {
    let url = app.url(accord::people::sso::BACK_CHANNEL_LOGOUT);
    post_logout(app, app.http.post(url).form(&[("logout_token", token)])).await
}

/// A logout token is taken only when it is the provider's and for Accord: each wrong claim, a
/// forged or tampered signature, `none` and a MAC keyed with the client's secret, and bodies
/// that are not one token are refused with 400 and end nothing. A good one (naming the person
/// alone) ends her session; replayed later, it does not end the sign-in she made after it; a
/// good one naming only a provider session ends that session.
async fn a_logout_token_must_be_the_providers_and_for_accord(pair: (TestApp, Provider)) {
    use base64::Engine;
    let (app, provider) = pair;
    let b = officer_signed_in(&app, &provider).await;
    let cookie = b.session_cookie(&app).unwrap();
    let now = app.clock.now().as_second();
    let good = serde_json::json!({
        "iss": provider.issuer, "aud": support::oidc::CLIENT_ID, "iat": now, "exp": now + 120,
        "jti": "a-logout", "sub": "priya",
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    let with = |name: &str, value: serde_json::Value| {
        let mut c = good.clone();
        c[name] = value;
        c
    };
    let without = |name: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(name);
        c
    };
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let real = provider.sign(&good);
    let mut parts: Vec<&str> = real.split('.').collect();
    let someone_else = b64(&with("sub", "sam".into()));
    parts[1] = &someone_else;
    let tampered = parts.join(".");
    let unsigned = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none"})),
        b64(&good)
    );
    let maced = {
        // HS256 keyed with the client's own secret: a provider's token never is.
        use ring::hmac;
        let signed = format!(
            "{}.{}",
            b64(&serde_json::json!({"alg": "HS256"})),
            b64(&good)
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, support::oidc::CLIENT_SECRET.as_bytes());
        let tag = hmac::sign(&key, signed.as_bytes());
        format!(
            "{signed}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    };
    let refused = [
        (
            "another issuer",
            provider.sign(&with("iss", "http://127.0.0.1:9".into())),
        ),
        (
            "another client",
            provider.sign(&with("aud", "another-client".into())),
        ),
        ("no event", provider.sign(&without("events"))),
        ("a nonce", provider.sign(&with("nonce", "n".into()))),
        ("too old", provider.sign(&with("iat", (now - 600).into()))),
        (
            "from the future",
            provider.sign(&with("iat", (now + 600).into())),
        ),
        ("expired", provider.sign(&with("exp", (now - 120).into()))),
        ("nobody named", provider.sign(&without("sub"))),
        ("forged", provider.forge(&good)),
        ("tampered", tampered),
        ("unsigned", unsigned),
        ("keyed with the client secret", maced),
        ("not a JWT", "not-a-jwt".to_owned()),
        ("too large", "a".repeat(20_000)),
    ];
    for (what, token) in &refused {
        let (status, body) = logout_with(&app, token).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"], "invalid_request", "{what}");
        assert!(
            !body["error_description"].to_string().contains("priya"),
            "{what}: {body}"
        );
    }
    let url = app.url(accord::people::sso::BACK_CHANNEL_LOGOUT);
    for (what, request) in [
        ("no token", app.http.post(&url).form(&[("other", "x")])),
        (
            "two tokens",
            app.http.post(&url).form(&[
                ("logout_token", real.as_str()),
                ("logout_token", real.as_str()),
            ]),
        ),
        (
            "JSON",
            app.http
                .post(&url)
                .json(&serde_json::json!({ "logout_token": real })),
        ),
    ] {
        let (status, body) = post_logout(&app, request).await;
        assert_eq!(status, 400, "{what}: {body}");
    }
    let got = app.http.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 405);
    assert!(
        still_signed_in(&app, &cookie).await,
        "nothing refused ended a session"
    );
    assert!(signed_out_by_the_provider(&app).await.is_empty());

    // The provider's own token, naming Priya: her session ends.
    let (status, _) = logout_with(&app, &real).await;
    assert_eq!(status, 200);
    assert!(!still_signed_in(&app, &cookie).await);
    assert_eq!(
        signed_out_by_the_provider(&app).await,
        ["priya.shah@camden.example"]
    );
    // Two minutes on, she signs in again; the same token, replayed, leaves that sign-in be.
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(2));
    let b = officer_signed_in(&app, &provider).await;
    let again = b.session_cookie(&app).unwrap();
    let (status, _) = logout_with(&app, &real).await;
    assert_eq!(status, 200, "a good token, still fresh");
    assert!(
        still_signed_in(&app, &again).await,
        "opened after the logout"
    );
    // A token naming only her provider session ends that one.
    let sid = provider_sessions(&app).await[0].1.clone().unwrap();
    let later = app.clock.now().as_second();
    let by_session = serde_json::json!({
        "iss": provider.issuer, "aud": [support::oidc::CLIENT_ID], "iat": later,
        "jti": "another-logout", "sid": sid,
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    let (status, _) = logout_with(&app, &provider.sign(&by_session)).await;
    assert_eq!(status, 200);
    assert!(!still_signed_in(&app, &again).await);
    assert_eq!(signed_out_by_the_provider(&app).await.len(), 2);
}

/// The provider rotates in a new signing key and signs Priya's logout token with it. Accord
/// reads the provider's keys again for a key it does not know, but at most once a minute by its
/// clock, so forged tokens cannot make it hammer the provider: within the minute of its last
/// read the token is refused and nothing ends; a minute on the keys are read again and her
/// session ends; a forgery under another unknown key id then reads nothing.
async fn a_key_the_provider_rotates_in_is_read_at_most_once_a_minute(pair: (TestApp, Provider)) {
    use accord::people::sso::KEYS_READ_AGAIN_AFTER;
    let (app, provider) = pair;
    let b = officer_signed_in(&app, &provider).await;
    let cookie = b.session_cookie(&app).unwrap();
    assert_eq!(provider.key_reads(), 1, "read once for the sign-in");
    let read_at = app.clock.now();
    let claims = |jti: &str| {
        serde_json::json!({
            "iss": provider.issuer, "aud": support::oidc::CLIENT_ID,
            "iat": app.clock.now().as_second(), "jti": jti, "sub": "priya",
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        })
    };
    provider.rotate();
    let second = jiff::SignedDuration::from_secs(1);
    for (at, jti) in [
        (read_at, "at-once"),
        (read_at + KEYS_READ_AGAIN_AFTER - second, "59s"),
    ] {
        app.clock.set(at);
        let (status, body) =
            logout_with(&app, &provider.sign_with_the_next_key(&claims(jti))).await;
        assert_eq!(status, 400, "{jti}: {body}");
        assert_eq!(
            provider.key_reads(),
            1,
            "{jti}: the keys were not read again"
        );
        assert!(still_signed_in(&app, &cookie).await, "{jti}");
    }

    app.clock.set(read_at + KEYS_READ_AGAIN_AFTER);
    let (status, body) = logout_with(&app, &provider.sign_with_the_next_key(&claims("60s"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(provider.key_reads(), 2);
    assert!(!still_signed_in(&app, &cookie).await);
    assert_eq!(
        signed_out_by_the_provider(&app).await,
        ["priya.shah@camden.example"]
    );

    app.clock.set(read_at + KEYS_READ_AGAIN_AFTER + second);
    let (status, _) =
        logout_with(&app, &provider.forge_under_a_new_key_id(&claims("forged"))).await;
    assert_eq!(status, 400);
    assert_eq!(
        provider.key_reads(),
        2,
        "a forgery a second later reads nothing"
    );
}

/// Without single sign-on set up, the back-channel logout is not there.
#[tokio::test]
async fn no_back_channel_logout_without_single_sign_on() {
    let app = TestApp::start(Backend::Sqlite).await;
    let url = app.url(accord::people::sso::BACK_CHANNEL_LOGOUT);
    let (status, body) = post_logout(&app, app.http.post(url).form(&[("logout_token", "x")])).await;
    assert_eq!(status, 404, "{body}");
}

async fn with_provider<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce((TestApp, Provider)) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    case(start(backend).await).await;
}

macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::with_provider(super::Backend::Sqlite, super::$case).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::with_provider(super::Backend::Postgres, super::$case).await } )* }
    };
}

on_both!(
    a_good_sign_in_makes_an_sso_only_account,
    a_wrong_or_foreign_state_is_refused,
    a_replayed_code_is_refused,
    a_bad_nonce_and_an_expired_token_are_refused,
    claims_with_no_role_get_a_clear_page,
    a_role_changed_at_the_provider_applies_at_the_next_sign_in,
    a_local_account_is_linked_and_can_be_made_sso_only,
    a_provider_refusal_and_a_disabled_account_get_clear_pages,
    signing_out_ends_the_providers_session_too,
    signing_out_at_the_provider_ends_the_sessions_it_opened,
    a_logout_token_must_be_the_providers_and_for_accord,
    a_key_the_provider_rotates_in_is_read_at_most_once_a_minute,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_cannot_sign_out_gets_a_warning_sqlite() {
    a_provider_that_cannot_sign_out_gets_a_warning(start_with(Backend::Sqlite, false).await).await;
}

/// An app whose single sign-on names a provider on a port nothing listens on.
async fn with_a_provider_that_does_not_answer() -> TestApp {
    let dead = format!("http://127.0.0.1:{}", support::free_port());
    TestApp::start_knowing_base(Backend::Sqlite, |base| accord::settings::Settings {
        public_url: base.to_owned(),
        sso: Some(accord::people::sso::SsoConfig {
            issuer: dead,
            client_id: "accord".into(),
            client_secret: "a-secret".into(),
            claim: "roles".into(),
            rules: accord::people::sso::RoleRule::parse_all("x=auditor").unwrap(),
            public_url: base.to_owned(),
        }),
        ..Default::default()
    })
    .await
}

/// A provider that does not answer: a 502 page, and the password form still offered.
#[tokio::test]
async fn a_provider_that_does_not_answer_gets_a_clear_page() {
    let app = with_a_provider_that_does_not_answer().await;
    let mut b = Browser::new();
    let page = b.get(&app.url("/sign-in/sso")).await;
    assert_eq!(page.status, 502, "{}", page.body);
    assert!(
        page.body.contains("cannot reach your organisation"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("127.0.0.1"),
        "the cause stays in the log"
    );
}

/// An app whose provider does not answer, and a browser with one session in it, marked as
/// single sign-on's (the provider being down, none can be made through it).
async fn a_single_sign_on_session_with_the_provider_down() -> (TestApp, support::web::Browser) {
    use accord::store::entity::web_session;
    let app = with_a_provider_that_does_not_answer().await;
    let b = support::web::signed_in(&app, accord::auth::Role::Auditor, None).await;
    let flipped = web_session::Entity::update_many()
        .col_expr(
            web_session::Column::ViaSso,
            sea_orm::sea_query::Expr::value(true),
        )
        .exec(app.registry.db())
        .await
        .unwrap();
    assert_eq!(flipped.rows_affected, 1);
    (app, b)
}

/// A single sign-on session whose provider cannot be reached when the person signs out: the
/// session still ends, and the page warns that the provider may still remember them.
#[tokio::test]
async fn signing_out_while_the_provider_is_down_still_signs_out() {
    let (app, b) = a_single_sign_on_session_with_the_provider_down().await;
    let secret = b.cookie("accord_session").unwrap();
    let out = b.submit("/", "/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), Some("/signed-out?provider=still"));
    assert!(!still_signed_in(&app, &secret).await);
}

/// A back-channel logout while the provider's keys cannot be read: 503, so the provider may
/// try again, and no session ends.
#[tokio::test]
async fn a_back_channel_logout_the_keys_cannot_check_gets_a_503() {
    let (app, b) = a_single_sign_on_session_with_the_provider_down().await;
    let (status, body) = logout_with(&app, "a.b.c").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(still_signed_in(&app, &b.cookie("accord_session").unwrap()).await);
}

/// Bad single sign-on settings stop `serve` at start (exit 2) and say which.
#[test]
fn bad_settings_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/a.db?mode=rwc", dir.path().display());
    let serve = |map: &str, secret: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_accord"));
        c.args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
            .args([
                "--oidc-issuer",
                "https://login.example",
                "--oidc-client-id",
                "accord",
            ])
            .args(["--oidc-role-map", map])
            .env_remove("ACCORD_OIDC_CLIENT_SECRET");
        if let Some(s) = secret {
            c.env("ACCORD_OIDC_CLIENT_SECRET", s);
        }
        c.output().unwrap()
    };
    let out = serve("officers=ig_officer", None);
    assert_eq!(out.status.code(), Some(2));
    assert!(support::stderr(&out).contains("ACCORD_OIDC_CLIENT_SECRET"));
    let out = serve("officers=wizard", Some("s3cret"));
    assert_eq!(out.status.code(), Some(2));
    let said = support::stderr(&out);
    assert!(
        said.contains("ACCORD_OIDC_ROLE_MAP") && !said.contains("s3cret"),
        "{said}"
    );
}
