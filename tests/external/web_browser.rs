//! The web console in a real headless Chromium, driven through chromium-driver (WebDriver):
//! the officer's, signatories' and auditor's journeys, once with the mouse and once with the
//! keyboard only; axe-core run inside the browser on every page reached (no WCAG 2.2 A or AA
//! violation); every main page reflowed at 320 px wide. With ACCORD_SCREENSHOTS set to a
//! folder, the main pages are saved there as PNG (scripts/screenshots.sh).
//!
//! scripts/test.sh installs Chromium, chromium-driver and axe-core, and sets ACCORD_AXE_JS.

use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use accord::access::form::{Kind, Step};
use accord::auth::Role;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::app::{Backend, TestApp};
use support::web::{PASSWORD, person};

const ID: &str = "foodbank-pilot";

/// How a journey presses things: with the mouse, or only with the keyboard (Tab to reach,
/// Enter or Space to press).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hands {
    Mouse,
    Keyboard,
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Browser {
    client: Client,
    base: String,
    hands: Hands,
    axe: Option<String>,
    violations: Vec<String>,
    pages_checked: usize,
    shots: Option<std::path::PathBuf>,
    _driver: Driver,
}

fn chromium() -> String {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("Chromium is not installed: run scripts/test.sh, which installs it")
        .to_owned()
}

impl Browser {
    async fn start(app: &TestApp, hands: Hands) -> Browser {
        let port = support::free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is not installed: run scripts/test.sh, which installs chromium-driver");
        let driver = Driver(driver);
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                ],
            }),
        );
        let mut client = None;
        for _ in 0..100 {
            let builder =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await;
            match builder {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let client = client.expect("connect to chromedriver");
        let axe = std::env::var("ACCORD_AXE_JS").ok().map(|p| {
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("ACCORD_AXE_JS={p}: {e}"))
        });
        assert!(
            axe.is_some() || hands == Hands::Keyboard,
            "ACCORD_AXE_JS is not set: run scripts/test.sh, which installs axe-core"
        );
        let shots = std::env::var_os("ACCORD_SCREENSHOTS").map(std::path::PathBuf::from);
        Browser {
            client,
            base: app.base.clone(),
            hands,
            axe,
            violations: Vec::new(),
            pages_checked: 0,
            shots,
            _driver: driver,
        }
    }

    async fn goto(&mut self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
        self.loaded().await;
    }

    /// After a page loads: axe-core on it (mouse run), and a screenshot if asked for.
    async fn loaded(&mut self) {
        if self.hands == Hands::Mouse {
            self.axe_check().await;
        }
    }

    async fn path(&self) -> String {
        let u = self.client.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// Waits (20 s at most) until the document marked by `press` has been replaced by a
    /// fully loaded one.
    async fn wait_for_next_document(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let arrived = self
                .client
                .execute(
                    "return !window.__accordBefore && document.readyState === 'complete'",
                    vec![],
                )
                .await
                .map(|v| v == Value::Bool(true))
                // A script sent while the old document unloads may fail: not there yet.
                .unwrap_or(false);
            if arrived {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no new page 20 s after a press on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits (20 s at most) until the browser is at a URL starting `prefix`: after pages
    /// of another site (the identity provider's) sent it back.
    async fn wait_until_at(&self, prefix: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !self
            .client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(prefix)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "never came to {prefix}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn body(&self) -> String {
        self.client
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn axe_check(&mut self) {
        let Some(axe) = self.axe.clone() else { return };
        let script = format!(
            "{axe}\n;const done = arguments[arguments.length - 1];\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }} }})\
             .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\
             .catch(e => done(['axe failed: ' + e]));"
        );
        let found = self.client.execute_async(&script, vec![]).await.unwrap();
        let path = self.path().await;
        self.pages_checked += 1;
        for v in found.as_array().unwrap() {
            self.violations
                .push(format!("{path}: {}", v.as_str().unwrap()));
        }
    }

    /// Fails with every WCAG A/AA violation axe-core found on the pages checked so far.
    fn assert_no_violations(&self) {
        assert!(
            self.violations.is_empty(),
            "axe-core found WCAG A/AA violations:\n{}",
            self.violations.join("\n")
        );
    }

    async fn screenshot(&self, name: &str) {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir).unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Keyboard: presses `key` on the element that has the focus.
    async fn key(&self, key: Key) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys(&key)
            .await
            .unwrap();
    }

    /// Whether the focus is on an element matching `css`.
    async fn focused_on(&self, css: &str) -> bool {
        let on = self
            .client
            .execute(
                "return !!document.activeElement && document.activeElement.matches(arguments[0])",
                vec![json!(css)],
            )
            .await
            .unwrap();
        on == Value::Bool(true)
    }

    /// Keyboard: presses Tab until the focus is on `css` (at most 300 times), so the element
    /// is proven reachable without a mouse.
    async fn tab_to(&self, css: &str) {
        for _ in 0..300 {
            if self.focused_on(css).await {
                return;
            }
            if self.focused_on("input[type=file]").await {
                // Keys sent to a file input are read as a file's path; press Tab on the
                // keyboard itself instead.
                let tab: char = Key::Tab.into();
                let press = KeyActions::new("keyboard".into())
                    .then(KeyAction::Down { value: tab })
                    .then(KeyAction::Up { value: tab });
                self.client.perform_actions(press).await.unwrap();
                continue;
            }
            self.key(Key::Tab).await;
        }
        panic!("{css} cannot be reached with Tab on {}", self.path().await);
    }

    /// Types `text` into the field `css`.
    async fn fill(&self, css: &str, text: &str) {
        match self.hands {
            Hands::Mouse => {
                let el = self.client.find(Locator::Css(css)).await.unwrap();
                el.clear().await.unwrap();
                el.send_keys(text).await.unwrap();
            }
            Hands::Keyboard => {
                self.tab_to(css).await;
                let el = self.client.active_element().await.unwrap();
                el.clear().await.unwrap();
                el.send_keys(text).await.unwrap();
            }
        }
    }

    /// Pastes `text` into the field `css` (as a clipboard paste: all at once).
    async fn paste(&self, css: &str, text: &str) {
        if self.hands == Hands::Keyboard {
            self.tab_to(css).await;
        }
        self.client
            .execute(
                "const el = document.querySelector(arguments[0]); el.value = arguments[1];",
                vec![json!(css), json!(text)],
            )
            .await
            .unwrap();
    }

    /// Presses a link or button; waits for the next page.
    async fn press(&mut self, css: &str) {
        // A press on a link within the page stays on this document; any other press (a link
        // elsewhere, a form's button) loads a new one. Mark this document first, so the wait
        // below cannot mistake it for the next: WebDriver may answer a key press before the
        // navigation it starts has begun.
        let navigates = self
            .client
            .execute(
                "const el = document.querySelector(arguments[0]);\
                 window.__accordBefore = true;\
                 return !(el && el.matches('a[href^=\"#\"]'));",
                vec![json!(css)],
            )
            .await
            .unwrap()
            == Value::Bool(true);
        match self.hands {
            Hands::Mouse => self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .click()
                .await
                .unwrap(),
            Hands::Keyboard => {
                self.tab_to(css).await;
                self.key(Key::Enter).await;
            }
        }
        if navigates {
            self.wait_for_next_document().await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("main"))
            .await
            .unwrap();
        self.loaded().await;
    }

    /// Ticks a checkbox.
    async fn tick(&self, css: &str) {
        match self.hands {
            Hands::Mouse => self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .click()
                .await
                .unwrap(),
            Hands::Keyboard => {
                self.tab_to(css).await;
                self.key(Key::Space).await;
            }
        }
    }

    /// Chooses `value` in the select `css` (reached with Tab on the keyboard run).
    async fn select(&self, css: &str, value: &str) {
        if self.hands == Hands::Keyboard {
            self.tab_to(css).await;
        }
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Answers every question of an access-request section from `posted`, as a person would:
    /// typing, choosing radios, ticking boxes, picking from a list.
    async fn answer_section(&self, step: Step, posted: &[(String, String)]) {
        for q in step.questions() {
            let values: Vec<&str> = posted
                .iter()
                .filter(|(k, _)| k == q.name)
                .map(|(_, v)| v.as_str())
                .collect();
            match q.kind {
                Kind::One(_) => {
                    let Some(v) = values.first() else { continue };
                    let select = format!("select#{}", q.name);
                    if self.client.find(Locator::Css(&select)).await.is_ok() {
                        self.select(&select, v).await;
                    } else {
                        self.choose(&format!("input[name='{}'][value='{v}']", q.name))
                            .await;
                    }
                }
                Kind::Many(_) => {
                    for v in values {
                        self.tick(&format!("input[name='{}'][value='{v}']", q.name))
                            .await;
                    }
                }
                _ => {
                    if let Some(v) = values.first() {
                        self.fill(&format!("#{}", q.name), v).await;
                    }
                }
            }
        }
    }

    /// Chooses a radio button.
    async fn choose(&self, css: &str) {
        match self.hands {
            Hands::Mouse => self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .click()
                .await
                .unwrap(),
            Hands::Keyboard => {
                self.tab_to(&format!(
                    "input[name=\"{}\"]",
                    self.client
                        .find(Locator::Css(css))
                        .await
                        .unwrap()
                        .attr("name")
                        .await
                        .unwrap()
                        .unwrap()
                ))
                .await;
                // Arrow keys move within a group; Space selects the focused one.
                for _ in 0..10 {
                    if self.focused_on(css).await {
                        break;
                    }
                    self.key(Key::Down).await;
                }
                self.key(Key::Space).await;
            }
        }
    }

    async fn sign_in(&mut self, email: &str) {
        self.goto("/sign-in").await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.press("form[action='/sign-in'] button[type=submit]")
            .await;
        assert_eq!(self.path().await, "/", "{}", self.body().await);
    }

    async fn sign_out(&mut self) {
        self.press(".sign-out button").await;
        assert!(self.path().await.starts_with("/sign-in"));
    }
}

/// A sample agreement under a new id, without signatures, with two mistakes in it.
fn draft_with_two_errors() -> (String, String) {
    let good = support::draft("camden-foodbank-referrals.yaml", ID);
    let bad = good
        .replacen("article6: public_task", "article6: public_tsk", 1)
        .replacen("keep_for: P6M", "keep_for: six months", 1);
    assert_ne!(good, bad);
    (bad, good)
}

async fn journeys(hands: Hands) {
    let app = TestApp::start(Backend::Sqlite).await;
    let officer = person(&app, Role::IgOfficer, None).await;
    let camden = person(&app, Role::Signatory, Some("camden")).await;
    let foodbank = person(&app, Role::Signatory, Some("foodbank")).await;
    let mut b = Browser::start(&app, hands).await;

    // Officer: a blank page to a saved draft, through two errors.
    b.goto("/").await;
    assert!(
        b.path().await.starts_with("/sign-in"),
        "signed out, the front door is sign-in"
    );
    b.screenshot("sign-in").await;
    b.sign_in(&officer).await;
    b.screenshot("home").await;
    b.press("nav a[href='/agreements/new']").await;
    b.press("a[href='/agreements/new?start=empty']").await;
    let (bad, good) = draft_with_two_errors();
    b.paste("#source", &bad).await;
    b.press("button[value=check]").await;
    let summary = b
        .client
        .find_all(Locator::Css(".error-summary-list a"))
        .await
        .unwrap();
    assert_eq!(
        summary.len(),
        2,
        "two errors in the summary: {}",
        b.body().await
    );
    let line = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let first = format!("#line-{}", line("article6: public_tsk"));
    let second = format!("#line-{}", line("keep_for: six months"));
    assert_eq!(
        summary[0].attr("href").await.unwrap().as_deref(),
        Some(first.as_str())
    );
    assert_eq!(
        summary[1].attr("href").await.unwrap().as_deref(),
        Some(second.as_str())
    );
    b.screenshot("draft-with-errors").await;
    b.press(&format!(".error-summary-list a[href='{second}']"))
        .await;
    let target = b
        .client
        .execute("return location.hash", vec![])
        .await
        .unwrap();
    assert_eq!(target, json!(second), "the link goes to the line");
    let flagged = b
        .client
        .find(Locator::Css(&format!("{second}.flagged")))
        .await
        .unwrap();
    assert!(flagged.text().await.unwrap().contains("six months"));
    b.paste("#source", &good).await;
    b.press("button[value=check]").await;
    assert!(b.body().await.contains("No errors"), "{}", b.body().await);
    b.press("button[value=save]").await;
    assert_eq!(b.path().await, format!("/agreements/{ID}?done=saved"));
    assert!(b.body().await.contains("The draft has been saved"));
    b.screenshot("agreement").await;
    b.sign_out().await;

    // Two signatories sign; the page shows the agreement active.
    for (who, party) in [(&camden, "camden"), (&foodbank, "foodbank")] {
        b.sign_in(who).await;
        b.press(&format!("a[href='/agreements?awaiting={party}']"))
            .await;
        b.press(&format!("a[href='/agreements/{ID}']")).await;
        b.press(&format!("a[href='/agreements/{ID}/versions/1/sign']"))
            .await;
        assert!(
            b.body().await.contains("DPIA screening"),
            "the screening outcome is shown first"
        );
        if party == "camden" {
            b.screenshot("sign").await;
        }
        b.choose("#role-senior_officer").await;
        b.press("form button[type=submit].button").await;
        assert!(b.body().await.contains("Check before you sign"));
        b.press("button.button-warning").await;
        assert_eq!(b.path().await, format!("/agreements/{ID}?done=signed"));
        b.sign_out().await;
    }
    b.sign_in(&officer).await;
    b.goto(&format!("/agreements/{ID}")).await;
    let status = b
        .client
        .find(Locator::Css("main > p .tag"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(status, "active", "{}", b.body().await);

    // Records flow through the gate; the officer finds every holding about the subject.
    let gate = app.token(Role::GateClient, Some("camden")).await;
    let send = json!({ "agreement": ID, "from": "camden", "to": "foodbank", "purpose": "food-parcels",
        "fields": ["full-name", "address"], "records": [{ "full-name": "Ada", "address": "1 Lane" }],
        "subject_refs": ["R-77"] });
    let sent: Value = app
        .post_json(&gate, "/api/v1/flows", send)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sent["decision"], "allow", "{sent}");
    b.press("nav a[href='/holdings']").await;
    b.fill("#subject", "R-77").await;
    b.press("form[action='/holdings'] button").await;
    let found = b.body().await;
    assert!(
        found.contains("1 holdings about R-77") && found.contains("foodbank"),
        "{found}"
    );
    b.screenshot("holdings").await;

    // A legal hold placed on what is held about the subject, then released.
    b.press("a[href='/holds/new?subject=R-77']").await;
    b.choose("#kind-sar").await;
    b.fill("#reason", "SAR-2026-114").await;
    b.press("form[action='/holds/new'] button.button").await;
    assert!(
        b.body()
            .await
            .contains("Check the hold before you place it")
    );
    b.press("button.button-warning").await;
    assert_eq!(b.path().await, "/holds");
    assert!(b.body().await.contains("SAR-2026-114"));
    b.screenshot("holds").await;
    b.press("a[href^='/holds/'][href$='/release']").await;
    b.fill("#reason", "Request answered").await;
    b.press("form button.button").await;
    b.press("button.button-warning").await;
    assert!(b.body().await.contains("No legal hold is in force"));

    // A copy asks for a new title and id first, and never keeps the original's.
    b.goto(&format!("/agreements/{ID}")).await;
    b.press(&format!("a[href='/agreements/new?copy={ID}']"))
        .await;
    assert!(b.body().await.contains("Copy an agreement"));
    b.fill("#title", "Islington foodbank referrals").await;
    b.fill("#id", "islington-foodbank").await;
    b.press("form[action='/agreements/new'] button.button")
        .await;
    let copied = b
        .client
        .find(Locator::Css("textarea[name='source']"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(copied.contains("\nid: islington-foodbank\n"), "{copied}");
    assert!(!copied.contains(&format!("\nid: {ID}\n")), "{copied}");

    // Suspended with a reason: the gate refuses.
    b.goto(&format!("/agreements/{ID}")).await;
    b.press(&format!("a[href='/agreements/{ID}/control/suspend']"))
        .await;
    b.fill("#reason", "Breach under investigation").await;
    b.press("form button.button").await;
    b.press("button.button-warning").await;
    assert_eq!(b.path().await, format!("/agreements/{ID}?done=suspended"));
    assert!(b.body().await.contains("Breach under investigation"));
    let ask = json!({ "agreement": ID, "from": "camden", "to": "foodbank", "purpose": "food-parcels", "fields": ["full-name"] });
    let d: Value = app
        .post_json(&gate, "/api/v1/flows/check", ask)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["decision"], "deny", "{d}");

    access_request_journey(&mut b, &app, &officer).await;
    handover_journey(&mut b, &app, &officer).await;

    if hands == Hands::Mouse {
        // The rest of the console, for axe and screenshots.
        for (path, shot) in [
            ("/agreements", Some("agreements")),
            (&format!("/agreements/{ID}/diff?from=1&to=1") as &str, None),
            ("/register", Some("register")),
            ("/audit", Some("audit")),
            ("/deletions", None),
            ("/holds/new", None),
            ("/account/password", None),
            ("/agreements/new?start=blank", None),
            ("/privacy", None),
            ("/accessibility", None),
            ("/cookies", None),
            ("/request-access/renew", None),
            ("/no-such-page", None),
        ] {
            b.goto(path).await;
            if let Some(name) = shot {
                b.screenshot(name).await;
            }
        }
        b.goto("/audit").await;
        b.press("form[action='/audit/verify'] button").await;
        assert!(
            b.body().await.contains("The chain is intact"),
            "{}",
            b.body().await
        );
        reflows_at_320(&mut b).await;
        b.sign_out().await;
        let anyone = person(&app, Role::Auditor, None).await;
        let (_, link) = accord::people::accounts::new_link(
            app.registry.db(),
            accord::clock::Clock::now(&*app.clock),
            &anyone,
            "test",
        )
        .await
        .unwrap();
        b.goto(&format!("/set-password/{link}")).await;
        assert!(
            b.pages_checked >= 25,
            "axe ran on {} pages",
            b.pages_checked
        );
        b.assert_no_violations();
        // axe is really looking: an image without a text alternative, added to this page, is found.
        b.client.execute("const i = document.createElement('img'); i.src = '/assets/none.png'; document.querySelector('main').append(i);", vec![]).await.unwrap();
        b.axe_check().await;
        assert!(
            b.violations.iter().any(|v| v.contains("image-alt")),
            "{:?}",
            b.violations
        );
        b.violations.clear();
        b.assert_no_violations();
    }
    // Ending the session makes chromedriver close Chromium (killing chromedriver alone would
    // leave the browser running).
    b.client.clone().close().await.unwrap();
}

/// A contractor hands over through the pages: its runbook (first with a key in it, refused),
/// its access list and its deletion certificate. The officer returns the runbook with a
/// comment, the contractor answers it, and the officer accepts all three; search finds the
/// runbook, and the knowledge pack prints to PDF.
async fn handover_journey(b: &mut Browser, app: &TestApp, officer: &str) {
    const HMO: &str = "hmo-licensing-enforcement";
    let yaml =
        std::fs::read_to_string(support::repo().join(format!("agreements/{HMO}.yaml"))).unwrap();
    app.import_yaml(&yaml).await;
    let metis = person(app, Role::Contractor, Some("metis")).await;
    let reader = app.token(Role::Auditor, None).await;
    let view: serde_json::Value = app
        .get(&reader, &format!("/api/v1/agreements/{HMO}/handover"))
        .await
        .json()
        .await
        .unwrap();
    let id = |key: &str| {
        view["engagements"][0]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == key)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let item = |key: &str| format!("/agreements/{HMO}/handover/{}", id(key));
    if b.client
        .find(Locator::Css(".sign-out button"))
        .await
        .is_ok()
    {
        b.sign_out().await;
    }
    b.sign_in(&metis).await;
    // The contractor's menu offers only the pages it may open.
    let offered = |css: &'static str| {
        let client = b.client.clone();
        async move { client.find(Locator::Css(css)).await.is_ok() }
    };
    assert!(!offered("nav a[href='/agreements']").await);
    assert!(offered("nav a[href='/handover']").await);
    b.press("nav a[href='/handover']").await;
    assert!(
        b.body()
            .await
            .contains("Runbook for the monthly matching run"),
        "{}",
        b.body().await
    );
    b.screenshot("handover-tasks").await;
    let submit = "form[enctype='multipart/form-data'] button[type=submit]";
    b.press(&format!("a[href='{}']", item("matching-runbook")))
        .await;
    b.fill("#body", "Deploy with key q8Zr2LmX7vNc4TpW9sKd3YbH")
        .await;
    b.press(submit).await;
    let summary = b
        .client
        .find_all(Locator::Css(".error-summary-list a[href='#body']"))
        .await
        .unwrap();
    assert_eq!(
        summary.len(),
        1,
        "the secret is refused: {}",
        b.body().await
    );
    b.screenshot("handover-secret-refused").await;
    b.fill(
        "#body",
        "The attendance extract is produced on the first working day by the MIS team.",
    )
    .await;
    b.press(submit).await;
    assert!(b.body().await.contains("Version 1"), "{}", b.body().await);
    b.goto(&item("revoke-sftp-access")).await;
    b.fill("#body", "Every account we held, and who ended it.")
        .await;
    b.fill(
        "#credentials",
        "SFTP account metis-extract | Newham IT service desk | 2026-11-20",
    )
    .await;
    b.press(submit).await;
    assert!(
        b.body().await.contains("SFTP account metis-extract"),
        "{}",
        b.body().await
    );
    b.goto(&item("deletion-certificate")).await;
    b.fill(
        "#body",
        "All extracts, results and backups deleted on 2026-11-20 by secure erase.",
    )
    .await;
    b.press(submit).await;
    assert!(b.body().await.contains("Version 1"));
    b.sign_out().await;

    b.sign_in(officer).await;
    b.goto(&item("matching-runbook")).await;
    b.screenshot("handover-review").await;
    b.fill("#comments", "Add how a failed run is recovered.")
        .await;
    b.press("form[action$='/review/return'] button").await;
    assert!(
        b.body().await.contains("Returned with comments"),
        "{}",
        b.body().await
    );
    b.sign_out().await;
    b.sign_in(&metis).await;
    b.goto(&item("matching-runbook")).await;
    b.fill("#body", "The attendance extract is produced on the first working day by the MIS team. A failed run is recovered by re-running step 3.").await;
    b.press(submit).await;
    b.sign_out().await;
    b.sign_in(officer).await;
    for key in [
        "matching-runbook",
        "revoke-sftp-access",
        "deletion-certificate",
    ] {
        b.goto(&item(key)).await;
        b.press("form[action$='/review/accept'] button").await;
        assert!(
            b.body().await.contains("Accepted"),
            "{key}: {}",
            b.body().await
        );
    }
    b.goto(&format!("/agreements/{HMO}/handover")).await;
    assert!(
        b.body().await.contains("3 of 9 items accepted"),
        "{}",
        b.body().await
    );
    b.goto("/handover").await;
    b.fill("#q", "how is the attendance extract produced").await;
    b.press("form[action='/handover/search'] button").await;
    assert!(
        b.body()
            .await
            .contains("Runbook for the monthly matching run"),
        "{}",
        b.body().await
    );
    b.goto(&format!("/agreements/{HMO}/handover/pack")).await;
    let pack = b.body().await;
    assert!(
        pack.contains("A failed run is recovered by re-running step 3."),
        "{pack}"
    );
    assert!(pack.contains("SFTP account metis-extract"));
    b.screenshot("handover-pack").await;
    let pdf = b
        .client
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .unwrap();
    assert!(
        pdf.starts_with(b"%PDF-") && pdf.len() > 2000,
        "a PDF of {} bytes",
        pdf.len()
    );
}

/// A partner with no account asks for data through the form: starts, confirms the e-mail
/// address, fills three sections, comes back later by the private link, finishes, checks
/// and submits. The officer asks a question; the requester answers; the officer approves; the
/// draft is in the registry, waiting for both sides to sign.
async fn access_request_journey(b: &mut Browser, app: &TestApp, officer: &str) {
    let sample = "camden-foodbank-referrals";
    let yaml =
        std::fs::read_to_string(support::repo().join(format!("agreements/{sample}.yaml"))).unwrap();
    app.import_yaml(&yaml).await;
    b.sign_out().await;
    let email = format!("ann-{:?}@hope.example", b.hands).to_lowercase();
    let posted = support::access::answers(
        &format!("agreement:{sample}"),
        &["full-name", "address", "dietary-needs"],
        "",
    );

    b.goto("/request-access").await;
    b.screenshot("request-access").await;
    b.fill("#email", &email).await;
    b.press("form[action='/request-access'] button").await;
    assert!(
        b.body().await.contains("Check your e-mail"),
        "{}",
        b.body().await
    );
    let confirm = outbox(app, &email, "access-confirm").await;
    let confirm = path_of(&confirm, "/request-access/confirm/");
    b.goto(&confirm).await;
    b.press("form button.button").await;
    let private = b.path().await;
    assert!(private.starts_with("/request-access/r/"), "{private}");
    assert!(b.body().await.contains("0 of 10 sections completed"));

    // A section sent empty: the error summary, linked to its fields.
    b.press("a[href$='/step/organisation']").await;
    b.press("form button.button").await;
    let body = b.body().await;
    assert!(
        body.contains("There is a problem") && body.contains("Enter organisation name"),
        "{body}"
    );
    b.screenshot("request-access-errors").await;
    // Three sections, then away.
    for step in [Step::Organisation, Step::Contacts, Step::Addressed] {
        assert!(b.path().await.ends_with(step.slug()), "{}", b.path().await);
        b.answer_section(step, &posted).await;
        b.press("form button.button").await;
    }
    // Back later by the private link: the answers were kept.
    b.goto("/").await;
    b.goto(&private).await;
    assert!(
        b.body().await.contains("3 of 10 sections completed"),
        "{}",
        b.body().await
    );
    b.screenshot("request-access-tasks").await;
    b.press("a[href$='/step/purpose']").await;
    for step in &Step::ALL[3..] {
        assert!(
            b.path().await.ends_with(step.slug()),
            "{}: {}",
            b.path().await,
            b.body().await
        );
        b.answer_section(*step, &posted).await;
        b.press("form button.button").await;
    }
    assert!(
        b.body().await.contains("10 of 10 sections completed"),
        "{}",
        b.body().await
    );
    // An Article 10 basis chosen by mistake (no criminal offence data is asked for) is taken
    // back with "None of these".
    b.goto(&format!("{private}/step/lawful-basis")).await;
    b.choose("input[name='article10'][value='']").await;
    b.press("form button.button").await;
    let kept = {
        use accord::store::entity::access_request;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        access_request::Entity::find()
            .filter(access_request::Column::Email.eq(email.as_str()))
            .one(app.registry.db())
            .await
            .unwrap()
            .unwrap()
            .answers
    };
    assert!(!kept.contains("article10"), "{kept}");
    b.goto(&private).await;
    b.press(&format!("a[href='{private}/check']")).await;
    let body = b.body().await;
    assert!(
        body.contains("Special category data") && body.contains("Hope Foodbank"),
        "{body}"
    );
    b.press("form[action$='/submit'] button").await;
    let body = b.body().await;
    assert!(body.contains("Request submitted"), "{body}");

    // The officer reviews and asks one question.
    b.sign_in(officer).await;
    b.press("nav a[href='/access-requests']").await;
    b.press("table a[href^='/access-requests/']").await;
    let body = b.body().await;
    assert!(body.contains("0 errors from accord check"), "{body}");
    b.screenshot("access-request").await;
    b.fill("#ask", "Which centres will collect the parcels?")
        .await;
    b.press("form[action$='/write/ask'] button").await;
    assert!(b.body().await.contains("Waiting for the requester"));
    let officer_page = b.path().await;
    b.sign_out().await;

    // The requester answers through the private link the question came with.
    let question = outbox(app, &email, "access-question").await;
    let private = path_of(&question, "/request-access/r/");
    b.goto(&private).await;
    assert!(
        b.body()
            .await
            .contains("Which centres will collect the parcels?")
    );
    b.fill("#message", "Kentish Town and Gospel Oak.").await;
    b.press("form[action$='/answer'] button").await;
    assert!(b.body().await.contains("Your answer has been sent"));

    // The officer approves; the draft is in the registry.
    b.sign_in(officer).await;
    b.goto(&officer_page).await;
    assert!(b.body().await.contains("Kentish Town and Gospel Oak."));
    b.press("a[href$='/decide/approve']").await;
    b.fill("#reasons", "Necessary for the council's prevention duty.")
        .await;
    b.press("form button.button").await;
    assert!(b.body().await.contains("Check before you approve"));
    b.press("button.button-warning").await;
    let body = b.body().await;
    assert!(body.contains("Approved") && body.contains(sample), "{body}");
    b.press(&format!("a[href='/agreements/{sample}']")).await;
    let body = b.body().await;
    assert!(
        body.contains("hope-foodbank"),
        "the new party must sign: {body}"
    );
}

/// The body of the last message queued to `to` of `kind`.
async fn outbox(app: &TestApp, to: &str, kind: &str) -> String {
    use accord::store::entity::outbox_message;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    outbox_message::Entity::find()
        .filter(outbox_message::Column::ToAddr.eq(to))
        .filter(outbox_message::Column::Kind.eq(kind))
        .order_by_desc(outbox_message::Column::CreatedAt)
        .one(app.registry.db())
        .await
        .unwrap()
        .expect("a message")
        .text_body
}

/// The path of the first link in `body` whose path starts with `prefix`.
fn path_of(body: &str, prefix: &str) -> String {
    let at = body.find(prefix).expect("the link");
    body[at..].split_whitespace().next().unwrap().to_owned()
}

/// At 320 CSS pixels wide, the main pages need no sideways scrolling (WCAG 1.4.10).
async fn reflows_at_320(b: &mut Browser) {
    b.client.set_window_size(320, 900).await.unwrap();
    for path in [
        "/",
        "/agreements",
        &format!("/agreements/{ID}"),
        "/holdings?subject=R-77",
        "/holds",
        "/audit",
        "/register",
    ] {
        b.client.goto(&format!("{}{path}", b.base)).await.unwrap();
        let wide = b
            .client
            .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]", vec![])
            .await
            .unwrap();
        let (scroll, client) = (wide[0].as_u64().unwrap(), wide[1].as_u64().unwrap());
        assert!(
            scroll <= client + 1,
            "{path} scrolls sideways at 320 px: {scroll} > {client}"
        );
    }
    b.client.set_window_size(1280, 1000).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_with_the_mouse_and_axe_on_every_page() {
    journeys(Hands::Mouse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_with_the_keyboard_only() {
    journeys(Hands::Keyboard).await;
}

/// An officer at another council borrows the foodbank agreement: the template page, the
/// foodbank template chosen, the new id and start, check your answers, and the draft's page
/// naming every placeholder left to fill. With the mouse, axe-core runs on every page.
async fn borrowing_a_template(hands: Hands) {
    let app = TestApp::start(Backend::Sqlite).await;
    let officer = person(&app, Role::IgOfficer, None).await;
    let mut b = Browser::start(&app, hands).await;
    b.goto("/sign-in").await;
    b.sign_in(&officer).await;
    b.press("nav a[href='/agreements/new']").await;
    b.press("main a[href='/agreements/new/template']").await;
    b.choose("input[name=template][value='camden-foodbank-referrals']")
        .await;
    b.fill("#id", "westminster-food").await;
    b.fill("#start", "2027-04-01").await;
    b.press("main form button[type=submit]").await;
    let answers = b.body().await;
    assert!(
        answers.contains("westminster-food") && answers.contains("2027-04-01"),
        "check your answers: {answers}"
    );
    b.press("main form button.button-warning").await;
    assert_eq!(b.path().await, "/agreements/westminster-food?done=drafted");
    let draft = b.body().await;
    assert!(
        draft.contains("still has placeholders"),
        "the draft's page says what is left: {draft}"
    );
    let named = b
        .client
        .find_all(Locator::Css(".warning-text + * li, main ul.list li"))
        .await
        .unwrap()
        .len();
    assert!(named > 5, "every placeholder is listed ({named})");
    if hands == Hands::Mouse {
        assert!(b.pages_checked >= 5, "axe ran on {} pages", b.pages_checked);
    }
    b.assert_no_violations();
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrowing_a_template_with_the_mouse_and_axe() {
    borrowing_a_template(Hands::Mouse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrowing_a_template_with_the_keyboard_only() {
    borrowing_a_template(Hands::Keyboard).await;
}

/// A resident with no account, keyboard only: from Accord's front door to the transparency
/// register, to the council's own agreements (chosen from the organisations listed), searched
/// for a word in their titles, to the foodbank scheme, and why it exists; axe-core finds
/// nothing on any of those pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_reads_the_register_with_the_keyboard() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let mut b = Browser::start(&app, Hands::Keyboard).await;
    assert!(
        b.axe.is_some(),
        "ACCORD_AXE_JS is not set: run scripts/test.sh"
    );
    b.goto("/").await;
    b.press("footer a[href='/transparency']").await;
    assert_eq!(b.path().await, "/transparency");
    b.axe_check().await;
    b.screenshot("transparency").await;
    // Only the council's own agreements, chosen from the organisations the register lists.
    b.select("select#organisation", "camden").await;
    b.press("main form.filters button[type=submit]").await;
    // (The form sends its search box too, empty.)
    assert_eq!(b.path().await, "/transparency?organisation=camden&q=");
    let camden = b.body().await;
    assert!(camden.contains("What London Borough of Camden shares, and why"));
    assert!(!camden.contains("Leeds discharge to assess"), "{camden}");
    b.axe_check().await;
    // Then a word from the title, the council still chosen.
    b.fill("input#q", "food").await;
    b.press("main form.filters button[type=submit]").await;
    assert_eq!(b.path().await, "/transparency?organisation=camden&q=food");
    let found = b.body().await;
    assert!(found.contains("Clear the search"), "{found}");
    assert!(
        found.contains("Emergency food support referrals"),
        "{found}"
    );
    assert!(
        found.contains("with all of these words in their titles: food."),
        "{found}"
    );
    b.axe_check().await;
    b.press("main a[href='/transparency/camden-foodbank-referrals']")
        .await;
    assert_eq!(b.path().await, "/transparency/camden-foodbank-referrals");
    let page = b.body().await;
    for said in [
        "Emergency food support referrals",
        "Why this information is shared",
        "refer them straight to the local foodbank for an emergency food parcel",
        "London Borough of Camden shares with Camden Community Foodbank",
        "Requests refused",
    ] {
        assert!(page.contains(said), "the page says {said:?}: {page}");
    }
    b.axe_check().await;
    b.screenshot("transparency-agreement").await;
    assert_eq!(b.pages_checked, 4);
    b.assert_no_violations();
    b.client.clone().close().await.unwrap();
}

/// Single sign-on in the browser, with the keyboard only: the sign-in page offers the
/// organisation's account (axe-core on it), Tab reaches that button, the real OpenID provider
/// (oidc-provider on loopback) signs the person in, and they arrive signed in, on a page axe
/// finds nothing on; signing out goes on to the provider and back to "You have signed out".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_with_the_keyboard() {
    let (app, provider) = support::oidc::start(Backend::Sqlite).await;
    provider.accounts(&[("priya", "priya.shah@camden.example", &["accord-officers"])]);
    let mut b = Browser::start(&app, Hands::Keyboard).await;
    assert!(
        b.axe.is_some(),
        "ACCORD_AXE_JS is not set: run scripts/test.sh"
    );
    b.goto("/sign-in").await;
    b.axe_check().await;
    b.tab_to("main a[href^='/sign-in/sso']").await;
    b.key(Key::Enter).await;
    // The provider's own pages (not Accord's: no axe here): sign in, then consent.
    let login = b
        .client
        .wait()
        .for_element(Locator::Css("input[name=login]"))
        .await
        .unwrap();
    login.send_keys("priya").await.unwrap();
    let password = b
        .client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap();
    password.send_keys("any password").await.unwrap();
    password.send_keys(&Key::Enter).await.unwrap();
    let consent = b
        .client
        .wait()
        .for_element(Locator::Css("input[name=prompt][value=consent]"))
        .await;
    if consent.is_ok() {
        let button = b
            .client
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap();
        button.send_keys(&Key::Enter).await.unwrap();
    }
    b.wait_until_at(&app.base).await;
    b.client
        .wait()
        .for_element(Locator::Css(".sign-out button"))
        .await
        .unwrap();
    assert_eq!(b.path().await, "/", "{}", b.body().await);
    b.axe_check().await;
    // Signing out goes on to the provider, which asks; yes, and back to Accord's page.
    b.tab_to(".sign-out button").await;
    b.key(Key::Enter).await;
    let yes = b
        .client
        .wait()
        .for_element(Locator::Css("button[name=logout][value=yes]"))
        .await
        .unwrap();
    yes.send_keys(&Key::Enter).await.unwrap();
    b.wait_until_at(&format!("{}/signed-out", app.base)).await;
    let body = b.body().await;
    assert!(body.contains("You have signed out of Accord"), "{body}");
    b.axe_check().await;
    assert_eq!(b.pages_checked, 3);
    b.assert_no_violations();
    b.client.clone().close().await.unwrap();
}
