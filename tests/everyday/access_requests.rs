//! Partner access requests over HTTP, on SQLite and PostgreSQL: the public form from the first
//! page to submission (links read from the real outbox), an officer's question and the answer,
//! approval drafting the agreement into the registry; one-time and private links; CSRF;
//! throttling; hostile text; every state move, allowed and refused, through the API.

use crate::support;

use accord::auth::Role;
use accord::clock::Clock;
use accord::store::entity::{access_request, audit_record, outbox_message, user, version};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use support::access::answers;
use support::app::TestApp;
use support::web::{Browser, Page, signed_in};

const SAMPLE: &str = "camden-foodbank-referrals";
const EMAIL: &str = "ann@hope.example";

async fn with_sample(app: &TestApp) {
    let yaml = std::fs::read_to_string(
        support::repo()
            .join("agreements")
            .join(format!("{SAMPLE}.yaml")),
    )
    .unwrap();
    app.import_yaml(&yaml).await;
}

/// Posted answers as the API takes them: a question's one answer as a string, several as a
/// list.
fn answers_json(
    posted: impl IntoIterator<Item = (String, String)>,
) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    for (k, v) in posted {
        match map.get_mut(&k) {
            Some(Value::Array(items)) => items.push(json!(v)),
            Some(one) => *one = json!([one.clone(), v]),
            None => {
                map.insert(k, json!(v));
            }
        }
    }
    map
}

/// Bodies of the messages queued to `to` of `kind`, oldest first.
async fn mail(app: &TestApp, to: &str, kind: &str) -> Vec<String> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::ToAddr.eq(to))
        .filter(outbox_message::Column::Kind.eq(kind))
        .order_by_asc(outbox_message::Column::CreatedAt)
        .all(app.registry.db())
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text_body)
        .collect()
}

/// The path of the first link under `prefix` in `body`.
fn link(body: &str, prefix: &str) -> String {
    let start = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{body}"));
    body[start..].split_whitespace().next().unwrap().to_owned()
}

/// Starts a request for `email` in a fresh browser, confirms the address through the mailed
/// link, and returns the browser and the private link's path.
async fn started(app: &TestApp, email: &str) -> (Browser, String) {
    let b = Browser::new(app);
    let before = mail(app, email, "access-confirm").await.len();
    let sent = b
        .submit("/request-access", "/request-access", &[("email", email)])
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("Check your e-mail"), "{}", sent.body);
    let confirm = mail(app, email, "access-confirm").await;
    assert_eq!(confirm.len(), before + 1, "one confirmation link mailed");
    let confirm = link(confirm.last().unwrap(), "/request-access/confirm/")
        .trim_start_matches(&app.base)
        .to_owned();
    let confirm = confirm[confirm.find("/request-access").unwrap()..].to_owned();
    let page = b.get(&confirm).await;
    assert_eq!(
        page.status, 200,
        "a GET only shows the button: {}",
        page.body
    );
    let done = b.post(&confirm, &[("csrf", &page.csrf())]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let private = done.location().unwrap().to_owned();
    assert!(private.starts_with("/request-access/r/"), "{private}");
    let mailed = mail(app, email, "access-link").await;
    assert!(
        mailed.last().unwrap().contains(&private),
        "the private link is mailed too"
    );
    // The confirmation link works once.
    let again = b.post(&confirm, &[("csrf", &page.csrf())]).await;
    assert_eq!(again.status, 404, "{}", again.body);
    assert!(again.body.contains("used already"), "{}", again.body);
    (b, private)
}

/// Saves every section through its page, in order.
async fn fill_in(b: &Browser, private: &str, posted: &[(String, String)]) {
    for step in accord::access::form::Step::ALL {
        let path = format!("{private}/step/{}", step.slug());
        let page = b.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let csrf = page.csrf();
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend(posted.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let saved = b.post(&path, &form).await;
        assert_eq!(saved.status, 303, "{path}: {}", saved.body);
    }
}

/// Confirms `email` through the newest confirmation link mailed to it, in a fresh browser;
/// returns the private link's path.
async fn confirm_by_mail(app: &TestApp, email: &str) -> String {
    let sent = mail(app, email, "access-confirm").await;
    let confirm = link(
        sent.last().expect("a confirmation link"),
        "/request-access/confirm/",
    );
    let confirm = confirm[confirm.find("/request-access").unwrap()..].to_owned();
    let b = Browser::new(app);
    let page = b.get(&confirm).await;
    let done = b.post(&confirm, &[("csrf", &page.csrf())]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    done.location().unwrap().to_owned()
}

async fn request_row(app: &TestApp, email: &str) -> access_request::Model {
    access_request::Entity::find()
        .filter(access_request::Column::Email.eq(email))
        .order_by_desc(access_request::Column::Id)
        .one(app.registry.db())
        .await
        .unwrap()
        .expect("a request")
}

async fn actions(app: &TestApp, subject: &str) -> Vec<String> {
    audit_record::Entity::find()
        .filter(audit_record::Column::Subject.eq(subject))
        .order_by_asc(audit_record::Column::Seq)
        .all(app.registry.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

async fn the_whole_journey(app: TestApp) {
    with_sample(&app).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let (b, private) = started(&app, EMAIL).await;

    // A section with a mistake is refused with the error summary, and nothing is saved.
    let path = format!("{private}/step/contacts");
    let page = b.get(&path).await;
    let bad = b
        .post(
            &path,
            &[
                ("csrf", &page.csrf()),
                ("requester_name", "Ann"),
                ("requester_email", "nope"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("There is a problem"), "{}", bad.body);
    assert!(bad.body.contains("<title>Error: "), "{}", bad.body);
    assert!(
        bad.body.contains("href=\"#requester_email\""),
        "linked to its field"
    );
    assert!(bad.body.contains("id=\"requester_email\""));
    let tasks = b.get(&private).await;
    assert!(
        tasks.body.contains("0 of 10 sections completed"),
        "{}",
        tasks.body
    );

    // Save and return: the private link opens the request again, from any browser.
    let posted = answers(
        &format!("agreement:{SAMPLE}"),
        &["full-name", "address", "dietary-needs"],
        "",
    );
    fill_in(&b, &private, &posted).await;
    let elsewhere = Browser::new(&app);
    let tasks = elsewhere.get(&private).await;
    assert_eq!(tasks.status, 200);
    assert!(
        tasks.body.contains("10 of 10 sections completed"),
        "{}",
        tasks.body
    );
    let check = b.get(&format!("{private}/check")).await;
    assert!(check.body.contains("Check your answers before you submit"));
    assert!(
        check.body.contains("Special category data"),
        "dietary needs are flagged"
    );

    let submitted = b
        .post(&format!("{private}/submit"), &[("csrf", &check.csrf())])
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    let r = request_row(&app, EMAIL).await;
    assert!(
        submitted.body.contains(&r.reference),
        "the reference is shown"
    );
    // A double submit makes no second request.
    let again = b
        .post(&format!("{private}/submit"), &[("csrf", &check.csrf())])
        .await;
    assert_eq!(again.status, 303);
    let count = access_request::Entity::find()
        .filter(access_request::Column::Email.eq(EMAIL))
        .count(app.registry.db())
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert!(mail(&app, EMAIL, "access-received").await[0].contains(&r.reference));
    let officer_email = user::Entity::find()
        .filter(user::Column::Role.eq("ig_officer"))
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap()
        .email;
    assert_eq!(
        mail(&app, &officer_email, "access-new").await.len(),
        1,
        "officers notified"
    );

    // The officer's queue and the request, with the preview of the draft.
    let queue = officer.get("/access-requests").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains(&r.reference), "{}", queue.body);
    let here = format!("/access-requests/{}", r.id);
    let page = officer.get(&here).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("0 errors from"), "{}", page.body);
    assert!(page.body.contains("hope-foodbank"), "the drafted party");

    // A question; the requester answers it.
    let asked = officer
        .post(
            &format!("{here}/write/ask"),
            &[
                ("csrf", &page.csrf()),
                ("message", "Which centres will collect?"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let question = mail(&app, EMAIL, "access-question").await;
    assert!(question[0].contains("Which centres will collect?"));
    // The question carries a fresh private link, which replaces the old one.
    let fresh = link(&question[0], "/request-access/r/");
    let fresh = fresh[fresh.find("/request-access").unwrap()..].to_owned();
    assert_ne!(fresh, private);
    assert_eq!(
        b.get(&private).await.status,
        404,
        "the old link stops working"
    );
    let private = fresh;
    let tasks = b.get(&private).await;
    assert!(tasks.body.contains("Which centres will collect?"));
    assert!(tasks.body.contains("Send your answer"));
    let answered = b
        .post(
            &format!("{private}/answer"),
            &[("csrf", &tasks.csrf()), ("message", "Kentish Town only.")],
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(request_row(&app, EMAIL).await.status, "in_review");

    // Approval: check, then confirm.
    let form = officer.get(&format!("{here}/decide/approve")).await;
    let check = officer
        .post(
            &format!("{here}/decide/approve"),
            &[
                ("csrf", &form.csrf()),
                ("reasons", "Necessary and proportionate."),
                ("conditions", "Training first."),
                ("step", "check"),
            ],
        )
        .await;
    assert_eq!(check.status, 200);
    assert!(
        check.body.contains("Check before you approve"),
        "{}",
        check.body
    );
    let done = officer
        .post(
            &format!("{here}/decide/approve"),
            &[
                ("csrf", &form.csrf()),
                ("reasons", "Necessary and proportionate."),
                ("conditions", "Training first."),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let r = request_row(&app, EMAIL).await;
    assert_eq!(r.status, "approved");
    assert_eq!(r.drafted_agreement.as_deref(), Some(SAMPLE));
    assert_eq!(r.decided_role.as_deref(), Some("ig_officer"));
    // The draft is in the registry, as a new draft version awaiting every party.
    let versions = version::Entity::find()
        .filter(version::Column::AgreementId.eq(SAMPLE))
        .all(app.registry.db())
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    let draft = versions
        .iter()
        .find(|v| v.number == r.drafted_version.unwrap())
        .unwrap();
    assert_eq!(draft.status, "draft");
    assert!(draft.source.contains("Hope Foodbank"));
    let page = officer.get(&format!("/agreements/{SAMPLE}")).await;
    assert!(
        page.body.contains("hope-foodbank"),
        "the agreement's page shows who must sign"
    );
    // The requester has a signatory account for the new party, and its link in the decision.
    let account = user::Entity::find()
        .filter(user::Column::Email.eq(EMAIL))
        .one(app.registry.db())
        .await
        .unwrap()
        .expect("a signatory account");
    assert_eq!(account.role, "signatory");
    assert_eq!(account.party_id.as_deref(), Some("hope-foodbank"));
    let decision = mail(&app, EMAIL, "access-decision").await;
    assert!(decision[0].contains("/set-password/"), "{}", decision[0]);
    assert!(decision[0].contains("Training first."));
    // The requester sets a password from the decision's link and signs the draft for the new
    // party: the other side can sign too.
    let set = link(&decision[0], "/set-password/");
    let set = &set[set.find("/set-password/").unwrap()..];
    let requester = Browser::new(&app);
    let page = requester.get(set).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let pw = support::web::PASSWORD;
    let done = requester
        .post(
            set,
            &[("csrf", &page.csrf()), ("password", pw), ("confirm", pw)],
        )
        .await;
    assert!(done.status < 400, "{}", done.body);
    assert_eq!(requester.sign_in(EMAIL, pw).await.status, 303);
    let n = r.drafted_version.unwrap();
    assert!(
        decision[0].contains(&format!("/agreements/{SAMPLE}\n")),
        "the decision links the agreement's page"
    );
    // The draft still carries the officer's drafting notes: nobody can sign it yet, and the
    // refusal names each.
    let sign = format!("/agreements/{SAMPLE}/versions/{n}/sign");
    let page = requester.get(&sign).await;
    let attempt = [
        ("csrf", page.csrf()),
        ("name", "Ann Lee".into()),
        ("role", "senior_officer".into()),
        ("step", "confirm".into()),
    ];
    let attempt: Vec<(&str, &str)> = attempt.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = requester.post(&sign, &attempt).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("drafting note"), "{}", refused.body);
    let notes = draft
        .source
        .lines()
        .filter(|l| l.contains("OFFICER:"))
        .count();
    assert!(notes >= 2, "{}", draft.source);
    assert!(
        refused
            .body
            .contains(&format!("{notes} placeholders or drafting notes")),
        "{}",
        refused.body
    );
    // The officer acts on each note and saves the completed agreement as the next version.
    let completed: String = draft
        .source
        .lines()
        .filter(|l| !l.contains("OFFICER:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let saved = officer
        .submit(
            "/agreements/new",
            "/agreements/new",
            &[("source", &completed), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let n = n + 1;
    let sign = format!("/agreements/{SAMPLE}/versions/{n}/sign");
    let page = requester.get(&sign).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let form = [
        ("csrf", page.csrf()),
        ("name", "Ann Lee".into()),
        ("role", "senior_officer".into()),
    ];
    let mut check: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    check.push(("step", "confirm"));
    let signed = requester.post(&sign, &check).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let info = app.registry.versions(SAMPLE).await.unwrap();
    let v = info.iter().find(|v| v.number == n).unwrap();
    assert!(
        v.signatures.iter().any(|s| s.party == "hope-foodbank"),
        "{:?}",
        v.signatures
    );
    // The whole exchange is in the audit log.
    let log = actions(&app, &format!("access_request:{}", r.id)).await;
    assert_eq!(
        log,
        [
            "access.started",
            "access.email_confirmed",
            "access.submit",
            "access.ask",
            "access.answer",
            "access.approved"
        ]
    );
    // Approved, the request takes no more moves, from either side.
    let tasks = b.get(&private).await;
    assert!(tasks.body.contains("Approved"));
    assert!(!tasks.body.contains("Withdraw this request"));
}

async fn links_are_private_and_forms_need_their_token(app: TestApp) {
    with_sample(&app).await;
    let (a, private_a) = started(&app, "a@one.example").await;
    let (b, private_b) = started(&app, "b@two.example").await;
    let posted = answers(
        &format!("agreement:{SAMPLE}"),
        &["full-name"],
        " Secret Org A",
    );
    fill_in(&a, &private_a, &posted).await;
    // B's link shows B's request, never A's answers.
    let page = b.get(&private_b).await;
    assert!(!page.body.contains("Secret Org A"));
    let check = b.get(&format!("{private_b}/check")).await;
    assert!(!check.body.contains("Secret Org A"));
    // A made-up or truncated link opens nothing.
    for bad in [
        "/request-access/r/0000000000000000000000000000000000000000000000000000000000000000",
        &private_a[..private_a.len() - 1],
    ] {
        let page = b.get(bad).await;
        assert_eq!(page.status, 404, "{bad}");
        assert!(!page.body.contains("Secret Org A"));
    }
    // Forms need the visit's own CSRF token.
    let path = format!("{private_a}/step/contacts");
    for csrf in ["", "forged"] {
        let page = a
            .post(&path, &[("csrf", csrf), ("requester_name", "Mallory")])
            .await;
        assert_eq!(page.status, 403, "{csrf:?}");
    }
    let other = b.get(&format!("{private_b}/step/contacts")).await.csrf();
    let page = a
        .post(&path, &[("csrf", &other), ("requester_name", "Mallory")])
        .await;
    assert_eq!(page.status, 403, "another visitor's token");
    assert!(
        !request_row(&app, "a@one.example")
            .await
            .answers
            .contains("Mallory")
    );
    // Officers' pages need a signed-in reader.
    let stranger = Browser::new(&app);
    let page = stranger.get("/access-requests").await;
    assert_eq!(page.status, 303, "to sign in");
    let signatory = signed_in(&app, Role::Signatory, Some("camden")).await;
    assert_eq!(signatory.get("/access-requests").await.status, 403);
    let r = request_row(&app, "a@one.example").await;
    let auditor = signed_in(&app, Role::Auditor, None).await;
    let page = auditor.get(&format!("/access-requests/{}", r.id)).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("Send the question"),
        "an auditor reads, never acts"
    );
    let page = auditor
        .post(
            &format!("/access-requests/{}/review", r.id),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(page.status, 403);
}

async fn starting_is_throttled(app: TestApp) {
    let b = Browser::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let page: Page = b
            .submit(
                "/request-access",
                "/request-access",
                &[("email", "same@one.example")],
            )
            .await;
        statuses.push(page.status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429],
        "three a quarter-hour for one address"
    );
    assert_eq!(
        mail(&app, "same@one.example", "access-confirm").await.len(),
        3
    );
    let bad = b
        .submit(
            "/request-access",
            "/request-access",
            &[("email", "not an address")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("href=\"#email\""));
}

/// The API keeps the public form's limits (429): three requests a quarter-hour for one
/// mailbox, whatever `+tag` is added, and ten for one token; nothing more is mailed.
async fn the_api_keeps_the_forms_limits(app: TestApp) {
    with_sample(&app).await;
    let partner = app.token(Role::GateClient, Some("foodbank")).await;
    let body = |email: &str| {
        let map = answers_json(answers(&format!("agreement:{SAMPLE}"), &["full-name"], ""));
        json!({ "email": email, "answers": map })
    };
    let confirmations = || async {
        outbox_message::Entity::find()
            .filter(outbox_message::Column::Kind.eq("access-confirm"))
            .count(app.registry.db())
            .await
            .unwrap()
    };
    let mut statuses = Vec::new();
    for tag in ["", "+a", "+b", "+c", "+d"] {
        let r = app
            .post_json(
                &partner,
                "/api/v1/access-requests",
                body(&format!("victim{tag}@mail.example")),
            )
            .await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["code"], "too-many-requests", "{e}");
        }
    }
    assert_eq!(
        statuses,
        [201, 201, 201, 429, 429],
        "one mailbox, however tagged"
    );
    assert_eq!(confirmations().await, 3);
    // The token's own share: ten in the window, to different mailboxes.
    let mut statuses = Vec::new();
    for n in 0..8 {
        let r = app
            .post_json(
                &partner,
                "/api/v1/access-requests",
                body(&format!("p{n}@mail.example")),
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 201, 201, 201, 201, 429]);
    assert_eq!(confirmations().await, 10);
    // After the window, the mailbox may be asked again.
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(16));
    let r = app
        .post_json(
            &partner,
            "/api/v1/access-requests",
            body("victim+z@mail.example"),
        )
        .await;
    assert_eq!(r.status(), 201);
}

/// A private link works for `ACCORD_REQUEST_LINK_DAYS` (90 by default) from when it is sent;
/// after that it opens nothing, and the requester gets a new one by e-mail (the old one then
/// stops working). Asking for an address with no request looks the same and mails nothing.
async fn a_private_link_expires_and_is_renewed_by_email(app: TestApp) {
    let (b, private) = started(&app, EMAIL).await;
    assert_eq!(b.get(&private).await.status, 200);
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_hours(24 * 89));
    assert_eq!(b.get(&private).await.status, 200, "still open on day 89");
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_hours(24 + 1));
    let expired = b.get(&private).await;
    assert_eq!(expired.status, 404);
    assert!(
        expired.body.contains("href=\"/request-access/renew\""),
        "{}",
        expired.body
    );
    let links_before = mail(&app, EMAIL, "access-link").await.len();
    let renewed = b
        .submit(
            "/request-access/renew",
            "/request-access/renew",
            &[("email", EMAIL)],
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    assert!(renewed.body.contains("Check your e-mail"));
    let links = mail(&app, EMAIL, "access-link").await;
    assert_eq!(links.len(), links_before + 1);
    let fresh = link(links.last().unwrap(), "/request-access/r/");
    let fresh = fresh[fresh.find("/request-access").unwrap()..].to_owned();
    assert_ne!(fresh, private);
    assert_eq!(b.get(&fresh).await.status, 200);
    assert_eq!(
        b.get(&private).await.status,
        404,
        "the old link stops working"
    );
    // An address with no request: the same answer, and nothing mailed.
    let none = b
        .submit(
            "/request-access/renew",
            "/request-access/renew",
            &[("email", "nobody@nowhere.example")],
        )
        .await;
    assert_eq!(none.status, 200);
    assert!(
        mail(&app, "nobody@nowhere.example", "access-link")
            .await
            .is_empty()
    );
    let bad = b
        .submit(
            "/request-access/renew",
            "/request-access/renew",
            &[("email", "no")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("href=\"#email\""));
    // Renewals share a start's limits: three a quarter-hour for one mailbox (the renewal above
    // was the first), however it is tagged.
    let renew = |email: &'static str| {
        let b = &b;
        async move {
            b.submit(
                "/request-access/renew",
                "/request-access/renew",
                &[("email", email)],
            )
            .await
        }
    };
    assert_eq!(renew("ann+again@hope.example").await.status, 200);
    assert_eq!(renew("ANN+third@hope.example").await.status, 200);
    let refused = renew(EMAIL).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.body.contains("href=\"#email\""));
    assert_eq!(
        mail(&app, EMAIL, "access-link").await.len(),
        links.len(),
        "nothing more is mailed"
    );
}

/// The form offers only published agreements in force, and organisations that take requests:
/// an unpublished agreement's title and a processor's name appear nowhere, and a request
/// addressed to either is refused as an answer the form does not offer.
async fn the_form_names_only_what_is_published(app: TestApp) {
    let root = support::repo().join("agreements");
    let hmo = std::fs::read_to_string(root.join("hmo-licensing-enforcement.yaml")).unwrap();
    app.import_yaml(&hmo).await;
    let foodbank = std::fs::read_to_string(root.join(format!("{SAMPLE}.yaml"))).unwrap();
    let secret = foodbank
        .replacen(&format!("id: {SAMPLE}\n"), "id: quiet-referrals\n", 1)
        .replacen("title: ", "title: Quiet unpublished ", 1)
        .replacen("  publish: true", "  publish: false", 1);
    assert_ne!(secret, foodbank);
    app.import_yaml(&secret).await;
    let (b, private) = started(&app, EMAIL).await;
    let page = b.get(&format!("{private}/step/addressed-to")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Agreement: Unlicensed HMO identification"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Quiet unpublished"), "{}", page.body);
    assert!(!page.body.contains("quiet-referrals"));
    assert!(
        !page.body.contains("Metis Property Data"),
        "a processor is not offered"
    );
    assert!(!page.body.contains("party:metis"));
    let partner = app.token(Role::GateClient, Some("foodbank")).await;
    for target in ["agreement:quiet-referrals", "party:metis"] {
        let map = answers_json(answers(target, &["full-name"], ""));
        let r = app
            .post_json(
                &partner,
                "/api/v1/access-requests",
                json!({ "email": format!("{}@x.example", target.replace(':', "-")), "answers": map }),
            )
            .await;
        assert_eq!(r.status(), 422, "{target}");
        let e: Value = r.json().await.unwrap();
        assert!(
            e["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["field"] == "target"),
            "{target}: {e}"
        );
        assert!(!e.to_string().contains("Quiet unpublished"));
    }
}

/// An optional single choice can be undone: its "None of these" saves no answer, so an
/// Article 9 condition clicked by mistake does not reach the draft.
async fn an_optional_choice_can_be_cleared(app: TestApp) {
    with_sample(&app).await;
    let (b, private) = started(&app, EMAIL).await;
    let posted = answers(&format!("agreement:{SAMPLE}"), &["full-name"], "");
    fill_in(&b, &private, &posted).await;
    let lawful = format!("{private}/step/lawful-basis");
    let page = b.get(&lawful).await;
    assert!(page.body.contains("None of these"), "{}", page.body);
    let chosen = |body: &str, value: &str| {
        body.contains(&format!("name=\"article9\" value=\"{value}\" checked"))
    };
    assert!(chosen(&page.body, "health_social_care"));
    let mut form: Vec<(String, String)> = posted
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "article9" | "schedule1"))
        .cloned()
        .collect();
    form.push(("article9".into(), String::new()));
    form.push(("csrf".into(), page.csrf()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = b.post(&lawful, &pairs).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let row = request_row(&app, EMAIL).await;
    let stored: Value = serde_json::from_str(&row.answers).unwrap();
    assert!(stored.get("article9").is_none(), "{stored}");
    let page = b.get(&lawful).await;
    assert!(chosen(&page.body, ""), "the none option is the one checked");
    assert!(!chosen(&page.body, "health_social_care"));
}

/// The privacy notice's promise is kept: a closed request keeps the requester's personal details
/// for the period it gives (365 days by default), then they are erased, once, with the record
/// kept; every e-mail and page points to the notice.
async fn closed_requests_personal_details_are_erased(app: TestApp) {
    with_sample(&app).await;
    let (b, private) = started(&app, EMAIL).await;
    let posted = answers(&format!("agreement:{SAMPLE}"), &["full-name"], "");
    fill_in(&b, &private, &posted).await;
    let check = b.get(&format!("{private}/check")).await;
    let sent = b
        .post(&format!("{private}/submit"), &[("csrf", &check.csrf())])
        .await;
    assert!(sent.status < 400, "{}", sent.body);
    let id = request_row(&app, EMAIL).await.id;
    let officer = app.token(Role::IgOfficer, None).await;
    let r = app
        .post_json(
            &officer,
            &format!("/api/v1/access-requests/{id}/reject"),
            json!({ "reasons": "Not needed." }),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Every e-mail ends with where the privacy notice is, naming who runs the service.
    for body in mail(&app, EMAIL, "access-confirm").await {
        assert!(
            body.contains("/privacy\n")
                && body.contains(
                    "How the organisation that runs this Accord service uses personal details"
                ),
            "{body}"
        );
    }
    let access = &app.app.access;
    let decided = app.clock.now();
    app.clock
        .set(decided + jiff::SignedDuration::from_hours(24 * 364));
    assert_eq!(
        access.erase_closed().await.unwrap(),
        0,
        "kept for the period"
    );
    assert_eq!(request_row(&app, EMAIL).await.email, EMAIL);
    app.clock
        .set(decided + jiff::SignedDuration::from_hours(24 * 366));
    assert_eq!(access.erase_closed().await.unwrap(), 1);
    let row = access_request::Entity::find_by_id(id)
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.email, "");
    assert!(row.erased_at.is_some());
    assert!(row.resume_hash.is_none());
    let kept: Value = serde_json::from_str(&row.answers).unwrap();
    for gone in ["requester_name", "requester_email", "dpo_name", "dpo_email"] {
        assert!(kept.get(gone).is_none(), "{gone}: {kept}");
    }
    assert_eq!(kept["org_name"], "Hope Foodbank", "the organisation stays");
    assert!(!row.answers.contains("Ann Lee") && !row.answers.contains("ann@hope.example"));
    assert_eq!(row.reference.len(), 11, "the reference stays");
    assert!(
        actions(&app, "access_requests")
            .await
            .contains(&"access.erased".to_owned())
    );
    assert_eq!(access.erase_closed().await.unwrap(), 0, "once");
    assert_eq!(b.get(&private).await.status, 404, "its link opens nothing");
}

/// The privacy notice, the accessibility statement and the cookies page: for anyone, setting no
/// cookie, linked from every page's footer; the notice from the request form's first page.
async fn the_public_notices_are_there_for_anyone(app: TestApp) {
    let anyone = Browser::new(&app);
    for (path, says) in [
        (
            "/privacy",
            "365 days after it is approved, rejected or withdrawn",
        ),
        ("/accessibility", "WCAG) 2.2 at level AA"),
        ("/cookies", "accord_session"),
    ] {
        let page = anyone.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(says), "{path}: {}", page.body);
        assert!(
            page.headers.get("set-cookie").is_none(),
            "{path} sets no cookie"
        );
    }
    for path in ["/request-access", "/transparency", "/sign-in", "/privacy"] {
        let page = anyone.get(path).await;
        for link in ["/privacy", "/accessibility", "/cookies"] {
            assert!(
                page.body.contains(&format!("href=\"{link}\"")),
                "{path} links {link}"
            );
        }
    }
    assert!(
        anyone
            .get("/request-access")
            .await
            .body
            .contains("how we use the personal details")
    );
}

async fn hostile_text_is_inert(app: TestApp) {
    with_sample(&app).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let evil = " <script>alert(1)</script> {{x}} \" ' : |";
    let (b, private) = started(&app, EMAIL).await;
    fill_in(
        &b,
        &private,
        &answers(&format!("agreement:{SAMPLE}"), &["full-name"], evil),
    )
    .await;
    let check = b.get(&format!("{private}/check")).await;
    b.post(&format!("{private}/submit"), &[("csrf", &check.csrf())])
        .await;
    let r = request_row(&app, EMAIL).await;
    assert_eq!(r.status, "submitted");
    let tasks = b.get(&private).await;
    assert!(!tasks.body.contains("<script>alert(1)"));
    for (name, page) in [
        ("check answers", check),
        ("queue", officer.get("/access-requests").await),
        (
            "request",
            officer.get(&format!("/access-requests/{}", r.id)).await,
        ),
    ] {
        assert!(
            !page.body.contains("<script>alert(1)"),
            "{name}: {}",
            page.body
        );
        assert!(
            page.body.contains("&lt;script&gt;alert(1)"),
            "{name}: shown as typed, escaped"
        );
    }
    // Stored as typed.
    assert!(r.answers.contains("<script>alert(1)</script> {{x}}"));
    let page = officer.get(&format!("/access-requests/{}", r.id)).await;
    assert!(
        page.body.contains("0 errors from"),
        "the draft is still clean YAML: {}",
        page.body
    );
}

/// Every state move through the API, allowed and refused, with each role.
async fn every_move_through_the_api(app: TestApp) {
    with_sample(&app).await;
    let partner = app.token(Role::GateClient, Some("foodbank")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let auditor = app.token(Role::Auditor, None).await;
    let stranger = app.token(Role::GateClient, Some("camden")).await;
    let body = |posted: Vec<(String, String)>| {
        let answers = answers_json(posted);
        json!({ "email": "system@hope.example", "answers": answers })
    };
    let complete = body(answers(
        &format!("agreement:{SAMPLE}"),
        &["full-name", "address"],
        "",
    ));
    let post = |token: &str, path: &str, b: Value| {
        let (app, token, path) = (&app, token.to_owned(), path.to_owned());
        async move {
            app.post_json(&token, &format!("/api/v1/access-requests{path}"), b)
                .await
        }
    };

    // Incomplete: 422 with every problem by question; unknown questions: 400.
    let r = post(
        &partner,
        "",
        json!({ "email": "x@y.example", "answers": { "org_name": "X" } }),
    )
    .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "invalid");
    assert!(
        e["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["field"] == "target"),
        "{e}"
    );
    let r = post(
        &partner,
        "",
        json!({ "email": "x@y.example", "answers": { "nonsense": "X" } }),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post(
        &partner,
        "",
        json!({ "email": "x@y.example", "answers": { "org_name": 7 } }),
    )
    .await;
    assert_eq!(r.status(), 400);
    // An address the schema does not allow is refused as the schema says (400), not later.
    for bad in ["0", "a@b", "two@@x.example", "sp ace@x.example"] {
        let r = post(&partner, "", json!({ "email": bad, "answers": {} })).await;
        assert_eq!(r.status(), 400, "{bad}");
    }

    let r = post(&partner, "", complete.clone()).await;
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["status"], "draft");
    let at = |what: &str| format!("/{id}/{what}");
    let reasons = json!({ "reasons": "Because." });
    let msg = json!({ "message": "Which centres?" });

    // Who may see it.
    for (token, want) in [
        (&partner, 200),
        (&officer, 200),
        (&auditor, 200),
        (&stranger, 404),
    ] {
        let r = app
            .get(token, &format!("/api/v1/access-requests/{id}"))
            .await;
        assert_eq!(r.status(), want);
    }
    // Refused from draft: review, ask, answer, approve, reject.
    assert_eq!(post(&officer, &at("review"), json!({})).await.status(), 409);
    assert_eq!(post(&officer, &at("ask"), msg.clone()).await.status(), 409);
    assert_eq!(
        post(&partner, &at("answer"), msg.clone()).await.status(),
        409
    );
    assert_eq!(
        post(&officer, &at("approve"), reasons.clone())
            .await
            .status(),
        409
    );
    assert_eq!(
        post(&officer, &at("reject"), reasons.clone())
            .await
            .status(),
        409
    );
    // Submit: once.
    assert_eq!(
        post(&stranger, &at("submit"), json!({})).await.status(),
        404
    );
    assert_eq!(post(&partner, &at("submit"), json!({})).await.status(), 200);
    assert_eq!(post(&partner, &at("submit"), json!({})).await.status(), 409);
    // Officers' moves need an officer.
    assert_eq!(post(&partner, &at("review"), json!({})).await.status(), 403);
    assert_eq!(
        post(&auditor, &at("approve"), reasons.clone())
            .await
            .status(),
        403
    );
    assert_eq!(post(&officer, &at("review"), json!({})).await.status(), 200);
    assert_eq!(post(&officer, &at("review"), json!({})).await.status(), 409);
    assert_eq!(post(&officer, &at("ask"), msg.clone()).await.status(), 200);
    // Waiting on the requester: no approval, no second question.
    assert_eq!(
        post(&officer, &at("approve"), reasons.clone())
            .await
            .status(),
        409
    );
    assert_eq!(post(&officer, &at("ask"), msg.clone()).await.status(), 409);
    assert_eq!(
        post(
            &partner,
            &at("answer"),
            json!({ "message": "Kentish Town." })
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        post(&partner, &at("answer"), msg.clone()).await.status(),
        409
    );
    assert_eq!(
        post(&partner, &at("messages"), json!({ "message": "Thanks" }))
            .await
            .status(),
        200
    );
    let thread: Value = app
        .get(&partner, &format!("/api/v1/access-requests/{id}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(thread.as_array().unwrap().len(), 3);
    assert_eq!(thread[0]["from_officer"], true);
    assert_eq!(thread[1]["from_officer"], false);
    // Queue with filters.
    let q: Value = app
        .get(&officer, "/api/v1/access-requests?status=in_review")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["total"], 1);
    let q: Value = app
        .get(&officer, "/api/v1/access-requests?status=approved")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["total"], 0);
    assert_eq!(
        app.get(&partner, "/api/v1/access-requests").await.status(),
        403
    );
    // Reject; then nothing moves.
    assert_eq!(
        post(&officer, &at("reject"), reasons.clone())
            .await
            .status(),
        200
    );
    for (token, what, b) in [
        (&officer, "approve", reasons.clone()),
        (&officer, "reject", reasons.clone()),
        (&partner, "withdraw", json!({})),
        (&partner, "messages", msg.clone()),
    ] {
        assert_eq!(
            post(token, &at(what), b).await.status(),
            409,
            "{what} after rejection"
        );
    }
    let r: Value = app
        .get(&auditor, &format!("/api/v1/access-requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["decision_reasons"], "Because.");

    // Another: withdrawn by its maker, from review.
    let made: Value = post(&partner, "", complete.clone())
        .await
        .json()
        .await
        .unwrap();
    let id2 = made["id"].as_str().unwrap();
    assert_eq!(
        post(&partner, &format!("/{id2}/submit"), json!({}))
            .await
            .status(),
        200
    );
    assert_eq!(
        post(&partner, &format!("/{id2}/withdraw"), json!({}))
            .await
            .status(),
        200
    );
    assert_eq!(
        post(&partner, &format!("/{id2}/withdraw"), json!({}))
            .await
            .status(),
        409
    );
    // And a third, approved: the draft lands in the registry.
    let made: Value = post(&partner, "", complete).await.json().await.unwrap();
    let id3 = made["id"].as_str().unwrap();
    assert_eq!(
        post(&partner, &format!("/{id3}/submit"), json!({}))
            .await
            .status(),
        200
    );
    // Not before the requester has confirmed their e-mail address.
    let r = post(
        &officer,
        &format!("/{id3}/approve"),
        json!({ "reasons": "Fine." }),
    )
    .await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["message"].as_str().unwrap().contains("not confirmed"),
        "{e}"
    );
    confirm_by_mail(&app, "system@hope.example").await;
    let r = post(
        &officer,
        &format!("/{id3}/approve"),
        json!({ "reasons": "Fine." }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["status"], "approved");
    assert_eq!(r["drafted_agreement"], SAMPLE);
    assert!(r["drafted_version"].as_i64().unwrap() >= 2);
}

/// A request whose organisation's name gives the id of another agreement's party ("Police",
/// the vulnerability hub's `police`) never takes that identity: the preview names the clash,
/// approval gives a new id and a signatory account for it, and only the officer's choice maps
/// the requester to the existing party (an unknown one is refused).
async fn a_requester_never_takes_another_partys_identity(app: TestApp) {
    with_sample(&app).await;
    let hub =
        std::fs::read_to_string(support::repo().join("agreements/vulnerability-hub.yaml")).unwrap();
    app.import_yaml(&hub).await;
    let officer_token = app.token(Role::IgOfficer, None).await;
    let partner = app.token(Role::GateClient, Some("foodbank")).await;
    let request = |email: &str| {
        let answers = answers_json(
            support::access::answers(&format!("agreement:{SAMPLE}"), &["full-name"], "")
                .into_iter()
                .map(|(k, v)| {
                    let v = if k == "org_name" {
                        "Police".to_owned()
                    } else {
                        v
                    };
                    (k, v)
                }),
        );
        json!({ "email": email, "answers": answers })
    };
    let submitted = |email: &'static str| {
        let (app, partner, body) = (&app, partner.clone(), request(email));
        async move {
            let r = app
                .post_json(&partner, "/api/v1/access-requests", body)
                .await;
            assert_eq!(r.status(), 201);
            let id = r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let r = app
                .post_json(
                    &partner,
                    &format!("/api/v1/access-requests/{id}/submit"),
                    json!({}),
                )
                .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            confirm_by_mail(app, email).await;
            id
        }
    };
    let id = submitted("officer@police.example").await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let page = officer.get(&format!("/access-requests/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("gives the party id <strong>police</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("the new id <strong>police-2</strong>"));
    let form = officer
        .get(&format!("/access-requests/{id}/decide/approve"))
        .await;
    assert!(
        form.body.contains("A new party, with the id police-2"),
        "{}",
        form.body
    );
    // Approved without a choice: a party of its own.
    let r = app
        .post_json(
            &officer_token,
            &format!("/api/v1/access-requests/{id}/approve"),
            json!({ "reasons": "Fine." }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let account = user::Entity::find()
        .filter(user::Column::Email.eq("officer@police.example"))
        .one(app.registry.db())
        .await
        .unwrap()
        .expect("a signatory account");
    assert_eq!(account.party_id.as_deref(), Some("police-2"));
    let drafted = version::Entity::find()
        .filter(version::Column::AgreementId.eq(SAMPLE))
        .order_by_desc(version::Column::Number)
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert!(
        drafted.source.contains("- id: police-2\n"),
        "{}",
        drafted.source
    );
    assert!(!drafted.source.contains("- id: police\n"));
    // A mapping to a party nobody names is refused, and nothing is decided.
    let id = submitted("second@police.example").await;
    let r = app
        .post_json(
            &officer_token,
            &format!("/api/v1/access-requests/{id}/approve"),
            json!({ "reasons": "Fine.", "as_party": "no-such-party" }),
        )
        .await;
    assert_eq!(r.status(), 400, "{}", r.text().await.unwrap());
    assert_eq!(
        request_row(&app, "second@police.example").await.status,
        "submitted"
    );
    // The officer's choice: the requester is the hub's police.
    let r = app
        .post_json(
            &officer_token,
            &format!("/api/v1/access-requests/{id}/approve"),
            json!({ "reasons": "Same force.", "as_party": "police" }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let account = user::Entity::find()
        .filter(user::Column::Email.eq("second@police.example"))
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.party_id.as_deref(), Some("police"));
    // The same choice through the pages: the radio, then check your answers, then approval.
    let id = submitted("third@police.example").await;
    let here = format!("/access-requests/{id}/decide/approve");
    let form = officer.get(&here).await;
    assert!(
        form.body.contains("name=\"as_party\" value=\"police\""),
        "{}",
        form.body
    );
    let check = officer
        .post(
            &here,
            &[
                ("csrf", &form.csrf()),
                ("reasons", "Same force."),
                ("as_party", "police"),
                ("step", "check"),
            ],
        )
        .await;
    assert!(
        check.body.contains("The existing party police"),
        "{}",
        check.body
    );
    let done = officer
        .post(
            &here,
            &[
                ("csrf", &form.csrf()),
                ("reasons", "Same force."),
                ("as_party", "police"),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let account = user::Entity::find()
        .filter(user::Column::Email.eq("third@police.example"))
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.party_id.as_deref(), Some("police"));
}

on_both_databases!(
    the_whole_journey,
    links_are_private_and_forms_need_their_token,
    starting_is_throttled,
    hostile_text_is_inert,
    every_move_through_the_api,
    a_requester_never_takes_another_partys_identity,
    the_api_keeps_the_forms_limits,
    a_private_link_expires_and_is_renewed_by_email,
    the_form_names_only_what_is_published,
    an_optional_choice_can_be_cleared,
    closed_requests_personal_details_are_erased,
    the_public_notices_are_there_for_anyone,
);
