//! Contractor handover over HTTP, on SQLite and on PostgreSQL: the contractor submits, the
//! officer returns and accepts, every role is checked, secret-looking text and bad attachments
//! are refused with nothing stored, search finds accepted knowledge, the knowledge pack holds
//! it, completion needs every item or a waiver; then, on a moved clock, reminders and the
//! escalation reach a real SMTP server on loopback, and the contractor's access ends by itself
//! at the end of its engagement.

use crate::support;

use std::time::{Duration, Instant};

use accord::auth::Role;
use accord::mail::{DEFAULT_FROM, Mailer, Transport};
use accord::store::entity::{
    audit_record, handover_attachment, handover_item, handover_submission, holding,
};
use base64::Engine;
use jiff::civil::date;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::Digest;
use support::app::TestApp;
use support::smtp::SmtpServer;

const HMO: &str = "hmo-licensing-enforcement";

async fn with_samples(app: &TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
}

fn item_id(view: &Value, key: &str) -> String {
    view["engagements"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no item {key} in {view}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn stored_submissions(app: &TestApp) -> u64 {
    handover_submission::Entity::find()
        .count(app.registry.db())
        .await
        .unwrap()
}

async fn audited(app: &TestApp, action: &str) -> Vec<audit_record::Model> {
    audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq(action))
        .all(app.registry.db())
        .await
        .unwrap()
}

async fn items_of(app: &TestApp, agreement: &str) -> Vec<handover_item::Model> {
    handover_item::Entity::find()
        .filter(handover_item::Column::AgreementId.eq(agreement))
        .all(app.registry.db())
        .await
        .unwrap()
}

/// The items an agreement owes its contractors are written when its version comes into force,
/// in that transaction and with an audit record, never when someone reads them: every page and
/// answer that shows items leaves the rows as they are. An agreement in force without its rows
/// (as in a database from before this rule) gets them from the next change, here the job.
async fn items_are_written_when_a_version_comes_into_force_never_on_a_read(app: TestApp) {
    use support::web::signed_in;
    with_samples(&app).await;
    let before_any_read = items_of(&app, HMO).await;
    assert!(
        before_any_read
            .iter()
            .any(|i| i.item_key == "matching-runbook"),
        "{before_any_read:?}"
    );
    let declared = audited(&app, "handover.items_declared").await;
    let hmo = declared
        .iter()
        .find(|r| r.subject == format!("agreement:{HMO}"))
        .expect("the activation's record");
    assert!(
        hmo.details
            .contains(&format!("\"created\":{}", before_any_read.len())),
        "{}",
        hmo.details
    );

    handover_item::Entity::delete_many()
        .filter(handover_item::Column::AgreementId.eq(HMO))
        .exec(app.registry.db())
        .await
        .unwrap();
    let metis = signed_in(&app, Role::Contractor, Some("metis")).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    for page in ["/", "/handover"] {
        assert_eq!(metis.get(page).await.status, 200, "{page}");
    }
    for page in [
        "/",
        "/handover".to_owned().as_str(),
        &format!("/agreements/{HMO}/handover"),
    ] {
        assert_eq!(officer.get(page).await.status, 200, "{page}");
    }
    let auditor = app.token(Role::Auditor, None).await;
    for path in [
        format!("/api/v1/agreements/{HMO}/handover"),
        "/api/v1/calendar.ics".to_owned(),
    ] {
        assert_eq!(app.get(&auditor, &path).await.status(), 200, "{path}");
    }
    assert!(items_of(&app, HMO).await.is_empty(), "a read wrote items");

    app.app.handover.enforce_or_try(false).await.unwrap();
    let again = items_of(&app, HMO).await;
    assert_eq!(again.len(), before_any_read.len());
    assert_eq!(
        audited(&app, "handover.items_declared").await.len(),
        declared.len() + 1
    );
}

const RUNBOOK: &str = "# Monthly matching run\n\nThe attendance extract is produced on the first working day by the council's MIS team and dropped on the SFTP server.\n\nWe decided to match on UPRN because addresses vary.\n";

async fn the_contractor_hands_over_and_the_officer_reviews(app: TestApp) {
    with_samples(&app).await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    let other = app.token(Role::Contractor, Some("newham")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let auditor = app.token(Role::Auditor, None).await;
    let gate = app.token(Role::GateClient, Some("metis")).await;
    let signatory = app.token(Role::Signatory, Some("newham")).await;
    let path = format!("/api/v1/agreements/{HMO}/handover");

    // Who may read.
    for (who, status) in [
        (&metis, 200),
        (&officer, 200),
        (&auditor, 200),
        (&other, 403),
        (&gate, 403),
        (&signatory, 403),
    ] {
        assert_eq!(app.get(who, &path).await.status(), status);
    }
    let unauthenticated = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let unknown = app.get(&metis, "/api/v1/agreements/no-such/handover").await;
    assert_eq!(unknown.status(), 403, "a contractor cannot probe for ids");
    let view = json_of(app.get(&metis, &path).await).await;
    // An item is named by its id or by its declared key.
    let by_key = app
        .get(&metis, &format!("{path}/items/matching-runbook"))
        .await;
    assert_eq!(by_key.status(), 200);
    let by_key = json_of(by_key).await;
    let named = by_key["item"]["id"].as_str().or(by_key["id"].as_str());
    assert_eq!(
        named,
        Some(item_id(&view, "matching-runbook").as_str()),
        "{by_key}"
    );
    let missing = app
        .get(&officer, &format!("{path}/items/no-such-item"))
        .await;
    assert_eq!(missing.status(), 404);
    assert!(
        json_of(missing).await["message"]
            .as_str()
            .unwrap()
            .contains("no handover item has the id or key 'no-such-item'")
    );
    let e = &view["engagements"][0];
    assert_eq!(e["party_id"], "metis");
    assert_eq!(e["engagement_end"], "2027-03-31");
    let keys: Vec<&str> = e["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    for k in [
        "matching-runbook",
        "revoke-sftp-access",
        "deletion-certificate",
        "contacts",
        "open-risks-and-incidents",
        "pending-changes",
    ] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    assert_eq!(e["accepted"], 0);
    let feed = app
        .get(&auditor, "/api/v1/calendar.ics")
        .await
        .text()
        .await
        .unwrap();
    let unfolded = feed.replace("\r\n ", "");
    assert!(
        unfolded.contains("SUMMARY:Handover due: Runbook for the monthly matching run"),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("DTSTART;VALUE=DATE:20270226"),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("SUMMARY:Engagement ends: metis (hmo-licensing-enforcement)"),
        "{unfolded}"
    );
    let runbook = item_id(&view, "matching-runbook");
    let revoke = item_id(&view, "revoke-sftp-access");
    let submit = |item: &str| format!("{path}/items/{item}/submissions");

    // Only the contractor submits, and only its own.
    for who in [&officer, &other, &auditor, &gate] {
        let r = app
            .post_json(who, &submit(&runbook), json!({ "body": RUNBOOK }))
            .await;
        assert_eq!(r.status(), 403);
    }
    // Secrets are refused and nothing is stored.
    let key = "Deploy with key q8Zr2LmX7vNc4TpW9sKd3YbH for the SFTP drop";
    let r = app
        .post_json(&metis, &submit(&runbook), json!({ "body": key }))
        .await;
    assert_eq!(r.status(), 422);
    let body = json_of(r).await;
    assert_eq!(body["problems"][0]["field"], "body");
    let message = body["problems"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("line 1") && message.contains("never the secret itself"),
        "{message}"
    );
    assert!(
        !body.to_string().contains("q8Zr2LmX"),
        "the secret is not echoed"
    );
    let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
    let r = app.post_json(&metis, &submit(&revoke), json!({ "body": pem, "credentials": [{"account": "sftp", "rotated_by": "IT", "done_on": "2026-11-20"}] })).await;
    assert_eq!(r.status(), 422);
    let r = app.post_json(&metis, &submit(&revoke), json!({ "body": "All revoked.", "credentials": [{"account": "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "rotated_by": "IT", "done_on": "2026-11-20"}] })).await;
    assert_eq!(r.status(), 422, "a secret in a credential's row too");
    // An access-revocation item needs its credentials; others refuse them.
    let r = app
        .post_json(&metis, &submit(&revoke), json!({ "body": "All revoked." }))
        .await;
    assert_eq!(r.status(), 400);
    let r = app.post_json(&metis, &submit(&runbook), json!({ "body": "x", "credentials": [{"account": "a", "rotated_by": "b", "done_on": "2026-11-20"}] })).await;
    assert_eq!(r.status(), 400);
    // Attachments over the cap, or of a refused type: 413 and 415, nothing stored.
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let big = vec![b'a'; 600 * 1024];
    let r = app.post_json(&metis, &submit(&runbook), json!({ "body": RUNBOOK, "attachments": [{"file_name": "big.txt", "content_base64": b64(&big)}] })).await;
    assert_eq!(r.status(), 413);
    let r = app.post_json(&metis, &submit(&runbook), json!({ "body": RUNBOOK, "attachments": [{"file_name": "runbook.pdf", "content_base64": b64(b"MZ\x90\x00\x03")}] })).await;
    assert_eq!(r.status(), 415);
    assert_eq!(json_of(r).await["code"], "unsupported-media-type");
    let r = app.post_json(&metis, &submit(&runbook), json!({ "body": RUNBOOK, "attachments": [{"file_name": "tool.exe", "content_base64": b64(b"MZ")}] })).await;
    assert_eq!(r.status(), 415);
    assert_eq!(
        stored_submissions(&app).await,
        0,
        "nothing refused was stored"
    );
    assert_eq!(
        handover_attachment::Entity::find()
            .count(app.registry.db())
            .await
            .unwrap(),
        0
    );

    // A good submission, with a diagram.
    let hostile = format!("{RUNBOOK}\n<script>alert(1)</script>\n");
    let r = app.post_json(&metis, &submit(&runbook), json!({ "body": hostile, "attachments": [{"file_name": "flow.md", "content_base64": b64(b"# Flow\nMIS -> SFTP -> matching")}] })).await;
    assert_eq!(r.status(), 201);
    assert_eq!(json_of(r).await["state"], "submitted");
    let item_path = format!("{path}/items/{runbook}");
    // Only officers review.
    for who in [&metis, &auditor] {
        let r = app
            .post_json(who, &format!("{item_path}/accept"), json!({}))
            .await;
        assert_eq!(r.status(), 403);
    }
    let r = app
        .post_json(&officer, &format!("{item_path}/return"), json!({}))
        .await;
    assert_eq!(r.status(), 400, "a return says what to change");
    let r = app
        .post_json(
            &officer,
            &format!("{item_path}/return"),
            json!({ "comments": "Add how a failed run is recovered." }),
        )
        .await;
    assert_eq!(json_of(r).await["state"], "returned");
    let r = app
        .post_json(&officer, &format!("{item_path}/accept"), json!({}))
        .await;
    assert_eq!(r.status(), 409, "nothing submitted since the return");
    let second = format!("{hostile}\nA failed run is recovered by re-running step 3.\n");
    let recovery: &[u8] = b"# Recovery\nRe-run step 3 with the same extract date.";
    let r = app
        .post_json(
            &metis,
            &submit(&runbook),
            json!({ "body": second, "attachments": [{"file_name": "recovery.md", "content_base64": b64(recovery)}] }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &officer,
            &format!("{item_path}/accept"),
            json!({ "comments": "Clear." }),
        )
        .await;
    let accepted = json_of(r).await;
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["latest"], 2);
    let r = app
        .post_json(&metis, &submit(&runbook), json!({ "body": "again" }))
        .await;
    assert_eq!(r.status(), 409, "accepted is final");
    let detail = json_of(app.get(&auditor, &item_path).await).await;
    assert_eq!(detail["submissions"].as_array().unwrap().len(), 2);
    assert_eq!(detail["reviews"][0]["action"], "accepted");
    assert_eq!(
        detail["reviews"][1]["comments"],
        "Add how a failed run is recovered."
    );
    // Each version lists its own files, newest version first.
    let files_of = |n: usize| -> Vec<&str> {
        detail["submissions"][n]["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["file_name"].as_str().unwrap())
            .collect()
    };
    assert_eq!(files_of(0), ["recovery.md"]);
    assert_eq!(files_of(1), ["flow.md"]);
    let file = &detail["submissions"][1]["attachments"][0];
    assert_eq!(file["media_type"], "text/markdown");
    let got = app
        .get(
            &metis,
            &format!("{item_path}/attachments/{}", file["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.bytes().await.unwrap().as_ref(),
        b"# Flow\nMIS -> SFTP -> matching"
    );
    assert_eq!(app.get(&other, &item_path).await.status(), 403);

    // The access list.
    let r = app.post_json(&metis, &submit(&revoke), json!({ "body": "Every account we held, and who ended it.", "credentials": [
        {"account": "SFTP account metis-extract on sftp.newham.example", "rotated_by": "Newham IT service desk", "done_on": "2026-11-20"},
        {"account": "Gate token metis-gate", "rotated_by": "Newham information governance", "done_on": "2026-11-21"}
    ] })).await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &officer,
            &format!("{path}/items/{revoke}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);

    // Search finds accepted knowledge only, for readers and the contractor.
    let search = |q: &str| {
        format!(
            "/api/v1/handover/search?q={}",
            accord::web::session::encode(q)
        )
    };
    let hits = json_of(
        app.get(&auditor, &search("how is the attendance extract produced"))
            .await,
    )
    .await;
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["item_id"], runbook.as_str());
    assert!(
        hits[0]["passage"]
            .as_str()
            .unwrap()
            .contains("attendance extract"),
        "{hits}"
    );
    let hits = json_of(app.get(&metis, &search("sftp")).await).await;
    assert_eq!(
        hits.as_array().unwrap().len(),
        2,
        "the access list is searchable too: {hits}"
    );
    let hits = json_of(app.get(&auditor, &search("\"a\" OR NEAR( b* ^ -")).await).await;
    assert!(
        hits.as_array().unwrap().is_empty(),
        "query syntax is only words: {hits}"
    );
    assert_eq!(app.get(&gate, &search("sftp")).await.status(), 403);
    assert_eq!(app.get(&signatory, &search("sftp")).await.status(), 403);
    let hits = json_of(app.get(&other, &search("sftp")).await).await;
    assert!(
        hits.as_array().unwrap().is_empty(),
        "another contractor sees none: {hits}"
    );

    // The pack.
    let md = app.get(&auditor, &format!("{path}/pack?format=md")).await;
    assert_eq!(md.status(), 200);
    let md = md.text().await.unwrap();
    assert!(
        md.contains("A failed run is recovered by re-running step 3."),
        "{md}"
    );
    assert!(md.contains("| SFTP account metis\\-extract on sftp\\.newham\\.example | Newham IT service desk | 2026\\-11\\-20 |"), "{md}");
    assert!(md.contains("#### Not handed over"), "{md}");
    // Ids show as they are, not escaped inside their code spans.
    assert!(md.contains("Item `matching-runbook`"), "{md}");
    assert!(!md.contains("`matching\\-runbook`"), "{md}");
    // The accepted version's files (not an earlier version's), and the item's whole history
    // in order.
    let listed = format!(
        "- recovery\\.md (text/markdown, {} bytes, SHA-256 `{}`)",
        recovery.len(),
        hex::encode(sha2::Sha256::digest(recovery))
    );
    assert!(md.contains(&listed), "{listed}\n{md}");
    assert!(!md.contains("flow\\.md"), "{md}");
    let runbook_section = &md[md
        .find("A failed run is recovered by re-running step 3.")
        .unwrap()..];
    let at = |needle: &str| {
        runbook_section
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}\n{md}"))
    };
    let history = [
        "version 1 submitted by",
        "returned by",
        ": Add how a failed run is recovered\\.",
        "version 2 submitted by",
        "accepted by",
        ": Clear\\.",
    ];
    assert!(history.windows(2).all(|w| at(w[0]) < at(w[1])), "{md}");
    let page = app.get(&metis, &format!("{path}/pack")).await;
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = app
        .get(&metis, &format!("{path}/pack"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        html.matches("<h1").count(),
        1,
        "the contractor's # heading is not an h1"
    );
    assert!(
        html.contains("<h4>Monthly matching run</h4>") || !md.contains("Monthly matching run"),
        "{html}"
    );
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !csp.contains("script-src") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let page = page.text().await.unwrap();
    assert!(!page.contains("<script"), "the contractor's HTML is text");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("<table>"), "the access-revocation table");
    assert_eq!(app.get(&gate, &format!("{path}/pack")).await.status(), 403);

    // An officer adds an item; only officers, only for a contractor.
    let add = format!("{path}/items");
    let new = json!({ "party": "metis", "kind": "licence", "title": "Mapping licence transferred to the council", "due": "2027-03-01" });
    assert_eq!(app.post_json(&metis, &add, new.clone()).await.status(), 403);
    let r = app.post_json(&officer, &add, new).await;
    assert_eq!(r.status(), 201);
    let added = json_of(r).await;
    assert_eq!(added["declared"], false);
    assert_eq!(added["owner_email"], "deepak.mistry@newham.example");
    let r = app
        .post_json(
            &officer,
            &add,
            json!({ "party": "newham", "kind": "other", "title": "x", "due": "2027-03-01" }),
        )
        .await;
    assert_eq!(r.status(), 400);

    // Completion needs every item accepted, or a waiver with its reason.
    let complete = format!("{path}/engagements/metis/complete");
    let r = app.post_json(&officer, &complete, json!({})).await;
    assert_eq!(r.status(), 409);
    assert!(
        json_of(r).await["message"]
            .as_str()
            .unwrap()
            .contains("deletion-certificate")
    );
    assert_eq!(
        app.post_json(&metis, &complete, json!({ "waiver": "x" }))
            .await
            .status(),
        403
    );
    let r = app
        .post_json(
            &officer,
            &complete,
            json!({ "waiver": "Contract ended early; the rest is covered by the exit plan." }),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(json_of(r).await["completed_at"].is_string());
    let r = app
        .post_json(
            &metis,
            &submit(&item_id(&view, "contacts")),
            json!({ "body": "Ravi" }),
        )
        .await;
    assert_eq!(r.status(), 409, "a completed engagement no longer changes");

    // Everything is in the audit log.
    assert_eq!(audited(&app, "handover.submitted").await.len(), 3);
    assert_eq!(audited(&app, "handover.returned").await.len(), 1);
    assert_eq!(audited(&app, "handover.accepted").await.len(), 2);
    assert_eq!(audited(&app, "handover.item_added").await.len(), 1);
    let done = audited(&app, "handover.completed").await;
    assert_eq!(done.len(), 1);
    assert!(
        done[0].details.contains("deletion-certificate"),
        "the waived items are named"
    );
    assert!(
        accord::audit::verify(app.registry.db())
            .await
            .unwrap()
            .is_ok()
    );
}

/// A holding of metis under the agreement, due at `delete_by`, still held.
async fn metis_holding(app: &TestApp, delete_by: &str) {
    let mut held = support::holding_row("2026-11-01T00:00:00.000000Z", delete_by, 4);
    held.agreement_id = sea_orm::ActiveValue::Set(HMO.into());
    held.holder = sea_orm::ActiveValue::Set("metis".into());
    holding::Entity::insert(held)
        .exec(app.registry.db())
        .await
        .unwrap();
}

/// A deletion certificate is accepted only once the ledger holds nothing more.
async fn a_deletion_certificate_waits_for_the_ledger(app: TestApp) {
    with_samples(&app).await;
    metis_holding(&app, "2027-06-01T00:00:00.000000Z").await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let path = format!("/api/v1/agreements/{HMO}/handover");
    let view = json_of(app.get(&officer, &path).await).await;
    let cert = item_id(&view, "deletion-certificate");
    let r = app
        .post_json(
            &metis,
            &format!("{path}/items/{cert}/submissions"),
            json!({ "body": "All extracts deleted." }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let detail = json_of(app.get(&metis, &format!("{path}/items/{cert}")).await).await;
    assert_eq!(detail["holdings"]["held"], 1);
    let r = app
        .post_json(&officer, &format!("{path}/items/{cert}/accept"), json!({}))
        .await;
    assert_eq!(r.status(), 409);
    assert!(
        json_of(r).await["message"]
            .as_str()
            .unwrap()
            .contains("1 holdings of metis")
    );
}

async fn outbox_subjects(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    use accord::store::entity::outbox_message;
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq(kind))
        .all(app.registry.db())
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.to_addr, m.subject))
        .collect()
}

/// Reminders at 30, 14 and 7 days, the escalation once overdue, each once, delivered to a real
/// SMTP server; then the engagement ends and the contractor's token stops working by itself.
async fn reminders_escalation_and_the_end_of_access(app: TestApp) {
    with_samples(&app).await;
    metis_holding(&app, "2027-09-01T00:00:00.000000Z").await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    let path = format!("/api/v1/agreements/{HMO}/handover");
    let on = |d| app.clock.set(d);
    let noon = |y, m, d| {
        date(y, m, d)
            .at(12, 0, 0, 0)
            .in_tz("Europe/London")
            .unwrap()
            .timestamp()
    };

    // Nothing due yet.
    let report = app.app.handover.enforce().await.unwrap();
    assert_eq!(report.queued, 0);
    // 30 days before the runbook and the code are due (2027-02-26).
    on(noon(2027, 1, 27));
    let report = app.app.handover.enforce().await.unwrap();
    let due = outbox_subjects(&app, "handover-due").await;
    assert!(report.queued >= 4, "{report:?}");
    assert!(
        due.iter().any(|(to, s)| to == "privacy@metis-data.example"
            && s.starts_with("Handover due in 30 days (2027-02-26)")),
        "{due:?}"
    );
    assert!(
        due.iter()
            .any(|(to, _)| to == "deepak.mistry@newham.example"),
        "the owner: {due:?}"
    );
    assert_eq!(
        app.app.handover.enforce().await.unwrap().queued,
        0,
        "each once"
    );
    // Overdue: escalated to the DPOs.
    on(noon(2027, 2, 28));
    app.app.handover.enforce().await.unwrap();
    let over = outbox_subjects(&app, "handover-overdue").await;
    assert!(
        over.iter().any(|(to, s)| to == "privacy@metis-data.example"
            && s.starts_with("Handover overdue by 2 days")),
        "{over:?}"
    );
    assert!(!audited(&app, "handover.escalated").await.is_empty());

    // Delivered to a real SMTP server.
    let server = SmtpServer::running();
    let mailer = Mailer::new(
        app.registry.db().clone(),
        app.clock.clone(),
        Transport::smtp(&server.url()).unwrap(),
        DEFAULT_FROM,
    )
    .unwrap();
    mailer.deliver_due().await.unwrap();
    let received = server.received();
    assert!(
        received.iter().any(|m| m
            .header("Subject")
            .starts_with("Handover overdue by 2 days")),
        "{} received",
        received.len()
    );
    assert!(
        received
            .iter()
            .any(|m| m.header("Subject").starts_with("Handover due in 30 days"))
    );

    // The token works until the engagement's last day, and stops after it by itself.
    on(noon(2027, 3, 31));
    app.app.handover.enforce().await.unwrap();
    assert_eq!(
        app.get(&metis, &path).await.status(),
        200,
        "the last day still counts"
    );
    on(noon(2027, 4, 1));
    let metis_person = support::web::signed_in(&app, Role::Contractor, Some("metis")).await;
    assert_eq!(
        metis_person.get("/handover").await.status,
        200,
        "signed in before the job runs"
    );
    let report = app.app.handover.enforce().await.unwrap();
    assert_eq!(report.engagements_ended, 1, "{report:?}");
    assert_eq!(report.tokens_revoked, 1);
    assert_eq!(report.accounts_disabled, 1);
    let page = metis_person.get("/handover").await;
    assert_eq!(
        page.status, 303,
        "the contractor's session ended with its account"
    );
    assert_eq!(audited(&app, "user.disabled").await.len(), 1);
    assert_eq!(report.holdings_due, 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = app.get(&metis, &path).await.status();
        if status == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the revoked token still answers {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let revoked = audited(&app, "token.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].actor, "handover job");
    assert!(
        revoked[0]
            .details
            .contains("engagement of contractor 'metis'"),
        "{}",
        revoked[0].details
    );
    assert_eq!(audited(&app, "handover.access_ended").await.len(), 1);
    let due_now = holding::Entity::find()
        .filter(holding::Column::Holder.eq("metis"))
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert!(
        due_now.delete_by.unwrap().starts_with("2027-04-01"),
        "falls due for deletion now"
    );
    assert_eq!(
        app.app.handover.enforce().await.unwrap().engagements_ended,
        0,
        "once"
    );
    let told = outbox_subjects(&app, "handover-access-ended").await;
    assert_eq!(
        told.len(),
        4,
        "the owner and the three parties' DPOs: {told:?}"
    );
}

/// The same journey through the pages (plain HTTP, as a browser without script sends it): the
/// task list, the item page's multipart form with its CSRF token, a secret refused in the error
/// summary, an officer's return and accept, search, the pack and "your work".
async fn the_journey_through_the_pages(app: TestApp) {
    use support::web::signed_in;
    with_samples(&app).await;
    let metis = signed_in(&app, Role::Contractor, Some("metis")).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let home = metis.get("/").await;
    assert!(
        home.body.contains("Handover items to submit"),
        "{}",
        home.body
    );
    let tasks = metis.get("/handover").await;
    assert_eq!(tasks.status, 200);
    assert!(tasks.body.contains("Runbook for the monthly matching run"));
    let view = json_of(
        app.get(
            &app.token(Role::Auditor, None).await,
            &format!("/api/v1/agreements/{HMO}/handover"),
        )
        .await,
    )
    .await;
    let runbook = item_id(&view, "matching-runbook");
    let page_path = format!("/agreements/{HMO}/handover/{runbook}");
    let page = metis.get(&page_path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let csrf = page.csrf();
    let submit = format!("{page_path}/submit");
    for token in ["", &"0".repeat(64)] {
        let r = metis
            .post_multipart(
                &submit,
                &[
                    ("csrf", None, token.as_bytes()),
                    ("body", None, RUNBOOK.as_bytes()),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "a forged or missing token");
    }
    let r = metis
        .post_multipart(
            &submit,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("body", None, b"Use key q8Zr2LmX7vNc4TpW9sKd3YbH"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("There is a problem") && r.body.contains("href=\"#body\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("<title>Error: "), "{}", r.body);
    assert!(r.body.contains("never the secret itself"));
    let r = metis
        .post_multipart(
            &submit,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("body", None, RUNBOOK.as_bytes()),
                ("files", Some("tool.exe"), b"MZ"),
            ],
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(stored_submissions(&app).await, 0);
    let r = metis
        .post_multipart(
            &submit,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("body", None, RUNBOOK.as_bytes()),
                ("files", Some("flow.md"), b"# Flow"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&page_path).await;
    assert!(page.body.contains("Version 1") && page.body.contains("flow.md"));
    let token = page.csrf();
    let r = officer
        .post(
            &format!("{page_path}/review/return"),
            &[("csrf", &token), ("comments", "")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("href=\"#comments\""));
    let r = officer
        .post(
            &format!("{page_path}/review/return"),
            &[
                ("csrf", &token),
                ("comments", "Say how a failed run is recovered."),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = metis.get(&page_path).await;
    assert!(
        page.body.contains("Returned with comments")
            && page.body.contains("Say how a failed run is recovered.")
    );
    let second = format!("{RUNBOOK}\nA failed run is recovered by re-running step 3.");
    let r = metis
        .post_multipart(
            &submit,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("body", None, second.as_bytes()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = officer
        .post(
            &format!("{page_path}/review/accept"),
            &[("csrf", &token), ("comments", "")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(officer.get(&page_path).await.body.contains("Accepted"));
    let found = metis
        .get("/handover/search?q=how+is+the+attendance+extract+produced")
        .await;
    assert!(
        found
            .body
            .contains(&format!("/agreements/{HMO}/handover/{runbook}")),
        "{}",
        found.body
    );
    let pack = officer
        .get(&format!("/agreements/{HMO}/handover/pack"))
        .await;
    assert_eq!(pack.status, 200);
    assert!(
        pack.body
            .contains("A failed run is recovered by re-running step 3.")
    );
    let agreement = officer.get(&format!("/agreements/{HMO}")).await;
    assert!(
        agreement.body.contains("Contractor handover") && agreement.body.contains("1 of 9"),
        "{}",
        agreement.body
    );
    // The credentials form shows every problem at once, and its hint's example is taken.
    let revoke = format!(
        "/agreements/{HMO}/handover/{}",
        item_id(&view, "revoke-sftp-access")
    );
    let page = metis.get(&revoke).await;
    let hint = &page.body[page.body.find("For example: ").unwrap() + "For example: ".len()..];
    let example = hint[..hint.find("</p>").unwrap()].to_owned();
    let today = accord::clock::Clock::today(&*app.clock).to_string();
    assert!(example.ends_with(&today), "{example}");
    let r = metis
        .post_multipart(
            &format!("{revoke}/submit"),
            &[
                ("csrf", None, page.csrf().as_bytes()),
                ("body", None, b"All revoked."),
                (
                    "credentials",
                    None,
                    b"SFTP | IT | 2099-01-01\n  | IT | 2026-11-01\nVPN | IT | someday\n",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    for problem in [
        "Credential 1: the date it was done cannot be in the future",
        "Credential 2: enter the account",
        "Credential 3: the date it was done must be a date",
    ] {
        assert!(r.body.contains(problem), "{problem}: {}", r.body);
    }
    assert_eq!(
        r.body.matches("href=\"#credentials\"").count(),
        3,
        "{}",
        r.body
    );
    let r = metis
        .post_multipart(
            &format!("{revoke}/submit"),
            &[
                ("csrf", None, page.csrf().as_bytes()),
                ("body", None, b"All revoked."),
                (
                    "credentials",
                    None,
                    example.replace("&#x27;", "'").as_bytes(),
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "the hint's own example is taken: {}", r.body);
}

/// Every bad input the API names gets its clear error, and nothing of it is stored.
async fn bad_input_gets_a_clear_error_and_stores_nothing(app: TestApp) {
    with_samples(&app).await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let path = format!("/api/v1/agreements/{HMO}/handover");
    let view = json_of(app.get(&officer, &path).await).await;
    let runbook = format!(
        "{path}/items/{}/submissions",
        item_id(&view, "matching-runbook")
    );
    let revoke = format!(
        "{path}/items/{}/submissions",
        item_id(&view, "revoke-sftp-access")
    );
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let file = |name: &str| json!({ "file_name": name, "content_base64": b64(b"# notes") });
    let text_file = |name: &str, text: &str| json!({ "file_name": name, "content_base64": b64(text.as_bytes()) });
    let row = |account: &str, done_on: &str| json!([{ "account": account, "rotated_by": "Newham IT", "done_on": done_on }]);
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            &runbook,
            json!({ "body": "x", "attachments": (0..5).map(|i| file(&format!("n{i}.md"))).collect::<Vec<_>>() }),
            400,
            "more than 4 attachments",
        ),
        (
            &runbook,
            json!({ "body": "x", "attachments": [file("../etc/notes.md")] }),
            400,
            "a name with a path",
        ),
        (
            &runbook,
            json!({ "body": "x", "attachments": [{ "file_name": "n.md", "content_base64": "!!!" }] }),
            400,
            "not base64",
        ),
        (&runbook, json!({ "body": "   " }), 400, "blank text"),
        (
            &runbook,
            json!({ "body": "x", "extra": 1 }),
            400,
            "an unknown key",
        ),
        (
            &revoke,
            json!({ "body": "x", "credentials": row("SFTP", "2026-13-45") }),
            400,
            "not a date",
        ),
        (
            &revoke,
            json!({ "body": "x", "credentials": row("SFTP", "2027-01-01") }),
            400,
            "a date in the future",
        ),
        (
            &revoke,
            json!({ "body": "x", "credentials": row("  ", "2026-11-20") }),
            400,
            "a blank account",
        ),
        (
            &runbook,
            json!({ "body": "x", "attachments": [text_file("keys.txt", "Deploy key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n")] }),
            422,
            "a private key in a .txt attachment",
        ),
        (
            &runbook,
            json!({ "body": "x", "attachments": [text_file("console.md", "# Console\n\nAdmin console password: Tr0ub4dor&3-Plugh!\n")] }),
            422,
            "a labelled password in a Markdown attachment",
        ),
        (
            &runbook,
            json!({ "body": "x", "attachments": [text_file("aws.csv", "user,key\nextract,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")] }),
            422,
            "AWS's documented example secret key in a CSV attachment",
        ),
        (
            &revoke,
            json!({ "body": "x", "credentials": row("SFTP", "2026-11-20"), "attachments": [{ "file_name": "rotation.pdf", "content_base64": b64(b"%PDF-1.4\n%%EOF\n") }] }),
            415,
            "a PDF on the access-revocation item, which cannot be read for secrets",
        ),
    ];
    for (to, body, status, what) in cases {
        let r = app.post_json(&metis, to, body).await;
        assert_eq!(r.status(), status, "{what}");
        let e = json_of(r).await;
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {e}"
        );
        if status == 422 {
            let problem = &e["problems"][0];
            assert_eq!(problem["field"], "attachments", "{what}: {e}");
            let m = problem["message"].as_str().unwrap();
            assert!(
                m.contains(".") && m.contains("line"),
                "{what}: names the file and line: {m}"
            );
            assert!(
                !m.contains("Tr0ub4dor") && !m.contains("wJalr"),
                "never echoes it"
            );
        }
    }
    assert_eq!(
        stored_submissions(&app).await,
        0,
        "nothing refused was stored"
    );

    let add = format!("{path}/items");
    for (body, what) in [
        (
            json!({ "party": "metis", "kind": "other", "title": "x", "due": "2027-02-30" }),
            "not a real date",
        ),
        (
            json!({ "party": "metis", "kind": "other", "title": "x", "due": "2027-03-01", "owner_name": "Ann" }),
            "an owner without an e-mail",
        ),
        (
            json!({ "party": "metis", "kind": "runbook", "title": "x", "due": "2027-03-01" }),
            "an unknown kind",
        ),
        (
            json!({ "party": "metis", "kind": "other", "title": "x", "due": "2027-03-01", "owner_name": "Ann", "owner_email": "not an address" }),
            "an owner e-mail that is not an address",
        ),
    ] {
        assert_eq!(
            app.post_json(&officer, &add, body).await.status(),
            400,
            "{what}"
        );
    }
    let long = "w".repeat(501);
    let r = app
        .get(&officer, &format!("/api/v1/handover/search?q={long}"))
        .await;
    assert_eq!(r.status(), 400, "a query over 500 characters");
    let r = app
        .post_json(
            &officer,
            &format!("{path}/engagements/metis/complete"),
            json!({ "waiver": null }),
        )
        .await;
    assert_eq!(r.status(), 400, "a null waiver");
    let r = app
        .post_json(
            &officer,
            &format!("{path}/engagements/metis/complete"),
            json!({ "waiver": "Ended early." }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .post_json(
            &officer,
            &add,
            json!({ "party": "metis", "kind": "other", "title": "x", "due": "2027-03-01" }),
        )
        .await;
    assert_eq!(r.status(), 409, "a completed engagement takes no new item");
    let r = app
        .post_json(
            &officer,
            &format!("{path}/engagements/metis/complete"),
            json!({ "waiver": "Again." }),
        )
        .await;
    assert_eq!(r.status(), 409, "completed once");
}

/// The documented allowance fits: four attachments of 512 KiB, as base64 JSON, are taken in one
/// submission (the service-wide body limit would refuse them); beyond the submission's own
/// allowance the request is refused (413) before it is read.
async fn the_attachment_allowance_fits_a_request(app: TestApp) {
    with_samples(&app).await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    let path = format!("/api/v1/agreements/{HMO}/handover");
    let view = json_of(app.get(&metis, &path).await).await;
    let submit = format!(
        "{path}/items/{}/submissions",
        item_id(&view, "matching-runbook")
    );
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let text = "the runbook says ".repeat(512 * 1024 / 17 + 1);
    let full = &text.as_bytes()[..512 * 1024];
    let files: Vec<Value> = (0..4)
        .map(|i| json!({ "file_name": format!("part-{i}.txt"), "content_base64": b64(full) }))
        .collect();
    let body = json!({ "body": "Four parts, each at the allowance.", "attachments": files });
    assert!(body.to_string().len() > accord::settings::DEFAULT_MAX_BODY);
    let r = app.post_json(&metis, &submit, body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let over = "x".repeat(accord::handover::records::MAX_SUBMISSION_BODY);
    let r = app
        .post_json(&metis, &submit, json!({ "body": over }))
        .await;
    assert_eq!(r.status(), 413);
}

/// A party whose engagement ended under one agreement, but still runs under another, keeps its
/// access; its holdings under the ended one still fall due.
async fn a_party_still_engaged_elsewhere_keeps_its_access(app: TestApp) {
    with_samples(&app).await;
    let sample =
        std::fs::read_to_string(support::repo().join(format!("agreements/{HMO}.yaml"))).unwrap();
    let longer = sample
        .replace(&format!("id: {HMO}"), "id: hmo-licensing-phase-2")
        .replace("engagement_end: 2027-03-31", "engagement_end: 2027-12-31");
    app.import_yaml(&longer).await;
    metis_holding(&app, "2027-09-01T00:00:00.000000Z").await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    app.clock.set(
        date(2027, 4, 1)
            .at(12, 0, 0, 0)
            .in_tz("Europe/London")
            .unwrap()
            .timestamp(),
    );
    let report = app.app.handover.enforce().await.unwrap();
    assert_eq!(report.engagements_ended, 1, "{report:?}");
    assert_eq!(report.tokens_revoked, 0);
    assert_eq!(report.holdings_due, 1);
    // The answer comes from the database, not from the tokens this instance saw recently.
    app.app.tokens.forget_all();
    let r = app
        .get(&metis, "/api/v1/agreements/hmo-licensing-phase-2/handover")
        .await;
    assert_eq!(
        r.status(),
        200,
        "the token still works for the running engagement"
    );
    let ended = audited(&app, "handover.access_ended").await;
    assert!(
        ended[0]
            .details
            .contains("\"kept_for_running_engagement\":true"),
        "{}",
        ended[0].details
    );
    assert!(audited(&app, "token.revoked").await.is_empty());
}

/// An officer ends the contractor's engagement early, today, with a reason: the gate refuses
/// its flows at once, its token and account stop, its holdings fall due, its items are due by
/// its new last day (yesterday), all audited under the officer. No version is signed, and a
/// later version or signature that lets the engagement run on is refused with what to write.
async fn an_officer_ends_an_engagement_early(app: TestApp) {
    with_samples(&app).await;
    metis_holding(&app, "2027-09-01T00:00:00.000000Z").await;
    let officer = app.token(Role::IgOfficer, None).await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    let gate = app.token(Role::GateClient, Some("newham")).await;
    let metis_person = support::web::signed_in(&app, Role::Contractor, Some("metis")).await;
    let flow = json!({ "agreement": HMO, "from": "newham", "to": "metis",
        "purpose": "identify-unlicensed-hmos", "fields": ["uprn"] });
    let decide = || async {
        json_of(
            app.post_json(&gate, "/api/v1/flows/check", flow.clone())
                .await,
        )
        .await
    };
    assert_eq!(decide().await["decision"], "allow");
    // A draft saved before the end, still giving the old end date.
    let sample =
        std::fs::read_to_string(support::repo().join(format!("agreements/{HMO}.yaml"))).unwrap();
    let retitled = sample.replace(
        "title: Unlicensed HMO identification and enforcement",
        "title: Unlicensed HMO identification (retitled)",
    );
    assert_ne!(retitled, sample);
    let r = app
        .post_yaml(&officer, "/api/v1/agreements", &retitled)
        .await;
    assert_eq!(r.status(), 201);
    let draft = json_of(r).await["number"].as_i64().unwrap();

    let end = |party: &str| format!("/api/v1/agreements/{HMO}/handover/engagements/{party}/end");
    let why = json!({ "reason": "The contract was terminated for breach." });
    for role in [
        Role::Auditor,
        Role::Signatory,
        Role::Contractor,
        Role::GateClient,
    ] {
        let party = (role != Role::Auditor).then_some("metis");
        let t = app.token(role, party).await;
        let r = app.post_json(&t, &end("metis"), why.clone()).await;
        assert_eq!(r.status(), 403, "{role}");
    }
    let r = app
        .post_json(&officer, &end("metis"), json!({ "reason": "  " }))
        .await;
    assert_eq!(r.status(), 400);
    let r = app.post_json(&officer, &end("newham"), why.clone()).await;
    assert_eq!(r.status(), 404, "newham is no contractor");
    assert!(
        audited(&app, "engagement.ended_early").await.is_empty(),
        "nothing yet"
    );

    let r = app.post_json(&officer, &end("metis"), why.clone()).await;
    assert_eq!(r.status(), 200);
    let e = json_of(r).await;
    assert_eq!(
        e["engagement_end"], "2026-11-20",
        "its last day was yesterday"
    );
    assert_eq!(e["ended_early"]["ended_on"], "2026-11-21");
    assert_eq!(
        e["ended_early"]["reason"],
        "The contract was terminated for breach."
    );
    let items = e["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|i| i["due"].as_str().unwrap() <= "2026-11-20"),
        "every item due by the last day: {items:?}"
    );
    assert!(items.iter().all(|i| i["overdue"] == true), "{items:?}");

    // The gate refuses at once; no party signed anything.
    let d = decide().await;
    assert_eq!(d["decision"], "deny", "{d}");
    assert!(
        d["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "contractor-engagement-ended"),
        "{d}"
    );
    // The account's session ended, the token stops, the holding falls due now.
    assert_eq!(metis_person.get("/handover").await.status, 303);
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .get(&metis, &format!("/api/v1/agreements/{HMO}/handover"))
        .await
        .status()
        != 401
    {
        assert!(Instant::now() < deadline, "the revoked token still answers");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let held = holding::Entity::find()
        .filter(holding::Column::Holder.eq("metis"))
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert!(held.delete_by.unwrap().starts_with("2026-11-21"), "due now");
    let recorded = audited(&app, "engagement.ended_early").await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].actor, "test-ig_officer (ig_officer)");
    assert!(
        recorded[0].details.contains("terminated for breach"),
        "{}",
        recorded[0].details
    );
    let ended = audited(&app, "handover.access_ended").await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].actor, "test-ig_officer (ig_officer)");
    // Every token bound to metis: its own, and the three the role checks minted for it.
    assert_eq!(audited(&app, "token.revoked").await.len(), 4);
    assert_eq!(audited(&app, "user.disabled").await.len(), 1);
    // The daily job finds nothing left to do; a second end is refused.
    assert_eq!(
        app.app.handover.enforce().await.unwrap().engagements_ended,
        0
    );
    let r = app.post_json(&officer, &end("metis"), why.clone()).await;
    assert_eq!(r.status(), 409);

    // The draft saved before cannot be signed into force with the old end.
    let newham = app.token(Role::Signatory, Some("newham")).await;
    let r = app
        .post_json(
            &newham,
            &format!("/api/v1/agreements/{HMO}/versions/{draft}/signatures"),
            json!({ "name": "Grace Adebayo" }),
        )
        .await;
    assert_eq!(r.status(), 409);
    let m = json_of(r).await["message"].as_str().unwrap().to_owned();
    assert!(
        m.contains("its last day was 20 November 2026") && m.contains("2026-11-20"),
        "{m}"
    );
    // A new version must carry the date: the old end is refused, the new one saved.
    let later = retitled.replace("(retitled)", "(third)");
    let r = app.post_yaml(&officer, "/api/v1/agreements", &later).await;
    assert_eq!(r.status(), 409);
    let mut carried = later.replace("engagement_end: 2027-03-31", "engagement_end: 2026-11-20");
    for due in [
        "2027-02-26",
        "2027-03-12",
        "2027-03-31",
        "2027-03-19",
        "2027-03-26",
    ] {
        carried = carried.replace(&format!("due: {due}"), "due: 2026-11-20");
    }
    let r = app
        .post_yaml(&officer, "/api/v1/agreements", &carried)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// Ending an engagement early through the pages: the officer's link, the reason (an error
/// summary when blank), check your answers, then the handover page says what happened. Only
/// officers reach the form, and a post without the session's CSRF token changes nothing.
async fn an_engagement_ended_early_through_the_pages(app: TestApp) {
    use support::web::signed_in;
    with_samples(&app).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let auditor = signed_in(&app, Role::Auditor, None).await;
    let dashboard = format!("/agreements/{HMO}/handover");
    let form = format!("/agreements/{HMO}/handover/engagements/metis/end");
    let page = officer.get(&dashboard).await;
    assert!(
        page.body.contains(&format!("href=\"{form}\"")),
        "{}",
        page.body
    );
    let seen = auditor.get(&dashboard).await;
    assert_eq!(seen.status, 200);
    assert!(
        !seen.body.contains(&form),
        "only officers are offered the end"
    );
    assert_eq!(auditor.get(&form).await.status, 403);
    assert_eq!(
        officer
            .get(&format!(
                "/agreements/{HMO}/handover/engagements/newham/end"
            ))
            .await
            .status,
        404
    );

    let page = officer.get(&form).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("End the engagement of Metis"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let r = officer
        .post(
            &form,
            &[("csrf", "forged"), ("step", "confirm"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = officer
        .post(
            &form,
            &[("csrf", &csrf), ("step", "check"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("href=\"#reason\""), "{}", r.body);
    let r = officer
        .post(
            &form,
            &[
                ("csrf", &csrf),
                ("step", "check"),
                ("reason", "Contract terminated <early>"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("Check before you end the engagement"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Today, 21 November 2026"), "{}", r.body);
    assert!(
        r.body.contains("Contract terminated &lt;early&gt;"),
        "escaped: {}",
        r.body
    );
    assert!(
        audited(&app, "engagement.ended_early").await.is_empty(),
        "nothing until confirmed"
    );
    let r = officer
        .post(
            &form,
            &[
                ("csrf", &csrf),
                ("step", "confirm"),
                ("reason", "Contract terminated <early>"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location(),
        Some(format!("{dashboard}?done=ended").as_str())
    );
    let page = officer.get(&format!("{dashboard}?done=ended")).await;
    assert!(
        page.body.contains("The engagement was ended."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Ended early"), "{}", page.body);
    assert!(
        page.body.contains("On 21 November 2026 by"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("20 November 2026 (1 day ago)"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Last day of the engagement"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(&format!("href=\"{form}\"")),
        "nothing left to end"
    );
    assert_eq!(audited(&app, "engagement.ended_early").await.len(), 1);
}

/// The knowledge pack reads its accepted items' versions, reviews and files a thousand items
/// to a query (under every database's limit on bound parameters): with 1,001 accepted items,
/// the pack still holds each one, with its own file and history. The first item is handed
/// over and accepted through the API; the other thousand are copies of its rows.
async fn the_pack_holds_every_item_past_a_thousand(app: TestApp) {
    use accord::store::entity::{handover_item, handover_review};
    use uuid::Uuid;
    with_samples(&app).await;
    let metis = app.token(Role::Contractor, Some("metis")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let path = format!("/api/v1/agreements/{HMO}/handover");
    let view = json_of(app.get(&metis, &path).await).await;
    let runbook = item_id(&view, "matching-runbook");
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let r = app.post_json(&metis, &format!("{path}/items/{runbook}/submissions"), json!({ "body": RUNBOOK, "attachments": [{"file_name": "flow.md", "content_base64": b64(b"# Flow")}] })).await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &officer,
            &format!("{path}/items/{runbook}/accept"),
            json!({ "comments": "Clear." }),
        )
        .await;
    assert_eq!(r.status(), 200);

    let db = app.registry.db();
    let id: Uuid = runbook.parse().unwrap();
    let item = handover_item::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let submission = handover_submission::Entity::find()
        .filter(handover_submission::Column::ItemId.eq(id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let review = handover_review::Entity::find()
        .filter(handover_review::Column::ItemId.eq(id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let file = handover_attachment::Entity::find()
        .filter(handover_attachment::Column::ItemId.eq(id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    const COPIES: usize = 1000;
    let (mut items, mut submissions, mut reviews, mut files) = (vec![], vec![], vec![], vec![]);
    for k in 0..COPIES {
        let (item_id, submission_id) = (Uuid::now_v7(), Uuid::now_v7());
        items.push(handover_item::ActiveModel::from(handover_item::Model {
            id: item_id,
            item_key: format!("copied-{k:04}"),
            title: format!("Copied item {k:04}"),
            ..item.clone()
        }));
        submissions.push(handover_submission::ActiveModel::from(
            handover_submission::Model {
                id: submission_id,
                item_id,
                ..submission.clone()
            },
        ));
        reviews.push(handover_review::ActiveModel::from(handover_review::Model {
            id: Uuid::now_v7(),
            item_id,
            comments: format!("Copy {k:04} is clear."),
            ..review.clone()
        }));
        files.push(handover_attachment::ActiveModel::from(
            handover_attachment::Model {
                id: Uuid::now_v7(),
                submission_id,
                item_id,
                file_name: format!("copy-{k:04}.md"),
                ..file.clone()
            },
        ));
    }
    // A hundred rows to a statement, under every database's limit on bound parameters.
    for chunk in items.chunks(100) {
        handover_item::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    for chunk in submissions.chunks(100) {
        handover_submission::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    for chunk in reviews.chunks(100) {
        handover_review::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    for chunk in files.chunks(100) {
        handover_attachment::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }

    let md = app.get(&officer, &format!("{path}/pack?format=md")).await;
    assert_eq!(md.status(), 200);
    let md = md.text().await.unwrap();
    for k in 0..COPIES {
        for said in [
            format!("Copied item {k:04}"),
            format!("- copy\\-{k:04}\\.md (text/markdown"),
            format!(": Copy {k:04} is clear\\."),
        ] {
            assert!(md.contains(&said), "{said}");
        }
    }
    assert!(
        md.contains("- flow\\.md (text/markdown"),
        "the first item's own file"
    );
    assert_eq!(md.matches("version 1 submitted by").count(), COPIES + 1);
}

on_both_databases!(
    items_are_written_when_a_version_comes_into_force_never_on_a_read,
    an_officer_ends_an_engagement_early,
    an_engagement_ended_early_through_the_pages,
    the_attachment_allowance_fits_a_request,
    the_pack_holds_every_item_past_a_thousand,
    bad_input_gets_a_clear_error_and_stores_nothing,
    a_party_still_engaged_elsewhere_keeps_its_access,
    the_journey_through_the_pages,
    the_contractor_hands_over_and_the_officer_reviews,
    a_deletion_certificate_waits_for_the_ledger,
    reminders_escalation_and_the_end_of_access,
);
