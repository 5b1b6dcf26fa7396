//! Retention enforced end to end: holdings past their date are asked back from their holders —
//! by a real webhook receiver (HMAC-checked) and by email with a one-time link — unless a legal
//! hold keeps them; confirmations yield certificates with no personal data; failures retry and
//! escalate. Time moves by the injected clock, never by sleeping.

use crate::support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use accord::auth::Role;
use accord::retention::WebhookSecrets;
use accord::retention::webhook::signature;
use accord::settings::Settings;
use accord::store::entity::outbox_message;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Request, Response, Route, Server, handler, post, web::Data};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::app::{Backend, TestApp};

const SECRET: &str = "camden-hook-secret-0123456789";
const AGREEMENT: &str = "sweep-test";
/// Long enough that an error naming the URL is longer than a diagnostic's 60 characters.
const HOOK_PATH: &str = "/partner-systems/data-protection/deletion-requests";

/// A partner's deletion endpoint: checks the signature, counts calls, can be told to fail, to
/// take its time, or to have an officer confirm the request by hand before it answers.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<AtomicUsize>,
    good_signatures: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
    slow: Arc<AtomicBool>,
    /// A confirmation URL and an officer's token, posted (once) before answering.
    confirm_first: Arc<Mutex<Option<(String, String)>>>,
}

#[handler]
async fn hook(req: &Request, body: poem::Body, Data(r): Data<&Receiver>) -> Response {
    r.calls.fetch_add(1, Ordering::SeqCst);
    let bytes = body.into_vec().await.unwrap_or_default();
    let sig = req.header("x-accord-signature").unwrap_or_default();
    if sig == signature(SECRET, &bytes) {
        r.good_signatures.fetch_add(1, Ordering::SeqCst);
    }
    if r.slow.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let confirm = r.confirm_first.lock().unwrap().take();
    if let Some((url, token)) = confirm {
        let by_hand = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(by_hand.status(), 200, "the officer's confirmation");
    }
    if r.failing.load(Ordering::SeqCst) {
        return Response::builder()
            .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
            .finish();
    }
    let id = req
        .header("x-accord-request-id")
        .unwrap_or_default()
        .to_owned();
    Response::builder()
        .content_type("application/json")
        .body(json!({ "request_id": id }).to_string())
}

async fn receiver() -> (String, Receiver) {
    let r = Receiver::default();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].to_string();
    let url = format!("http://{}{HOOK_PATH}", addr.trim_start_matches("socket://"));
    let app = Route::new().at(HOOK_PATH, post(hook)).data(r.clone());
    tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });
    (url, r)
}

async fn start(backend: Backend) -> (TestApp, Receiver, String) {
    let (url, rx) = receiver().await;
    let settings = Settings {
        webhook_secrets: WebhookSecrets::parse(&format!("camden={SECRET}")).unwrap(),
        ..Settings::default()
    };
    let app = TestApp::start_with(backend, settings).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let text =
        std::fs::read_to_string(support::repo().join("agreements/camden-foodbank-referrals.yaml"))
            .unwrap();
    let yaml = text
        .replacen(
            "id: camden-foodbank-referrals",
            &format!("id: {AGREEMENT}"),
            1,
        )
        .replace("https://accord-hooks.camden.example/deletions", &url);
    assert_eq!(app.import_yaml(&yaml).await["status"], "active");
    (app, rx, officer)
}

async fn send(
    app: &TestApp,
    from: &str,
    to: &str,
    purpose: &str,
    fields: &[&str],
    refs: &[&str],
) -> Value {
    let token = app.token(Role::GateClient, Some(from)).await;
    let records: Vec<Value> = refs
        .iter()
        .map(|_| fields.iter().map(|f| (f.to_string(), json!("x"))).collect())
        .collect();
    let body = json!({ "agreement": AGREEMENT, "from": from, "to": to, "purpose": purpose, "fields": fields,
                       "records": records, "subject_refs": refs });
    let resp = app.post_json(&token, "/api/v1/flows", body).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

fn later(app: &TestApp, when: &str) {
    app.clock.set(when.parse().unwrap());
}

async fn sweep(app: &TestApp, officer: &str) -> Value {
    let resp = app
        .http
        .post(app.url("/api/v1/sweep"))
        .bearer_auth(officer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn due_holdings_are_asked_back_unless_held(app_rx: (TestApp, Receiver, String)) {
    let (app, rx, officer) = app_rx;
    let referral = send(
        &app,
        "camden",
        "foodbank",
        "food-parcels",
        &["full-name", "address"],
        &["R-1", "R-2"],
    )
    .await;
    let kept = send(
        &app,
        "camden",
        "foodbank",
        "food-parcels",
        &["full-name"],
        &["R-9"],
    )
    .await;
    let outcome = send(
        &app,
        "foodbank",
        "camden",
        "referral-follow-up",
        &["parcel-outcome"],
        &["R-1"],
    )
    .await;
    let hold = app
        .post_json(&officer, "/api/v1/legal-holds", json!({ "kind": "sar", "reason": "subject access request", "scope": { "subject_ref": "R-9" } }))
        .await;
    assert_eq!(hold.status(), 200);
    let hold_id = json_of(hold).await["id"].as_str().unwrap().to_owned();

    later(&app, "2027-01-01T09:00:00Z");
    let nothing = sweep(&app, &officer).await;
    assert_eq!(
        nothing["requests"],
        json!([]),
        "nothing is due before its date"
    );

    later(&app, "2029-01-02T09:00:00Z");
    let dry = app
        .http
        .post(app.url("/api/v1/sweep?dry_run=true"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(dry).await["requests"].as_array().unwrap().len(), 2);
    let report = sweep(&app, &officer).await;
    let requests = report["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{report}");
    assert_eq!(report["held"][0]["holding_id"], kept["holding_id"]);
    assert_eq!(report["held"][0]["legal_holds"], json!([hold_id]));
    assert_eq!(
        (
            report["webhooks_sent"].as_i64(),
            report["confirmed"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        rx.good_signatures.load(Ordering::SeqCst),
        1,
        "the webhook was signed with camden's secret"
    );

    let by_webhook = requests.iter().find(|r| r["method"] == "webhook").unwrap();
    assert_eq!(by_webhook["holder"], "camden");
    assert_eq!(by_webhook["action"], "anonymise");
    let id = by_webhook["request_id"].as_str().unwrap();
    let cert = json_of(
        app.get(&officer, &format!("/api/v1/deletions/{id}/certificate"))
            .await,
    )
    .await;
    assert_eq!(cert["data_classes"], json!(["parcel-outcome"]));
    assert_eq!(
        (
            cert["record_count"].as_i64(),
            cert["subject_count"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(cert["confirmed_by"].as_str().unwrap().contains("webhook"));
    assert!(
        !cert.to_string().contains("R-1"),
        "no personal data in a certificate"
    );
    let holding = json_of(
        app.get(
            &officer,
            &format!(
                "/api/v1/holdings/{}",
                outcome["holding_id"].as_str().unwrap()
            ),
        )
        .await,
    )
    .await;
    assert_eq!(holding["state"], "deleted");
    assert_eq!(cert["method"], "webhook");
    assert_eq!(
        (&cert["received_from"], &cert["received_to"]),
        (&holding["received_at"], &holding["received_at"]),
        "one holding: received from and to its receipt"
    );
    assert_eq!(
        cert["requested_at"], "2029-01-02T09:00:00.000000Z",
        "requested by the sweep, at its time"
    );

    let by_email = requests.iter().find(|r| r["method"] == "email").unwrap();
    let email_id = by_email["request_id"].as_str().unwrap().to_owned();
    let pending = app
        .get(
            &officer,
            &format!("/api/v1/deletions/{email_id}/certificate"),
        )
        .await;
    assert_eq!(pending.status(), 409, "no certificate before confirmation");
    let mail = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq("deletion-request"))
        .one(app.registry.db())
        .await
        .unwrap()
        .expect("a deletion request email is queued");
    assert_eq!(mail.to_addr, "data@camdenfoodbank.example");
    for line in [
        "  Flow:        referral (purpose: food-parcels)\n",
        "  Fields:      address and full-name\n",
        "  Records:     2\n",
        "  Received on: 21 November 2026\n",
    ] {
        assert!(
            mail.text_body.contains(line),
            "the email says what it covers ({line:?}): {}",
            mail.text_body
        );
    }
    let token = mail
        .text_body
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let page = app
        .http
        .get(app.url(&format!("/api/v1/deletions/confirm?token={token}")))
        .send()
        .await
        .unwrap();
    assert!(
        page.text().await.unwrap().contains("<form method=post"),
        "opening the link does not confirm"
    );
    assert_eq!(
        json_of(
            app.get(&officer, &format!("/api/v1/deletions/{email_id}"))
                .await
        )
        .await["status"],
        "requested"
    );
    let confirm = || {
        app.http
            .post(app.url("/api/v1/deletions/confirm"))
            .form(&[("token", token.as_str())])
            .send()
    };
    assert_eq!(confirm().await.unwrap().status(), 200);
    assert_eq!(
        confirm().await.unwrap().status(),
        404,
        "the link works once"
    );
    let done = json_of(
        app.get(&officer, &format!("/api/v1/deletions/{email_id}"))
            .await,
    )
    .await;
    assert_eq!(done["status"], "deleted");
    assert!(
        done["holdings"]
            .as_array()
            .unwrap()
            .contains(&referral["holding_id"])
    );
    let html = app
        .get(
            &officer,
            &format!("/api/v1/deletions/{email_id}/certificate?format=html"),
        )
        .await;
    assert!(
        html.text()
            .await
            .unwrap()
            .contains("Certificate of deletion")
    );
    for format in ["xml", "pdf", "HTML", ""] {
        let resp = app
            .get(
                &officer,
                &format!("/api/v1/deletions/{email_id}/certificate?format={format}"),
            )
            .await;
        assert_eq!(resp.status(), 400, "{format:?}");
        let b = json_of(resp).await;
        assert_eq!(b["code"], "bad-request", "{format:?}");
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .contains("parameter `format`"),
            "{format:?}: {b}"
        );
    }

    let held = json_of(
        app.get(
            &officer,
            &format!("/api/v1/holdings/{}", kept["holding_id"].as_str().unwrap()),
        )
        .await,
    )
    .await;
    assert_eq!(held["state"], "held", "a held holding is never deleted");
    app.post_json(
        &officer,
        &format!("/api/v1/legal-holds/{hold_id}/release"),
        json!({ "reason": "SAR answered" }),
    )
    .await;
    let after = sweep(&app, &officer).await;
    assert_eq!(
        after["requests"].as_array().unwrap().len(),
        1,
        "released, it is asked back"
    );
    let log = json_of(
        app.get(&officer, "/api/v1/audit?action=deletion.held")
            .await,
    )
    .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
}

async fn failing_webhooks_retry_then_escalate(app_rx: (TestApp, Receiver, String)) {
    let (app, rx, officer) = app_rx;
    rx.failing.store(true, Ordering::SeqCst);
    send(
        &app,
        "foodbank",
        "camden",
        "referral-follow-up",
        &["parcel-outcome"],
        &["R-1"],
    )
    .await;
    later(&app, "2029-01-02T09:00:00Z");
    let first = sweep(&app, &officer).await;
    assert_eq!(
        (first["webhooks_sent"].as_i64(), first["confirmed"].as_i64()),
        (Some(1), Some(0))
    );
    let again = sweep(&app, &officer).await;
    assert_eq!(again["webhooks_sent"], 0, "backoff: not retried at once");
    let mut minutes = 0;
    for _ in 0..5 {
        minutes += 120;
        later(
            &app,
            &format!("2029-01-02T{:02}:{:02}:00Z", 9 + minutes / 60, minutes % 60),
        );
        sweep(&app, &officer).await;
    }
    let escalated = json_of(
        app.get(&officer, "/api/v1/deletions?status=escalated")
            .await,
    )
    .await;
    assert_eq!(escalated.as_array().unwrap().len(), 1, "{escalated}");
    assert_eq!(escalated[0]["attempts"], 5);
    let last_error = escalated[0]["last_error"].as_str().unwrap();
    assert!(
        last_error.contains(HOOK_PATH) && last_error.ends_with("answered 503 Service Unavailable"),
        "the cause is kept whole: {last_error}"
    );
    let holding = escalated[0]["holdings"][0].as_str().unwrap();
    let state = json_of(
        app.get(&officer, &format!("/api/v1/holdings/{holding}"))
            .await,
    )
    .await;
    assert_eq!(
        state["state"], "escalated",
        "the holding shows the escalation"
    );
    assert!(rx.calls.load(Ordering::SeqCst) >= 5);
    let mail = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq("escalation"))
        .all(app.registry.db())
        .await
        .unwrap();
    let mut to: Vec<&str> = mail.iter().map(|m| m.to_addr.as_str()).collect();
    to.sort();
    let expected = [
        "dataprotection@camdenfoodbank.example",
        "dpo@camden.example",
        "priya.shah@camden.example",
    ];
    assert_eq!(to, expected, "the owner and each DPO, once");
}

async fn manual_requests_are_confirmed_by_an_officer_and_the_calendar_shows_due_dates(
    app_rx: (TestApp, Receiver, String),
) {
    let (app, _rx, officer) = app_rx;
    let ics = app.get(&officer, "/api/v1/calendar.ics").await;
    assert_eq!(
        ics.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    send(
        &app,
        "camden",
        "foodbank",
        "food-parcels",
        &["full-name"],
        &["R-5"],
    )
    .await;
    let text = app
        .get(&officer, "/api/v1/calendar.ics")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("SUMMARY:Deletion due: foodbank (sweep-test)\r\n"),
        "{text}"
    );
    assert!(text.contains("SUMMARY:Term ends: Emergency food support referrals\r\n"));
    assert!(
        text.contains("DTSTART;VALUE=DATE:20270521\r\n"),
        "six months after 2026-11-21"
    );
    let text =
        std::fs::read_to_string(support::repo().join("agreements/camden-foodbank-referrals.yaml"))
            .unwrap();
    let manual = text
        .replacen("id: camden-foodbank-referrals", "id: manual-test", 1)
        .replace(
            "    deletion:\n      method: email\n      email: data@camdenfoodbank.example\n",
            "",
        );
    assert!(
        !manual.contains("data@camdenfoodbank.example"),
        "the foodbank now declares no method: manual"
    );
    assert_eq!(app.import_yaml(&manual).await["status"], "active");
    let token = app.token(Role::GateClient, Some("camden")).await;
    let body = json!({ "agreement": "manual-test", "from": "camden", "to": "foodbank", "purpose": "food-parcels",
                       "fields": ["full-name"], "records": [{ "full-name": "x" }] });
    let mut received = Vec::new();
    for when in [None, Some("2026-11-25T10:30:00Z")] {
        if let Some(when) = when {
            later(&app, when);
        }
        let resp = app.post_json(&token, "/api/v1/flows", body.clone()).await;
        assert_eq!(resp.status(), 200);
        let holding = json_of(resp).await["holding_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let holding = json_of(
            app.get(&officer, &format!("/api/v1/holdings/{holding}"))
                .await,
        )
        .await;
        received.push(holding["received_at"].clone());
    }
    assert_eq!(received[1], "2026-11-25T10:30:00.000000Z");
    later(&app, "2027-06-01T09:00:00Z");
    sweep(&app, &officer).await;
    let tasks = json_of(
        app.get(&officer, "/api/v1/deletions?method=manual&status=requested")
            .await,
    )
    .await;
    assert_eq!(
        tasks.as_array().unwrap().len(),
        1,
        "a task on the owner's list: {tasks}"
    );
    let id = tasks[0]["id"].as_str().unwrap();
    later(&app, "2027-06-02T10:00:00Z");
    let signatory = app.token(Role::Signatory, Some("foodbank")).await;
    let path = format!("/api/v1/deletions/{id}/confirm");
    assert_eq!(
        app.http
            .post(app.url(&path))
            .bearer_auth(&signatory)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let done = json_of(
        app.http
            .post(app.url(&path))
            .bearer_auth(&officer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(done["status"], "deleted");
    assert!(
        done["confirmed_by"]
            .as_str()
            .unwrap()
            .contains("ig_officer")
    );
    let cert = json_of(
        app.get(&officer, &format!("/api/v1/deletions/{id}/certificate"))
            .await,
    )
    .await;
    assert_eq!(cert["method"], "manual");
    assert_eq!(cert["record_count"], 2, "{cert}");
    assert_eq!(
        (&cert["received_from"], &cert["received_to"]),
        (&received[0], &received[1]),
        "the earliest and the latest receipt"
    );
    assert_eq!(
        (&cert["requested_at"], &cert["confirmed_at"]),
        (
            &json!("2027-06-01T09:00:00.000000Z"),
            &json!("2027-06-02T10:00:00.000000Z")
        ),
        "asked by the sweep, confirmed by the officer the next day"
    );
    assert_eq!(cert["confirmed_by"], done["confirmed_by"]);
    let auditor = app.token(Role::Auditor, None).await;
    let gate = app.token(Role::GateClient, Some("camden")).await;
    assert_eq!(app.get(&gate, "/api/v1/calendar.ics").await.status(), 403);
    let forbidden = app
        .http
        .post(app.url("/api/v1/sweep"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403, "auditors change nothing");
}

/// Two sweeps at once, the receiver slow to answer: the request is posted once, by the sweep
/// that claimed it, and neither sweep fails.
async fn overlapping_sweeps_post_each_webhook_once(app_rx: (TestApp, Receiver, String)) {
    let (app, rx, officer) = app_rx;
    send(
        &app,
        "foodbank",
        "camden",
        "referral-follow-up",
        &["parcel-outcome"],
        &["R-1"],
    )
    .await;
    later(&app, "2029-01-02T09:00:00Z");
    rx.slow.store(true, Ordering::SeqCst);
    let (a, b) = tokio::join!(sweep(&app, &officer), sweep(&app, &officer));
    assert_eq!(rx.calls.load(Ordering::SeqCst), 1, "posted once: {a} {b}");
    let count = |key: &str| a[key].as_i64().unwrap() + b[key].as_i64().unwrap();
    assert_eq!((count("webhooks_sent"), count("confirmed")), (1, 1));
    let done = json_of(app.get(&officer, "/api/v1/deletions?status=deleted").await).await;
    assert_eq!(done.as_array().unwrap().len(), 1, "{done}");
    let log = json_of(
        app.get(&officer, "/api/v1/audit?action=deletion.confirmed")
            .await,
    )
    .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "confirmed once");
}

/// An officer confirms a failing webhook request by hand while its fifth attempt is under way:
/// the failure that follows records nothing, so the request stays deleted, not escalated.
async fn a_confirmation_made_during_a_failing_attempt_stands(app_rx: (TestApp, Receiver, String)) {
    let (app, rx, officer) = app_rx;
    rx.failing.store(true, Ordering::SeqCst);
    let outcome = send(
        &app,
        "foodbank",
        "camden",
        "referral-follow-up",
        &["parcel-outcome"],
        &["R-1"],
    )
    .await;
    later(&app, "2029-01-02T09:00:00Z");
    sweep(&app, &officer).await;
    for hour in 11..=13 {
        later(&app, &format!("2029-01-02T{hour}:00:00Z"));
        sweep(&app, &officer).await;
    }
    let open = json_of(app.get(&officer, "/api/v1/deletions?method=webhook").await).await;
    assert_eq!(
        (open[0]["status"].as_str(), open[0]["attempts"].as_i64()),
        (Some("requested"), Some(4)),
        "{open}"
    );
    let id = open[0]["id"].as_str().unwrap().to_owned();
    *rx.confirm_first.lock().unwrap() = Some((
        app.url(&format!("/api/v1/deletions/{id}/confirm")),
        officer.clone(),
    ));
    later(&app, "2029-01-02T15:00:00Z");
    let fifth = sweep(&app, &officer).await;
    assert_eq!(rx.calls.load(Ordering::SeqCst), 5);
    assert_eq!(fifth["escalated"], 0, "{fifth}");
    let request = json_of(app.get(&officer, &format!("/api/v1/deletions/{id}")).await).await;
    assert_eq!(request["status"], "deleted", "{request}");
    assert_eq!(request["attempts"], 4, "the late failure is not counted");
    assert!(
        request["confirmed_by"]
            .as_str()
            .unwrap()
            .contains("ig_officer")
    );
    let holding = outcome["holding_id"].as_str().unwrap();
    let state = json_of(
        app.get(&officer, &format!("/api/v1/holdings/{holding}"))
            .await,
    )
    .await;
    assert_eq!(state["state"], "deleted");
    let escalations = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq("escalation"))
        .all(app.registry.db())
        .await
        .unwrap();
    assert!(escalations.is_empty(), "no escalation mail");
    let log = json_of(
        app.get(&officer, "/api/v1/audit?action=deletion.escalated")
            .await,
    )
    .await;
    assert_eq!(log["items"], json!([]));
}

/// The holder answers yes to a request an officer confirmed by hand while it was being posted:
/// the request is already done, and the sweep carries on rather than fail with a conflict.
async fn a_webhook_answer_after_a_confirmation_by_hand_is_not_an_error(
    app_rx: (TestApp, Receiver, String),
) {
    let (app, rx, officer) = app_rx;
    rx.failing.store(true, Ordering::SeqCst);
    send(
        &app,
        "foodbank",
        "camden",
        "referral-follow-up",
        &["parcel-outcome"],
        &["R-1"],
    )
    .await;
    later(&app, "2029-01-02T09:00:00Z");
    sweep(&app, &officer).await;
    let open = json_of(app.get(&officer, "/api/v1/deletions?method=webhook").await).await;
    let id = open[0]["id"].as_str().unwrap().to_owned();
    rx.failing.store(false, Ordering::SeqCst);
    *rx.confirm_first.lock().unwrap() = Some((
        app.url(&format!("/api/v1/deletions/{id}/confirm")),
        officer.clone(),
    ));
    later(&app, "2029-01-02T11:00:00Z");
    let second = sweep(&app, &officer).await;
    assert_eq!(
        (
            second["webhooks_sent"].as_i64(),
            second["confirmed"].as_i64()
        ),
        (Some(1), Some(0)),
        "{second}"
    );
    let request = json_of(app.get(&officer, &format!("/api/v1/deletions/{id}")).await).await;
    assert_eq!(request["status"], "deleted");
    assert!(
        request["confirmed_by"]
            .as_str()
            .unwrap()
            .contains("ig_officer"),
        "the first confirmation stands: {request}"
    );
}

async fn place_hold(app: &TestApp, officer: &str, scope: Value) -> String {
    let hold = app
        .post_json(
            officer,
            "/api/v1/legal-holds",
            json!({ "kind": "litigation", "reason": "claim filed", "scope": scope }),
        )
        .await;
    assert_eq!(hold.status(), 200);
    json_of(hold).await["id"].as_str().unwrap().to_owned()
}

async fn release_hold(app: &TestApp, officer: &str, hold: &str) {
    let released = app
        .post_json(
            officer,
            &format!("/api/v1/legal-holds/{hold}/release"),
            json!({ "reason": "claim settled" }),
        )
        .await;
    assert_eq!(released.status(), 200);
}

/// A legal hold placed after a deletion request was made: while it is in force, neither an
/// officer nor the emailed link can confirm the request (409, audited), and its holding stays
/// as it was; once released, the confirmation goes through.
async fn a_hold_placed_after_the_request_stops_its_confirmation(
    app_rx: (TestApp, Receiver, String),
) {
    let (app, _rx, officer) = app_rx;
    let referral = send(
        &app,
        "camden",
        "foodbank",
        "food-parcels",
        &["full-name"],
        &["R-3"],
    )
    .await;
    let holding = referral["holding_id"].as_str().unwrap();
    later(&app, "2029-01-02T09:00:00Z");
    sweep(&app, &officer).await;
    let open = json_of(app.get(&officer, "/api/v1/deletions?method=email").await).await;
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    let id = open[0]["id"].as_str().unwrap().to_owned();
    let hold = place_hold(&app, &officer, json!({ "subject_ref": "R-3" })).await;

    let path = format!("/api/v1/deletions/{id}/confirm");
    let by_officer = app
        .http
        .post(app.url(&path))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(by_officer.status(), 409);
    let refusal = json_of(by_officer).await;
    assert!(
        refusal["message"].as_str().unwrap().contains(&hold),
        "the refusal names the hold: {refusal}"
    );
    let mail = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq("deletion-request"))
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    let token = mail.text_body.split("token=").nth(1).unwrap();
    let token = token.split_whitespace().next().unwrap();
    let by_link = app
        .http
        .post(app.url("/api/v1/deletions/confirm"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(by_link.status(), 409);
    let request = json_of(app.get(&officer, &format!("/api/v1/deletions/{id}")).await).await;
    assert_eq!(request["status"], "requested");
    let state = json_of(
        app.get(&officer, &format!("/api/v1/holdings/{holding}"))
            .await,
    )
    .await;
    assert_eq!(state["state"], "deletion_requested");
    let refused = json_of(
        app.get(&officer, "/api/v1/audit?action=deletion.confirm_refused")
            .await,
    )
    .await;
    assert_eq!(refused["items"].as_array().unwrap().len(), 2, "{refused}");

    release_hold(&app, &officer, &hold).await;
    let done = app
        .http
        .post(app.url(&path))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(json_of(done).await["status"], "deleted");
    let state = json_of(
        app.get(&officer, &format!("/api/v1/holdings/{holding}"))
            .await,
    )
    .await;
    assert_eq!(state["state"], "deleted");
}

/// A webhook request whose holding a hold now covers is not posted again until it is released.
async fn a_held_webhook_request_waits_for_the_release(app_rx: (TestApp, Receiver, String)) {
    let (app, rx, officer) = app_rx;
    rx.failing.store(true, Ordering::SeqCst);
    let outcome = send(
        &app,
        "foodbank",
        "camden",
        "referral-follow-up",
        &["parcel-outcome"],
        &["R-1"],
    )
    .await;
    later(&app, "2029-01-02T09:00:00Z");
    sweep(&app, &officer).await;
    assert_eq!(rx.calls.load(Ordering::SeqCst), 1);
    let hold = place_hold(&app, &officer, json!({ "party": "camden" })).await;
    rx.failing.store(false, Ordering::SeqCst);
    later(&app, "2029-01-02T11:00:00Z");
    let held = sweep(&app, &officer).await;
    assert_eq!(rx.calls.load(Ordering::SeqCst), 1, "not posted: {held}");
    assert_eq!(held["webhooks_sent"], 0);
    release_hold(&app, &officer, &hold).await;
    later(&app, "2029-01-02T12:00:00Z");
    let released = sweep(&app, &officer).await;
    assert_eq!(rx.calls.load(Ordering::SeqCst), 2, "{released}");
    assert_eq!(released["confirmed"], 1);
    let holding = outcome["holding_id"].as_str().unwrap();
    let state = json_of(
        app.get(&officer, &format!("/api/v1/holdings/{holding}"))
            .await,
    )
    .await;
    assert_eq!(state["state"], "deleted");
}

/// A hold's scope names what exists: an unknown agreement or party is a 404, a blank value a
/// 400, and nothing refused is stored. Ids are trimmed.
async fn a_hold_must_name_an_agreement_or_party_that_exists(app_rx: (TestApp, Receiver, String)) {
    let (app, _rx, officer) = app_rx;
    let place = |scope: Value| {
        app.post_json(
            &officer,
            "/api/v1/legal-holds",
            json!({ "kind": "litigation", "reason": "claim filed", "scope": scope }),
        )
    };
    for (scope, status) in [
        (json!({ "agreement": "sweep-tset" }), 404),
        (json!({ "party": "foodbnak" }), 404),
        (json!({ "agreement": AGREEMENT, "party": "nhs-trust" }), 404),
        (json!({ "agreement": "" }), 400),
        (json!({ "party": "  " }), 400),
        (json!({ "subject_ref": "" }), 400),
        (
            json!({ "agreement": AGREEMENT, "subject_ref": "R".repeat(201) }),
            400,
        ),
        (json!({}), 400),
    ] {
        let resp = place(scope.clone()).await;
        assert_eq!(resp.status(), status, "{scope}");
    }
    let holds = json_of(app.get(&officer, "/api/v1/legal-holds").await).await;
    assert_eq!(holds, json!([]), "nothing refused is stored");

    let placed =
        place(json!({ "agreement": format!(" {AGREEMENT} "), "party": "foodbank " })).await;
    assert_eq!(placed.status(), 200);
    let placed = json_of(placed).await;
    assert_eq!(
        (&placed["scope"]["agreement"], &placed["scope"]["party"]),
        (&json!(AGREEMENT), &json!("foodbank")),
        "{placed}"
    );
    let by_party = place(json!({ "party": "camden" })).await;
    assert_eq!(by_party.status(), 200);

    // The API states the bound in its schema (inputs::SubjectRef::MAX); the console takes the
    // scope through the same rule (inputs::HoldScope) and says what is wrong at each field.
    let long = place(json!({ "agreement": AGREEMENT, "subject_ref": "R".repeat(201) })).await;
    let said = json_of(long).await;
    assert!(
        said["message"]
            .as_str()
            .unwrap()
            .contains("at most 200 characters"),
        "{said}"
    );
    let officer_page = support::web::signed_in(&app, Role::IgOfficer, None).await;
    let csrf = officer_page.get("/holds/new").await.csrf();
    let form = |agreement: &str, party: &str, subject: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("step", "check".to_owned()),
            ("kind", "litigation".to_owned()),
            ("reason", "claim filed".to_owned()),
            ("agreement", agreement.to_owned()),
            ("party", party.to_owned()),
            ("subject", subject.to_owned()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let page = &officer_page;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            page.post("/holds/new", &fields).await
        }
    };
    let nothing = post(form("", " ", "")).await;
    assert_eq!(nothing.status, 400);
    assert!(
        nothing.body.contains("href=\"#agreement\"")
            && nothing.body.contains(
                "Enter what the hold keeps: an agreement, a party or a subject reference"
            ),
        "{}",
        nothing.body
    );
    let too_long = post(form(AGREEMENT, &"p".repeat(201), "")).await;
    assert_eq!(too_long.status, 400);
    assert!(
        too_long.body.contains("href=\"#party\"")
            && too_long
                .body
                .contains("The party must be 200 characters or fewer"),
        "{}",
        too_long.body
    );
    let holds = json_of(app.get(&officer, "/api/v1/legal-holds").await).await;
    assert_eq!(
        holds.as_array().unwrap().len(),
        2,
        "only the two placed above"
    );
}

/// A holding whose version cannot be read makes the sweep fail, so it is tried again on the
/// next run: nothing is recorded, least of all a request by the wrong method (`manual`).
async fn a_sweep_that_cannot_read_a_version_records_nothing(app_rx: (TestApp, Receiver, String)) {
    use sea_orm::ActiveValue::Set;
    let (app, rx, officer) = app_rx;
    let mut ids = Vec::new();
    for version in [1, 99] {
        let mut row = support::holding_row(
            "2026-01-01T00:00:00.000000Z",
            "2026-06-01T00:00:00.000000Z",
            1,
        );
        row.agreement_id = Set(AGREEMENT.into());
        row.version = Set(version);
        ids.push(row.id.clone().unwrap());
        accord::store::entity::holding::Entity::insert(row)
            .exec_without_returning(app.registry.db())
            .await
            .unwrap();
    }
    let resp = app
        .http
        .post(app.url("/api/v1/sweep"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let body = json_of(resp).await;
    assert_eq!(body["code"], "internal", "{body}");
    assert_eq!(
        json_of(app.get(&officer, "/api/v1/deletions").await).await,
        json!([]),
        "no request recorded"
    );
    for id in ids {
        let holding = json_of(app.get(&officer, &format!("/api/v1/holdings/{id}")).await).await;
        assert_eq!(holding["state"], "held", "{holding}");
    }
    assert_eq!(rx.calls.load(Ordering::SeqCst), 0);
}

/// Outlook subscribes by URL and sends no header: the feed takes a reader's token as
/// `?token=`, the same feed as with the header; a wrong token there is a 401, none at all a
/// 401, and a token whose role may not read it a 403.
async fn the_calendar_feed_takes_its_token_in_the_url(app_rx: (TestApp, Receiver, String)) {
    let (app, _rx, _officer) = app_rx;
    send(
        &app,
        "camden",
        "foodbank",
        "food-parcels",
        &["full-name"],
        &["R-5"],
    )
    .await;
    let auditor = app.token(Role::Auditor, None).await;
    let by_header = app.get(&auditor, "/api/v1/calendar.ics").await;
    assert_eq!(by_header.status(), 200);
    let by_header = by_header.text().await.unwrap();
    let feed = |query: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url(&format!("/api/v1/calendar.ics{query}")))
                .send()
                .await
                .unwrap()
        }
    };
    let resp = feed(format!("?token={auditor}")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let by_url = resp.text().await.unwrap();
    assert!(
        by_url.contains("SUMMARY:Deletion due: foodbank (sweep-test)\r\n"),
        "{by_url}"
    );
    assert_eq!(by_url, by_header, "the same feed either way");

    let wrong = "acc_0000000000000000000000000000000000000000000000000000000000000000";
    for query in [
        format!("?token={wrong}"),
        "?token=".to_owned(),
        String::new(),
    ] {
        let resp = feed(query.clone()).await;
        assert_eq!(resp.status(), 401, "{query:?}");
        assert_eq!(json_of(resp).await["code"], "unauthorized", "{query:?}");
    }
    let gate = app.token(Role::GateClient, Some("camden")).await;
    let resp = feed(format!("?token={gate}")).await;
    assert_eq!(resp.status(), 403, "a gate client reads no calendar");
    assert_eq!(json_of(resp).await["code"], "forbidden");
}

/// A hold is placed only when whole: no scope, an unknown kind, or a blank, missing or
/// over-long reason is a 400 and stores nothing. A hold records who placed it and who released
/// it as their actor text; it is released once (409 after, 404 for no such hold); `?active=true`
/// lists only the holds in force, newest first.
async fn legal_holds_are_placed_whole_released_once_and_listed(
    app_rx: (TestApp, Receiver, String),
) {
    use accord::clock::Clock;
    let (app, _rx, _officer) = app_rx;
    let mint = |role: Role, name: &'static str| {
        let app = &app;
        async move {
            let now = app.clock.now();
            accord::auth::mint(app.registry.db(), now, role, name, None, "test")
                .await
                .unwrap()
                .0
        }
    };
    let priya = mint(Role::IgOfficer, "Priya Shah").await;
    let sam = mint(Role::Admin, "Sam Okafor").await;
    let scope = json!({ "agreement": AGREEMENT });
    for body in [
        json!({ "kind": "litigation", "reason": "claim filed" }),
        json!({ "kind": "litigation", "reason": "claim filed", "scope": null }),
        json!({ "kind": "lawsuit", "reason": "claim filed", "scope": scope }),
        json!({ "reason": "claim filed", "scope": scope }),
        json!({ "kind": "litigation", "reason": "   ", "scope": scope }),
        json!({ "kind": "litigation", "reason": "", "scope": scope }),
        json!({ "kind": "litigation", "scope": scope }),
        json!({ "kind": "litigation", "reason": "é".repeat(2001), "scope": scope }),
    ] {
        let resp = app
            .post_json(&priya, "/api/v1/legal-holds", body.clone())
            .await;
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(json_of(resp).await["code"], "bad-request", "{body}");
    }
    let holds = json_of(app.get(&priya, "/api/v1/legal-holds").await).await;
    assert_eq!(holds, json!([]), "nothing refused is stored");

    let place = |token: &String, body: Value| {
        let (app, token) = (&app, token.clone());
        async move { app.post_json(&token, "/api/v1/legal-holds", body).await }
    };
    let first = place(
        &priya,
        json!({ "kind": "litigation", "reason": "claim filed", "scope": scope }),
    )
    .await;
    assert_eq!(first.status(), 200);
    let first = json_of(first).await;
    assert_eq!(
        (&first["kind"], &first["placed_by"]),
        (&json!("litigation"), &json!("Priya Shah (ig_officer)"))
    );
    assert_eq!(
        (&first["released_at"], &first["released_by"]),
        (&Value::Null, &Value::Null)
    );
    later(&app, "2026-11-22T09:00:00Z");
    let second = place(
        &sam,
        json!({ "kind": "foi", "reason": "FOI request 1234", "scope": { "party": "camden" } }),
    )
    .await;
    assert_eq!(second.status(), 200);
    let second = json_of(second).await;
    assert_eq!(second["placed_by"], "Sam Okafor (admin)");
    let (first_id, second_id) = (
        first["id"].as_str().unwrap().to_owned(),
        second["id"].as_str().unwrap().to_owned(),
    );

    let release = |token: &String, id: &str, reason: &str| {
        let (app, token) = (&app, token.clone());
        let path = format!("/api/v1/legal-holds/{id}/release");
        let body = json!({ "reason": reason });
        async move { app.post_json(&token, &path, body).await }
    };
    let blank = release(&priya, &second_id, "  ").await;
    assert_eq!(blank.status(), 400, "a release needs a reason too");
    later(&app, "2026-11-23T09:00:00Z");
    let released = release(&sam, &first_id, "claim settled").await;
    assert_eq!(released.status(), 200);
    let released = json_of(released).await;
    assert_eq!(
        (
            &released["released_by"],
            &released["release_reason"],
            &released["released_at"]
        ),
        (
            &json!("Sam Okafor (admin)"),
            &json!("claim settled"),
            &json!("2026-11-23T09:00:00.000000Z")
        )
    );
    assert_eq!(
        released["placed_by"], "Priya Shah (ig_officer)",
        "unchanged"
    );
    let again = release(&priya, &first_id, "settled again").await;
    assert_eq!(again.status(), 409, "released once");
    assert_eq!(json_of(again).await["code"], "conflict");
    let nothing = release(&priya, &uuid::Uuid::now_v7().to_string(), "x").await;
    assert_eq!(nothing.status(), 404);
    assert_eq!(json_of(nothing).await["code"], "not-found");

    let listed = |query: &'static str| {
        let (app, priya) = (&app, &priya);
        async move {
            let resp = app.get(priya, &format!("/api/v1/legal-holds{query}")).await;
            assert_eq!(resp.status(), 200, "{query}");
            let holds = json_of(resp).await;
            holds
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["id"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(
        listed("?active=true").await,
        [second_id.as_str()],
        "only the hold in force"
    );
    let both = [second_id.clone(), first_id.clone()];
    assert_eq!(listed("").await, both, "every hold, newest first");
    assert_eq!(listed("?active=false").await, both);
    let all = json_of(app.get(&priya, "/api/v1/legal-holds").await).await;
    assert_eq!(
        (&all[1]["released_by"], &all[0]["released_by"]),
        (&json!("Sam Okafor (admin)"), &Value::Null),
        "the refused second release changed nothing"
    );

    let log = json_of(
        app.get(
            &priya,
            &format!("/api/v1/audit?subject=legal_hold:{first_id}"),
        )
        .await,
    )
    .await;
    let done: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        done,
        [
            ("legal_hold.placed", "Priya Shah (ig_officer)"),
            ("legal_hold.released", "Sam Okafor (admin)")
        ]
    );
}

macro_rules! both {
    ($($case:ident),*) => {
        mod sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::start(super::Backend::Sqlite).await).await } )* }
        mod postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::start(super::Backend::Postgres).await).await } )* }
    };
}

both!(
    due_holdings_are_asked_back_unless_held,
    failing_webhooks_retry_then_escalate,
    manual_requests_are_confirmed_by_an_officer_and_the_calendar_shows_due_dates,
    a_sweep_that_cannot_read_a_version_records_nothing,
    overlapping_sweeps_post_each_webhook_once,
    a_confirmation_made_during_a_failing_attempt_stands,
    a_webhook_answer_after_a_confirmation_by_hand_is_not_an_error,
    a_hold_placed_after_the_request_stops_its_confirmation,
    a_held_webhook_request_waits_for_the_release,
    a_hold_must_name_an_agreement_or_party_that_exists,
    the_calendar_feed_takes_its_token_in_the_url,
    legal_holds_are_placed_whole_released_once_and_listed
);
