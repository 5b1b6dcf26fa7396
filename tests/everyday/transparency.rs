//! The public transparency register, on SQLite and on PostgreSQL: what it shows of each
//! published agreement in force and nothing of anyone; its monthly counts, with numbers under
//! 10 hidden; that an agreement not published and in force cannot be reached, whatever its id;
//! and that every answer can be cached.

use crate::support;

/// A reason, as the pages and the API parse it.
fn why(text: &str) -> accord::inputs::Reason {
    accord::inputs::Reason::parse(text).unwrap()
}

use accord::agreement::check_source;
use accord::auth::Role;
use jiff::civil::date;
use serde_json::{Value, json};
use support::app::TestApp;

const FOODBANK: &str = "camden-foodbank-referrals";

async fn with_samples(app: &TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
}

/// The foodbank sample's YAML.
fn foodbank_source() -> String {
    std::fs::read_to_string(
        support::repo()
            .join("agreements")
            .join(format!("{FOODBANK}.yaml")),
    )
    .unwrap()
}

/// An answer of the register: no token, no cookie.
async fn public(app: &TestApp, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = app.http.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

async fn ok(app: &TestApp, path: &str) -> String {
    let (status, body, headers) = public(app, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert!(headers.get("set-cookie").is_none(), "{path} sets no cookie");
    body
}

/// Asks the gate about a foodbank referral carrying `fields` (allowed when every field is one
/// the referral flow carries).
async fn check(app: &TestApp, client: &str, fields: &[&str]) -> Value {
    let body = json!({
        "agreement": FOODBANK, "from": "camden", "to": "foodbank",
        "purpose": "food-parcels", "fields": fields,
    });
    let r = app.post_json(client, "/api/v1/flows/check", body).await;
    r.json().await.unwrap()
}

/// The counts CSV of `id`: month → (allowed, refused, deleted) as shown.
async fn counts(app: &TestApp, id: &str) -> Vec<(String, String, String, String)> {
    let text = ok(app, &format!("/transparency/{id}/counts.csv")).await;
    let mut rows = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    rows.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].into(), r[1].into(), r[2].into(), r[3].into())
        })
        .collect()
}

/// Every person and address an agreement names, which no published answer may carry.
fn people_in(source: &str) -> Vec<String> {
    let a = check_source(source.as_bytes(), date(2026, 11, 21))
        .agreement
        .expect("a valid sample");
    let mut out = vec![a.owner.name.clone(), a.owner.email.to_string()];
    for p in &a.parties {
        if let Some(c) = &p.dpo {
            out.extend([c.name.clone(), c.email.to_string()]);
        }
        if let Some(s) = &p.signatory {
            out.extend([s.name.clone(), s.email.to_string()]);
        }
        if let Some(e) = p.deletion.as_ref().and_then(|d| d.email.as_ref()) {
            out.push(e.to_string());
        }
    }
    if let Some(r) = &a.rights {
        out.extend([r.contact.name.clone(), r.contact.email.to_string()]);
    }
    out.extend(a.signatures.iter().map(|s| s.name.clone()));
    out
}

/// Every answer of the register: the list (each page), its CSV, the feed, and each listed
/// agreement's page and counts.
async fn everything_published(app: &TestApp) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        "/transparency",
        "/transparency.csv",
        "/transparency/feed.atom",
    ] {
        out.push((path.to_owned(), ok(app, path).await));
    }
    let list = ok(app, "/transparency").await;
    for id in listed(&list) {
        for path in [
            format!("/transparency/{id}"),
            format!("/transparency/{id}/counts.csv"),
        ] {
            let body = ok(app, &path).await;
            out.push((path, body));
        }
    }
    out
}

/// The agreement ids a register page links to.
fn listed(html: &str) -> Vec<String> {
    html.split("href=\"/transparency/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|s| !s.contains('.') && !s.contains('/'))
        .map(str::to_owned)
        .collect()
}

async fn nothing_published_names_a_person_or_carries_data(app: TestApp) {
    with_samples(&app).await;
    let officer = app.token(Role::IgOfficer, None).await;
    // Real traffic through the gate for every sample: records with values and subject
    // references that must never reach the register; then their deletion, confirmed.
    let mut secrets: Vec<String> = Vec::new();
    for sample in support::samples() {
        let source = std::fs::read_to_string(&sample).unwrap();
        secrets.extend(people_in(&source));
        let a = check_source(source.as_bytes(), date(2026, 11, 21))
            .agreement
            .unwrap();
        let flow = &a.flows[0];
        let client = app.token(Role::GateClient, Some(flow.from.as_str())).await;
        let records: Vec<Value> = (0..3)
            .map(|n| {
                let record: serde_json::Map<String, Value> = flow
                    .fields
                    .iter()
                    .map(|f| {
                        let value = format!("VALUE-{}-{f}-{n}", a.id);
                        secrets.push(value.clone());
                        (f.to_string(), Value::String(value))
                    })
                    .collect();
                Value::Object(record)
            })
            .collect();
        let subjects: Vec<String> = (0..3).map(|n| format!("SUBJECT-{}-{n}", a.id)).collect();
        secrets.extend(subjects.iter().cloned());
        let body = json!({
            "agreement": a.id.as_str(), "from": flow.from.as_str(), "to": flow.to.as_str(),
            "purpose": flow.purpose.as_str(),
            "fields": flow.fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "flow": flow.id.as_str(), "records": records, "subject_refs": subjects,
        });
        let r = app.post_json(&client, "/api/v1/flows", body).await;
        assert_eq!(r.status(), 200, "{}: {}", a.id, r.text().await.unwrap());
    }
    let published = everything_published(&app).await;
    assert_eq!(
        listed(&ok(&app, "/transparency").await).len(),
        support::samples().len(),
        "every sample is published"
    );
    let feed = ok(&app, "/transparency/feed.atom").await;
    assert!(feed.starts_with("<?xml") && feed.trim_end().ends_with("</feed>"));
    assert_eq!(
        feed.matches("<entry>").count(),
        support::samples().len(),
        "one feed entry per published agreement"
    );
    for (path, body) in &published {
        assert!(!body.contains('@'), "{path} carries an e-mail address");
        for s in &secrets {
            assert!(!body.contains(s.as_str()), "{path} carries {s:?}");
        }
    }
    // The page says what the issue asks: organisations, why, kinds, law, retention, review,
    // DPIA.
    let page = ok(&app, &format!("/transparency/{FOODBANK}")).await;
    for said in [
        "London Borough of Camden",
        "Camden Community Foodbank",
        "emergency food parcel",
        "special category data",
        "Article 6(1)(e) public task",
        "6 months from receipt, then deletes it",
        "1 April 2027",
        "no high risk",
    ] {
        assert!(page.contains(said), "the page says {said:?}");
    }
    drop(officer);
}

async fn counts_under_ten_are_hidden(app: TestApp) {
    with_samples(&app).await;
    let client = app.token(Role::GateClient, Some("camden")).await;
    // November 2026: 9 allowed, 10 refused.
    for _ in 0..9 {
        assert_eq!(
            check(&app, &client, &["full-name"]).await["decision"],
            "allow"
        );
    }
    for _ in 0..10 {
        assert_eq!(
            check(&app, &client, &["nhs-number"]).await["decision"],
            "deny"
        );
    }
    // December 2026: 11 allowed, none refused.
    app.clock.set("2026-12-02T10:00:00Z".parse().unwrap());
    for _ in 0..11 {
        check(&app, &client, &["address"]).await;
    }
    // A question about an agreement the registry does not know is counted nowhere.
    let stray = json!({
        "agreement": "no-such-agreement", "from": "camden", "to": "foodbank",
        "purpose": "food-parcels", "fields": ["full-name"],
    });
    app.post_json(&client, "/api/v1/flows/check", stray).await;
    let f = "fewer than 10";
    assert_eq!(
        counts(&app, FOODBANK).await,
        [
            ("2026-12".into(), "11".into(), f.into(), f.into()),
            ("2026-11".into(), f.into(), "10".into(), f.into()),
        ]
    );
    let page = ok(&app, &format!("/transparency/{FOODBANK}")).await;
    assert!(
        page.contains("<th scope=\"row\">November 2026</th><td>fewer than 10</td><td>10</td>"),
        "{page}"
    );
    let other = counts(&app, "hospital-discharge").await;
    assert!(
        other.iter().all(|(_, a, r, d)| [a, r, d] == [f, f, f]),
        "{other:?}"
    );
    // One more refusal in November would show 11; in December, 10 refusals show 10.
    for _ in 0..10 {
        check(&app, &client, &["nhs-number"]).await;
    }
    assert_eq!(counts(&app, FOODBANK).await[0].2, "10");
}

/// A send of `records` foodbank referrals on 2026-11-21; on 2027-06-01 the sweep asks the
/// foodbank to delete them, and an officer confirms it.
async fn send_then_confirm_deletion(app: &TestApp, records: usize) {
    let client = app.token(Role::GateClient, Some("camden")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let records: Vec<Value> = (0..records)
        .map(|n| json!({ "full-name": format!("P{n}") }))
        .collect();
    let body = json!({
        "agreement": FOODBANK, "from": "camden", "to": "foodbank",
        "purpose": "food-parcels", "fields": ["full-name"], "records": records,
    });
    let r = app.post_json(&client, "/api/v1/flows", body).await;
    assert_eq!(r.status(), 200);
    app.clock.set("2027-06-01T09:00:00Z".parse().unwrap());
    let r = app
        .http
        .post(app.url("/api/v1/sweep"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let swept: Value = r.json().await.unwrap();
    let id = swept["requests"][0]["request_id"]
        .as_str()
        .expect("a deletion request")
        .to_owned();
    let r = app
        .post_json(
            &officer,
            &format!("/api/v1/deletions/{id}/confirm"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn confirmed_deletions_are_counted(app: TestApp) {
    with_samples(&app).await;
    send_then_confirm_deletion(&app, 12).await;
    let june = counts(&app, FOODBANK).await;
    assert_eq!(june[0].0, "2027-06");
    assert_eq!(june[0].3, "12", "twelve records confirmed deleted in June");
    assert_eq!(
        june.last().unwrap().0,
        "2026-11",
        "back to when it came into force"
    );
}

async fn only_published_agreements_in_force_are_reachable(app: TestApp) {
    with_samples(&app).await;
    let foodbank = foodbank_source();
    // In force, but its file does not publish it.
    let unpublished = foodbank
        .replace(&format!("id: {FOODBANK}"), "id: quiet-referrals")
        .replace("  publish: true", "  publish: false");
    app.import_yaml(&unpublished).await;
    // Published, but a draft (no signatures).
    app.import_yaml(&support::draft(
        &format!("{FOODBANK}.yaml"),
        "draft-referrals",
    ))
    .await;
    // Published and in force, then suspended.
    app.import_yaml(&foodbank.replace(&format!("id: {FOODBANK}"), "id: paused-referrals"))
        .await;
    app.registry
        .suspend(
            "paused-referrals",
            &why("a breach is investigated"),
            "officer",
        )
        .await
        .unwrap();
    // Published, in force until 2026-12-31, then expired.
    app.import_yaml(
        &foodbank
            .replace(&format!("id: {FOODBANK}"), "id: ending-referrals")
            .replace("  end: 2028-03-31", "  end: 2026-12-31"),
    )
    .await;
    assert!(listed(&ok(&app, "/transparency").await).contains(&"ending-referrals".to_owned()));
    app.clock.set("2027-01-02T10:00:00Z".parse().unwrap());

    let (status, nobody, _) = public(&app, "/transparency/no-such-agreement").await;
    assert_eq!(status, 404);
    let hidden = [
        "quiet-referrals",
        "draft-referrals",
        "paused-referrals",
        "ending-referrals",
    ];
    for id in hidden {
        for path in [
            format!("/transparency/{id}"),
            format!("/transparency/{id}/counts.csv"),
        ] {
            let (status, body, _) = public(&app, &path).await;
            assert_eq!(status, 404, "{path}");
            let strip = |b: &str| b.replace(id, "").replace("no-such-agreement", "");
            assert_eq!(
                strip(&body),
                strip(&nobody),
                "{path}: the same answer as no agreement"
            );
        }
    }
    for (path, body) in everything_published(&app).await {
        for id in hidden {
            assert!(!body.contains(id), "{path} shows {id}");
        }
    }
    assert!(listed(&ok(&app, "/transparency").await).contains(&FOODBANK.to_owned()));
    // A new version in force that stops publishing takes the agreement off the register.
    let officer = app.token(Role::IgOfficer, None).await;
    let v4 = foodbank
        .replace("version: 3", "version: 4")
        .replace("  publish: true", "  publish: false");
    app.import_yaml(&v4).await;
    let (status, _, _) = public(&app, &format!("/transparency/{FOODBANK}")).await;
    assert_eq!(status, 404, "unpublished by its new version");
    drop(officer);
}

async fn answers_are_cacheable_and_pages_are_bounded(app: TestApp) {
    with_samples_and_copies(&app, 20, "referrals", "Referrals").await;
    let foodbank = foodbank_source();
    for path in [
        "/transparency".to_owned(),
        "/transparency.csv".to_owned(),
        "/transparency/feed.atom".to_owned(),
        format!("/transparency/{FOODBANK}"),
        format!("/transparency/{FOODBANK}/counts.csv"),
    ] {
        let (status, body, headers) = public(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(headers["cache-control"], "public, max-age=300", "{path}");
        let etag = headers["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.len() > 20, "{path}: {etag}");
        let again = app
            .http
            .get(app.url(&path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.text().await.unwrap().is_empty());
        let stale = app
            .http
            .get(app.url(&path))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 200, "{path}");
        assert_eq!(stale.text().await.unwrap(), body);
    }
    // 25 published: a page of 20, then the rest, each once, in title order.
    let first = ok(&app, "/transparency").await;
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 20);
    let next = first
        .split("href=\"")
        .find(|s| s.starts_with("/transparency?after"))
        .and_then(|s| s.split('"').next())
        .map(support::web::unescape)
        .expect("a next page");
    let second = ok(&app, &next).await;
    assert!(!second.contains("rel=\"next\""), "the last page");
    seen.extend(listed(&second));
    assert_eq!(seen.len(), 25);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25, "no agreement on two pages");
    // The list changes when an agreement is published, and so does its tag.
    let before = public(&app, "/transparency").await.2["etag"].clone();
    app.import_yaml(&foodbank.replace(&format!("id: {FOODBANK}"), "id: a-new-scheme"))
        .await;
    let after = public(&app, "/transparency").await.2["etag"].clone();
    assert_ne!(before, after);
    // A page link the register did not make is refused clearly: half of one, or one past the
    // length cap.
    let long = "x".repeat(4097);
    for path in [
        "/transparency?after=x".to_owned(),
        format!("/transparency?after={long}&after_id=x"),
        format!("/transparency.csv?after=x&after_id={long}"),
    ] {
        let (status, body, _) = public(&app, &path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("start again from the register"), "{body}");
    }
}

/// The register's CSV comes in pages of `CSV_PER_PAGE`, each naming the next in a `Link`
/// header (RFC 8288), the last naming none; followed from the first, they hold every
/// published agreement once.
async fn the_csv_links_to_its_next_page(app: TestApp) {
    use accord::transparency::register::CSV_PER_PAGE;
    let foodbank = foodbank_source();
    let per_page = usize::try_from(CSV_PER_PAGE).unwrap();
    let published = per_page + 1;
    for n in 0..published {
        app.import_yaml(&foodbank.replace(&format!("id: {FOODBANK}"), &format!("id: s-{n:04}")))
            .await;
    }
    let mut path = "/transparency.csv".to_owned();
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body, headers) = public(&app, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        pages += 1;
        let mut rows = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
        let page: Vec<String> = rows.records().map(|r| r.unwrap()[0].to_owned()).collect();
        ids.extend(page.iter().cloned());
        let Some(link) = headers.get("link") else {
            assert_eq!(page.len(), published - per_page, "the last page");
            break;
        };
        assert_eq!(page.len(), per_page, "a full page before the last");
        let link = link.to_str().unwrap();
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        let target = link.trim_start_matches('<').split('>').next().unwrap();
        let at = target
            .find("/transparency.csv?")
            .expect("a link to the CSV");
        path = target[at..].to_owned();
        assert!(pages < 3, "the pages end");
    }
    assert_eq!(pages, 2);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        published,
        "every agreement once: {}",
        ids.len()
    );
    assert_eq!(ids.len(), published);
}

/// The organisations the list offers: `(id, what the option says)`, in the order shown.
fn offered(html: &str) -> Vec<(String, String)> {
    html.split("<option value=\"")
        .skip(1)
        .filter_map(|s| {
            let (id, rest) = s.split_once('"')?;
            let text = rest.split_once('>')?.1.split('<').next()?;
            (!id.is_empty()).then(|| (id.to_owned(), support::web::unescape(text)))
        })
        .collect()
}

/// Every link of a page, as the browser reads it.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(support::web::unescape)
        .collect()
}

/// What the list's option for camden says.
async fn camden_offered(app: &TestApp) -> String {
    let list = ok(app, "/transparency").await;
    offered(&list)
        .into_iter()
        .find_map(|(id, text)| (id == "camden").then_some(text))
        .expect("camden is offered")
}

/// The samples, and `n` copies of the foodbank sample, ids `ID-00`… and titles `TITLE 00`….
async fn with_samples_and_copies(app: &TestApp, n: usize, id: &str, title: &str) {
    with_samples(app).await;
    let foodbank = foodbank_source();
    for n in 0..n {
        app.import_yaml(&foodbank_copy(
            &foodbank,
            &format!("{id}-{n:02}"),
            &format!("{title} {n:02}"),
        ))
        .await;
    }
}

/// A copy of the foodbank sample (camden and foodbank) with its own id and title.
fn foodbank_copy(source: &str, id: &str, title: &str) -> String {
    source
        .replace(&format!("id: {FOODBANK}"), &format!("id: {id}"))
        .replace(
            "title: Emergency food support referrals",
            &format!("title: {title}"),
        )
}

/// A resident chooses an organisation on the list and sees only the published agreements in
/// force it is part of, a page at a time, with its CSV and feed; the organisations offered are
/// those of published agreements in force, counted, and follow every change and the date; an
/// organisation only unpublished agreements name is answered as one that does not exist.
async fn one_organisations_agreements_can_be_chosen(app: TestApp) {
    with_samples_and_copies(&app, 21, "referrals", "Referrals").await;
    let foodbank = foodbank_source();
    // Only an unpublished agreement names the pantry.
    app.import_yaml(
        &foodbank
            .replace("foodbank", "pantry")
            .replace("  publish: true", "  publish: false"),
    )
    .await;

    let all = ok(&app, "/transparency").await;
    let offered = offered(&all);
    let camden = (
        "camden".to_owned(),
        "London Borough of Camden (22)".to_owned(),
    );
    assert!(offered.contains(&camden), "{offered:?}");
    assert!(offered.contains(&("leeds".to_owned(), "Leeds City Council (1)".to_owned())));
    assert!(!offered.iter().any(|(id, _)| id == "pantry"), "{offered:?}");
    let names: Vec<String> = offered.iter().map(|(_, n)| n.to_lowercase()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by name");
    assert_eq!(ok(&app, "/transparency?organisation=").await, all);

    // Camden's agreements, 20 to a page, the next page keeping the choice.
    let first = ok(&app, "/transparency?organisation=camden").await;
    assert!(first.contains("<h1>What London Borough of Camden shares, and why</h1>"));
    assert!(
        first.contains("<option value=\"camden\" selected>"),
        "chosen"
    );
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 20);
    assert_eq!(
        seen[0], FOODBANK,
        "title order: Emergency… before Referrals…"
    );
    let next = links(&first)
        .into_iter()
        .find(|s| s.starts_with("/transparency?organisation=camden&after="))
        .expect("a next page for camden");
    let second = ok(&app, &next).await;
    seen.extend(listed(&second));
    assert_eq!(seen.len(), 22, "{seen:?}");
    assert!(
        seen.iter()
            .all(|id| id == FOODBANK || id.starts_with("referrals-"))
    );
    let leeds = ok(&app, "/transparency?organisation=leeds").await;
    assert_eq!(listed(&leeds), ["hospital-discharge"]);

    // Its CSV and its feed hold the same, and say whose they are.
    let (status, csv, headers) = public(&app, "/transparency.csv?organisation=leeds").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("transparency-register-leeds.csv")
    );
    let mut rows = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let ids: Vec<String> = rows.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(ids, ["hospital-discharge"]);
    let feed = ok(&app, "/transparency/feed.atom?organisation=leeds").await;
    assert!(
        feed.contains("that Leeds City Council is part of</title>"),
        "{feed}"
    );
    assert_eq!(feed.matches("<entry>").count(), 1, "{feed}");
    assert!(
        feed.contains("/transparency/hospital-discharge</id>"),
        "{feed}"
    );
    assert!(links(&all).contains(&"/transparency/feed.atom".to_owned()));
    let camdens = links(&first);
    assert!(camdens.contains(&"/transparency/feed.atom?organisation=camden".to_owned()));
    assert!(camdens.contains(&"/transparency.csv?organisation=camden".to_owned()));

    // Each organisation on an agreement's page leads to its agreements.
    let page = ok(&app, "/transparency/hospital-discharge").await;
    assert!(
        links(&page).contains(&"/transparency?organisation=leeds".to_owned()),
        "{page}"
    );

    // An organisation no published agreement in force names: one answer, whether it exists.
    let (status, nobody, _) = public(&app, "/transparency?organisation=no-such-org").await;
    assert_eq!(status, 404);
    for path in [
        "/transparency?organisation=pantry",
        "/transparency.csv?organisation=pantry",
        "/transparency/feed.atom?organisation=pantry",
    ] {
        let (status, body, _) = public(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body, nobody, "{path}");
    }
    // A value the list never sends is refused clearly.
    let long = "a".repeat(201);
    for path in [
        "/transparency?organisation=Camden%20Council".to_owned(),
        format!("/transparency?organisation={long}"),
        "/transparency.csv?organisation=-camden".to_owned(),
        "/transparency/feed.atom?organisation=camden%0a".to_owned(),
    ] {
        let (status, body, _) = public(&app, &path).await;
        assert_eq!(status, 400, "{path}");
        assert!(
            body.contains("start again from the register"),
            "{path}: {body}"
        );
    }

    // What is offered follows the registry: a suspension takes one away at once...
    app.registry
        .suspend("referrals-00", &why("a breach is investigated"), "officer")
        .await
        .unwrap();
    assert_eq!(camden_offered(&app).await, "London Borough of Camden (21)");
    // ...and the date: one that ends this year is gone on the second of January.
    app.import_yaml(
        &foodbank_copy(&foodbank, "ending-referrals", "Ending referrals")
            .replace("  end: 2028-03-31", "  end: 2026-12-31"),
    )
    .await;
    assert_eq!(camden_offered(&app).await, "London Borough of Camden (22)");
    app.clock.set("2027-01-02T10:00:00Z".parse().unwrap());
    assert_eq!(camden_offered(&app).await, "London Borough of Camden (21)");
}

/// A resident searches the register for words in agreements' titles: every word must be
/// there, whatever its case, a page at a time, with the organisation chosen too, in the CSV as
/// on the page; an unpublished agreement is never found; a search with no words in it, or too
/// long, is answered with what to correct, linked to the box, and what was typed comes back
/// escaped.
async fn a_resident_finds_agreements_by_words_in_their_titles(app: TestApp) {
    with_samples_and_copies(&app, 21, "food-bank", "Food bank referrals").await;
    let foodbank = foodbank_source();
    app.import_yaml(&foodbank_copy(&foodbank, "pilot", "A 100% FOOD_BANK pilot"))
        .await;
    app.import_yaml(
        &foodbank_copy(&foodbank, "secret-food", "Secret food pilot")
            .replace("  publish: true", "  publish: false"),
    )
    .await;

    // Every agreement with "food" in its title, 20 to a page, the next page keeping the words.
    let first = ok(&app, "/transparency?q=FOOD").await;
    assert!(first.contains("<strong>food</strong>"), "{first}");
    assert!(first.contains("<title>What your council shares, and why – Accord</title>"));
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 20, "{seen:?}");
    let next = links(&first)
        .into_iter()
        .find(|l| l.starts_with("/transparency?q=food&after="))
        .expect("a next page keeping the search");
    seen.extend(listed(&ok(&app, &next).await));
    seen.sort();
    let mut expected: Vec<String> = (0..21).map(|n| format!("food-bank-{n:02}")).collect();
    expected.extend([FOODBANK.to_owned(), "pilot".to_owned()]);
    expected.sort();
    assert_eq!(
        seen, expected,
        "never the unpublished one, nor one without food"
    );
    assert!(links(&first).contains(&"/transparency.csv?q=food".to_owned()));
    assert!(
        links(&first).contains(&"/transparency".to_owned()),
        "clear the search"
    );

    // A word finds its other forms: "licensing" finds "Unlicensed HMO identification…".
    assert_eq!(
        listed(&ok(&app, "/transparency?q=licensing").await),
        ["hmo-licensing-enforcement"]
    );
    assert_eq!(
        listed(&ok(&app, "/transparency?q=identifies").await),
        ["hmo-licensing-enforcement"]
    );

    // Every word must be there; punctuation is not a word; the organisation narrows too.
    assert_eq!(
        listed(&ok(&app, "/transparency?q=emergency+Food").await),
        [FOODBANK]
    );
    assert_eq!(
        listed(&ok(&app, "/transparency?q=100%25+food_bank").await),
        ["pilot"]
    );
    assert_eq!(
        listed(&ok(&app, "/transparency?organisation=leeds&q=discharge").await),
        ["hospital-discharge"]
    );
    let none = ok(&app, "/transparency?organisation=leeds&q=food").await;
    assert!(listed(&none).is_empty());
    assert!(
        none.contains("No published agreement has all of these words in its title"),
        "{none}"
    );
    let (status, csv, _) = public(&app, "/transparency.csv?q=discharge+leeds").await;
    assert_eq!(status, 200);
    let mut rows = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let ids: Vec<String> = rows.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(ids, ["hospital-discharge"]);

    // A search's feed follows it: the list links it, and it holds only what the search finds.
    assert!(links(&first).contains(&"/transparency/feed.atom?q=food".to_owned()));
    assert!(first.contains("Follow new agreements with these words (Atom feed)"));
    let feed = ok(&app, "/transparency/feed.atom?q=FOOD").await;
    assert!(
        feed.contains("in force, with “food” in their titles</title>"),
        "{feed}"
    );
    assert_eq!(feed.matches("<entry>").count(), 23, "{feed}");
    assert!(!feed.contains("secret-food"), "never the unpublished one");
    assert!(
        !feed.contains("/transparency/hospital-discharge<"),
        "{feed}"
    );
    assert!(
        support::web::unescape(&feed).contains("/transparency/feed.atom?q=food\"/>"),
        "its self link: {feed}"
    );
    let leeds = ok(
        &app,
        "/transparency/feed.atom?organisation=leeds&q=discharge",
    )
    .await;
    assert_eq!(leeds.matches("<entry>").count(), 1, "{leeds}");
    assert!(leeds.contains("/transparency/hospital-discharge</id>"));
    let none = ok(&app, "/transparency/feed.atom?organisation=leeds&q=food").await;
    assert_eq!(none.matches("<entry>").count(), 0, "{none}");

    // What cannot be searched for is said beside the box, and nothing is listed.
    let long = "food ".repeat(41);
    for (q, says) in [
        ("%25+_", "Enter a word from an agreement’s title"),
        ("the+and", "Enter a word from an agreement’s title"),
        (long.as_str(), "Search for 200 characters or fewer"),
    ] {
        let path = format!("/transparency?q={q}");
        let (status, body, headers) = public(&app, &path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("There is a problem"), "{path}");
        assert!(
            body.contains("<title>Error: What your council shares, and why – Accord</title>"),
            "{path}"
        );
        assert!(body.contains("href=\"#q\""), "{path}: linked to the box");
        assert!(body.contains(says), "{path}: {body}");
        assert!(listed(&body).is_empty(), "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert!(headers.get("etag").is_none(), "{path}");
    }
    for (q, says) in [
        (long.as_str(), "Search for 200 characters or fewer"),
        ("the+and", "Enter a word from an agreement’s title"),
    ] {
        for answer in ["/transparency.csv", "/transparency/feed.atom"] {
            let (status, body, headers) = public(&app, &format!("{answer}?q={q}")).await;
            assert_eq!(status, 400, "{answer} {q}");
            assert!(body.contains(says), "{answer} {q}: {body}");
            assert!(!body.contains("Food"), "{answer} {q}: no entries");
            assert!(headers.get("etag").is_none(), "{answer} {q}");
        }
    }

    // What was typed comes back as text.
    let typed = ok(&app, "/transparency?q=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert!(!typed.contains("<script>alert"), "{typed}");
    assert!(
        typed.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""),
        "{typed}"
    );
}

/// Every row of the register's counts, in key order.
async fn all_counts(app: &TestApp) -> Vec<(String, String, i64, i64, i64)> {
    use accord::store::entity::transparency_count as c;
    use sea_orm::{EntityTrait, QueryOrder};
    c::Entity::find()
        .order_by_asc(c::Column::AgreementId)
        .order_by_asc(c::Column::Month)
        .all(app.registry.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.agreement_id, r.month, r.allowed, r.refused, r.deleted))
        .collect()
}

/// The upgrade that adds the register counts what the database already holds: its counts,
/// made from the audit log and the confirmed deletions, are those the live counting made.
async fn the_upgrade_counts_the_history_already_held(app: TestApp) {
    use accord_migrations::{Migrator, MigratorTrait};
    with_samples(&app).await;
    let client = app.token(Role::GateClient, Some("camden")).await;
    for _ in 0..12 {
        check(&app, &client, &["full-name"]).await;
    }
    for _ in 0..3 {
        check(&app, &client, &["nhs-number"]).await;
    }
    send_then_confirm_deletion(&app, 4).await;
    let live = all_counts(&app).await;
    assert_eq!(
        live,
        [
            (FOODBANK.into(), "2026-11".into(), 13, 3, 0),
            (FOODBANK.into(), "2027-06".into(), 0, 0, 4),
        ]
    );
    let db = app.registry.db();
    // Undo every migration from the register's on (later ones too), then apply them again.
    let undo = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261209_000012_transparency")
        .expect("the register's migration")
        + 1;
    Migrator::down(db, Some(u32::try_from(undo).unwrap()))
        .await
        .unwrap();
    Migrator::up(db, None).await.unwrap();
    assert_eq!(all_counts(&app).await, live);
}

/// Once a contractor's engagement has ended (the gate refuses its flows from the next day), the
/// register says its sharing has ended rather than that it goes on.
async fn a_contractors_ended_sharing_is_shown_as_ended(app: TestApp) {
    with_samples(&app).await;
    let page = ok(&app, "/transparency/hmo-licensing-enforcement").await;
    let shares = "<strong>London Borough of Newham</strong> shares with <strong>Metis Property Data Ltd</strong>";
    assert!(page.contains(shares), "{page}");
    app.clock.set(
        jiff::civil::date(2027, 3, 31)
            .at(12, 0, 0, 0)
            .in_tz("Europe/London")
            .unwrap()
            .timestamp(),
    );
    let last_day = ok(&app, "/transparency/hmo-licensing-enforcement").await;
    assert!(last_day.contains(shares), "the last day still counts");
    app.clock.set(
        jiff::civil::date(2027, 4, 1)
            .at(12, 0, 0, 0)
            .in_tz("Europe/London")
            .unwrap()
            .timestamp(),
    );
    let after = ok(&app, "/transparency/hmo-licensing-enforcement").await;
    assert!(!after.contains(shares), "{after}");
    assert!(
        after.contains("<strong>London Borough of Newham</strong> shared with <strong>Metis Property Data Ltd</strong> until 31 March 2027, when the engagement ended"),
        "{after}"
    );
    assert!(after.contains("<strong>Metis Property Data Ltd</strong> shared with <strong>London Borough of Newham</strong> until 31 March 2027"));
}

on_both_databases!(
    a_contractors_ended_sharing_is_shown_as_ended,
    one_organisations_agreements_can_be_chosen,
    a_resident_finds_agreements_by_words_in_their_titles,
    nothing_published_names_a_person_or_carries_data,
    counts_under_ten_are_hidden,
    confirmed_deletions_are_counted,
    only_published_agreements_in_force_are_reachable,
    answers_are_cacheable_and_pages_are_bounded,
    the_csv_links_to_its_next_page,
    the_upgrade_counts_the_history_already_held,
);
