//! The web console over HTTP, on both databases: who may see each page and post each form,
//! CSRF, sessions (cookie, storage, expiry, sign-out, password change), throttling, one-time
//! links, hostile text, and a session that ends mid-form. The real browser runs the journeys
//! in tests/external/web_browser.rs.

use crate::support;

use accord::auth::Role;
use accord::clock::Clock;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use support::app::TestApp;
use support::web::{Browser, PASSWORD, hidden, person, signed_in};

const SAMPLE: &str = "camden-foodbank-referrals";

async fn with_sample(app: &TestApp) {
    let yaml = std::fs::read_to_string(
        support::repo()
            .join("agreements")
            .join(format!("{SAMPLE}.yaml")),
    )
    .unwrap();
    app.import_yaml(&yaml).await;
}

/// Every page, and the roles that may see it (deny by default: everyone else gets 403).
fn pages() -> Vec<(String, &'static [Role])> {
    use Role::*;
    const ALL: &[Role] = &[Admin, IgOfficer, Signatory, GateClient, Auditor, Contractor];
    const READ: &[Role] = &[Admin, IgOfficer, Auditor];
    const READ_SIGN: &[Role] = &[Admin, IgOfficer, Auditor, Signatory];
    const OFFICER: &[Role] = &[Admin, IgOfficer];
    vec![
        ("/".into(), ALL),
        ("/account/password".into(), ALL),
        ("/agreements".into(), READ_SIGN),
        (format!("/agreements/{SAMPLE}"), READ_SIGN),
        (format!("/agreements/{SAMPLE}/diff?from=1&to=1"), READ_SIGN),
        (format!("/agreements/{SAMPLE}/dpia"), READ_SIGN),
        (format!("/agreements/{SAMPLE}/dpia.md"), READ_SIGN),
        (format!("/agreements/{SAMPLE}/versions/1/source"), READ_SIGN),
        (format!("/agreements/{SAMPLE}/template"), READ_SIGN),
        (
            format!("/agreements/{SAMPLE}/versions/1/sign"),
            &[Signatory],
        ),
        (format!("/agreements/{SAMPLE}/control/suspend"), OFFICER),
        ("/agreements/new".into(), OFFICER),
        ("/agreements/new/template".into(), OFFICER),
        ("/register".into(), READ),
        ("/register.csv".into(), READ),
        ("/audit".into(), READ),
        ("/holdings?subject=abc".into(), READ),
        ("/holds".into(), READ),
        ("/holds/new".into(), OFFICER),
        ("/deletions".into(), READ),
        ("/access-requests".into(), READ),
        ("/access-requests?status=approved".into(), READ),
        ("/handover".into(), &[Admin, IgOfficer, Auditor, Contractor]),
        (
            "/handover/search?q=runbook".into(),
            &[Admin, IgOfficer, Auditor, Contractor],
        ),
        (format!("/agreements/{SAMPLE}/handover"), READ),
        (format!("/agreements/{SAMPLE}/handover/pack"), READ),
    ]
}

async fn only_the_allowed_see_each_page(app: TestApp) {
    with_sample(&app).await;
    let anonymous = Browser::new(&app);
    for (path, _) in pages() {
        let page = anonymous.get(&path).await;
        assert_eq!(page.status, 303, "anonymous GET {path}");
        let to = page.location().unwrap();
        assert!(to.starts_with("/sign-in?next=%2F"), "{path} -> {to}");
    }
    for &role in Role::PEOPLE {
        let party = role.needs_party().then_some("camden");
        let b = signed_in(&app, role, party).await;
        // The menu offers only pages the role may open.
        let home = b.get("/").await.body;
        let nav = &home[home.find("<nav").unwrap()..home.find("</nav>").unwrap()];
        let links: Vec<&str> = nav
            .split("href=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert!(links.contains(&"/"), "{role}: {nav}");
        for link in links {
            assert_eq!(b.get(link).await.status, 200, "{role}'s menu offers {link}");
        }
        for (path, allowed) in pages() {
            let page = b.get(&path).await;
            let want = if allowed.contains(&role) { 200 } else { 403 };
            assert_eq!(
                page.status,
                want,
                "{role} GET {path}: {}",
                &page.body[..page.body.len().min(400)]
            );
            if want == 200
                && page.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            {
                let csp = page.headers["content-security-policy"].to_str().unwrap();
                assert!(
                    !csp.contains("unsafe-inline") && !csp.contains("script-src"),
                    "{path}: {csp}"
                );
                assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
                assert_eq!(page.headers["x-content-type-options"], "nosniff");
                assert_eq!(page.headers["referrer-policy"], "no-referrer");
            }
        }
    }
    // A signatory of another party sees neither the agreement nor its versions.
    let outsider = signed_in(&app, Role::Signatory, Some("hackney")).await;
    for path in [
        format!("/agreements/{SAMPLE}"),
        format!("/agreements/{SAMPLE}/versions/1/source"),
    ] {
        assert_eq!(outsider.get(&path).await.status, 403, "{path}");
    }
    let list = outsider.get("/agreements").await;
    assert!(list.body.contains("0 agreements match"), "{}", list.body);
}

/// An access request that does not exist: officers get 404 after the role and CSRF checks.
const NIL: &str = "0192f0c0-0000-7000-8000-000000000000";

/// A form's path, a valid body for it, and the roles that may send it.
type Form = (String, Vec<(&'static str, &'static str)>, &'static [Role]);

/// Every form that changes something, with a valid body for it.
fn forms() -> Vec<Form> {
    use Role::*;
    const OFFICER: &[Role] = &[Admin, IgOfficer];
    vec![
        (
            format!("/agreements/{SAMPLE}/control/suspend"),
            vec![("reason", "audit"), ("step", "confirm")],
            OFFICER,
        ),
        (
            "/agreements/new".into(),
            vec![("source", "accord: 1"), ("action", "check")],
            OFFICER,
        ),
        (
            "/agreements/new/template/create".into(),
            vec![
                ("template", "camden-foodbank-referrals"),
                ("id", "westminster-food"),
                ("start", "2027-04-01"),
            ],
            OFFICER,
        ),
        (
            "/holds/new".into(),
            vec![
                ("kind", "sar"),
                ("reason", "r"),
                ("subject", "S1"),
                ("step", "confirm"),
            ],
            OFFICER,
        ),
        ("/audit/verify".into(), vec![], &[Admin, IgOfficer, Auditor]),
        (format!("/access-requests/{NIL}/review"), vec![], OFFICER),
        (
            format!("/access-requests/{NIL}/write/ask"),
            vec![("message", "Which centres?")],
            OFFICER,
        ),
        (
            format!("/access-requests/{NIL}/decide/approve"),
            vec![("reasons", "Fine"), ("step", "confirm")],
            OFFICER,
        ),
        (
            format!("/agreements/{SAMPLE}/versions/1/sign"),
            vec![("name", "Jo"), ("role", "dpo"), ("step", "check")],
            &[Signatory],
        ),
        (
            format!("/agreements/{SAMPLE}/handover/{NIL}/review/accept"),
            vec![("comments", "Clear")],
            OFFICER,
        ),
        (
            format!("/agreements/{SAMPLE}/handover/{NIL}/review/return"),
            vec![("comments", "Add the recovery steps")],
            OFFICER,
        ),
        (
            format!("/agreements/{SAMPLE}/handover/engagements/camden/end"),
            vec![("reason", "Contract terminated"), ("step", "confirm")],
            OFFICER,
        ),
    ]
}

async fn forms_need_the_sessions_csrf_token_and_a_role_that_may(app: TestApp) {
    with_sample(&app).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let other = signed_in(&app, Role::IgOfficer, None).await;
    let foreign = other.get("/").await.csrf();
    let own = officer.get("/").await.csrf();
    assert_ne!(own, foreign, "tokens are bound to their session");
    for (path, body, _) in forms() {
        for token in [None, Some("0".repeat(64)), Some(foreign.clone())] {
            let mut form = body.clone();
            if let Some(t) = &token {
                form.push(("csrf", t));
            }
            let page = officer.post(&path, &form).await;
            assert_eq!(page.status, 403, "POST {path} with csrf {token:?}");
            assert!(
                page.body.contains("This form cannot be used"),
                "{}",
                page.body
            );
        }
    }
    let sample = app.registry.agreement(SAMPLE).await.unwrap();
    assert_eq!(
        sample.control.as_str(),
        "open",
        "no forged form changed anything"
    );
    for &role in Role::PEOPLE {
        let b = signed_in(&app, role, role.needs_party().then_some("camden")).await;
        let token = b.get("/").await.csrf();
        for (path, body, allowed) in forms() {
            if allowed.contains(&role) {
                continue;
            }
            let mut form = body.clone();
            form.push(("csrf", &token));
            assert_eq!(b.post(&path, &form).await.status, 403, "{role} POST {path}");
        }
    }
    // The sign-in form's token is bound to the visit cookie.
    let stranger = Browser::new(&app);
    let email = person(&app, Role::Auditor, None).await;
    let page = stranger
        .post(
            "/sign-in",
            &[("csrf", &own), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        page.status, 403,
        "a sign-in form from another page is refused"
    );
    assert!(stranger.cookie("accord_session").is_none());
}

async fn hostile_text_is_rendered_inert(app: TestApp) {
    let hostile = r#"<script>alert("x")</script> {{csrf}} ' " &"#;
    let text = support::draft(&format!("{SAMPLE}.yaml"), "hostile-agreement")
        .replace(
            "title: Emergency food support referrals",
            &format!("title: '{}'", hostile.replace('\'', "''")),
        )
        .replace(
            "name: London Borough of Camden",
            &format!("name: '{}'", hostile.replace('\'', "''")),
        );
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let saved = officer
        .submit(
            "/agreements/new",
            "/agreements/new",
            &[("source", &text), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let checked = officer
        .submit(
            "/agreements/new",
            "/agreements/new",
            &[("source", &text), ("action", "check")],
        )
        .await;
    for path in [
        "/agreements",
        "/agreements/hostile-agreement",
        "/agreements/hostile-agreement/dpia",
    ] {
        let page = officer.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.body.contains("&lt;script&gt;"),
            "{path} shows the text, escaped"
        );
        assert!(
            !page.body.contains("<script>alert"),
            "{path} renders a script element"
        );
        assert!(
            !page.body.to_lowercase().contains("<script"),
            "{path} has a script element"
        );
    }
    assert!(
        !checked.body.contains("<script>alert"),
        "the check page escapes the source"
    );
    assert!(
        checked.body.contains("{{csrf}}"),
        "handlebars does not expand text it writes"
    );
}

async fn sessions_are_stored_hashed_and_end_at_sign_out(app: TestApp) {
    let email = person(&app, Role::Auditor, None).await;
    let b = Browser::new(&app);
    let page = b.sign_in(&email, PASSWORD).await;
    assert_eq!(page.status, 303);
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("accord_session="))
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http on loopback");
    let secret = b.cookie("accord_session").unwrap();
    use accord::store::entity::web_session;
    let db = app.registry.db();
    let stored = web_session::Entity::find()
        .filter(web_session::Column::IdHash.eq(secret.clone()))
        .count(db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "the cookie's value is not what is stored");
    let hashed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()));
    assert_eq!(
        web_session::Entity::find_by_id(hashed)
            .count(db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(b.get("/audit").await.status, 200);
    let out = b.submit("/", "/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    let again = Browser::new(&app);
    again.set_cookie("accord_session", &secret);
    assert_eq!(
        again.get("/audit").await.status,
        303,
        "a signed-out session is gone"
    );
    let audit = accord::audit::list(db, &Default::default(), 1000)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|r| r.action.as_str()).collect();
    assert!(
        actions.contains(&"user.signed_in") && actions.contains(&"user.signed_out"),
        "{actions:?}"
    );
}

async fn sessions_expire_when_idle_and_at_twelve_hours(app: TestApp) {
    let b = signed_in(&app, Role::Auditor, None).await;
    let start = app.clock.now();
    app.clock.set(start + jiff::SignedDuration::from_mins(29));
    assert_eq!(b.get("/audit").await.status, 200, "29 minutes idle");
    app.clock
        .set(start + jiff::SignedDuration::from_mins(29 + 31));
    assert_eq!(b.get("/audit").await.status, 303, "31 minutes idle ends it");
    let busy = signed_in(&app, Role::Auditor, None).await;
    let start = app.clock.now();
    let minutes: Vec<i64> = (1..=24).map(|step| step * 29).chain([719]).collect();
    for m in minutes {
        app.clock.set(start + jiff::SignedDuration::from_mins(m));
        assert_eq!(
            busy.get("/").await.status,
            200,
            "busy, {m} minutes after sign-in"
        );
    }
    app.clock.set(start + jiff::SignedDuration::from_mins(721));
    assert_eq!(
        busy.get("/").await.status,
        303,
        "twelve hours after sign-in, however busy"
    );
}

async fn changing_the_password_ends_every_session(app: TestApp) {
    let email = person(&app, Role::IgOfficer, None).await;
    let (one, two) = (Browser::new(&app), Browser::new(&app));
    assert_eq!(one.sign_in(&email, PASSWORD).await.status, 303);
    assert_eq!(two.sign_in(&email, PASSWORD).await.status, 303);
    let wrong = one
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current", "not it at all"),
                ("password", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("href=\"#current\""),
        "error summary links to the field"
    );
    let done = one
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(two.get("/").await.status, 303, "the other session ended");
    assert_eq!(one.get("/").await.status, 303, "this one too");
    assert_eq!(
        Browser::new(&app).sign_in(&email, PASSWORD).await.status,
        401,
        "old password"
    );
    assert_eq!(
        Browser::new(&app)
            .sign_in(&email, "a brand new passphrase")
            .await
            .status,
        303
    );
}

async fn repeated_failures_are_throttled_and_audited(app: TestApp) {
    let email = person(&app, Role::Auditor, None).await;
    let b = Browser::new(&app);
    for n in 1..=5 {
        let page = b.sign_in(&email, "wrong password!").await;
        assert_eq!(page.status, 401, "failure {n}");
        assert!(page.body.contains("not right"), "{}", page.body);
        assert!(
            page.body.contains("<title>Error: Sign in – Accord</title>"),
            "the title says first that there is a problem: {}",
            page.body
        );
    }
    let page = b.sign_in(&email, PASSWORD).await;
    assert_eq!(
        page.status, 429,
        "the right password is refused while throttled"
    );
    assert!(b.cookie("accord_session").is_none());
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(16));
    assert_eq!(
        b.sign_in(&email, PASSWORD).await.status,
        303,
        "after the window"
    );
    let audit = accord::audit::list(
        app.registry.db(),
        &accord::audit::Filter {
            action: Some("user.sign_in_failed".into()),
            ..Default::default()
        },
        100,
    )
    .await
    .unwrap();
    assert_eq!(audit.len(), 6, "five failures and one throttled attempt");
    assert!(
        audit
            .iter()
            .all(|r| !r.details.contains(PASSWORD) && !r.details.contains("wrong password")),
        "no password is logged"
    );
    // Unknown accounts cost as much and say the same.
    let page = Browser::new(&app)
        .sign_in("nobody@council.example", PASSWORD)
        .await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("not right"));
}

/// An address other than the loopback every browser in these tests comes from: a stranger's,
/// given straight to the use case.
const STRANGER: &str = "203.0.113.7";

/// The `user.sign_in_failed` (or other `action`) records about `subject`.
async fn audited(app: &TestApp, action: &str, subject: &str) -> Vec<String> {
    let filter = accord::audit::Filter {
        action: Some(action.into()),
        subject: Some(subject.into()),
        ..Default::default()
    };
    let records = accord::audit::list(app.registry.db(), &filter, 1000)
        .await
        .unwrap();
    records.into_iter().map(|r| r.details).collect()
}

async fn a_strangers_failures_do_not_lock_the_owner_out(app: TestApp) {
    use accord::people::{PeopleError, sessions::sign_in};
    let email = person(&app, Role::Auditor, None).await;
    let (db, now) = (app.registry.db(), app.clock.now());
    for n in 1..=5 {
        let e = sign_in(db, now, &email, "wrong password!", STRANGER)
            .await
            .unwrap_err();
        assert!(matches!(e, PeopleError::WrongPassword), "failure {n}: {e}");
    }
    let e = sign_in(db, now, &email, PASSWORD, STRANGER)
        .await
        .unwrap_err();
    assert!(
        matches!(e, PeopleError::Throttled { .. }),
        "the stranger's address is refused, right password or not: {e}"
    );
    let owner = Browser::new(&app);
    let page = owner.sign_in(&email, PASSWORD).await;
    assert_eq!(
        page.status, 303,
        "the owner, at another address: {}",
        page.body
    );
    assert!(owner.cookie("accord_session").is_some());
    // One address spraying guesses over many accounts is still refused for every account.
    for n in 1..=20 {
        let e = sign_in(
            db,
            now,
            &format!("nobody-{n}@council.example"),
            "guess",
            "198.51.100.4",
        )
        .await
        .unwrap_err();
        assert!(matches!(e, PeopleError::WrongPassword), "spray {n}: {e}");
    }
    let e = sign_in(db, now, &email, PASSWORD, "198.51.100.4")
        .await
        .unwrap_err();
    assert!(matches!(e, PeopleError::Throttled { .. }), "{e}");
    assert_eq!(
        Browser::new(&app).sign_in(&email, PASSWORD).await.status,
        303,
        "the owner still, at theirs"
    );
}

async fn an_ipv6_network_counts_as_one_address(app: TestApp) {
    use accord::people::{PeopleError, sessions::sign_in};
    let email = person(&app, Role::Auditor, None).await;
    let (db, now) = (app.registry.db(), app.clock.now());
    for n in 1..=5 {
        let from = format!("2001:db8:1:2::{n:x}");
        let e = sign_in(db, now, &email, "wrong password!", &from)
            .await
            .unwrap_err();
        assert!(matches!(e, PeopleError::WrongPassword), "failure {n}: {e}");
    }
    let e = sign_in(
        db,
        now,
        &email,
        PASSWORD,
        "2001:db8:1:2:ffff:ffff:ffff:ffff",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, PeopleError::Throttled { .. }),
        "another address in the same /64: {e}"
    );
    sign_in(db, now, &email, PASSWORD, "2001:db8:1:3::1")
        .await
        .expect("another /64");
    // IPv4 clients of a dual-stack listener arrive mapped into IPv6: each is its own address,
    // the same as when it is not mapped.
    let email = person(&app, Role::Auditor, None).await;
    for n in 1..=5 {
        let e = sign_in(db, now, &email, "wrong password!", "::ffff:192.0.2.1")
            .await
            .unwrap_err();
        assert!(matches!(e, PeopleError::WrongPassword), "failure {n}: {e}");
    }
    let e = sign_in(db, now, &email, PASSWORD, "192.0.2.1")
        .await
        .unwrap_err();
    assert!(
        matches!(e, PeopleError::Throttled { .. }),
        "an address mapped or not is the same: {e}"
    );
    sign_in(db, now, &email, PASSWORD, "::ffff:192.0.2.2")
        .await
        .expect("another IPv4 address, mapped");
}

async fn throttled_attempts_do_not_extend_the_refusal(app: TestApp) {
    use accord::people::throttle::{WINDOW, account_and_address_key, count_recent};
    let email = person(&app, Role::Auditor, None).await;
    let b = Browser::new(&app);
    let start = app.clock.now();
    for n in 1..=5 {
        assert_eq!(
            b.sign_in(&email, "wrong password!").await.status,
            401,
            "failure {n}"
        );
    }
    let second = jiff::SignedDuration::from_secs(1);
    let minutes = jiff::SignedDuration::from_mins;
    for at in [minutes(1), minutes(7), minutes(14), WINDOW - second] {
        app.clock.set(start + at);
        let wrong = b.sign_in(&email, "wrong password!").await;
        assert_eq!(wrong.status, 429, "{at} on, a wrong password");
        let right = b.sign_in(&email, PASSWORD).await;
        assert_eq!(right.status, 429, "{at} on, the right one");
    }
    let key = account_and_address_key(&email, "127.0.0.1");
    let counted = count_recent(app.registry.db(), app.clock.now(), &key)
        .await
        .unwrap();
    assert_eq!(counted, 5, "only the five real failures are counted");
    app.clock.set(start + WINDOW + second);
    let page = b.sign_in(&email, PASSWORD).await;
    assert_eq!(
        page.status, 303,
        "the window after the fifth real failure: {}",
        page.body
    );
    let audit = audited(&app, "user.sign_in_failed", &format!("account:{email}")).await;
    assert_eq!(
        audit.len(),
        13,
        "five failures and eight throttled attempts"
    );
    let throttled = audit.iter().filter(|d| d.contains("throttled")).count();
    assert_eq!(throttled, 8, "{audit:?}");
}

async fn guessing_the_current_password_is_throttled(app: TestApp) {
    use accord::store::entity::user;
    const NEW: &str = "a brand new passphrase";
    let email = person(&app, Role::IgOfficer, None).await;
    let b = Browser::new(&app);
    assert_eq!(b.sign_in(&email, PASSWORD).await.status, 303);
    let db = app.registry.db();
    let stored = || async {
        user::Entity::find()
            .filter(user::Column::Email.eq(&email))
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    let before = stored().await;
    let browser = &b;
    let change = |current: &'static str| async move {
        let form = [("current", current), ("password", NEW), ("confirm", NEW)];
        browser
            .submit("/account/password", "/account/password", &form)
            .await
    };
    for n in 1..=5 {
        let page = change("not it at all").await;
        assert_eq!(page.status, 400, "wrong current password {n}");
    }
    let page = change(PASSWORD).await;
    assert_eq!(
        page.status, 429,
        "the right current password is refused while throttled"
    );
    assert!(
        page.body
            .contains("<title>Error: Change your password – Accord</title>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("href=\"#current\""),
        "error summary links to the field: {}",
        page.body
    );
    assert!(
        page.body.contains("Too many failed attempts"),
        "{}",
        page.body
    );
    let after = stored().await;
    assert_eq!(
        after.password_hash, before.password_hash,
        "password unchanged"
    );
    assert_eq!(after.password_set_at, before.password_set_at);
    assert_eq!(b.get("/").await.status, 200, "the session goes on");
    assert_eq!(
        Browser::new(&app).sign_in(&email, PASSWORD).await.status,
        429,
        "the same throttle as sign-in's, at this address"
    );
    let audit = audited(
        &app,
        "user.password_change_failed",
        &format!("user:{}", before.id),
    )
    .await;
    assert_eq!(audit.len(), 6, "five failures and one throttled attempt");
    assert_eq!(audit.iter().filter(|d| d.contains("throttled")).count(), 1);
    assert!(
        audit
            .iter()
            .all(|d| !d.contains(PASSWORD) && !d.contains("not it at all") && !d.contains(NEW)),
        "no password is logged"
    );
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(16));
    let done = change(PASSWORD).await;
    assert_eq!(done.status, 200, "after the window: {}", done.body);
    assert_eq!(Browser::new(&app).sign_in(&email, NEW).await.status, 303);
}

async fn many_addresses_meet_a_ceiling_that_spares_the_owners(app: TestApp) {
    use accord::people::throttle::{PER_ACCOUNT, PER_ACCOUNT_AND_ADDRESS, WINDOW};
    use accord::people::{PeopleError, sessions::sign_in};
    const HOME: &str = "192.0.2.10";
    let email = person(&app, Role::Auditor, None).await;
    let (db, start) = (app.registry.db(), app.clock.now());
    sign_in(db, start, &email, PASSWORD, HOME)
        .await
        .expect("the owner signs in from home");
    let addresses = PER_ACCOUNT / PER_ACCOUNT_AND_ADDRESS;
    for a in 0..addresses {
        let from = format!("198.51.100.{a}");
        for n in 1..=PER_ACCOUNT_AND_ADDRESS {
            let e = sign_in(db, start, &email, "wrong password!", &from)
                .await
                .unwrap_err();
            assert!(matches!(e, PeopleError::WrongPassword), "{from}, {n}: {e}");
        }
    }
    let e = sign_in(db, start, &email, PASSWORD, "198.51.100.200")
        .await
        .unwrap_err();
    assert!(
        matches!(e, PeopleError::Throttled { .. }),
        "a new address, past the account's ceiling: {e}"
    );
    sign_in(db, start, &email, PASSWORD, HOME)
        .await
        .expect("the owner, where they signed in before");
    let later = start + WINDOW + jiff::SignedDuration::from_secs(1);
    sign_in(db, later, &email, PASSWORD, "198.51.100.200")
        .await
        .expect("a new address, after the window");
}

async fn guesses_sent_together_are_counted_together(app: TestApp) {
    use accord::people::throttle::{
        PER_ACCOUNT_AND_ADDRESS, account_and_address_key, count_recent,
    };
    use accord::people::{PeopleError, sessions::sign_in};
    let email = person(&app, Role::Auditor, None).await;
    let (db, now) = (app.registry.db().clone(), app.clock.now());
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (db, email) = (db.clone(), email.clone());
        guesses.spawn(async move { sign_in(&db, now, &email, "wrong password!", STRANGER).await });
    }
    let (mut wrong, mut throttled) = (0, 0);
    while let Some(answer) = guesses.join_next().await {
        match answer.unwrap() {
            Err(PeopleError::WrongPassword) => wrong += 1,
            Err(PeopleError::Throttled { .. }) => throttled += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(
        wrong <= PER_ACCOUNT_AND_ADDRESS,
        "at most {PER_ACCOUNT_AND_ADDRESS} passwords checked, however many come at once: {wrong}"
    );
    assert_eq!(wrong + throttled, 20);
    let key = account_and_address_key(&email, STRANGER);
    let counted = count_recent(&db, now, &key).await.unwrap();
    assert_eq!(counted, wrong, "every failure counted, no refused guess");
}

async fn a_set_password_link_works_once_and_for_a_day(app: TestApp) {
    let db = app.registry.db();
    let now = app.clock.now();
    let new = accord::people::NewUser {
        email: "Jo.Bell@Camden.example",
        name: "Jo Bell",
        role: Role::Signatory,
        party: Some("camden"),
    };
    let (user, token) = accord::people::accounts::create(db, now, new, "test")
        .await
        .unwrap();
    assert_eq!(user.email, "jo.bell@camden.example");
    let b = Browser::new(&app);
    let path = format!("/set-password/{token}");
    let short = b
        .submit(&path, &path, &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("at least 12"));
    let set = b
        .submit(
            &path,
            &path,
            &[
                ("password", "a long passphrase"),
                ("confirm", "a long passphrase"),
            ],
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(b.get(&path).await.status, 404, "used once");
    assert_eq!(
        b.sign_in("jo.bell@camden.example", "a long passphrase")
            .await
            .status,
        303
    );
    let (_, late) = accord::people::accounts::new_link(db, now, "jo.bell@camden.example", "test")
        .await
        .unwrap();
    app.clock.set(now + jiff::SignedDuration::from_hours(24));
    assert_eq!(
        Browser::new(&app)
            .get(&format!("/set-password/{late}"))
            .await
            .status,
        404,
        "expired"
    );
    let rows = accord::store::entity::password_link::Entity::find()
        .all(db)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.token_hash != token && r.token_hash != late),
        "only hashes are stored"
    );
}

async fn a_session_that_ends_mid_form_loses_nothing_typed(app: TestApp) {
    let email = person(&app, Role::IgOfficer, None).await;
    let b = Browser::new(&app);
    assert_eq!(b.sign_in(&email, PASSWORD).await.status, 303);
    let form = b.get("/agreements/new?start=blank").await;
    let csrf = form.csrf();
    let typed = "accord: 1\nid: typed-before-lunch\ntitle: 'Typed <carefully> & kept'\n";
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(45));
    let page = b
        .post(
            "/agreements/new",
            &[("csrf", &csrf), ("source", typed), ("action", "check")],
        )
        .await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("What you entered has been kept"));
    assert_eq!(hidden(&page.body, "keep:source").as_deref(), Some(typed));
    assert_eq!(
        hidden(&page.body, "next").as_deref(),
        Some("/agreements/new")
    );
    let visit_csrf = page.csrf();
    let resumed = b
        .post(
            "/sign-in",
            &[
                ("csrf", &visit_csrf),
                ("email", &email),
                ("password", PASSWORD),
                ("next", "/agreements/new"),
                ("keep:source", typed),
                ("keep:action", "check"),
            ],
        )
        .await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert!(resumed.body.contains("Continue where you left off"));
    assert_eq!(hidden(&resumed.body, "source").as_deref(), Some(typed));
    let fresh = resumed.csrf();
    let checked = b
        .post(
            "/agreements/new",
            &[("csrf", &fresh), ("source", typed), ("action", "check")],
        )
        .await;
    assert_eq!(checked.status, 422, "the kept text is checked as typed");
    assert!(checked.body.contains("typed-before-lunch"));
}

/// A cross-site form (no session cookie: `SameSite=Lax`) to a control page lands on the sign-in
/// page, whether or not the officer is signed in. Nothing of it is kept or posted again after
/// signing in: the officer lands on the page's first step, and the agreement stays in force.
/// A form whose token is not the ended session's is not kept either.
async fn a_cross_site_form_is_never_posted_after_sign_in(app: TestApp) {
    use accord::agreement::lifecycle::Control;
    with_sample(&app).await;
    let email = person(&app, Role::IgOfficer, None).await;
    let officer = Browser::new(&app);
    assert_eq!(officer.sign_in(&email, PASSWORD).await.status, 303);
    let terminate = format!("/agreements/{SAMPLE}/control/terminate");
    // The attacker's page posts from the officer's browser, which sends no cookie with it.
    let forged = Browser::new(&app)
        .post(&terminate, &[("step", "confirm"), ("reason", "x")])
        .await;
    assert_eq!(forged.status, 401);
    assert!(!forged.body.contains("keep:"), "{}", forged.body);
    assert!(!forged.body.contains("has been kept"));
    assert_eq!(
        hidden(&forged.body, "next").as_deref(),
        Some(terminate.as_str())
    );
    // The officer signs in from that page, in a browser with no session (or a stale one).
    let b = Browser::new(&app);
    let page = b.get(&format!("/sign-in?next={terminate}")).await;
    let signed = b
        .post(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("email", &email),
                ("password", PASSWORD),
                ("next", &terminate),
            ],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.location(), Some(terminate.as_str()));
    let first_step = b.get(&terminate).await;
    assert_eq!(first_step.status, 200);
    assert!(first_step.body.contains("name=\"reason\""));
    // An ended session's browser posting a form with a token that is not that session's.
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(45));
    let stale = officer
        .post(
            &terminate,
            &[("csrf", "00ff"), ("step", "confirm"), ("reason", "x")],
        )
        .await;
    assert_eq!(stale.status, 401);
    assert!(!stale.body.contains("keep:"), "{}", stale.body);
    let summary = app.registry.agreement(SAMPLE).await.unwrap();
    assert_eq!(summary.control, Control::Open, "still in force");
    // A form-only path's GET leads to the page the form is on.
    let up = b
        .get(&format!(
            "/access-requests/{}/write/question",
            uuid::Uuid::nil()
        ))
        .await;
    assert_eq!(up.status, 303);
    assert_eq!(
        up.location().map(str::to_owned),
        Some(format!("/access-requests/{}", uuid::Uuid::nil()))
    );
}

/// A draft uploaded as a file goes through the one upload reader and the one CSRF check: a
/// forged token is refused with nothing read, a missing or non-UTF-8 file is an error at the
/// file field, and a good file is checked as if pasted.
async fn an_uploaded_draft_is_read_once_and_checked(app: TestApp) {
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let csrf = officer.get("/agreements/new?start=upload").await.csrf();
    let sample =
        std::fs::read(support::repo().join("agreements/camden-foodbank-referrals.yaml")).unwrap();
    let post = |token: &str, file: &[u8]| {
        let parts: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
            ("csrf", None, token.as_bytes().to_vec()),
            ("file", Some("agreement.yaml"), file.to_vec()),
        ];
        let officer = &officer;
        async move {
            let parts: Vec<(&str, Option<&str>, &[u8])> = parts
                .iter()
                .map(|(n, f, b)| (*n, *f, b.as_slice()))
                .collect();
            officer
                .post_multipart("/agreements/new/upload", &parts)
                .await
        }
    };
    for forged in ["", &"0".repeat(64)] {
        let page = post(forged, &sample).await;
        assert_eq!(page.status, 403, "a forged or missing token");
        assert!(
            page.body.contains("This form cannot be used"),
            "{}",
            page.body
        );
    }
    let empty = post(&csrf, b"").await;
    assert_eq!(empty.status, 400);
    assert!(
        empty.body.contains("href=\"#file\"")
            && empty.body.contains("Choose a YAML file to upload"),
        "{}",
        empty.body
    );
    let binary = post(&csrf, &[0xff, 0xfe, 0x00, 0x80]).await;
    assert_eq!(binary.status, 400);
    assert!(
        binary.body.contains("The file must be UTF-8 text (YAML)"),
        "{}",
        binary.body
    );
    let good = post(&csrf, &sample).await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(
        good.body.contains("camden-foodbank-referrals"),
        "{}",
        good.body
    );
    assert!(!good.body.contains("There is a problem"), "{}", good.body);
}

async fn an_officer_drafts_checks_and_saves(app: TestApp) {
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let blank = officer.get("/agreements/new?start=blank").await;
    let skeleton = hidden_textarea(&blank.body);
    assert!(skeleton.contains("id: new-agreement"));
    // Nothing to check: the form's own error, summarised and linked to the box, with no findings.
    let empty = officer
        .submit(
            "/agreements/new",
            "/agreements/new",
            &[("source", "  \n"), ("action", "check")],
        )
        .await;
    assert_eq!(empty.status, 400);
    assert!(
        empty
            .body
            .contains("<title>Error: Draft an agreement – Accord</title>"),
        "{}",
        empty.body
    );
    assert!(empty.body.contains("href=\"#source\""));
    assert!(empty.body.contains("Paste the agreement"));
    assert!(!empty.body.contains("id=\"line-1\""));
    let broken = skeleton
        .replace("article6: public_task", "article6: public_tsk")
        .replace("keep_for: P1Y", "keep_for: one year");
    let checked = officer
        .submit(
            "/agreements/new",
            "/agreements/new",
            &[("source", &broken), ("action", "save")],
        )
        .await;
    assert_eq!(checked.status, 422, "nothing with errors is saved");
    assert!(
        checked.body.contains("There is a problem: 2 errors"),
        "{}",
        checked.body
    );
    assert!(
        checked
            .body
            .contains("<title>Error: Draft an agreement – Accord</title>")
    );
    let line = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for n in [line("public_tsk"), line("one year")] {
        assert!(
            checked.body.contains(&format!("href=\"#line-{n}\"")),
            "summary links line {n}"
        );
        assert!(
            checked.body.contains(&format!("id=\"line-{n}\"")),
            "line {n} is shown"
        );
    }
    assert_eq!(
        app.registry
            .agreement("new-agreement")
            .await
            .ok()
            .map(|a| a.id),
        None
    );
    let saved = officer
        .submit(
            "/agreements/new",
            "/agreements/new",
            &[("source", &skeleton), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(
        saved.location(),
        Some("/agreements/new-agreement?done=saved")
    );
    let summary = app.registry.agreement("new-agreement").await.unwrap();
    assert_eq!(summary.status.as_str(), "draft");
}

/// A copy asks for a new id and title, refuses the original's (or any taken) id, and saving it
/// makes a new agreement at version 1 without signatures: the original gains no version.
async fn a_copy_is_a_new_agreement(app: TestApp) {
    with_sample(&app).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let ask = officer.get(&format!("/agreements/new?copy={SAMPLE}")).await;
    assert_eq!(ask.status, 200);
    assert!(ask.body.contains("Copy an agreement"), "{}", ask.body);
    assert!(ask.body.contains(&format!("value=\"{SAMPLE}-copy\"")));
    let taken = officer
        .get(&format!(
            "/agreements/new?copy={SAMPLE}&id={SAMPLE}&title=Again"
        ))
        .await;
    assert_eq!(taken.status, 400);
    assert!(taken.body.contains("href=\"#id\""), "{}", taken.body);
    assert!(taken.body.contains("exists already"));
    let bad = officer
        .get(&format!(
            "/agreements/new?copy={SAMPLE}&id=Not%20An%20Id&title="
        ))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("href=\"#id\"") && bad.body.contains("href=\"#title\""));
    let copied = officer
        .get(&format!(
            "/agreements/new?copy={SAMPLE}&id=islington-foodbank&title=Islington%20foodbank%20referrals"
        ))
        .await;
    assert_eq!(copied.status, 200);
    let source = hidden_textarea(&copied.body);
    assert!(source.contains("id: islington-foodbank\n"), "{source}");
    assert!(source.contains("title: Islington foodbank referrals\n"));
    assert!(source.contains("version: 1\n"));
    assert!(!source.contains("signatures:"));
    let saved = officer
        .submit(
            "/agreements/new",
            "/agreements/new",
            &[("source", &source), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let copy = app.registry.agreement("islington-foodbank").await.unwrap();
    assert_eq!((copy.versions, copy.status.as_str()), (1, "draft"));
    let original = app.registry.agreement(SAMPLE).await.unwrap();
    assert_eq!(original.versions, 1, "the original gains no version");
}

/// A suspended agreement's page: the reason as one sentence (never "..") and why the register
/// does not show it (it is in force, but suspended).
async fn a_suspension_reads_as_a_sentence(app: TestApp) {
    with_sample(&app).await;
    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let page = officer.get(&format!("/agreements/{SAMPLE}")).await;
    assert!(
        page.body.contains("public transparency register</a>"),
        "{}",
        page.body
    );
    let suspend = format!("/agreements/{SAMPLE}/control/suspend");
    let r = officer
        .submit(
            &suspend,
            &suspend,
            &[
                ("reason", "Breach under investigation."),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&format!("/agreements/{SAMPLE}")).await;
    assert!(
        page.body.contains(
            "Suspended by an officer: Breach under investigation. The gate refuses its flows."
        ),
        "{}",
        page.body
    );
    assert!(!page.body.contains(".."));
    assert!(
        page.body
            .contains("Not on the public transparency register while it is suspended.")
    );
    assert!(!page.body.contains("until this version is in force"));
}

fn hidden_textarea(html: &str) -> String {
    let start = html.find("name=\"source\"").unwrap();
    let open = html[start..].find('>').unwrap() + start + 1;
    let close = html[open..].find("</textarea>").unwrap() + open;
    support::web::unescape(&html[open..close])
}

on_both_databases!(
    only_the_allowed_see_each_page,
    forms_need_the_sessions_csrf_token_and_a_role_that_may,
    hostile_text_is_rendered_inert,
    sessions_are_stored_hashed_and_end_at_sign_out,
    sessions_expire_when_idle_and_at_twelve_hours,
    changing_the_password_ends_every_session,
    repeated_failures_are_throttled_and_audited,
    a_strangers_failures_do_not_lock_the_owner_out,
    an_ipv6_network_counts_as_one_address,
    throttled_attempts_do_not_extend_the_refusal,
    guessing_the_current_password_is_throttled,
    many_addresses_meet_a_ceiling_that_spares_the_owners,
    guesses_sent_together_are_counted_together,
    a_set_password_link_works_once_and_for_a_day,
    a_session_that_ends_mid_form_loses_nothing_typed,
    a_cross_site_form_is_never_posted_after_sign_in,
    a_copy_is_a_new_agreement,
    a_suspension_reads_as_a_sentence,
    an_officer_drafts_checks_and_saves,
    an_uploaded_draft_is_read_once_and_checked,
);
