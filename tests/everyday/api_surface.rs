//! The HTTP surface as a whole: who may call which endpoint (one table, every role), the error
//! shape, the body limit on bytes actually read, request ids, the OpenAPI document and Swagger
//! UI, the binary's JSON logs, and slow clients and the connection cap. Every case runs on
//! SQLite and on PostgreSQL, but the last: those limits are the server's, the database plays
//! no part, so they run on SQLite only.

use crate::support;

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use accord::auth::Role;
use accord::connections::Limits;
use accord::registry::versions::{Added, Origin};
use reqwest::Method;
use serde_json::Value;
use support::app::{Backend, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FOODBANK: &str = "camden-foodbank-referrals.yaml";
const HOSPITAL: &str = "hospital-discharge.yaml";

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

/// Roles that read every agreement, the register, the audit log and party suspensions.
const READERS: &[Role] = &[Role::Admin, Role::IgOfficer, Role::Auditor];
/// Readers, plus a signatory, when the agreement is one its party (camden) is a party to.
const PARTY_READERS: &[Role] = &[Role::Admin, Role::IgOfficer, Role::Auditor, Role::Signatory];
/// Roles that upload agreements and act on agreements and parties.
const OFFICERS: &[Role] = &[Role::Admin, Role::IgOfficer];
/// Only a signatory signs (for its own party).
const SIGNATORY: &[Role] = &[Role::Signatory];
/// Nobody: the signatory's party is not a party to the agreement.
const NOBODY: &[Role] = &[];
/// Who may ask the gate whether a flow may happen: a gate client (for its own party) and the
/// officers.
const GATE_ASKERS: &[Role] = &[Role::Admin, Role::IgOfficer, Role::GateClient];
/// Only an administrator lists and revokes tokens.
const ADMIN: &[Role] = &[Role::Admin];
/// Only a gate client sends records through the gate.
const GATE_CLIENT: &[Role] = &[Role::GateClient];
/// Every role: a request that does not exist is 404 for everyone (a requester's token sees
/// only its own, so nothing tells them apart).
const ANYONE: &[Role] = &Role::ALL;
/// Any token but a monitoring system's (which reads `/metrics` and nothing else) may make an
/// access request.
const REQUESTERS: &[Role] = Role::PEOPLE;

/// Only a contractor submits handover (for its own party).
const CONTRACTOR: &[Role] = &[Role::Contractor];
/// Who searches handover knowledge: readers everything, a contractor its own party's.
const SEARCHERS: &[Role] = &[
    Role::Admin,
    Role::IgOfficer,
    Role::Auditor,
    Role::Contractor,
];

#[derive(Debug, Clone, Copy)]
enum Body {
    None,
    /// JSON text, sent as `application/json`.
    Json(&'static str),
    /// A sample agreement as a fresh draft with the id `up-{who}`, sent as `application/yaml`.
    Upload(&'static str),
}

const NONE: Body = Body::None;
/// An id nothing has.
const NIL: &str = "0192f0c0-0000-7000-8000-000000000000";
const EMPTY: Body = Body::Json("{}");
const ITEM: Body =
    Body::Json(r#"{"party":"metis","kind":"other","title":"matrix test","due":"2027-03-01"}"#);
const SUBMISSION: Body = Body::Json(r#"{"body":"matrix test"}"#);
const COMMENTS: Body = Body::Json(r#"{"comments":"matrix test"}"#);
const REASON: Body = Body::Json(r#"{"reason":"matrix test"}"#);
const SIGN: Body = Body::Json(r#"{"name":"Jo Bell"}"#);
const UPLOAD: Body = Body::Upload(HOSPITAL);
const ACCESS: Body = Body::Json(r#"{"email":"matrix@partner.example","answers":{}}"#);
const MESSAGE: Body = Body::Json(r#"{"message":"matrix test"}"#);
const REASONS: Body = Body::Json(r#"{"reasons":"matrix test"}"#);
const HOLD: Body =
    Body::Json(r#"{"kind":"audit","reason":"matrix test","scope":{"party":"camden"}}"#);
const CHECK: Body = Body::Json(
    r#"{"agreement":"camden-foodbank-referrals","from":"camden","to":"foodbank","purpose":"food-parcels","fields":["full-name"]}"#,
);
const SEND: Body = Body::Json(
    r#"{"agreement":"camden-foodbank-referrals","from":"camden","to":"foodbank","purpose":"food-parcels","fields":["full-name","address"],"records":[{"full-name":"Ada Lovelace","address":"1 St Pancras Way"}]}"#,
);

#[derive(Debug)]
struct Endpoint {
    method: &'static str,
    /// As called. `{who}` becomes the caller's own target (`who(role)`), so that two officers
    /// each suspend, reinstate and terminate their own agreement without tripping each other;
    /// `{holding}` becomes the id of a holding the test has made (see `Vars`).
    path: &'static str,
    /// The same operation as the OpenAPI document names it (relative to the `/api/v1` server).
    spec: &'static str,
    body: Body,
    /// Every other role must get 403.
    may: &'static [Role],
    /// The status each role in `may` gets: every request in the table is well-formed.
    ok: u16,
}

const fn ep(
    method: &'static str,
    path: &'static str,
    spec: &'static str,
    body: Body,
    may: &'static [Role],
    ok: u16,
) -> Endpoint {
    Endpoint {
        method,
        path,
        spec,
        body,
        may,
        ok,
    }
}

/// Every endpoint under /api/v1, and who may call it. A gate client may only use the gate;
/// a contractor only handover's. Party-bound tokens (signatory, gate client, contractor)
/// act for `camden`, a party to camden-foodbank-referrals (and to the draft brent-foodbank)
/// and to nothing else.
#[rustfmt::skip]
const ENDPOINTS: &[Endpoint] = &[
    // method   path as called                                                     path in the OpenAPI document                      body     who may         success
    ep("GET",   "/api/v1/agreements",                                              "/agreements",                                    NONE,    PARTY_READERS,  200),
    ep("GET",   "/api/v1/agreements/camden-foodbank-referrals",                    "/agreements/{id}",                               NONE,    PARTY_READERS,  200),
    ep("GET",   "/api/v1/agreements/camden-foodbank-referrals/versions",           "/agreements/{id}/versions",                      NONE,    PARTY_READERS,  200),
    ep("GET",   "/api/v1/agreements/camden-foodbank-referrals/versions/1",         "/agreements/{id}/versions/{number}",             NONE,    PARTY_READERS,  200),
    ep("GET",   "/api/v1/agreements/camden-foodbank-referrals/versions/1/source",  "/agreements/{id}/versions/{number}/source",      NONE,    PARTY_READERS,  200),
    ep("GET",   "/api/v1/agreements/camden-foodbank-referrals/diff?from=1&to=1",   "/agreements/{id}/diff",                          NONE,    PARTY_READERS,  200),
    ep("GET",   "/api/v1/agreements/camden-foodbank-referrals/dpia?format=md",     "/agreements/{id}/dpia",                          NONE,    PARTY_READERS,  200),
    ep("GET",   "/api/v1/agreements/vulnerability-hub",                            "/agreements/{id}",                               NONE,    READERS,        200),
    ep("GET",   "/api/v1/agreements/vulnerability-hub/versions",                   "/agreements/{id}/versions",                      NONE,    READERS,        200),
    ep("GET",   "/api/v1/agreements/vulnerability-hub/versions/1",                 "/agreements/{id}/versions/{number}",             NONE,    READERS,        200),
    ep("GET",   "/api/v1/agreements/vulnerability-hub/versions/1/source",          "/agreements/{id}/versions/{number}/source",      NONE,    READERS,        200),
    ep("GET",   "/api/v1/agreements/vulnerability-hub/diff?from=1&to=1",           "/agreements/{id}/diff",                          NONE,    READERS,        200),
    ep("GET",   "/api/v1/agreements/vulnerability-hub/dpia",                       "/agreements/{id}/dpia",                          NONE,    READERS,        200),
    ep("POST",  "/api/v1/agreements",                                              "/agreements",                                    UPLOAD,  OFFICERS,       201),
    ep("POST",  "/api/v1/agreements/brent-foodbank/versions/1/signatures",         "/agreements/{id}/versions/{number}/signatures",  SIGN,    SIGNATORY,      200),
    ep("POST",  "/api/v1/agreements/vulnerability-hub/versions/1/signatures",      "/agreements/{id}/versions/{number}/signatures",  SIGN,    NOBODY,         200),
    ep("POST",  "/api/v1/agreements/ctl-{who}/suspend",                            "/agreements/{id}/suspend",                       REASON,  OFFICERS,       200),
    ep("POST",  "/api/v1/agreements/ctl-{who}/reinstate",                          "/agreements/{id}/reinstate",                     REASON,  OFFICERS,       200),
    ep("POST",  "/api/v1/agreements/ctl-{who}/terminate",                          "/agreements/{id}/terminate",                     REASON,  OFFICERS,       200),
    ep("GET",   "/api/v1/parties/suspensions",                                     "/parties/suspensions",                           NONE,    READERS,        200),
    ep("POST",  "/api/v1/parties/p-{who}/suspend",                                 "/parties/{party}/suspend",                       REASON,  OFFICERS,       200),
    ep("POST",  "/api/v1/parties/p-{who}/reinstate",                               "/parties/{party}/reinstate",                     REASON,  OFFICERS,       200),
    ep("GET",   "/api/v1/register",                                                "/register",                                      NONE,    READERS,        200),
    ep("GET",   "/api/v1/register.csv",                                            "/register.csv",                                  NONE,    READERS,        200),
    ep("GET",   "/api/v1/audit",                                                   "/audit",                                         NONE,    READERS,        200),
    ep("POST",  "/api/v1/flows/check",                                             "/flows/check",                                   CHECK,   GATE_ASKERS,    200),
    ep("POST",  "/api/v1/flows",                                                   "/flows",                                         SEND,    GATE_CLIENT,    200),
    ep("GET",   "/api/v1/holdings",                                                "/holdings",                                      NONE,    READERS,        200),
    ep("GET",   "/api/v1/holdings/{holding}",                                      "/holdings/{id}",                                 NONE,    READERS,        200),
    ep("POST",  "/api/v1/legal-holds",                                             "/legal-holds",                                   HOLD,    OFFICERS,       200),
    ep("GET",   "/api/v1/legal-holds",                                             "/legal-holds",                                   NONE,    READERS,        200),
    // A hold that does not exist: the role check comes first, then 404.
    ep("POST",  "/api/v1/legal-holds/0192f0c0-0000-7000-8000-000000000000/release", "/legal-holds/{id}/release",                      REASON,  OFFICERS,       404),
    ep("POST",  "/api/v1/sweep?dry_run=true",                                      "/sweep",                                         NONE,    OFFICERS,       200),
    ep("GET",   "/api/v1/deletions",                                               "/deletions",                                     NONE,    READERS,        200),
    ep("GET",   "/api/v1/deletions/0192f0c0-0000-7000-8000-000000000000",          "/deletions/{id}",                                NONE,    READERS,        404),
    ep("POST",  "/api/v1/deletions/0192f0c0-0000-7000-8000-000000000000/confirm",  "/deletions/{id}/confirm",                        NONE,    OFFICERS,       404),
    ep("GET",   "/api/v1/deletions/0192f0c0-0000-7000-8000-000000000000/certificate", "/deletions/{id}/certificate",                 NONE,    READERS,        404),
    ep("GET",   "/api/v1/calendar.ics",                                            "/calendar.ics",                                  NONE,    READERS,        200),
    ep("GET",   "/api/v1/tokens",                                                  "/tokens",                                        NONE,    ADMIN,          200),
    ep("POST",  "/api/v1/tokens/0192f0c0-0000-7000-8000-000000000000/revoke",      "/tokens/{id}/revoke",                            NONE,    ADMIN,          404),
    // Access requests: made by any token (these answers are incomplete: 422); read by readers
    // or their maker; moved by their maker (404 here: none exists) or by officers.
    ep("POST",  "/api/v1/access-requests",                                         "/access-requests",                               ACCESS,  REQUESTERS,     422),
    ep("GET",   "/api/v1/access-requests",                                         "/access-requests",                               NONE,    READERS,        200),
    ep("GET",   "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000",    "/access-requests/{id}",                          NONE,    ANYONE,         404),
    ep("GET",   "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/messages", "/access-requests/{id}/messages",           NONE,    ANYONE,         404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/messages", "/access-requests/{id}/messages",           MESSAGE, ANYONE,         404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/submit", "/access-requests/{id}/submit",               NONE,    ANYONE,         404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/answer", "/access-requests/{id}/answer",               MESSAGE, ANYONE,         404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/withdraw", "/access-requests/{id}/withdraw",           NONE,    ANYONE,         404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/review", "/access-requests/{id}/review",               NONE,    OFFICERS,       404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/ask", "/access-requests/{id}/ask",                     MESSAGE, OFFICERS,       404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/approve", "/access-requests/{id}/approve",             REASONS, OFFICERS,       404),
    ep("POST",  "/api/v1/access-requests/0192f0c0-0000-7000-8000-000000000000/reject", "/access-requests/{id}/reject",               REASONS, OFFICERS,       404),
    // Handover (metis is hmo-licensing-enforcement's contractor; the contractor token here acts
    // for camden, so it may only search, finding nothing of another party's; its submission
    // reaches the item's lookup: 404 here, none exists).
    ep("GET",   "/api/v1/agreements/hmo-licensing-enforcement/handover",           "/agreements/{id}/handover",                      NONE,    READERS,        200),
    ep("POST",  "/api/v1/agreements/hmo-licensing-enforcement/handover/items",     "/agreements/{id}/handover/items",                ITEM,    OFFICERS,       201),
    ep("GET",   "/api/v1/agreements/hmo-licensing-enforcement/handover/items/0192f0c0-0000-7000-8000-000000000000", "/agreements/{id}/handover/items/{item}", NONE, READERS, 404),
    ep("POST",  "/api/v1/agreements/hmo-licensing-enforcement/handover/items/0192f0c0-0000-7000-8000-000000000000/submissions", "/agreements/{id}/handover/items/{item}/submissions", SUBMISSION, CONTRACTOR, 404),
    ep("GET",   "/api/v1/agreements/hmo-licensing-enforcement/handover/items/0192f0c0-0000-7000-8000-000000000000/attachments/0192f0c0-0000-7000-8000-000000000000", "/agreements/{id}/handover/items/{item}/attachments/{file}", NONE, READERS, 404),
    ep("POST",  "/api/v1/agreements/hmo-licensing-enforcement/handover/items/0192f0c0-0000-7000-8000-000000000000/accept", "/agreements/{id}/handover/items/{item}/accept", EMPTY, OFFICERS, 404),
    ep("POST",  "/api/v1/agreements/hmo-licensing-enforcement/handover/items/0192f0c0-0000-7000-8000-000000000000/return", "/agreements/{id}/handover/items/{item}/return", COMMENTS, OFFICERS, 404),
    ep("POST",  "/api/v1/agreements/hmo-licensing-enforcement/handover/engagements/camden/complete", "/agreements/{id}/handover/engagements/{party}/complete", EMPTY, OFFICERS, 404),
    ep("POST",  "/api/v1/agreements/hmo-licensing-enforcement/handover/engagements/camden/end", "/agreements/{id}/handover/engagements/{party}/end", REASON, OFFICERS, 404),
    ep("GET",   "/api/v1/agreements/hmo-licensing-enforcement/handover/pack",      "/agreements/{id}/handover/pack",                 NONE,    READERS,        200),
    ep("GET",   "/api/v1/handover/search?q=sftp",                                  "/handover/search",                               NONE,    SEARCHERS,      200),
];

/// Endpoints open without a token, on purpose: the emailed one-time link (the token in the link
/// is the credential; tests/everyday/retention.rs proves it works once). They are not in the matrix.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/deletions/confirm"),
    ("POST", "/deletions/confirm"),
];

/// The caller's own target in `{who}` paths: its role as a slug.
fn who(role: Option<Role>) -> String {
    role.map_or_else(|| "anonymous".to_owned(), |r| r.as_str().replace('_', "-"))
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A response, read whole.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    async fn read(resp: reqwest::Response) -> Reply {
        Reply {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    fn request_id(&self) -> String {
        self.header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on a {} response", self.status))
            .to_owned()
    }
}

const WRONG_TOKEN: &str = "acc_0000000000000000000000000000000000000000000000000000000000000000";

/// What the table's `{holding}` stands for.
struct Vars {
    holding: String,
}

impl Default for Vars {
    fn default() -> Vars {
        Vars {
            holding: uuid::Uuid::nil().to_string(),
        }
    }
}

/// Makes a holding the way a partner system does: camden's gate client sends a record.
async fn a_holding(app: &TestApp) -> Vars {
    let client = app.token(Role::GateClient, Some("camden")).await;
    let Body::Json(send) = SEND else {
        unreachable!()
    };
    let r = post(
        app,
        Some(&client),
        "/api/v1/flows",
        "application/json",
        send,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let holding = r.json()["holding_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no holding_id: {}", r.text))
        .to_owned();
    Vars { holding }
}

async fn send_to(
    app: &TestApp,
    vars: &Vars,
    e: &Endpoint,
    role: Option<Role>,
    token: Option<&str>,
) -> Reply {
    let target = who(role);
    let path = e
        .path
        .replace("{who}", &target)
        .replace("{holding}", &vars.holding);
    let method = Method::from_bytes(e.method.as_bytes()).unwrap();
    let mut req = app.http.request(method, app.url(&path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match e.body {
        Body::None => req,
        Body::Json(text) => req.header("content-type", "application/json").body(text),
        Body::Upload(sample) => req
            .header("content-type", "application/yaml")
            .body(support::draft(sample, &format!("up-{target}"))),
    };
    Reply::read(req.send().await.unwrap()).await
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> Reply {
    let mut req = app.http.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::read(req.send().await.unwrap()).await
}

async fn post(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Reply {
    let mut req = app
        .http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::read(req.send().await.unwrap()).await
}

/// Asserts the API's error shape: `status`, JSON, `{"code": code, "message": "..."}`.
fn assert_error(r: &Reply, status: u16, code: &str, context: &str) {
    assert_eq!(r.status, status, "{context}: status (body {:?})", r.text);
    assert_error_shape(r, context);
    assert_eq!(
        r.json()["code"],
        code,
        "{context}: code (body {:?})",
        r.text
    );
}

/// Any error: a JSON object with a string `code` and a non-empty string `message`, and nothing
/// else (bar `diagnostics` for invalid agreements).
fn assert_error_shape(r: &Reply, context: &str) {
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "{context}: content-type {ct:?} (status {}, body {:?})",
        r.status,
        r.text
    );
    let body = r.json();
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("{context}: not an object: {body}"));
    assert!(obj["code"].is_string(), "{context}: code: {body}");
    assert!(
        obj["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{context}: message: {body}"
    );
    let extra: Vec<&String> = obj
        .keys()
        .filter(|k| !["code", "message", "diagnostics"].contains(&k.as_str()))
        .collect();
    assert!(extra.is_empty(), "{context}: unexpected keys {extra:?}");
}

fn assert_unauthorized(r: &Reply, context: &str) {
    assert_error(r, 401, "unauthorized", context);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer"),
        "{context}: www-authenticate"
    );
}

/// A sample under another id, signatures kept (so it is active once stored).
fn renamed(sample: &str, id: &str) -> String {
    let text = std::fs::read_to_string(support::repo().join("agreements").join(sample)).unwrap();
    let old = text
        .lines()
        .find(|l| l.starts_with("id: "))
        .expect("an id line")
        .to_owned();
    text.replacen(&old, &format!("id: {id}"), 1)
}

async fn import_samples(app: &TestApp) {
    let report = app
        .registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    assert_eq!(report.created.len(), 5, "skipped: {:?}", report.skipped);
}

/// One token per role; party-bound roles act for camden.
async fn tokens(app: &TestApp) -> Vec<(Role, String)> {
    let mut out = Vec::new();
    for role in Role::ALL {
        let party = role.needs_party().then_some("camden");
        out.push((role, app.token(role, party).await));
    }
    out
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Every endpoint × role
// ---------------------------------------------------------------------------------------------

async fn every_endpoint_answers_every_role_as_the_matrix_says(app: TestApp) {
    import_samples(&app).await;
    for officer in OFFICERS {
        let id = format!("ctl-{}", who(Some(*officer)));
        let added = app
            .registry
            .add_version(renamed(HOSPITAL, &id).as_bytes(), "test", Origin::Upload)
            .await
            .unwrap();
        assert!(matches!(added, Added::Created(_)));
    }
    let draft = support::draft(FOODBANK, "brent-foodbank");
    let added = app
        .registry
        .add_version(draft.as_bytes(), "test", Origin::Upload)
        .await
        .unwrap();
    assert!(matches!(added, Added::Created(_)));

    let vars = a_holding(&app).await;
    let tokens = tokens(&app).await;
    let mut checked = 0;
    for e in ENDPOINTS {
        let here = format!("{} {}", e.method, e.path);
        let r = send_to(&app, &vars, e, None, None).await;
        assert_unauthorized(&r, &format!("{here} without a token"));
        let r = send_to(&app, &vars, e, None, Some(WRONG_TOKEN)).await;
        assert_unauthorized(&r, &format!("{here} with an unknown token"));
        for (role, token) in &tokens {
            let context = format!("{here} as {role}");
            let r = send_to(&app, &vars, e, Some(*role), Some(token)).await;
            if e.may.contains(role) {
                assert!(
                    r.status != 401 && r.status != 403,
                    "{context}: refused with {} {}",
                    r.status,
                    r.text
                );
                assert_eq!(r.status, e.ok, "{context}: {}", r.text);
            } else {
                assert_error(&r, 403, "forbidden", &context);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ENDPOINTS.len() * Role::ALL.len());
}

/// A role that may not use an operation is refused before the operation reads its body: a
/// malformed body gets the same 403 a well-formed one does, never a 400 that judges it. The one
/// exception is a role the operation admits but whose party the path decides on: a signatory
/// of another party, which only the agreement named in the path can refuse.
async fn a_role_that_may_not_is_refused_before_its_body_is_read(app: TestApp) {
    import_samples(&app).await;
    let tokens = tokens(&app).await;
    let mut checked = 0;
    for e in ENDPOINTS {
        let content_type = match e.body {
            Body::None => continue,
            Body::Json(_) => "application/json",
            Body::Upload(_) => "application/yaml",
        };
        let path = e.path.replace("{holding}", NIL);
        for (role, token) in &tokens {
            let party_decides = *role == Role::Signatory && e.spec.ends_with("/signatures");
            if e.may.contains(role) || party_decides {
                continue;
            }
            let path = path.replace("{who}", &who(Some(*role)));
            let method = Method::from_bytes(e.method.as_bytes()).unwrap();
            let req = app
                .http
                .request(method, app.url(&path))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body("{\"unclosed\": [");
            let r = Reply::read(req.send().await.unwrap()).await;
            assert_error(
                &r,
                403,
                "forbidden",
                &format!("{} {path} as {role}", e.method),
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} refusals checked");
}

/// The matrix's signatory rows in detail: a signatory lists and reads only its party's
/// agreements, whatever it asks for.
async fn a_signatory_sees_only_its_partys_agreements(app: TestApp) {
    import_samples(&app).await;
    let camden = app.token(Role::Signatory, Some("camden")).await;
    let bristol = app.token(Role::Signatory, Some("bristol")).await;
    let auditor = app.token(Role::Auditor, None).await;

    let mine = get(&app, Some(&camden), "/api/v1/agreements").await;
    assert_eq!(mine.status, 200);
    assert_eq!(ids(&mine.json()), ["camden-foodbank-referrals"]);
    assert_eq!(mine.json()["total"], 1);
    let asked = get(&app, Some(&camden), "/api/v1/agreements?party=bristol").await;
    assert_eq!(
        ids(&asked.json()),
        ["camden-foodbank-referrals"],
        "a signatory cannot widen its list with ?party="
    );
    let theirs = get(&app, Some(&bristol), "/api/v1/agreements").await;
    assert_eq!(ids(&theirs.json()), ["vulnerability-hub"]);

    let all = get(&app, Some(&auditor), "/api/v1/agreements").await;
    assert_eq!(
        ids(&all.json()),
        [
            "camden-foodbank-referrals",
            "hmo-licensing-enforcement",
            "hospital-discharge",
            "school-attendance-pooling",
            "vulnerability-hub"
        ]
    );
    let filtered = get(&app, Some(&auditor), "/api/v1/agreements?party=camden").await;
    assert_eq!(ids(&filtered.json()), ["camden-foodbank-referrals"]);

    let read = get(
        &app,
        Some(&camden),
        "/api/v1/agreements/camden-foodbank-referrals",
    )
    .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["id"], "camden-foodbank-referrals");
    let other = get(&app, Some(&camden), "/api/v1/agreements/vulnerability-hub").await;
    assert_error(
        &other,
        403,
        "forbidden",
        "camden's signatory reading the hub",
    );
    let allowed = get(&app, Some(&bristol), "/api/v1/agreements/vulnerability-hub").await;
    assert_eq!(allowed.status, 200, "bristol's signatory reading the hub");

    // A signatory cannot tell an agreement it may not see from one that does not exist.
    let missing = get(&app, Some(&camden), "/api/v1/agreements/no-such-agreement").await;
    assert_error(&missing, 403, "forbidden", "signatory, unknown agreement");
    let missing = get(&app, Some(&auditor), "/api/v1/agreements/no-such-agreement").await;
    assert_error(&missing, 404, "not-found", "auditor, unknown agreement");
}

/// A party that joins in a new draft, as it would be written into the agreement.
const PANTRY: &str = "  - id: islington-pantry
    name: Islington People's Pantry
    role: recipient
    sector: vcs
    ico_registration: ZA481208
    dpo:
      name: Dee Roy
      email: dpo@islingtonpantry.example
    signatory:
      name: Ray Moss
      email: chair@islingtonpantry.example
      title: Chair of Trustees
    deletion:
      method: email
      email: data@islingtonpantry.example
";

/// A party that only a new draft names reads that draft and signs it for itself, and nothing
/// more: not the version in force, which does not name it, nor anyone else's agreement. Once
/// the draft is in force it reads the agreement like any other party to it.
async fn a_party_added_by_a_draft_reads_and_signs_that_draft(app: TestApp) {
    import_samples(&app).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let v2 = support::draft(FOODBANK, "camden-foodbank-referrals").replacen(
        "\npurposes:\n",
        &format!("{PANTRY}\npurposes:\n"),
        1,
    );
    assert!(v2.contains("islington-pantry"), "the party was added");
    let up = post(
        &app,
        Some(&officer),
        "/api/v1/agreements",
        "application/yaml",
        v2.clone(),
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(up.json()["number"], 2);
    assert_eq!(up.json()["status"], "draft");

    let pantry = app.token(Role::Signatory, Some("islington-pantry")).await;
    let t = Some(pantry.as_str());
    let base = "/api/v1/agreements/camden-foodbank-referrals";
    let doc = get(&app, t, &format!("{base}/versions/2")).await;
    assert_eq!(
        doc.status, 200,
        "the draft it is asked to sign: {}",
        doc.text
    );
    assert_eq!(doc.json()["version"]["number"], 2);
    assert_eq!(
        doc.json()["agreement"]["parties"][2]["id"],
        "islington-pantry"
    );
    let source = get(&app, t, &format!("{base}/versions/2/source")).await;
    assert_eq!(source.status, 200);
    assert_eq!(source.text, v2);
    let dpia = get(&app, t, &format!("{base}/dpia?format=md&version=2")).await;
    assert_eq!(dpia.status, 200, "{}", dpia.text);

    for path in [
        format!("{base}/versions/1"),
        format!("{base}/versions/1/source"),
        format!("{base}/diff?from=1&to=2"),
        format!("{base}/dpia"),
        format!("{base}/versions/3"),
        base.to_owned(),
        format!("{base}/versions"),
        "/api/v1/agreements/vulnerability-hub".to_owned(),
        "/api/v1/agreements/vulnerability-hub/versions/1".to_owned(),
    ] {
        let r = get(&app, t, &path).await;
        assert_error(&r, 403, "forbidden", &format!("the pantry reading {path}"));
    }
    let listed = get(&app, t, "/api/v1/agreements").await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        ids(&listed.json()),
        Vec::<String>::new(),
        "its list holds agreements whose version in force names it: none yet"
    );

    let sign = r#"{"name":"Ray Moss"}"#;
    let signed = post(
        &app,
        t,
        &format!("{base}/versions/2/signatures"),
        "application/json",
        sign,
    )
    .await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    assert_eq!(
        signed.json()["awaiting"],
        serde_json::json!(["camden", "foodbank"])
    );
    let again = post(
        &app,
        t,
        &format!("{base}/versions/2/signatures"),
        "application/json",
        sign,
    )
    .await;
    assert_error(&again, 409, "conflict", "the pantry signing twice");
    let elsewhere = post(
        &app,
        t,
        "/api/v1/agreements/vulnerability-hub/versions/1/signatures",
        "application/json",
        sign,
    )
    .await;
    assert_error(&elsewhere, 403, "forbidden", "the pantry signing the hub");

    for party in ["camden", "foodbank"] {
        let signatory = app.token(Role::Signatory, Some(party)).await;
        let r = post(
            &app,
            Some(&signatory),
            &format!("{base}/versions/2/signatures"),
            "application/json",
            sign,
        )
        .await;
        assert_eq!(r.status, 200, "{party} signs: {}", r.text);
    }
    let now = get(&app, t, base).await;
    assert_eq!(now.status, 200, "in force now: {}", now.text);
    assert_eq!(now.json()["current_version"], 2);
    let old = get(&app, t, &format!("{base}/versions/1")).await;
    assert_eq!(
        old.status, 200,
        "a party to the version in force reads its history"
    );
    let listed = get(&app, t, "/api/v1/agreements").await;
    assert_eq!(ids(&listed.json()), ["camden-foodbank-referrals"]);
    let hub = get(&app, t, "/api/v1/agreements/vulnerability-hub").await;
    assert_error(&hub, 403, "forbidden", "the pantry reading the hub, later");
}

/// A party-bound token whose party is gone (mint never makes one; a damaged or hand-edited row
/// could) reads nothing and asks the gate nothing: it fails closed, not open.
async fn a_party_bound_token_without_its_party_is_refused(app: TestApp) {
    use accord::store::entity::api_token;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    import_samples(&app).await;
    let signatory = app.token(Role::Signatory, Some("camden")).await;
    let client = app.token(Role::GateClient, Some("camden")).await;
    let cleared = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::PartyId,
            Expr::value(Option::<String>::None),
        )
        .filter(api_token::Column::Role.is_in(["signatory", "gate_client"]))
        .exec(app.registry.db())
        .await
        .unwrap();
    assert_eq!(cleared.rows_affected, 2);

    let t = Some(signatory.as_str());
    for path in [
        "/api/v1/agreements",
        "/api/v1/agreements?party=camden",
        "/api/v1/agreements/camden-foodbank-referrals",
        "/api/v1/agreements/camden-foodbank-referrals/versions/1",
        "/api/v1/agreements/vulnerability-hub",
    ] {
        let r = get(&app, t, path).await;
        assert_error(
            &r,
            403,
            "forbidden",
            &format!("a signatory without a party: {path}"),
        );
    }
    let Body::Json(check) = CHECK else {
        unreachable!()
    };
    let r = post(
        &app,
        Some(&client),
        "/api/v1/flows/check",
        "application/json",
        check,
    )
    .await;
    assert_error(
        &r,
        403,
        "forbidden",
        "a gate client without a party asking the gate",
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Errors are {code, message}
// ---------------------------------------------------------------------------------------------

async fn every_error_is_json_with_a_code_and_a_message(app: TestApp) {
    import_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    let t = Some(admin.as_str());
    let foodbank = "/api/v1/agreements/camden-foodbank-referrals";

    let r = get(&app, t, "/api/v1/no-such-route").await;
    assert_error(&r, 404, "not-found", "unknown route under /api/v1");
    // Outside the API, an unknown path is a person's mistake: the console answers with a page.
    let r = app
        .http
        .get(app.url("/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    let r = Reply::read(
        app.http
            .delete(app.url("/api/v1/agreements"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 405, "method-not-allowed", "DELETE /api/v1/agreements");
    let r = post(&app, t, "/api/v1/register", "application/json", "{}").await;
    assert_error(&r, 405, "method-not-allowed", "POST /api/v1/register");

    let json = "application/json";
    let r = post(
        &app,
        t,
        "/api/v1/agreements/x/suspend",
        json,
        r#"{"reason":"#,
    )
    .await;
    assert_error(&r, 400, "bad-request", "malformed JSON");
    let r = post(
        &app,
        t,
        &format!("{foodbank}/suspend"),
        json,
        r#"{"reason":"#,
    )
    .await;
    assert_error(&r, 400, "bad-request", "malformed JSON, real agreement");
    let r = post(
        &app,
        t,
        &format!("{foodbank}/suspend"),
        json,
        r#"{"reason": [5]}"#,
    )
    .await;
    assert_error(&r, 400, "bad-request", "an array for a string");
    let r = post(
        &app,
        t,
        &format!("{foodbank}/suspend"),
        json,
        r#"{"reason": null}"#,
    )
    .await;
    assert_error(&r, 400, "bad-request", "null for a string");
    let r = post(&app, t, &format!("{foodbank}/suspend"), json, "{}").await;
    assert_error(&r, 400, "bad-request", "a missing field");
    let r = post(&app, t, &format!("{foodbank}/suspend"), json, "").await;
    assert_error(&r, 400, "bad-request", "an empty body");
    let still = get(&app, t, foodbank).await.json();
    assert_eq!(still["status"], "active", "no bad request suspended it");

    let r = post(&app, t, &format!("{foodbank}/suspend"), "text/plain", "why").await;
    assert_error(
        &r,
        415,
        "unsupported-media-type",
        "text/plain on a JSON endpoint",
    );

    let r = get(&app, t, "/api/v1/agreements/no-such-agreement").await;
    assert_error(&r, 404, "not-found", "unknown agreement");
    let r = get(&app, t, "/api/v1/agreements/no-such-agreement/versions").await;
    assert_error(&r, 404, "not-found", "versions of an unknown agreement");
    let r = get(&app, t, &format!("{foodbank}/versions/99")).await;
    assert_error(&r, 404, "not-found", "unknown version");
    let r = post(
        &app,
        t,
        "/api/v1/agreements/no-such-agreement/suspend",
        json,
        r#"{"reason":"x"}"#,
    )
    .await;
    assert_error(&r, 404, "not-found", "suspending an unknown agreement");

    let r = get(&app, t, &format!("{foodbank}/versions/one")).await;
    assert_error(
        &r,
        400,
        "bad-request",
        "a version number that is not a number",
    );
    let r = get(&app, t, &format!("{foodbank}/diff?from=1")).await;
    assert_error(&r, 400, "bad-request", "diff without `to`");
    let r = get(&app, t, "/api/v1/audit?since=yesterday").await;
    assert_error(&r, 400, "bad-request", "audit since a non-time");

    let pdf = b"%PDF-1.7\n".to_vec();
    let r = post(&app, t, "/api/v1/agreements", "application/pdf", pdf).await;
    assert_error(&r, 415, "unsupported-media-type", "a PDF upload");
    let r = Reply::read(
        app.http
            .post(app.url("/api/v1/agreements"))
            .bearer_auth(&admin)
            .body(support::draft(FOODBANK, "no-content-type"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(
        &r,
        415,
        "unsupported-media-type",
        "an upload without a content type",
    );
    let list = get(&app, t, "/api/v1/agreements").await.json();
    assert_eq!(list["total"], 5, "nothing stored from the PDF");
}

/// A JSON body whose field has the wrong type is refused, not coerced: `{"reason": 5}` must
/// not suspend an agreement "because 5".
async fn a_json_field_of_the_wrong_type_is_400(app: TestApp) {
    import_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    let t = Some(admin.as_str());
    let foodbank = "/api/v1/agreements/camden-foodbank-referrals";
    for body in [r#"{"reason": 5}"#, r#"{"reason": true}"#] {
        let r = post(
            &app,
            t,
            &format!("{foodbank}/suspend"),
            "application/json",
            body,
        )
        .await;
        assert_error(&r, 400, "bad-request", body);
    }
    let still = get(&app, t, foodbank).await.json();
    assert_eq!(
        still["status"], "active",
        "no mistyped request suspended it"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. The body limit counts bytes read
// ---------------------------------------------------------------------------------------------

const SMALL_LIMIT: usize = 4096;

/// `{"reason":"size test"   …   }`: valid JSON of exactly `len` bytes, so only its size can
/// make it fail.
fn padded_reason(len: usize) -> String {
    let head = r#"{"reason":"size test""#;
    let pad = len - head.len() - 1;
    let text = format!("{head}{}}}", " ".repeat(pad));
    assert_eq!(text.len(), len);
    serde_json::from_str::<Value>(&text).unwrap();
    text
}

async fn status_of(app: &TestApp, token: &str, id: &str) -> Value {
    get(app, Some(token), &format!("/api/v1/agreements/{id}"))
        .await
        .json()["status"]
        .clone()
}

async fn a_body_over_the_limit_with_content_length_is_413(app: TestApp) {
    import_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    let t = Some(admin.as_str());
    let suspend = "/api/v1/agreements/camden-foodbank-referrals/suspend";

    let big = "x".repeat(5000);
    let r = post(&app, t, "/api/v1/agreements", "application/yaml", big).await;
    assert_error(&r, 413, "payload-too-large", "5000 bytes of YAML");
    r.request_id();

    let r = post(&app, t, suspend, "application/json", padded_reason(5000)).await;
    assert_error(&r, 413, "payload-too-large", "5000 bytes of JSON");
    let r = post(
        &app,
        t,
        suspend,
        "application/json",
        padded_reason(SMALL_LIMIT + 1),
    )
    .await;
    assert_error(&r, 413, "payload-too-large", "one byte over the limit");
    assert_eq!(
        status_of(&app, &admin, "camden-foodbank-referrals").await,
        "active",
        "no handler ran"
    );

    let r = post(
        &app,
        t,
        suspend,
        "application/json",
        padded_reason(SMALL_LIMIT),
    )
    .await;
    assert_eq!(r.status, 200, "exactly the limit: {}", r.text);
    assert_eq!(
        status_of(&app, &admin, "camden-foodbank-referrals").await,
        "suspended"
    );
}

/// A response read off a raw socket.
struct RawReply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl RawReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// POSTs `chunks` with `Transfer-Encoding: chunked` and no Content-Length, written by hand so
/// nothing on the client side can add a length.
async fn post_chunked(app: &TestApp, token: &str, path: &str, chunks: &[&[u8]]) -> RawReply {
    let addr = app.base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    for chunk in chunks {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        // The server may answer 413 and stop reading before the end; that is the point.
        if sock.write_all(&frame).await.is_err() {
            break;
        }
        sock.flush().await.ok();
    }
    sock.write_all(b"0\r\n\r\n").await.ok();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
            .await
            .expect("the server answers within 10 s");
        match read {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if !raw.is_empty() => {
                eprintln!("read after the response: {e}");
                break;
            }
            Err(e) => panic!("no response: {e}"),
        }
    }
    parse_raw(&raw)
}

fn parse_raw(raw: &[u8]) -> RawReply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.push_str(&after[..size]);
            rest = &after[size + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    RawReply {
        status,
        headers,
        body,
    }
}

async fn a_chunked_body_over_the_limit_is_413(app: TestApp) {
    import_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    let suspend = "/api/v1/agreements/camden-foodbank-referrals/suspend";

    let big = padded_reason(5000);
    let chunks: Vec<&[u8]> = big.as_bytes().chunks(1000).collect();
    let r = post_chunked(&app, &admin, suspend, &chunks).await;
    assert_eq!(r.status, 413, "5000 chunked bytes: {}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.headers
    );
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["code"], "payload-too-large");
    assert!(body["message"].is_string());
    assert!(r.header("x-request-id").is_some());
    assert_eq!(
        status_of(&app, &admin, "camden-foodbank-referrals").await,
        "active",
        "no handler ran"
    );

    let small = padded_reason(3000);
    let chunks: Vec<&[u8]> = small.as_bytes().chunks(1000).collect();
    let r = post_chunked(&app, &admin, suspend, &chunks).await;
    assert_eq!(r.status, 200, "3000 chunked bytes: {}", r.body);
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["control"], "suspended");
    assert_eq!(
        status_of(&app, &admin, "camden-foodbank-referrals").await,
        "suspended"
    );
}

/// A body over the limit on a kept-alive connection: the server answers 413 before reading the
/// rest, so it must say `Connection: close` and close, or a client reusing the connection sends
/// its next request into a closing socket (and gets no answer at all).
async fn a_body_over_the_limit_closes_its_connection(app: TestApp) {
    let admin = app.token(Role::Admin, None).await;
    let addr = app.base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let length = SMALL_LIMIT * 100;
    let head = format!(
        "POST /api/v1/agreements HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/yaml\r\nContent-Length: {length}\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    // More than the limit, less than the whole: the server has its reason to stop reading.
    sock.write_all(&vec![b'#'; SMALL_LIMIT * 2]).await.unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = loop {
        let read = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
            .await
            .expect("the server answers, then closes, within 10 s");
        match read {
            Ok(0) => break true,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A reset once the answer is in is a close too.
            Err(_) if !raw.is_empty() => break true,
            Err(e) => panic!("no response: {e}"),
        }
    };
    let r = parse_raw(&raw);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.header("connection"), Some("close"), "{:?}", r.headers);
    assert!(closed);
    assert!(r.body.contains("payload-too-large"), "{}", r.body);

    // Within the limit, the connection stays open for the next request.
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    while raw.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
            .await
            .expect("two answers within 10 s")
            .unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
}

/// Like `on_both_databases!`, but the app takes bodies of at most `SMALL_LIMIT` bytes.
macro_rules! with_a_small_body_limit {
    ($($case:ident),* $(,)?) => {
        mod small_body_limit {
            use crate::support::app::{Backend, TestApp};
            async fn start(backend: Backend) -> TestApp {
                let settings = accord::settings::Settings { max_body: super::SMALL_LIMIT, ..Default::default() };
                TestApp::start_with(backend, settings).await
            }
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        super::super::$case(super::start(super::Backend::Sqlite).await).await
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        super::super::$case(super::start(super::Backend::Postgres).await).await
                    }
                )*
            }
        }
    };
}

with_a_small_body_limit!(
    a_body_over_the_limit_with_content_length_is_413,
    a_chunked_body_over_the_limit_is_413,
    a_body_over_the_limit_closes_its_connection,
);

// ---------------------------------------------------------------------------------------------
// 4. Request ids
// ---------------------------------------------------------------------------------------------

async fn every_response_has_its_own_request_id(app: TestApp) {
    import_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    let auditor = app.token(Role::Auditor, None).await;
    let t = Some(admin.as_str());
    let mut replies = vec![
        get(&app, None, "/healthz").await,
        get(&app, None, "/healthz").await,
        get(&app, None, "/api/v1/openapi.json").await,
        get(&app, None, "/api/docs/").await,
        get(&app, None, "/api/v1/agreements").await,
        get(&app, Some(WRONG_TOKEN), "/api/v1/agreements").await,
        get(&app, Some(&auditor), "/api/v1/agreements/x/versions/one").await,
        get(&app, t, "/api/v1/no-such-route").await,
        get(&app, t, "/api/v1/agreements/no-such-agreement").await,
        post(&app, t, "/api/v1/register", "application/json", "{}").await,
        post(
            &app,
            t,
            "/api/v1/agreements/x/suspend",
            "application/json",
            r#"{"reason":"#,
        )
        .await,
        post(&app, t, "/api/v1/agreements", "application/pdf", "%PDF").await,
    ];
    let vars = a_holding(&app).await;
    for e in ENDPOINTS {
        replies.push(send_to(&app, &vars, e, Some(Role::Admin), t).await);
        replies.push(send_to(&app, &vars, e, Some(Role::Auditor), Some(&auditor)).await);
    }
    let statuses: BTreeSet<u16> = replies.iter().map(|r| r.status).collect();
    for s in [200, 201, 400, 401, 403, 404, 405] {
        assert!(statuses.contains(&s), "no {s} among {statuses:?}");
    }
    let mut seen = HashSet::new();
    for r in &replies {
        let id = r.request_id();
        assert!(
            uuid::Uuid::parse_str(&id).is_ok(),
            "request id {id:?} is not a UUID"
        );
        assert!(seen.insert(id.clone()), "request id {id} used twice");
    }
    assert_eq!(seen.len(), replies.len());
}

// ---------------------------------------------------------------------------------------------
// 5. OpenAPI, Swagger UI, health
// ---------------------------------------------------------------------------------------------

async fn the_openapi_document_lists_exactly_the_endpoints_in_the_matrix(app: TestApp) {
    let r = get(&app, None, "/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.header("content-type")
    );
    let doc = r.json();
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi {version:?}");
    // The schema states the limits the service checks: a field id's length (in characters,
    // as the gate counts them), and an access request's e-mail address.
    let schemas = &doc["components"]["schemas"];
    for name in ["CheckRequest", "SendRequest"] {
        assert_eq!(
            schemas[name]["properties"]["fields"]["items"]["maxLength"], 200,
            "{name}: {}",
            schemas[name]
        );
    }
    let email = &schemas["NewAccessRequest"]["properties"]["email"];
    assert_eq!(email["maxLength"], 254, "{email}");
    assert!(
        email["pattern"].as_str().is_some_and(|p| p.contains('@')),
        "{email}"
    );
    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let tested: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|e| (e.method.to_owned(), e.spec.to_owned()))
        .chain(PUBLIC.iter().map(|(m, p)| (m.to_string(), p.to_string())))
        .collect();
    let untested: Vec<_> = documented.difference(&tested).collect();
    let undocumented: Vec<_> = tested.difference(&documented).collect();
    assert!(
        untested.is_empty(),
        "documented, not in the matrix: {untested:?}"
    );
    assert!(
        undocumented.is_empty(),
        "in the matrix, not documented: {undocumented:?}"
    );
    // A body may miss its deadline on any operation that takes one (section 7).
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("requestBody").is_some() {
                let answer = &op["responses"]["408"];
                assert_eq!(
                    answer["content"]["application/json; charset=utf-8"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{method} {path}: {answer}"
                );
            }
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert!(
        schemes
            .as_object()
            .is_some_and(|s| s.values().any(|v| v["scheme"] == "bearer")),
        "a bearer security scheme: {schemes}"
    );
}

async fn swagger_ui_and_health_need_no_token(app: TestApp) {
    let r = get(&app, None, "/api/docs/").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        r.header("content-type")
    );
    assert!(r.text.to_lowercase().contains("swagger"), "{}", r.text);

    let r = get(&app, None, "/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "ok");
}

// ---------------------------------------------------------------------------------------------
// 6. JSON logs from the real binary
// ---------------------------------------------------------------------------------------------

async fn the_binary_logs_json_lines_carrying_the_request_id(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let database = match app.backend {
        Backend::Sqlite => format!("sqlite://{}/a.db?mode=rwc", dir.path().display()),
        Backend::Postgres => support::app::fresh_database(Backend::Postgres, dir.path()).await,
    };
    let agreements = support::repo().join("agreements");
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
        .arg("--agreements")
        .arg(&agreements)
        .arg("--log-json")
        .current_dir(support::repo())
        .env_remove("RUST_LOG")
        .env_remove("ACCORD_LOG_JSON")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start accord serve");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();

    // The watchdog kills the server when told to, or after 30 s whatever happens.
    let (stop, stopped) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let _ = stopped.recv_timeout(Duration::from_secs(30));
        child.kill().ok();
        child.wait().ok();
    });
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).ok();
        let _ = line_tx.send(line);
    });
    let (log_tx, log_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        BufReader::new(stderr).read_to_string(&mut text).ok();
        let _ = log_tx.send(text);
    });

    let first = tokio::task::spawn_blocking(move || line_rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap();
    let outcome = match first {
        Ok(line) => match line.trim().strip_prefix("accord listening on ") {
            Some(base) => {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                http.get(format!("{base}/healthz"))
                    .send()
                    .await
                    .map(|r| {
                        (
                            r.status().as_u16(),
                            r.headers().get("x-request-id").cloned(),
                        )
                    })
                    .map_err(|e| e.to_string())
            }
            None => Err(format!("unexpected first line {line:?}")),
        },
        Err(_) => Err("the server did not say where it listens within 30 s".to_owned()),
    };
    let _ = stop.send(());
    tokio::task::spawn_blocking(move || watchdog.join())
        .await
        .unwrap()
        .unwrap();
    let logs = tokio::task::spawn_blocking(move || log_rx.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("stderr closes once the server is killed");

    let (status, id) = outcome.unwrap_or_else(|e| panic!("{e}\nstderr:\n{logs}"));
    assert_eq!(status, 200);
    let id = id.expect("x-request-id").to_str().unwrap().to_owned();

    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {l:?}"));
            assert!(v.is_object(), "a log line that is not an object: {l}");
            assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
            v
        })
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "listening"),
        "no 'listening' line in:\n{logs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "agreements imported"),
        "the import ran (hundreds of SQL statements):\n{logs}"
    );
    let statements: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("sqlx") || t.starts_with("sea_orm"))
        })
        .collect();
    assert!(
        statements.is_empty(),
        "per-statement logging is off by default: {statements:?}"
    );
    let carries = |l: &Value| {
        l["span"]["id"] == id.as_str()
            || l["spans"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["id"] == id.as_str()))
    };
    let answered: Vec<&Value> = lines.iter().filter(|l| carries(l)).collect();
    assert!(
        !answered.is_empty(),
        "no log line carries request id {id}:\n{logs}"
    );
    let line = answered
        .iter()
        .find(|l| l["fields"]["message"] == "answered")
        .unwrap_or_else(|| panic!("no 'answered' line for {id}:\n{logs}"));
    assert_eq!(line["fields"]["status"], 200, "{line}");
    assert_eq!(line["span"]["path"], "/healthz", "{line}");
    assert_eq!(line["span"]["method"], "GET", "{line}");
}

// ---------------------------------------------------------------------------------------------
// 7. Slow clients and the connection cap
// ---------------------------------------------------------------------------------------------

/// How long after a deadline a test waits for its effect: scheduling on a busy machine, not a
/// grace the server gives.
const SLACK: Duration = Duration::from_secs(3);

/// The settings of the tests below: deadlines of a second or two, so the tests wait no longer.
fn short_limits() -> Limits {
    Limits {
        header_timeout_secs: 1,
        body_timeout_secs: 1,
        idle_timeout_secs: 2,
        ..Limits::default()
    }
}

/// A raw connection to the app, kept open until dropped.
async fn connect(app: &TestApp) -> tokio::net::TcpStream {
    let addr = app.base.trim_start_matches("http://");
    tokio::net::TcpStream::connect(addr).await.unwrap()
}

/// Reads until the server closes the connection (an end of file, or a reset), failing if it is
/// still open after `limit`: how long that took, and what the server sent before closing.
async fn read_until_closed(
    sock: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: Duration,
) -> (Duration, Vec<u8>) {
    let started = std::time::Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        let read = tokio::time::timeout(left, sock.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "still open after {limit:?}, having sent {:?}",
                    String::from_utf8_lossy(&raw)
                )
            });
        match read {
            Ok(0) | Err(_) => return (started.elapsed(), raw),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one answer to `GET /healthz` off a kept-alive connection, within `limit`.
async fn read_health(sock: &mut tokio::net::TcpStream, limit: Duration) -> RawReply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    while !raw.ends_with(b"\r\n\r\nok") && !raw.ends_with(b"\r\n0\r\n\r\n") {
        let n = tokio::time::timeout(limit, sock.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no answer within {limit:?}"))
            .unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
    parse_raw(&raw)
}

fn health_request(app: &TestApp) -> String {
    let addr = app.base.trim_start_matches("http://");
    format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n")
}

/// A slow loris: a head sent a byte at a time, slower than the header timeout allows, is cut
/// off at the timeout (it would take 12 s to finish), and so is a connection that sends nothing
/// at all. Neither gets an answer.
async fn a_head_sent_a_byte_at_a_time_is_cut_off_at_the_header_timeout(app: TestApp) {
    let timeout = Duration::from_secs(short_limits().header_timeout_secs);
    let (mut reader, mut writer) = connect(&app).await.into_split();
    let head = health_request(&app).replace("\r\n\r\n", "\r\nX-Slow: 1234567890\r\n\r\n");
    let trickle = tokio::spawn(async move {
        for byte in head.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let (open_for, sent) = read_until_closed(&mut reader, timeout + SLACK).await;
    assert!(
        open_for >= timeout - Duration::from_millis(100),
        "{open_for:?}"
    );
    assert!(sent.is_empty(), "{:?}", String::from_utf8_lossy(&sent));
    trickle.abort();

    let mut silent = connect(&app).await;
    let (open_for, sent) = read_until_closed(&mut silent, timeout + SLACK).await;
    assert!(
        open_for >= timeout - Duration::from_millis(100),
        "{open_for:?}"
    );
    assert!(sent.is_empty(), "{:?}", String::from_utf8_lossy(&sent));
}

/// A kept-alive connection waits for its next request for the idle timeout (longer than the
/// header timeout: waiting is not sending slowly), then is closed.
async fn a_kept_alive_connection_is_closed_at_the_idle_timeout(app: TestApp) {
    let limits = short_limits();
    let (header, idle) = (
        Duration::from_secs(limits.header_timeout_secs),
        Duration::from_secs(limits.idle_timeout_secs),
    );
    let mut sock = connect(&app).await;
    sock.write_all(health_request(&app).as_bytes())
        .await
        .unwrap();
    let r = read_health(&mut sock, SLACK).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    // Past the header timeout, within the idle timeout: the connection still serves.
    tokio::time::sleep(header + Duration::from_millis(500)).await;
    sock.write_all(health_request(&app).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_health(&mut sock, SLACK).await.status, 200);
    let (open_for, sent) = read_until_closed(&mut sock, idle + SLACK).await;
    assert!(
        open_for >= idle - Duration::from_millis(100),
        "{open_for:?}"
    );
    assert!(sent.is_empty(), "{:?}", String::from_utf8_lossy(&sent));
}

/// A body still arriving at the body timeout is answered 408 with `Connection: close`, and the
/// connection closed. What had arrived is a whole JSON body, but the body had not ended (no
/// last chunk), so no handler ran: the agreement is not suspended.
async fn a_body_sent_slowly_is_answered_408_and_its_connection_closed(app: TestApp) {
    import_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    let timeout = Duration::from_secs(short_limits().body_timeout_secs);
    let addr = app.base.trim_start_matches("http://").to_owned();
    let (mut reader, mut writer) = connect(&app).await.into_split();
    let head = format!(
        "POST /api/v1/agreements/camden-foodbank-referrals/suspend HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {admin}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let json = r#"{"reason":"a slow body"}"#;
    writer
        .write_all(format!("{head}{:x}\r\n{json}\r\n", json.len()).as_bytes())
        .await
        .unwrap();
    // Then a space (JSON allows it) every 200 ms, never the last chunk.
    let trickle = tokio::spawn(async move {
        while writer.write_all(b"1\r\n \r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let (took, sent) = read_until_closed(&mut reader, timeout + SLACK).await;
    trickle.abort();
    assert!(took >= timeout - Duration::from_millis(100), "{took:?}");
    let r = parse_raw(&sent);
    assert_eq!(r.status, 408, "{}", r.body);
    assert_eq!(r.header("connection"), Some("close"), "{:?}", r.headers);
    assert!(r.header("x-request-id").is_some(), "{:?}", r.headers);
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["code"], "request-timeout", "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(
        status_of(&app, &admin, "camden-foodbank-referrals").await,
        "active",
        "no handler ran"
    );
}

/// Past `max_connections`, a new connection waits unanswered until one closes, while a
/// connection already in is served as ever; and a slow client holds its place only until its
/// header timeout, so the connections waiting behind it are served.
async fn connections_past_the_cap_wait_until_one_closes(app: TestApp) {
    let header = Duration::from_secs(CAP_LIMITS.header_timeout_secs);
    let request = health_request(&app);
    let mut kept = connect(&app).await;
    kept.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_health(&mut kept, SLACK).await.status, 200);
    // Two slow clients take the other places.
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /hea").await.unwrap();
    let slower_since = std::time::Instant::now();
    let mut slower = connect(&app).await;
    slower.write_all(b"GET /hea").await.unwrap();

    let mut waiting = connect(&app).await;
    waiting.write_all(request.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), waiting.read(&mut buf)).await;
    assert!(early.is_err(), "answered past the cap: {early:?}");
    // A connection already in is served meanwhile.
    kept.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_health(&mut kept, SLACK).await.status, 200);

    drop(slow);
    assert_eq!(read_health(&mut waiting, SLACK).await.status, 200);

    // Full again (kept, slower, waiting); the next waits until the slower client's header
    // timeout frees its place, not for as long as the slower client likes.
    let mut next = connect(&app).await;
    next.write_all(request.as_bytes()).await.unwrap();
    let early = tokio::time::timeout(Duration::from_millis(500), next.read(&mut buf)).await;
    assert!(early.is_err(), "answered past the cap: {early:?}");
    assert_eq!(read_health(&mut next, header + SLACK).await.status, 200);
    assert!(
        slower_since.elapsed() >= header - Duration::from_millis(100),
        "{:?}",
        slower_since.elapsed()
    );
    let (_, sent) = read_until_closed(&mut slower, SLACK).await;
    assert!(sent.is_empty(), "{:?}", String::from_utf8_lossy(&sent));
}

/// The cap test's settings: three connections, and a header timeout long enough to see a
/// connection wait behind the slow clients' places.
const CAP_LIMITS: Limits = Limits {
    header_timeout_secs: 3,
    body_timeout_secs: 60,
    idle_timeout_secs: 60,
    max_connections: 3,
};

/// Runs each case on SQLite with `limits`: they are the server's, the database plays no part.
macro_rules! with_limits {
    ($module:ident, $limits:expr, $($case:ident),* $(,)?) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let settings = accord::settings::Settings {
                        connections: $limits,
                        ..Default::default()
                    };
                    let app = super::TestApp::start_with(super::Backend::Sqlite, settings).await;
                    super::$case(app).await
                }
            )*
        }
    };
}

with_limits!(
    short_timeouts,
    super::short_limits(),
    a_head_sent_a_byte_at_a_time_is_cut_off_at_the_header_timeout,
    a_kept_alive_connection_is_closed_at_the_idle_timeout,
    a_body_sent_slowly_is_answered_408_and_its_connection_closed,
);

with_limits!(
    three_connections,
    super::CAP_LIMITS,
    connections_past_the_cap_wait_until_one_closes,
);

on_both_databases!(
    every_endpoint_answers_every_role_as_the_matrix_says,
    a_role_that_may_not_is_refused_before_its_body_is_read,
    a_signatory_sees_only_its_partys_agreements,
    a_party_added_by_a_draft_reads_and_signs_that_draft,
    a_party_bound_token_without_its_party_is_refused,
    every_error_is_json_with_a_code_and_a_message,
    a_json_field_of_the_wrong_type_is_400,
    every_response_has_its_own_request_id,
    the_openapi_document_lists_exactly_the_endpoints_in_the_matrix,
    swagger_ui_and_health_need_no_token,
    the_binary_logs_json_lines_carrying_the_request_id,
);
