//! The registry as an officer and signatories use it: upload, 422 for broken agreements,
//! signatures until active, new versions superseding old, controls, and the register.

mod support;

use accord::auth::Role;
use serde_json::{Value, json};
use support::app::TestApp;
use support::draft;

const FOODBANK: &str = "camden-foodbank-referrals.yaml";

async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
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
    assert_eq!(twice.status(), 409);

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

async fn a_new_version_supersedes_the_old_when_signed(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let file = support::repo().join("agreements").join(FOODBANK);
    let v1 = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        app.post_yaml(&officer, "/api/v1/agreements", &v1)
            .await
            .status(),
        201
    );
    let v2 = v1.replace(
        "title: Emergency food support referrals",
        "title: Emergency food and fuel support",
    );
    let created = json(app.post_yaml(&officer, "/api/v1/agreements", &v2).await).await;
    assert_eq!(created["number"], 2);
    assert_eq!(created["status"], "active", "declared signatures sign it");
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
    app.post_yaml(&officer, "/api/v1/agreements", &v1).await;
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
    assert_eq!(again.status(), 409);
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
    assert_eq!(back.status(), 409, "termination is final");
    let new_version = app
        .post_yaml(
            &officer,
            "/api/v1/agreements",
            &v1.replace("version: 3", "version: 4"),
        )
        .await;
    assert_eq!(new_version.status(), 409);
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
    let active = json(app.post_yaml(&officer, "/api/v1/agreements", &v1).await).await;
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
    assert_eq!(again.status(), 409);
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

on_both_databases!(
    a_revoked_token_stops_working_at_once,
    upload_collect_signatures_and_activate,
    broken_agreements_get_422_with_every_finding,
    a_new_version_supersedes_the_old_when_signed,
    suspend_reinstate_and_terminate_with_reasons,
    a_terminated_agreements_draft_takes_no_signatures,
    a_party_is_suspended_across_agreements,
    a_party_id_that_is_not_a_slug_is_a_400,
    the_register_exports_to_csv,
);
