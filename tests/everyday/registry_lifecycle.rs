//! The registry as an officer and signatories use it: upload, 422 for broken agreements,
//! signatures until active, new versions superseding old, controls, and the register.

use crate::support;

use accord::auth::Role;
use serde_json::{Value, json};
use support::app::TestApp;
use support::draft;

const FOODBANK: &str = "camden-foodbank-referrals.yaml";

async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

/// A 409 with the API's code for it, `conflict`.
async fn assert_conflict(resp: reqwest::Response, context: &str) {
    assert_eq!(resp.status(), 409, "{context}: status");
    let body = json(resp).await;
    assert_eq!(body["code"], "conflict", "{context}: {body}");
}

async fn actions(app: &TestApp, officer: &str, subject: &str) -> Vec<String> {
    let page = json(
        app.get(
            officer,
            &format!("/api/v1/audit?subject={subject}&limit=1000"),
        )
        .await,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn upload_collect_signatures_and_activate(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let yaml = draft(FOODBANK, "brent-foodbank");
    let resp = app.post_yaml(&officer, "/api/v1/agreements", &yaml).await;
    assert_eq!(resp.status(), 201);
    let v = json(resp).await;
    assert_eq!(v["number"], 1);
    assert_eq!(v["status"], "draft");
    assert_eq!(v["awaiting"], json!(["camden", "foodbank"]));

    let again = app.post_yaml(&officer, "/api/v1/agreements", &yaml).await;
    assert_eq!(again.status(), 200, "same content is the same version");

    let camden = app.token(Role::Signatory, Some("camden")).await;
    let body = json!({ "name": "Jo Bell" });
    let signed = app
        .post_json(
            &camden,
            "/api/v1/agreements/brent-foodbank/versions/1/signatures",
            body.clone(),
        )
        .await;
    assert_eq!(signed.status(), 200);
    let v = json(signed).await;
    assert_eq!(v["status"], "draft");
    assert_eq!(v["awaiting"], json!(["foodbank"]));
    let twice = app
        .post_json(
            &camden,
            "/api/v1/agreements/brent-foodbank/versions/1/signatures",
            body,
        )
        .await;
    assert_conflict(twice, "signing twice").await;

    let foodbank = app.token(Role::Signatory, Some("foodbank")).await;
    let body = json!({ "name": "Ann Lee", "role": "senior_officer" });
    let v = json(
        app.post_json(
            &foodbank,
            "/api/v1/agreements/brent-foodbank/versions/1/signatures",
            body,
        )
        .await,
    )
    .await;
    assert_eq!(v["status"], "active");
    assert!(v["activated_at"].is_string());

    let done = actions(&app, &officer, "agreement:brent-foodbank").await;
    assert_eq!(
        done,
        [
            "agreement.registered",
            "version.created",
            "signature.added",
            "signature.added",
            "version.activated"
        ]
    );
    let register = json(app.get(&officer, "/api/v1/register").await).await;
    let entry = register
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["agreement_id"] == "brent-foodbank")
        .unwrap();
    assert_eq!(entry["special_category_data"], true);
    assert_eq!(entry["article9_condition"], "health_social_care");
}

/// Signatures written in an uploaded file are claims: the version stays a draft awaiting
/// every party, the API shows them as `claimed`, and each party's signatory confirms its own
/// by signing. (The agreements folder, trusted by the operator, is another matter: its
/// signatures count, as `a_new_version_supersedes_the_old_when_signed` shows.)
async fn signatures_in_an_uploaded_file_are_only_claims(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let sample = std::fs::read_to_string(support::repo().join("agreements").join(FOODBANK))
        .unwrap()
        .replace(
            "id: camden-foodbank-referrals",
            "id: claimed-foodbank-referrals",
        );
    assert!(sample.contains("signatures:"));
    let resp = app.post_yaml(&officer, "/api/v1/agreements", &sample).await;
    assert_eq!(resp.status(), 201);
    let v = json(resp).await;
    assert_eq!(
        v["status"], "draft",
        "an upload's signatures do not activate it"
    );
    assert_eq!(v["awaiting"], json!(["camden", "foodbank"]));
    let sources: Vec<&str> = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["claimed", "claimed", "claimed"]);
    let path = "/api/v1/agreements/claimed-foodbank-referrals/versions/1/signatures";
    let camden = app.token(Role::Signatory, Some("camden")).await;
    let v = json(
        app.post_json(&camden, path, json!({ "name": "Jo Bell" }))
            .await,
    )
    .await;
    assert_eq!(v["status"], "draft");
    assert_eq!(v["awaiting"], json!(["foodbank"]));
    let foodbank = app.token(Role::Signatory, Some("foodbank")).await;
    let v = json(
        app.post_json(&foodbank, path, json!({ "name": "Marcus Adeyemi" }))
            .await,
    )
    .await;
    assert_eq!(v["status"], "active");
    let by_party: Vec<(String, String, String)> = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap().to_owned();
            (f("party"), f("role"), f("source"))
        })
        .collect();
    assert!(by_party.contains(&("camden".into(), "dpo".into(), "claimed".into())));
    assert!(by_party.contains(&("camden".into(), "senior_officer".into(), "engine".into())));
    assert!(by_party.contains(&("foodbank".into(), "senior_officer".into(), "engine".into())));
    let page = json(
        app.get(
            &officer,
            "/api/v1/audit?subject=agreement:claimed-foodbank-referrals&action=signature.added",
        )
        .await,
    )
    .await;
    let confirmed = &page["items"][0]["details"]["confirms_claim"];
    assert_eq!(confirmed["name"], "Jo Bell", "{page}");
}

/// A folder of more files than one import transaction holds: every file becomes an active
/// version, the list and the gate know each one, and importing the folder again finds every
/// file unchanged by its content alone.
async fn a_large_folder_imports_in_batches(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(support::repo().join("agreements").join(FOODBANK)).unwrap();
    const N: usize = 260;
    for i in 0..N {
        let renamed = text.replacen(
            "id: camden-foodbank-referrals",
            &format!("id: foodbank-{i:04}"),
            1,
        );
        std::fs::write(dir.path().join(format!("f{i:04}.yaml")), renamed).unwrap();
    }
    let report = app.registry.import_dir(dir.path()).await.unwrap();
    assert_eq!(report.created.len(), N);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let officer = app.token(Role::IgOfficer, None).await;
    let page = json(
        app.get(&officer, "/api/v1/agreements?status=active&per_page=1")
            .await,
    )
    .await;
    assert_eq!(page["total"], N);
    let index = app.registry.gate_index();
    assert!(index.version("foodbank-0000").is_some());
    assert!(index.version("foodbank-0259").is_some());
    let again = app.registry.import_dir(dir.path()).await.unwrap();
    assert_eq!((again.created.len(), again.unchanged), (0, N));
    let audit = json(
        app.get(&officer, "/api/v1/audit?action=version.created&limit=1000")
            .await,
    )
    .await;
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        N,
        "each version once"
    );
}

/// The list pages by key as well as by number, and an agreement stored before list entries
/// existed (its row not filled in) is filled in when the registry loads.
async fn the_list_pages_by_key_and_fills_in_old_rows(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let officer = app.token(Role::IgOfficer, None).await;
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    // Two more agreements naming camden, one first and one last in id order.
    let foodbank =
        std::fs::read_to_string(support::repo().join("agreements/camden-foodbank-referrals.yaml"))
            .unwrap();
    for id in ["a-camden-copy", "zz-camden-copy"] {
        app.import_yaml(&foodbank.replace("id: camden-foodbank-referrals", &format!("id: {id}")))
            .await;
    }
    let all = json(app.get(&officer, "/api/v1/agreements?per_page=500").await).await;
    let ids: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 5);
    assert_eq!(all["next_after"], Value::Null, "one page holds them all");
    let mut seen = Vec::new();
    let mut path = "/api/v1/agreements?per_page=2".to_owned();
    loop {
        let page = json(app.get(&officer, &path).await).await;
        for a in page["items"].as_array().unwrap() {
            seen.push(a["id"].as_str().unwrap().to_owned());
        }
        match page["next_after"].as_str() {
            Some(after) => path = format!("/api/v1/agreements?per_page=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "paging by key visits each once, in order");

    // The party filter reads the page in the party's index order: the same order, by key
    // and by number.
    let named = json(
        app.get(&officer, "/api/v1/agreements?party=camden&per_page=500")
            .await,
    )
    .await;
    let named: Vec<String> = named["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(named.len(), 3, "{named:?}");
    assert!(named.len() < ids.len(), "the filter filters: {named:?}");
    let in_order: Vec<String> = ids
        .iter()
        .filter(|id| named.contains(id))
        .cloned()
        .collect();
    assert_eq!(named, in_order, "in id order, each once");
    let (mut by_key, mut by_number) = (Vec::new(), Vec::new());
    let mut path = "/api/v1/agreements?party=camden&per_page=1".to_owned();
    loop {
        let page = json(app.get(&officer, &path).await).await;
        assert_eq!(page["total"], named.len(), "{page}");
        by_key.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].clone()),
        );
        match page["next_after"].as_str() {
            Some(after) => {
                path = format!("/api/v1/agreements?party=camden&per_page=1&after={after}")
            }
            None => break,
        }
    }
    for n in 1..=named.len() {
        let path = format!("/api/v1/agreements?party=camden&per_page=1&page={n}");
        let page = json(app.get(&officer, &path).await).await;
        by_number.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].clone()),
        );
    }
    assert_eq!(by_key, named, "paging by key");
    assert_eq!(by_number, named, "paging by number");

    let db = app.registry.db();
    let backend = db.get_database_backend();
    for sql in [
        "UPDATE agreements SET version_count = 0, title = '', latest_version = 0 \
         WHERE id = 'camden-foodbank-referrals'",
        "DELETE FROM agreement_parties WHERE agreement_id = 'camden-foodbank-referrals'",
    ] {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
    }
    let before = json(app.get(&officer, "/api/v1/agreements?party=foodbank").await).await;
    assert_eq!(before["total"], 2, "only the two copies: {before}");
    app.registry.reload_index().await.unwrap();
    let after = json(app.get(&officer, "/api/v1/agreements?party=foodbank").await).await;
    assert_eq!(after["total"], 3, "the old row filled in: {after}");
    let filled = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "camden-foodbank-referrals")
        .expect("the old row is listed again");
    assert_eq!(filled["title"], "Emergency food support referrals");
    assert_eq!(filled["status"], "active");
    assert_eq!(filled["latest_version"], 1);
}

async fn broken_agreements_get_422_with_every_finding(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let yaml = draft(FOODBANK, "Bad_Id").replace("role: recipient", "role: recipiant");
    let resp = app.post_yaml(&officer, "/api/v1/agreements", &yaml).await;
    assert_eq!(resp.status(), 422);
    let body = json(resp).await;
    assert_eq!(body["code"], "invalid-agreement");
    let codes: Vec<&str> = body["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["invalid-id", "schema"]);
    assert!(
        body["diagnostics"][1]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'recipient'")
    );
    let list = json(app.get(&officer, "/api/v1/agreements").await).await;
    assert_eq!(list["total"], 0, "nothing stored");
}

/// An upload past the keys-per-mapping budget, and one repeating a key thousands of lines after
/// its first, are 422s pointing at the key that broke the rule; nothing is stored.
async fn too_many_or_repeated_keys_get_422_at_the_key(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let base = draft(FOODBANK, "many-keys");
    let keys = |n: usize| -> String { (0..n).map(|i| format!("  k{i}: 1\n")).collect() };
    let first = base.lines().count() as u64 + 2;
    let cases = [
        (
            format!("{base}extra:\n{}", keys(10_001)),
            first + 10_000,
            "has more than 10000 keys".to_owned(),
        ),
        (
            format!("{base}extra:\n{}  k0: 2\n", keys(9_999)),
            first + 9_999,
            format!("the key 'k0' appears twice in one mapping (first at line {first})"),
        ),
    ];
    for (yaml, line, says) in cases {
        let resp = app.post_yaml(&officer, "/api/v1/agreements", &yaml).await;
        assert_eq!(resp.status(), 422);
        let found = json(resp).await["diagnostics"].clone();
        assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
        let d = &found[0];
        assert_eq!(
            (&d["code"], &d["line"], &d["column"]),
            (&json!("yaml-syntax"), &json!(line), &json!(3)),
            "{d}"
        );
        assert!(d["message"].as_str().unwrap().contains(&says), "{d}");
    }
    let list = json(app.get(&officer, "/api/v1/agreements").await).await;
    assert_eq!(list["total"], 0, "nothing stored");
}

async fn a_new_version_supersedes_the_old_when_signed(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let file = support::repo().join("agreements").join(FOODBANK);
    let v1 = std::fs::read_to_string(file).unwrap();
    assert_eq!(app.import_yaml(&v1).await["status"], "active");
    let v2 = v1.replace(
        "title: Emergency food support referrals",
        "title: Emergency food and fuel support",
    );
    let created = app.import_yaml(&v2).await;
    assert_eq!(created["number"], 2);
    assert_eq!(
        created["status"], "active",
        "the signatures in the operator's folder sign it"
    );
    let versions = json(
        app.get(
            &officer,
            "/api/v1/agreements/camden-foodbank-referrals/versions",
        )
        .await,
    )
    .await;
    assert_eq!(versions[0]["status"], "superseded");
    assert_eq!(versions[1]["status"], "active");
    let diff = app
        .get(
            &officer,
            "/api/v1/agreements/camden-foodbank-referrals/diff?from=1&to=2",
        )
        .await;
    assert_eq!(diff.status(), 200);
    let text = diff.text().await.unwrap();
    assert!(
        text.contains(
            "-title: Emergency food support referrals\n+title: Emergency food and fuel support"
        ),
        "{text}"
    );
    let yaml = app
        .get(
            &officer,
            "/api/v1/agreements/camden-foodbank-referrals/versions/1/source",
        )
        .await;
    assert_eq!(
        yaml.headers()["content-type"],
        "application/yaml; charset=utf-8"
    );
    assert_eq!(yaml.text().await.unwrap(), v1);
    let doc = json(
        app.get(
            &officer,
            "/api/v1/agreements/camden-foodbank-referrals/versions/2",
        )
        .await,
    )
    .await;
    assert_eq!(doc["agreement"]["title"], "Emergency food and fuel support");
    assert_eq!(doc["version"]["number"], 2);
}

async fn suspend_reinstate_and_terminate_with_reasons(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let v1 = std::fs::read_to_string(support::repo().join("agreements").join(FOODBANK)).unwrap();
    app.import_yaml(&v1).await;
    let path = "/api/v1/agreements/camden-foodbank-referrals";
    let no_reason = app
        .post_json(
            &officer,
            &format!("{path}/suspend"),
            json!({ "reason": "  " }),
        )
        .await;
    assert_eq!(no_reason.status(), 400);
    let s = app
        .post_json(
            &officer,
            &format!("{path}/suspend"),
            json!({ "reason": "breach at the foodbank" }),
        )
        .await;
    assert_eq!(s.status(), 200);
    assert_eq!(
        json(app.get(&officer, path).await).await["status"],
        "suspended"
    );
    let again = app
        .post_json(
            &officer,
            &format!("{path}/suspend"),
            json!({ "reason": "x" }),
        )
        .await;
    assert_conflict(again, "suspending a suspended agreement").await;
    app.post_json(
        &officer,
        &format!("{path}/reinstate"),
        json!({ "reason": "fixed" }),
    )
    .await;
    assert_eq!(
        json(app.get(&officer, path).await).await["status"],
        "active"
    );
    app.post_json(
        &officer,
        &format!("{path}/terminate"),
        json!({ "reason": "service ended" }),
    )
    .await;
    assert_eq!(
        json(app.get(&officer, path).await).await["status"],
        "terminated"
    );
    let back = app
        .post_json(
            &officer,
            &format!("{path}/reinstate"),
            json!({ "reason": "oops" }),
        )
        .await;
    assert_conflict(back, "termination is final").await;
    let new_version = app
        .post_yaml(
            &officer,
            "/api/v1/agreements",
            &v1.replace("version: 3", "version: 4"),
        )
        .await;
    assert_conflict(new_version, "a new version of a terminated agreement").await;
    let done = actions(&app, &officer, "agreement:camden-foodbank-referrals").await;
    assert!(done.ends_with(&[
        "agreement.suspended".into(),
        "agreement.reinstated".into(),
        "agreement.terminated".into()
    ]));
    let register = json(app.get(&officer, "/api/v1/register").await).await;
    assert_eq!(
        register,
        json!([]),
        "terminated agreements leave the register"
    );
}

/// Termination is final: a draft waiting for signatures when its agreement is terminated is
/// never signed, so it never becomes the version in force.
async fn a_terminated_agreements_draft_takes_no_signatures(app: TestApp) {
    use accord::store::entity::version;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let officer = app.token(Role::IgOfficer, None).await;
    let v1 = std::fs::read_to_string(support::repo().join("agreements").join(FOODBANK)).unwrap();
    let active = app.import_yaml(&v1).await;
    assert_eq!(active["status"], "active");
    let v2 = draft(FOODBANK, "camden-foodbank-referrals");
    let created = json(app.post_yaml(&officer, "/api/v1/agreements", &v2).await).await;
    assert_eq!(
        (created["number"].clone(), created["status"].clone()),
        (json!(2), json!("draft"))
    );
    let path = "/api/v1/agreements/camden-foodbank-referrals";
    let ended = app
        .post_json(
            &officer,
            &format!("{path}/terminate"),
            json!({ "reason": "service ended" }),
        )
        .await;
    assert_eq!(ended.status(), 200);
    for (party, name) in [("camden", "Jo Bell"), ("foodbank", "Ann Lee")] {
        let signatory = app.token(Role::Signatory, Some(party)).await;
        let signed = app
            .post_json(
                &signatory,
                &format!("{path}/versions/2/signatures"),
                json!({ "name": name }),
            )
            .await;
        assert_eq!(signed.status(), 409, "{party}");
        let body = json(signed).await;
        assert_eq!(body["code"], "conflict");
        assert!(
            body["message"].as_str().unwrap().contains("terminated"),
            "{body}"
        );
    }
    let stored = version::Entity::find()
        .filter(version::Column::AgreementId.eq("camden-foodbank-referrals"))
        .filter(version::Column::Number.eq(2))
        .one(app.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, "draft");
    assert_eq!(stored.activated_at, None);
    let v2 = json(app.get(&officer, &format!("{path}/versions/2")).await).await;
    assert_eq!(v2["version"]["signatures"], json!([]));
    assert_eq!(v2["version"]["awaiting"], json!(["camden", "foodbank"]));
    let done = actions(&app, &officer, "agreement:camden-foodbank-referrals").await;
    assert_eq!(
        done.last().map(String::as_str),
        Some("agreement.terminated")
    );
    let client = app.token(Role::GateClient, Some("camden")).await;
    let ask = json!({ "agreement": "camden-foodbank-referrals", "from": "camden", "to": "foodbank", "purpose": "food-parcels", "fields": ["full-name"] });
    let d = json(app.post_json(&client, "/api/v1/flows/check", ask).await).await;
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["reasons"][0]["code"], "agreement-not-active");
    assert_eq!(d["agreement_version"], 1, "the draft never came into force");
}

async fn a_party_is_suspended_across_agreements(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let r = app
        .post_json(
            &officer,
            "/api/v1/parties/foodbank/suspend",
            json!({ "reason": "data breach 2026-11-20" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let again = app
        .post_json(
            &officer,
            "/api/v1/parties/foodbank/suspend",
            json!({ "reason": "again" }),
        )
        .await;
    assert_conflict(again, "suspending a suspended party").await;
    let active = json(
        app.get(&officer, "/api/v1/parties/suspensions?active=true")
            .await,
    )
    .await;
    assert_eq!(active[0]["party"], "foodbank");
    let lifted = app
        .post_json(
            &officer,
            "/api/v1/parties/foodbank/reinstate",
            json!({ "reason": "ICO closed the case" }),
        )
        .await;
    assert_eq!(lifted.status(), 200);
    assert_eq!(
        json(
            app.get(&officer, "/api/v1/parties/suspensions?active=true")
                .await
        )
        .await,
        json!([])
    );
    let none = app
        .post_json(
            &officer,
            "/api/v1/parties/foodbank/reinstate",
            json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(none.status(), 404);
    assert_eq!(
        actions(&app, &officer, "party:foodbank").await,
        ["party.suspended", "party.reinstated"]
    );
}

/// A party id that is not a slug is refused as a bad request by both controls, before any
/// lookup (so not a 404 from reinstate).
async fn a_party_id_that_is_not_a_slug_is_a_400(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    for control in ["suspend", "reinstate"] {
        let resp = app
            .post_json(
                &officer,
                &format!("/api/v1/parties/Not%20A%20Slug!/{control}"),
                json!({ "reason": "breach" }),
            )
            .await;
        assert_eq!(resp.status(), 400, "{control}");
        let body = json(resp).await;
        assert_eq!(body["code"], "bad-request", "{control}");
        assert!(
            body["message"].as_str().unwrap().contains("'Not A Slug!'"),
            "{control}: {body}"
        );
    }
    let audit = json(app.get(&officer, "/api/v1/audit?limit=1000").await).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        !actions.iter().any(|a| a.starts_with("party.")),
        "{actions:?}"
    );
}

async fn the_register_exports_to_csv(app: TestApp) {
    let officer = app.token(Role::Auditor, None).await;
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let resp = app.get(&officer, "/api/v1/register.csv").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let text = resp.text().await.unwrap();
    assert!(
        text.starts_with("\u{feff}agreement_id,version,title,controllers,dpo_contacts,purposes")
    );
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), support::samples().len());
    let headers = reader.headers().unwrap().clone();
    assert!(rows.iter().all(|r| r.len() == headers.len()));
    let hub = rows.iter().find(|r| &r[0] == "vulnerability-hub").unwrap();
    assert_eq!(&hub[9], "yes", "criminal offence data flagged");
    assert!(
        hub[13].contains("p18_safeguarding"),
        "Schedule 1 condition: {}",
        &hub[13]
    );
}

async fn a_revoked_token_stops_working_at_once(app: TestApp) {
    let admin = app.token(Role::Admin, None).await;
    let auditor = app.token(Role::Auditor, None).await;
    assert_eq!(
        app.get(&auditor, "/api/v1/register").await.status(),
        200,
        "cached now"
    );
    let tokens = json(app.get(&admin, "/api/v1/tokens").await).await;
    assert!(!tokens.to_string().contains("acc_"), "no secrets listed");
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "auditor")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .http
        .post(app.url(&format!("/api/v1/tokens/{id}/revoke")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(json(revoked).await["revoked_at"].is_string());
    assert_eq!(
        app.get(&auditor, "/api/v1/register").await.status(),
        401,
        "refused at once, despite the cache"
    );
    assert_eq!(
        actions(&app, &admin, &format!("token:{id}")).await,
        ["token.created", "token.revoked"]
    );
}

fn listed(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect()
}

fn registered(register: &Value) -> Vec<&str> {
    register
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {register}"))
        .iter()
        .map(|e| e["agreement_id"].as_str().unwrap())
        .collect()
}

/// Sets the app's clock to noon in London on `day`.
fn set_today(app: &TestApp, day: jiff::civil::Date) {
    use accord::clock::{Clock, FixedClock};
    app.clock.set(FixedClock::on(day).now());
}

/// Expired and suspended are derived from the term, the control and today, not stored: the
/// day after term.end an active agreement reads as expired, lists under ?status=expired, and
/// leaves the register, as a suspended one does at once.
/// The ids of the tokens with `role` still in force, oldest first.
async fn active_token_ids(app: &TestApp, admin: &str, role: &str) -> Vec<String> {
    let tokens = json(app.get(admin, "/api/v1/tokens").await).await;
    tokens
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["role"] == role && t["revoked_at"].is_null())
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn revoke(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/v1/tokens/{id}/revoke")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// An administrator cannot revoke the token it calls with, nor the last administrator token
/// in force: either would leave nobody able to administer Accord over HTTP.
async fn an_admin_cannot_lock_every_admin_out(app: TestApp) {
    let first = app.token(Role::Admin, None).await;
    let ids = active_token_ids(&app, &first, "admin").await;
    assert_eq!(ids.len(), 1);
    let own = revoke(&app, &first, &ids[0]).await;
    assert_eq!(own.status(), 409);
    let body = json(own).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("the token you are calling with"),
        "{body}"
    );
    let second = app.token(Role::Admin, None).await;
    let ids = active_token_ids(&app, &first, "admin").await;
    assert_eq!(ids.len(), 2);
    assert_eq!(
        revoke(&app, &second, &ids[0]).await.status(),
        200,
        "another admin's token, while one stays"
    );
    let third = app.token(Role::Admin, None).await;
    let ids = active_token_ids(&app, &third, "admin").await;
    assert_eq!(ids.len(), 2, "the second and the third");
    let last = revoke(&app, &third, &ids[0]).await;
    assert_eq!(last.status(), 200, "the second, by the third");
    let ids = active_token_ids(&app, &third, "admin").await;
    assert_eq!(ids.len(), 1);
    assert_eq!(app.get(&third, "/api/v1/tokens").await.status(), 200);
    let revoked = actions(&app, &third, &format!("token:{}", ids[0])).await;
    assert_eq!(revoked, ["token.created"], "the last admin token stays");
    // The last-admin rule, apart from the own-token rule: revoke through the library as another
    // admin principal would, with only one admin token in force.
    let db = app.registry.db();
    let now = accord::clock::Clock::now(&*app.clock);
    let other =
        accord::auth::Principal::new(uuid::Uuid::now_v7(), "someone".into(), Role::Admin, None);
    let id = ids[0].parse().unwrap();
    let refused = accord::auth::revoke(db, now, id, accord::auth::Revoker::Api(&other)).await;
    assert!(
        matches!(refused, Err(accord::auth::RevokeError::LastAdmin)),
        "{refused:?}"
    );
    assert_eq!(app.get(&third, "/api/v1/tokens").await.status(), 200);
}

/// A token revoked outside this instance (the command line, or another instance) stops
/// working here within seconds, although this instance had it cached.
async fn a_token_revoked_elsewhere_stops_within_seconds(app: TestApp) {
    let admin = app.token(Role::Admin, None).await;
    let auditor = app.token(Role::Auditor, None).await;
    assert_eq!(app.get(&auditor, "/api/v1/register").await.status(), 200);
    let id = active_token_ids(&app, &admin, "auditor").await[0]
        .parse()
        .unwrap();
    let now = accord::clock::Clock::now(&*app.clock);
    accord::auth::revoke(app.registry.db(), now, id, accord::auth::Revoker::Cli)
        .await
        .unwrap();
    let revoked_at = std::time::Instant::now();
    loop {
        let status = app.get(&auditor, "/api/v1/register").await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked_at.elapsed() < std::time::Duration::from_secs(4),
            "still accepted {:?} after revocation",
            revoked_at.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn an_agreement_past_its_term_expires_and_leaves_the_register(app: TestApp) {
    use jiff::civil::date;
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let officer = app.token(Role::IgOfficer, None).await;
    let path = "/api/v1/agreements/camden-foodbank-referrals";
    let all = [
        "camden-foodbank-referrals",
        "hmo-licensing-enforcement",
        "hospital-discharge",
        "school-attendance-pooling",
        "vulnerability-hub",
    ];
    assert_eq!(
        registered(&json(app.get(&officer, "/api/v1/register").await).await),
        all
    );

    let suspended = app
        .post_json(
            &officer,
            "/api/v1/agreements/hospital-discharge/suspend",
            json!({ "reason": "breach under investigation" }),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    let register = json(app.get(&officer, "/api/v1/register").await).await;
    assert_eq!(
        registered(&register),
        [all[0], all[1], all[3], all[4]],
        "a suspended agreement leaves the register"
    );

    // term.end is 2028-03-31: still active on that day.
    set_today(&app, date(2028, 3, 31));
    assert_eq!(
        json(app.get(&officer, path).await).await["status"],
        "active"
    );
    let expired = json(app.get(&officer, "/api/v1/agreements?status=expired").await).await;
    assert_eq!(listed(&expired), Vec::<&str>::new());

    set_today(&app, date(2028, 4, 1));
    let summary = json(app.get(&officer, path).await).await;
    assert_eq!(summary["status"], "expired", "{summary}");
    assert_eq!(summary["current_version"], 1, "still the version in force");
    let expired = json(app.get(&officer, "/api/v1/agreements?status=expired").await).await;
    assert_eq!(listed(&expired), ["camden-foodbank-referrals"]);
    assert_eq!(expired["total"], 1);
    let active = json(app.get(&officer, "/api/v1/agreements?status=active").await).await;
    assert_eq!(listed(&active), [all[1], all[3], all[4]]);
    let suspended = json(
        app.get(&officer, "/api/v1/agreements?status=suspended")
            .await,
    )
    .await;
    assert_eq!(listed(&suspended), ["hospital-discharge"]);
    let register = json(app.get(&officer, "/api/v1/register").await).await;
    assert_eq!(
        registered(&register),
        [all[1], all[3], all[4]],
        "expired and suspended agreements leave the register"
    );
}

/// Importing a folder stores what is valid and skips, with the reason, what is not: one
/// broken file does not stop the others, and nothing of it is stored.
async fn import_skips_broken_files_and_stores_the_rest(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-broken.yaml"),
        "id: [unclosed\ntitle: x\n",
    )
    .unwrap();
    let valid = std::fs::read_to_string(support::repo().join("agreements").join(FOODBANK)).unwrap();
    std::fs::write(dir.path().join("b-valid.yaml"), &valid).unwrap();

    let report = app.registry.import_dir(dir.path()).await.unwrap();
    assert_eq!(report.created.len(), 1, "skipped: {:?}", report.skipped);
    assert_eq!(report.created[0].0, "camden-foodbank-referrals");
    assert_eq!(report.unchanged, 0);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    let (file, why) = &report.skipped[0];
    assert_eq!(file.file_name().unwrap(), "a-broken.yaml");
    assert!(
        why.starts_with("2:6: error[yaml-syntax]"),
        "the reason names the place and the finding: {why}"
    );

    let officer = app.token(Role::Auditor, None).await;
    let list = json(app.get(&officer, "/api/v1/agreements").await).await;
    assert_eq!(
        listed(&list),
        ["camden-foodbank-referrals"],
        "only the valid file stored"
    );

    let again = app.registry.import_dir(dir.path()).await.unwrap();
    assert_eq!(
        (again.created.len(), again.unchanged, again.skipped.len()),
        (0, 1, 1),
        "importing again stores nothing new and skips the broken file again"
    );
}

/// A column's value as bytes, whatever its type on this database.
fn column_bytes(row: &sea_orm::QueryResult, col: &str) -> Vec<u8> {
    if let Ok(v) = row.try_get::<Option<String>>("", col) {
        return v.unwrap_or_default().into_bytes();
    }
    if let Ok(v) = row.try_get::<Option<uuid::Uuid>>("", col) {
        return v.map(|u| u.to_string()).unwrap_or_default().into_bytes();
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>>("", col) {
        return v.unwrap_or_default();
    }
    if let Ok(v) = row.try_get::<Option<i64>>("", col) {
        return v.map(|n| n.to_string()).unwrap_or_default().into_bytes();
    }
    panic!("column {col} has a type this test cannot read")
}

/// Only a token's SHA-256 is stored: no column of any row of api_tokens holds the secret,
/// its random part (in either case), or its raw bytes.
async fn a_token_is_stored_only_as_its_hash(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    use sha2::{Digest, Sha256};
    let secrets = [
        app.token(Role::Signatory, Some("camden")).await,
        app.token(Role::Admin, None).await,
    ];
    let db = app.registry.db();
    let all = Statement::from_string(db.get_database_backend(), "SELECT * FROM api_tokens");
    let rows = db.query_all_raw(all).await.unwrap();
    assert_eq!(rows.len(), 2);
    let columns = rows[0].column_names();
    assert!(columns.iter().any(|c| c == "token_hash"), "{columns:?}");
    for secret in &secrets {
        let random = secret.strip_prefix("acc_").expect("a secret starts acc_");
        let raw = hex::decode(random).unwrap();
        let upper = random.to_uppercase();
        let needles = [secret.as_bytes(), random.as_bytes(), upper.as_bytes(), &raw];
        let hash = hex::encode(Sha256::digest(secret.as_bytes()));
        let mut hashed = 0;
        for row in &rows {
            for col in &columns {
                let value = column_bytes(row, col);
                for needle in needles {
                    assert!(
                        !value.windows(needle.len()).any(|w| w == needle),
                        "column {col} holds the secret"
                    );
                }
                hashed += usize::from(col == "token_hash" && value == hash.as_bytes());
            }
        }
        assert_eq!(hashed, 1, "its SHA-256 is stored, in one row");
    }
}

/// `accord token create` refuses what minting forbids, each with the error it promises,
/// prints no secret and stores nothing; a token within the rules is then minted.
async fn minting_refuses_what_the_roles_forbid(app: TestApp) {
    let cases: [(&[&str], &str); 7] = [
        (
            &["--role", "signatory", "--name", "Jo Bell"],
            "role signatory acts for one party: give --party",
        ),
        (
            &["--role", "gate_client", "--name", "referrals"],
            "role gate_client acts for one party: give --party",
        ),
        (
            &["--role", "contractor", "--name", "movers"],
            "role contractor acts for one party: give --party",
        ),
        (
            &["--role", "auditor", "--name", "Ann", "--party", "camden"],
            "role auditor is not bound to a party: leave out --party",
        ),
        (
            &["--role", "admin", "--name", "Ann", "--party", "camden"],
            "role admin is not bound to a party: leave out --party",
        ),
        (
            &[
                "--role",
                "signatory",
                "--name",
                "Jo",
                "--party",
                "Camden_Council",
            ],
            "'Camden_Council' is not a party id (lower-case letters, digits and hyphens)",
        ),
        (
            &["--role", "auditor", "--name", "   "],
            "the token name must not be empty",
        ),
    ];
    let create = |args: &[&str], db: &str| {
        let mut all = vec!["token", "create"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--database", db]);
        support::accord(&all)
    };
    for (args, why) in cases {
        let context = format!("{args:?}");
        let (args, db) = (args.to_vec(), app.db_url.clone());
        let out = tokio::task::spawn_blocking(move || create(&args, &db))
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{context}");
        assert_eq!(
            support::stderr(&out).trim(),
            format!("error: {why}"),
            "{context}"
        );
        assert_eq!(support::stdout(&out), "", "{context}: no secret printed");
    }
    let stored = accord::auth::list(app.registry.db()).await.unwrap();
    assert!(stored.is_empty(), "nothing stored: {stored:?}");

    // A party-bound token acts for a party some agreement names (tests/everyday/operator_cli.rs).
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let db = app.db_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        create(
            &[
                "--role",
                "signatory",
                "--name",
                "Jo Bell",
                "--party",
                "camden",
            ],
            &db,
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert!(support::stdout(&out).starts_with("acc_"));
    let stored = accord::auth::list(app.registry.db()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].party.as_deref(), Some("camden"));
}

/// `?status=` keeps the agreements whose current version has that status, for every status
/// (superseded never names an agreement's current version, so it lists none); an unknown
/// status is a 400. Pages are ordered by id, `total` counting every match; page 0 reads as 1
/// and `per_page` is held to 1..=500.
async fn the_agreement_list_filters_by_each_status_and_pages(app: TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let officer = app.token(Role::IgOfficer, None).await;
    let created = app
        .post_yaml(
            &officer,
            "/api/v1/agreements",
            &draft(FOODBANK, "brent-foodbank"),
        )
        .await;
    assert_eq!(created.status(), 201);
    for (id, control) in [
        ("hospital-discharge", "suspend"),
        ("hmo-licensing-enforcement", "terminate"),
    ] {
        let resp = app
            .post_json(
                &officer,
                &format!("/api/v1/agreements/{id}/{control}"),
                json!({ "reason": "test" }),
            )
            .await;
        assert_eq!(resp.status(), 200, "{control} {id}");
    }
    let list = |query: String| {
        let (app, officer) = (&app, &officer);
        async move {
            let resp = app
                .get(officer, &format!("/api/v1/agreements?{query}"))
                .await;
            assert_eq!(resp.status(), 200, "{query}");
            json(resp).await
        }
    };
    for (status, want) in [
        (
            "active",
            vec![
                "camden-foodbank-referrals",
                "school-attendance-pooling",
                "vulnerability-hub",
            ],
        ),
        ("draft", vec!["brent-foodbank"]),
        ("suspended", vec!["hospital-discharge"]),
        ("terminated", vec!["hmo-licensing-enforcement"]),
        ("expired", vec![]),
        ("superseded", vec![]),
    ] {
        let page = list(format!("status={status}")).await;
        assert_eq!(listed(&page), want, "{status}");
        assert_eq!(page["total"], want.len(), "{status}");
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["status"], status, "{item}");
        }
    }
    for bad in ["activ", "Active", ""] {
        let resp = app
            .get(&officer, &format!("/api/v1/agreements?status={bad}"))
            .await;
        assert_eq!(resp.status(), 400, "{bad:?}");
        assert_eq!(json(resp).await["code"], "bad-request", "{bad:?}");
    }

    let all = [
        "brent-foodbank",
        "camden-foodbank-referrals",
        "hmo-licensing-enforcement",
        "hospital-discharge",
        "school-attendance-pooling",
        "vulnerability-hub",
    ];
    for (query, want, page, per_page) in [
        ("", &all[..], 1, 50),
        ("per_page=4", &all[..4], 1, 4),
        ("per_page=4&page=2", &all[4..], 2, 4),
        ("per_page=4&page=3", &all[..0], 3, 4),
        ("per_page=1", &all[..1], 1, 1),
        ("per_page=1&page=6", &all[5..], 6, 1),
        ("per_page=500", &all[..], 1, 500),
    ] {
        let got = list(query.to_owned()).await;
        assert_eq!(listed(&got), want, "{query}");
        assert_eq!(
            (&got["total"], &got["page"], &got["per_page"]),
            (&json!(6), &json!(page), &json!(per_page)),
            "{query}"
        );
    }
    let got = list("status=active&per_page=2&page=2".to_owned()).await;
    assert_eq!(listed(&got), ["vulnerability-hub"]);
    assert_eq!(got["total"], 3, "the total counts every active agreement");
    // Out of the documented range (page 1 to 1,000,000,000; per_page 1 to 500): a 400.
    for query in [
        "page=0",
        "page=1000000001",
        "page=18446744073709551615",
        "per_page=0",
        "per_page=501",
    ] {
        let resp = app
            .get(&officer, &format!("/api/v1/agreements?{query}"))
            .await;
        assert_eq!(resp.status(), 400, "{query}");
        assert_eq!(json(resp).await["code"], "bad-request", "{query}");
    }
    // Pages far past the end: the last page there is.
    for (page, per_page) in [(1_000_000_000u64, 500u64), (1_000_000_000, 1)] {
        let query = format!("page={page}&per_page={per_page}");
        let got = list(query.clone()).await;
        assert_eq!(listed(&got), Vec::<&str>::new(), "{query}");
        assert_eq!(
            (&got["total"], &got["page"], &got["per_page"]),
            (&json!(6), &json!(page), &json!(per_page)),
            "{query}"
        );
    }
}

/// Signing refuses what it must, and nothing refused is stored: an unknown role or a blank or
/// over-long name (more than 200 characters, counted as characters) is a 400, a missing version
/// a 404, a version no longer a draft a 409. A DPO's signature records the review but activates
/// nothing: only every party's senior officer does.
async fn signing_refuses_bad_signatures_and_a_dpo_does_not_activate(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let created = app
        .post_yaml(
            &officer,
            "/api/v1/agreements",
            &draft(FOODBANK, "brent-foodbank"),
        )
        .await;
    assert_eq!(created.status(), 201);
    let path = "/api/v1/agreements/brent-foodbank/versions/1/signatures";
    let camden = app.token(Role::Signatory, Some("camden")).await;
    let foodbank = app.token(Role::Signatory, Some("foodbank")).await;
    for (body, says) in [
        (json!({ "name": "Jo Bell", "role": "chair" }), "\"chair\""),
        (json!({ "name": "Jo Bell", "role": "" }), "SignAs"),
        (json!({ "name": "" }), "blank"),
        (json!({ "name": "   " }), "blank"),
        (json!({ "name": "é".repeat(201) }), "at most 200 characters"),
        (
            json!({ "name": "é".repeat(201), "role": "dpo" }),
            "at most 200 characters",
        ),
    ] {
        let resp = app.post_json(&camden, path, body.clone()).await;
        assert_eq!(resp.status(), 400, "{body}");
        let b = json(resp).await;
        assert_eq!(b["code"], "bad-request", "{body}");
        assert!(b["message"].as_str().unwrap().contains(says), "{body}: {b}");
    }
    let v1 = json(
        app.get(&officer, "/api/v1/agreements/brent-foodbank/versions/1")
            .await,
    )
    .await;
    assert_eq!(
        v1["version"]["signatures"],
        json!([]),
        "nothing refused is stored"
    );
    for missing in [
        "/api/v1/agreements/brent-foodbank/versions/2/signatures",
        "/api/v1/agreements/no-such-agreement/versions/1/signatures",
    ] {
        let resp = app
            .post_json(&camden, missing, json!({ "name": "Jo Bell" }))
            .await;
        assert_eq!(resp.status(), 404, "{missing}");
        assert_eq!(json(resp).await["code"], "not-found", "{missing}");
    }

    let sign = |token: &String, body: Value| {
        let (app, token) = (&app, token.clone());
        async move { app.post_json(&token, path, body).await }
    };
    let v = json(sign(&camden, json!({ "name": "Jo Bell" })).await).await;
    assert_eq!(
        (&v["status"], &v["awaiting"]),
        (&json!("draft"), &json!(["foodbank"]))
    );
    let longest = "é".repeat(200);
    let v = json(sign(&foodbank, json!({ "name": longest, "role": "dpo" })).await).await;
    assert_eq!(
        (&v["status"], &v["awaiting"]),
        (&json!("draft"), &json!(["foodbank"])),
        "the last party's DPO signs no one off: still a draft"
    );
    assert_eq!(v["activated_at"], Value::Null);
    let v = json(sign(&foodbank, json!({ "name": "Ann Lee" })).await).await;
    assert_eq!(v["status"], "active", "{v}");
    let mut signed: Vec<(&str, &str, &str)> = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap();
            (text("party"), text("role"), text("name"))
        })
        .collect();
    signed.sort();
    assert_eq!(
        signed,
        [
            ("camden", "senior_officer", "Jo Bell"),
            ("foodbank", "dpo", longest.as_str()),
            ("foodbank", "senior_officer", "Ann Lee")
        ]
    );

    let late = sign(&camden, json!({ "name": "Dr A. Patel", "role": "dpo" })).await;
    assert_eq!(late.status(), 409);
    let b = json(late).await;
    assert_eq!(b["code"], "conflict");
    assert!(
        b["message"].as_str().unwrap().contains("already active"),
        "{b}"
    );
    let done = actions(&app, &officer, "agreement:brent-foodbank").await;
    assert_eq!(
        done,
        [
            "agreement.registered",
            "version.created",
            "signature.added",
            "signature.added",
            "signature.added",
            "version.activated"
        ]
    );
}

/// A draft signed off after a newer version came into force does not replace it: the older
/// draft becomes superseded (audited as `version.superseded`, on signing), and the newer
/// version stays in force, for the register's readers and the gate alike.
async fn an_older_draft_signed_after_a_newer_version_is_superseded(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let v1 = draft(FOODBANK, "brent-foodbank");
    let v2 = v1.replace(
        "title: Emergency food support referrals",
        "title: Emergency food and fuel support",
    );
    for (yaml, number) in [(&v1, 1), (&v2, 2)] {
        let created = json(app.post_yaml(&officer, "/api/v1/agreements", yaml).await).await;
        assert_eq!(
            (&created["number"], &created["status"]),
            (&json!(number), &json!("draft"))
        );
    }
    let camden = app.token(Role::Signatory, Some("camden")).await;
    let foodbank = app.token(Role::Signatory, Some("foodbank")).await;
    let sign = |token: &String, number: i32, name: &str| {
        let (app, token) = (&app, token.clone());
        let path = format!("/api/v1/agreements/brent-foodbank/versions/{number}/signatures");
        let body = json!({ "name": name });
        async move { app.post_json(&token, &path, body).await }
    };
    for (token, name) in [(&camden, "Jo Bell"), (&foodbank, "Ann Lee")] {
        assert_eq!(sign(token, 2, name).await.status(), 200);
    }
    assert_eq!(sign(&camden, 1, "Jo Bell").await.status(), 200);
    let last = sign(&foodbank, 1, "Ann Lee").await;
    assert_eq!(last.status(), 200);
    let old = json(last).await;
    assert_eq!(old["status"], "superseded", "{old}");
    assert_eq!(old["activated_at"], Value::Null, "it was never in force");
    assert!(old["superseded_at"].is_string(), "{old}");
    assert_eq!(old["awaiting"], json!([]));

    let versions = json(
        app.get(&officer, "/api/v1/agreements/brent-foodbank/versions")
            .await,
    )
    .await;
    assert_eq!(
        (&versions[0]["status"], &versions[1]["status"]),
        (&json!("superseded"), &json!("active"))
    );
    let summary = json(app.get(&officer, "/api/v1/agreements/brent-foodbank").await).await;
    assert_eq!(
        (&summary["status"], &summary["current_version"]),
        (&json!("active"), &json!(2))
    );
    assert_eq!(summary["title"], "Emergency food and fuel support");

    let page = json(
        app.get(
            &officer,
            "/api/v1/audit?subject=agreement:brent-foodbank&limit=1000",
        )
        .await,
    )
    .await;
    let records = page["items"].as_array().unwrap();
    let last = records.last().unwrap();
    assert_eq!(last["action"], "version.superseded", "{last}");
    assert_eq!(
        last["details"],
        json!({ "version": 1, "by_version": 2, "on_signing": true })
    );
    let activated: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "version.activated")
        .map(|r| &r["details"]["version"])
        .collect();
    assert_eq!(activated, [&json!(2)], "version 1 was never activated");

    let client = app.token(Role::GateClient, Some("camden")).await;
    let ask = json!({ "agreement": "brent-foodbank", "from": "camden", "to": "foodbank", "purpose": "food-parcels", "fields": ["full-name"] });
    let d = json(app.post_json(&client, "/api/v1/flows/check", ask).await).await;
    assert_eq!(
        (&d["decision"], &d["agreement_version"]),
        (&json!("allow"), &json!(2)),
        "the gate still decides under version 2: {d}"
    );
}

/// A reason is at most 2000 characters (counted as characters, as sent): one longer is
/// a 400 for every control, agreement or party, and changes nothing.
async fn a_reason_longer_than_2000_characters_is_a_400(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let v1 = std::fs::read_to_string(support::repo().join("agreements").join(FOODBANK)).unwrap();
    app.import_yaml(&v1).await;
    let agreement = "/api/v1/agreements/camden-foodbank-referrals";
    let too_long = "é".repeat(2001);
    for path in [
        format!("{agreement}/suspend"),
        format!("{agreement}/terminate"),
        "/api/v1/parties/foodbank/suspend".to_owned(),
    ] {
        let resp = app
            .post_json(&officer, &path, json!({ "reason": too_long }))
            .await;
        assert_eq!(resp.status(), 400, "{path}");
        let b = json(resp).await;
        assert_eq!(b["code"], "bad-request", "{path}");
        assert!(
            b["message"].as_str().unwrap().contains("2000 characters"),
            "{path}: {b}"
        );
    }
    assert_eq!(
        json(app.get(&officer, agreement).await).await["status"],
        "active"
    );
    assert_eq!(
        json(app.get(&officer, "/api/v1/parties/suspensions").await).await,
        json!([])
    );
    let changes = json(app.get(&officer, "/api/v1/audit?limit=1000").await).await;
    let acted: Vec<&Value> = changes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["action"])
        .filter(|a| {
            a.as_str().unwrap().contains("suspended") || a.as_str().unwrap().contains("terminated")
        })
        .collect();
    assert!(acted.is_empty(), "{acted:?}");

    // At most 2000 characters as sent (the document's maxLength), and stored trimmed.
    let padded_too_long = json!({ "reason": format!("  {}  ", "é".repeat(1997)) });
    for path in [
        format!("{agreement}/suspend"),
        "/api/v1/parties/foodbank/suspend".into(),
    ] {
        let r = app
            .post_json(&officer, &path, padded_too_long.clone())
            .await;
        assert_eq!(r.status(), 400, "{path}: 2001 characters as sent");
    }
    let longest = "é".repeat(1996);
    let padded = json!({ "reason": format!("  {longest}  ") });
    let s = app
        .post_json(&officer, &format!("{agreement}/suspend"), padded.clone())
        .await;
    assert_eq!(s.status(), 200);
    assert_eq!(
        json(s).await["reason"],
        longest,
        "counted as sent, stored trimmed"
    );
    let p = app
        .post_json(&officer, "/api/v1/parties/foodbank/suspend", padded)
        .await;
    assert_eq!(p.status(), 200);
    assert_eq!(json(p).await["reason"], longest);
}

/// Termination ends a suspended agreement as it does an open one, once: terminating it again
/// is a 409 and records nothing.
async fn a_suspended_agreement_is_terminated_once(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let v1 = std::fs::read_to_string(support::repo().join("agreements").join(FOODBANK)).unwrap();
    app.import_yaml(&v1).await;
    let path = "/api/v1/agreements/camden-foodbank-referrals";
    let suspended = app
        .post_json(
            &officer,
            &format!("{path}/suspend"),
            json!({ "reason": "breach at the foodbank" }),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    let ended = app
        .post_json(
            &officer,
            &format!("{path}/terminate"),
            json!({ "reason": "the foodbank closed" }),
        )
        .await;
    assert_eq!(ended.status(), 200);
    let state = json(ended).await;
    assert_eq!(
        (&state["control"], &state["reason"]),
        (&json!("terminated"), &json!("the foodbank closed"))
    );
    let summary = json(app.get(&officer, path).await).await;
    assert_eq!(
        (&summary["status"], &summary["control"]),
        (&json!("terminated"), &json!("terminated"))
    );
    let again = app
        .post_json(
            &officer,
            &format!("{path}/terminate"),
            json!({ "reason": "twice" }),
        )
        .await;
    assert_conflict(again, "terminating a terminated agreement").await;
    let summary = json(app.get(&officer, path).await).await;
    assert_eq!(
        summary["control_reason"], "the foodbank closed",
        "unchanged"
    );
    let page = json(
        app.get(&officer, "/api/v1/audit?action=agreement.terminated")
            .await,
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "terminated once: {page}");
    assert_eq!(
        (&items[0]["details"]["from"], &items[0]["details"]["to"]),
        (&json!("suspended"), &json!("terminated"))
    );
}

on_both_databases!(
    a_token_is_stored_only_as_its_hash,
    minting_refuses_what_the_roles_forbid,
    import_skips_broken_files_and_stores_the_rest,
    an_agreement_past_its_term_expires_and_leaves_the_register,
    a_revoked_token_stops_working_at_once,
    an_admin_cannot_lock_every_admin_out,
    a_token_revoked_elsewhere_stops_within_seconds,
    signatures_in_an_uploaded_file_are_only_claims,
    a_large_folder_imports_in_batches,
    the_list_pages_by_key_and_fills_in_old_rows,
    upload_collect_signatures_and_activate,
    broken_agreements_get_422_with_every_finding,
    too_many_or_repeated_keys_get_422_at_the_key,
    a_new_version_supersedes_the_old_when_signed,
    suspend_reinstate_and_terminate_with_reasons,
    a_terminated_agreements_draft_takes_no_signatures,
    a_party_is_suspended_across_agreements,
    a_party_id_that_is_not_a_slug_is_a_400,
    the_register_exports_to_csv,
    the_agreement_list_filters_by_each_status_and_pages,
    signing_refuses_bad_signatures_and_a_dpo_does_not_activate,
    an_older_draft_signed_after_a_newer_version_is_superseded,
    a_reason_longer_than_2000_characters_is_a_400,
    a_suspended_agreement_is_terminated_once,
);
