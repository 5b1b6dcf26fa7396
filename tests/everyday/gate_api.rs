//! The gate as a partner system uses it: ask, send, get minimised records and a holding with
//! its deletion date; be refused, with reasons, and have nothing stored; every decision in the
//! audit log under the id the answer gave.

use crate::support;

use accord::auth::Role;
use serde_json::{Value, json};
use support::app::TestApp;

const AGREEMENT: &str = "camden-foodbank-referrals";

async fn ready(app: &TestApp) -> (String, String) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let client = app.token(Role::GateClient, Some("camden")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    (client, officer)
}

fn check(fields: &[&str]) -> Value {
    json!({ "agreement": AGREEMENT, "from": "camden", "to": "foodbank", "purpose": "food-parcels", "fields": fields })
}

fn send(records: Value, extra: Value) -> Value {
    let mut body = check(&["full-name", "address"]);
    body["records"] = records;
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn body(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

/// Posts each raw body and expects a 400 whose message contains the text given with it.
async fn refused_with_400s(app: &TestApp, token: &str, path: &str, cases: &[(String, &str)]) {
    for (text, says) in cases {
        let resp = app
            .http
            .post(app.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(text.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{text}");
        let b = body(resp).await;
        assert_eq!(b["code"], "bad-request");
        assert!(b["message"].as_str().unwrap().contains(says), "{text}: {b}");
    }
}

async fn decision_in_log(app: &TestApp, officer: &str, decision_id: &str) -> Value {
    let page = body(
        app.get(
            officer,
            &format!("/api/v1/audit?subject=agreement:{AGREEMENT}&limit=1000"),
        )
        .await,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == decision_id)
        .cloned()
        .unwrap_or_else(|| panic!("decision {decision_id} is not in the audit log"))
}

async fn an_allowed_check_is_answered_and_logged(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let resp = app
        .post_json(
            &client,
            "/api/v1/flows/check",
            check(&["full-name", "dietary-needs"]),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let d = body(resp).await;
    assert_eq!(d["decision"], "allow");
    assert_eq!(d["agreement_version"], 1);
    assert_eq!(d["permitted_fields"], json!(["full-name", "dietary-needs"]));
    assert_eq!(d["denied_fields"], json!([]));
    assert_eq!(d["reasons"][0]["code"], "permitted");
    assert_eq!(d["retention"]["keep_for"], "P6M");
    assert_eq!(d["retention"]["then"], "delete");
    let record = decision_in_log(&app, &officer, d["decision_id"].as_str().unwrap()).await;
    assert_eq!(record["action"], "gate.check");
    assert_eq!(record["details"]["decision"], "allow");
}

async fn a_denied_check_is_200_with_reasons(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let resp = app
        .post_json(
            &client,
            "/api/v1/flows/check",
            check(&["full-name", "nhs-number"]),
        )
        .await;
    assert_eq!(resp.status(), 200, "a decision, even a deny, is a 200");
    let d = body(resp).await;
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["permitted_fields"], json!(["full-name"]));
    assert_eq!(d["denied_fields"], json!(["nhs-number"]));
    assert_eq!(d["reasons"][0]["code"], "field-not-permitted");
    let record = decision_in_log(&app, &officer, d["decision_id"].as_str().unwrap()).await;
    assert_eq!(record["details"]["reasons"], json!(["field-not-permitted"]));
}

async fn suspension_takes_effect_at_once(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let path = format!("/api/v1/agreements/{AGREEMENT}/suspend");
    app.post_json(&officer, &path, json!({ "reason": "breach" }))
        .await;
    let d = body(
        app.post_json(&client, "/api/v1/flows/check", check(&["full-name"]))
            .await,
    )
    .await;
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["reasons"][0]["code"], "agreement-not-active");
    app.post_json(
        &officer,
        &format!("/api/v1/agreements/{AGREEMENT}/reinstate"),
        json!({ "reason": "ok" }),
    )
    .await;
    app.post_json(
        &officer,
        "/api/v1/parties/foodbank/suspend",
        json!({ "reason": "breach" }),
    )
    .await;
    let d = body(
        app.post_json(&client, "/api/v1/flows/check", check(&["full-name"]))
            .await,
    )
    .await;
    assert_eq!(d["reasons"][0]["code"], "party-suspended");
}

async fn a_gate_client_asks_only_for_its_own_party(app: TestApp) {
    let (_, _) = ready(&app).await;
    let other = app.token(Role::GateClient, Some("police")).await;
    let resp = app
        .post_json(&other, "/api/v1/flows/check", check(&["full-name"]))
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(body(resp).await["code"], "forbidden");
    let recipient = app.token(Role::GateClient, Some("foodbank")).await;
    assert_eq!(
        app.post_json(&recipient, "/api/v1/flows/check", check(&["full-name"]))
            .await
            .status(),
        200
    );
    let auditor = app.token(Role::Auditor, None).await;
    assert_eq!(
        app.post_json(&auditor, "/api/v1/flows/check", check(&["full-name"]))
            .await
            .status(),
        403
    );
    let sent = app
        .post_json(
            &other,
            "/api/v1/flows",
            send(json!([{ "full-name": "Ada" }]), json!({})),
        )
        .await;
    assert_eq!(sent.status(), 403, "nor send for another party");
    assert_eq!(body(sent).await["code"], "forbidden");
    let as_recipient = app
        .post_json(
            &recipient,
            "/api/v1/flows",
            send(json!([{ "full-name": "Ada" }]), json!({})),
        )
        .await;
    assert_eq!(
        as_recipient.status(),
        403,
        "the recipient may ask, but records leave only from their sender"
    );
    let refusal = body(as_recipient).await;
    assert_eq!(refusal["code"], "forbidden");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains("sends only as 'from'"),
        "{refusal}"
    );
    let officer = app.token(Role::IgOfficer, None).await;
    let holdings = body(app.get(&officer, "/api/v1/holdings").await).await;
    assert_eq!(holdings["total"], 0, "nothing is stored");
    let sends = body(app.get(&officer, "/api/v1/audit?action=gate.send").await).await;
    assert_eq!(sends["items"], json!([]), "no decision was made");
    let no_token = app
        .http
        .post(app.url("/api/v1/flows/check"))
        .json(&check(&["x"]))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
}

async fn an_allowed_send_returns_minimised_records_and_a_holding(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let records = json!([
        { "full-name": "Ada Lovelace", "address": "1 St Pancras Way" },
        { "full-name": "Alan Turing", "address": "2 Royal College St" }
    ]);
    let req = send(records, json!({ "subject_refs": ["R-1", "R-2"] }));
    let resp = app.post_json(&client, "/api/v1/flows", req).await;
    assert_eq!(resp.status(), 200);
    let a = body(resp).await;
    assert_eq!(a["decision"], "allow");
    assert_eq!(
        a["records"][1],
        json!({ "full-name": "Alan Turing", "address": "2 Royal College St" })
    );
    let delete_by = a["delete_by"].as_str().unwrap();
    assert!(
        delete_by.starts_with("2027-05-2"),
        "six months after 2026-11-21: {delete_by}"
    );
    let holding = body(
        app.get(
            &officer,
            &format!("/api/v1/holdings/{}", a["holding_id"].as_str().unwrap()),
        )
        .await,
    )
    .await;
    assert_eq!(holding["holder"], "foodbank");
    assert_eq!(holding["flow"], "referral");
    assert_eq!(holding["fields"], json!(["full-name", "address"]));
    assert_eq!(
        (
            holding["record_count"].as_i64(),
            holding["subject_count"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(holding["decision_id"], a["decision_id"]);
    assert_eq!(holding["state"], "held");
    let about = body(app.get(&officer, "/api/v1/holdings?subject_ref=R-2").await).await;
    assert_eq!(about["total"], 1, "who holds what about R-2");
    let none = body(app.get(&officer, "/api/v1/holdings?subject_ref=R-3").await).await;
    assert_eq!(none["total"], 0);
    let due = body(
        app.get(&officer, "/api/v1/holdings?due_before=2027-01-01T00:00:00Z")
            .await,
    )
    .await;
    assert_eq!(due["total"], 0);
    let record = decision_in_log(&app, &officer, a["decision_id"].as_str().unwrap()).await;
    assert_eq!(record["details"]["holding_id"], a["holding_id"]);
    assert!(
        !record.to_string().contains("Ada"),
        "no personal data in the audit log"
    );
}

async fn extra_fields_are_rejected_or_stripped(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let records = json!([{ "full-name": "Ada", "address": "x", "nhs-number": "943 476 5919" }]);
    let resp = app
        .post_json(&client, "/api/v1/flows", send(records.clone(), json!({})))
        .await;
    assert_eq!(resp.status(), 403, "reject is the default");
    let denied = body(resp).await;
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["denied_fields"], json!(["nhs-number"]));
    let holdings = body(app.get(&officer, "/api/v1/holdings").await).await;
    assert_eq!(holdings["total"], 0, "nothing refused is stored");
    decision_in_log(&app, &officer, denied["decision_id"].as_str().unwrap()).await;

    let resp = app
        .post_json(
            &client,
            "/api/v1/flows",
            send(records, json!({ "on_extra_fields": "strip" })),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let a = body(resp).await;
    assert_eq!(
        a["records"][0],
        json!({ "full-name": "Ada", "address": "x" })
    );
    assert_eq!(a["stripped_fields"], json!(["nhs-number"]));
    let record = decision_in_log(&app, &officer, a["decision_id"].as_str().unwrap()).await;
    assert_eq!(record["details"]["stripped_fields"], json!(["nhs-number"]));
    assert_eq!(record["details"]["fields"], json!(["full-name", "address"]));
}

/// `reject` said outright is the default; `strip` only ever removes fields: when anything but
/// a field stands in the way, or no field would be left, the send is still denied.
async fn strip_removes_fields_and_nothing_else(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let records = json!([{ "full-name": "Ada", "nhs-number": "943 476 5919" }]);
    let resp = app
        .post_json(
            &client,
            "/api/v1/flows",
            send(records.clone(), json!({ "on_extra_fields": "reject" })),
        )
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        body(resp).await["reasons"][0]["code"],
        "field-not-permitted"
    );

    let only_extra = json!([{ "nhs-number": "943 476 5919" }]);
    let mut req = send(only_extra, json!({ "on_extra_fields": "strip" }));
    req["fields"] = json!(["nhs-number"]);
    let resp = app.post_json(&client, "/api/v1/flows", req).await;
    assert_eq!(resp.status(), 403, "nothing permitted is left to send");
    assert_eq!(body(resp).await["permitted_fields"], json!([]));

    app.post_json(
        &officer,
        "/api/v1/parties/foodbank/suspend",
        json!({ "reason": "breach" }),
    )
    .await;
    let resp = app
        .post_json(
            &client,
            "/api/v1/flows",
            send(records, json!({ "on_extra_fields": "strip" })),
        )
        .await;
    assert_eq!(
        resp.status(),
        403,
        "stripping does not get round a suspension"
    );
    let codes: Vec<Value> = body(resp).await["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].clone())
        .collect();
    assert!(codes.contains(&json!("party-suspended")), "{codes:?}");
    let holdings = body(app.get(&officer, "/api/v1/holdings").await).await;
    assert_eq!(holdings["total"], 0, "nothing refused is stored");
}

/// Retention "from agreement_end" under a term with no end: the holding has no date until the
/// agreement ends, and terminating it dates the holding, so the sweep will find it.
async fn termination_dates_what_waited_for_the_agreements_end(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let path = support::repo().join("tests/fixtures/check/valid/kitchen-sink.yaml");
    let open_ended = std::fs::read_to_string(path)
        .unwrap()
        .replace("  end: 2028-03-31\n", "");
    let resp = app
        .post_yaml(&officer, "/api/v1/agreements", &open_ended)
        .await;
    assert_eq!(resp.status(), 201);
    let awaiting = body(resp).await["awaiting"].clone();
    let mut last = Value::Null;
    for party in awaiting.as_array().unwrap() {
        let signer = app
            .token(Role::Signatory, Some(party.as_str().unwrap()))
            .await;
        let resp = app
            .post_json(
                &signer,
                "/api/v1/agreements/northbrook-discharge-and-visits/versions/1/signatures",
                json!({ "name": "Kim Lee" }),
            )
            .await;
        assert_eq!(resp.status(), 200);
        last = body(resp).await;
    }
    assert_eq!(
        last["status"], "active",
        "the last signature makes it active"
    );
    let police = app.token(Role::GateClient, Some("northbrook-police")).await;
    let markers = json!({
        "agreement": "northbrook-discharge-and-visits", "from": "northbrook-police",
        "to": "northbrook-council", "purpose": "visitor-safety", "flow": "risk-markers",
        "fields": ["address", "risk-to-visitors"],
        "records": [{ "address": "1 High St", "risk-to-visitors": "dog" }]
    });
    let resp = app.post_json(&police, "/api/v1/flows", markers).await;
    let status = resp.status();
    let sent = body(resp).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["retention"]["from"], "agreement_end");
    assert_eq!(sent["delete_by"], Value::Null, "the term has no end yet");
    let holding = format!("/api/v1/holdings/{}", sent["holding_id"].as_str().unwrap());

    let resp = app
        .post_json(
            &officer,
            "/api/v1/agreements/northbrook-discharge-and-visits/terminate",
            json!({ "reason": "service closed" }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let dated = body(app.get(&officer, &holding).await).await;
    let delete_by = dated["delete_by"].as_str().unwrap();
    assert!(
        delete_by.starts_with("2028-05-20T23:00:00"),
        "P1Y6M after it ended on 2026-11-21, at London midnight: {delete_by}"
    );
    let ended = body(
        app.get(&officer, "/api/v1/audit?action=agreement.terminated")
            .await,
    )
    .await;
    assert_eq!(ended["items"][0]["details"]["holdings_dated"], 1);
}

/// The gate decides with the registry's state and today's date, over HTTP as in the core.
async fn unknown_agreements_and_ended_terms_are_denied(app: TestApp) {
    let (client, _) = ready(&app).await;
    let mut ask = check(&["full-name"]);
    ask["agreement"] = json!("no-such-agreement");
    let d = body(app.post_json(&client, "/api/v1/flows/check", ask).await).await;
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["reasons"][0]["code"], "unknown-agreement");
    assert_eq!(d["agreement_version"], Value::Null);

    app.clock.set("2028-04-01T09:00:00Z".parse().unwrap());
    let d = body(
        app.post_json(&client, "/api/v1/flows/check", check(&["full-name"]))
            .await,
    )
    .await;
    assert_eq!(d["decision"], "deny", "the term ended on 2028-03-31");
    assert_eq!(d["reasons"][0]["code"], "outside-term");
}

async fn odd_json_gets_a_clear_400(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let base = r#""agreement":"camden-foodbank-referrals","from":"camden","to":"foodbank","purpose":"food-parcels","fields":["full-name"]"#;
    let cases = [
        (
            format!(r#"{{{base},"records":[{{"full-name":"a","full-name":"b"}}]}}"#),
            "appears twice",
        ),
        (format!(r#"{{{base},"records":[42]}}"#), "JSON object"),
        (
            format!(r#"{{{base},"records":[{{"full-name":{{"first":"a"}}}}]}}"#),
            "nested object",
        ),
        (
            format!(r#"{{{base},"records":[{{"full-name":"a","nhs-number":{{"n":1}}}}]}}"#),
            "field 'nhs-number' holds a nested",
        ),
        (
            format!(r#"{{{base},"records":[{{"full-name":[{{"first":"a"}}]}}]}}"#),
            "field 'full-name' holds a nested",
        ),
        (
            format!(r#"{{{base},"records":[{{"full-name":"a"}}],"on_extra_fields":"drop"}}"#),
            "unknown variant `drop`",
        ),
        (format!(r#"{{{base},"records":[]}}"#), "empty"),
        (
            format!(r#"{{{base},"records":[{{"full-name":"a"}}],"subject_refs":["x","y"]}}"#),
            "one per record",
        ),
        (
            format!(r#"{{{base},"records":[{{"full-name":"a"}}],"surprise":1}}"#),
            "unknown field",
        ),
        (format!(r#"{{{base},"records":"#), "EOF while parsing"),
    ];
    refused_with_400s(&app, &client, "/api/v1/flows", &cases).await;
    let many: Vec<Value> = (0..10_001).map(|_| json!({ "full-name": "a" })).collect();
    let resp = app
        .post_json(&client, "/api/v1/flows", send(json!(many), json!({})))
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        body(app.get(&officer, "/api/v1/holdings").await).await["total"],
        0
    );
}

/// `n` distinct field ids that the foodbank agreement does not declare.
fn unknown_fields(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("field-{i:06}")).collect()
}

/// The audit record of a decision, as stored: its details text.
async fn stored_details(app: &TestApp, officer: &str, decision_id: &str) -> String {
    decision_in_log(app, officer, decision_id).await["details"].to_string()
}

/// A question as large as the caps allow is decided (a deny, every field listed in the
/// answer), but its reasons and its audit record stay small; one field or key past a cap is a
/// 400 before any decision.
async fn the_largest_request_is_capped_and_its_audit_record_bounded(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let fields = unknown_fields(10_000);
    let mut q = check(&["full-name"]);
    q["fields"] = json!(fields);
    let resp = app.post_json(&client, "/api/v1/flows/check", q).await;
    assert_eq!(resp.status(), 200);
    let d = body(resp).await;
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["denied_fields"].as_array().unwrap().len(), 10_000);
    let reasons = d["reasons"].as_array().unwrap();
    assert_eq!(
        reasons.len(),
        21,
        "20 fields by name, one reason counting the rest"
    );
    assert!(
        reasons[20]["message"]
            .as_str()
            .unwrap()
            .starts_with("9980 more requested fields are not in"),
        "{}",
        reasons[20]
    );
    let details = stored_details(&app, &officer, d["decision_id"].as_str().unwrap()).await;
    assert!(
        details.len() < 16 * 1024,
        "the audit record holds {} bytes",
        details.len()
    );
    let record: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(record["fields_total"], 10_000);
    assert_eq!(record["denied_fields_total"], 10_000);
    assert_eq!(record["fields"].as_array().unwrap().len(), 50);

    let too_many = {
        let mut q = check(&[]);
        q["fields"] = json!(unknown_fields(10_001));
        q.to_string()
    };
    let too_long = {
        let mut q = check(&[]);
        q["fields"] = json!(["x".repeat(201)]);
        q.to_string()
    };
    let long_id = {
        let mut q = check(&["full-name"]);
        q["agreement"] = json!("a".repeat(201));
        q.to_string()
    };
    let cases = [
        (too_many, "more than 10000 fields"),
        (too_long, "ids are at most 200"),
        (long_id, "ids are at most 200"),
    ];
    refused_with_400s(&app, &client, "/api/v1/flows/check", &cases).await;
    let checks = body(app.get(&officer, "/api/v1/audit?action=gate.check").await).await;
    assert_eq!(
        checks["items"].as_array().unwrap().len(),
        1,
        "only the first question was decided"
    );
}

/// Records are read in linear time with a cap on keys: a record of 10,001 keys, or records
/// naming more than 10,000 distinct fields between them, are 400s and store nothing; a record
/// with many extra keys is stripped without listing each one in the audit record.
async fn records_with_too_many_keys_are_refused(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let wide: serde_json::Map<String, Value> = unknown_fields(10_001)
        .into_iter()
        .map(|k| (k, json!("v")))
        .collect();
    let resp = app
        .post_json(&client, "/api/v1/flows", send(json!([wide]), json!({})))
        .await;
    assert_eq!(resp.status(), 400);
    let b = body(resp).await;
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("more than 10000 keys"),
        "{b}"
    );
    let halves: Vec<Value> = [0..6_000, 6_000..12_000]
        .into_iter()
        .map(|range| {
            let rec: serde_json::Map<String, Value> = range
                .map(|i| (format!("field-{i:06}"), json!("v")))
                .collect();
            Value::Object(rec)
        })
        .collect();
    let resp = app
        .post_json(&client, "/api/v1/flows", send(json!(halves), json!({})))
        .await;
    assert_eq!(resp.status(), 400);
    assert!(
        body(resp).await["message"]
            .as_str()
            .unwrap()
            .contains("more than 10000 distinct fields")
    );
    assert_eq!(
        body(app.get(&officer, "/api/v1/holdings").await).await["total"],
        0
    );

    let mut one = serde_json::Map::new();
    one.insert("full-name".into(), json!("Ada"));
    one.insert("address".into(), json!("1 St Pancras Way"));
    for k in unknown_fields(5_000) {
        one.insert(k, json!("x"));
    }
    let resp = app
        .post_json(
            &client,
            "/api/v1/flows",
            send(json!([one]), json!({ "on_extra_fields": "strip" })),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let a = body(resp).await;
    assert_eq!(a["stripped_fields"].as_array().unwrap().len(), 5_000);
    assert_eq!(
        a["records"],
        json!([{ "full-name": "Ada", "address": "1 St Pancras Way" }])
    );
    let details = stored_details(&app, &officer, a["decision_id"].as_str().unwrap()).await;
    assert!(details.len() < 16 * 1024, "{} bytes", details.len());
    let record: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(record["stripped_fields_total"], 5_000);
    assert_eq!(record["stripped_fields"].as_array().unwrap().len(), 50);
}

/// A check is read strictly: a number where text belongs, a misspelt key, a key twice or a
/// broken body is a 400 naming the problem, and no decision is made or logged.
async fn a_check_with_odd_json_gets_a_clear_400(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let rest = r#""from":"camden","to":"foodbank","purpose":"food-parcels","fields":["full-name"]"#;
    let cases = [
        (
            format!(r#"{{"agreement":5,{rest}}}"#),
            "invalid type: integer",
        ),
        (
            format!(r#"{{"agreement":"{AGREEMENT}",{rest},"flows":"referral"}}"#),
            "unknown field `flows`",
        ),
        (
            format!(r#"{{"agreement":"{AGREEMENT}","agreement":"x",{rest}}}"#),
            "duplicate field `agreement`",
        ),
        (
            format!(
                r#"{{"agreement":"{AGREEMENT}","from":"camden","to":"foodbank","purpose":"food-parcels","fields":"full-name"}}"#
            ),
            "invalid type: string",
        ),
        (format!(r#"{{"agreement":"{AGREEMENT}","#), "EOF"),
    ];
    refused_with_400s(&app, &client, "/api/v1/flows/check", &cases).await;
    let logged = body(app.get(&officer, "/api/v1/audit?action=gate.check").await).await;
    assert_eq!(logged["items"], json!([]), "no decision was made");
}

/// The journal writes decisions on its own while officers change the registry through the
/// pool: both append to one chain, which verifies, and every answered decision is in it.
async fn decisions_and_registry_changes_share_one_chain(app: TestApp) {
    let (client, officer) = ready(&app).await;
    let asks = (0..8).map(|_| {
        let (app, client) = (&app, &client);
        async move {
            let mut ids = Vec::new();
            for _ in 0..25 {
                let resp = app
                    .post_json(client, "/api/v1/flows/check", check(&["full-name"]))
                    .await;
                assert_eq!(resp.status(), 200);
                ids.push(body(resp).await["decision_id"].as_str().unwrap().to_owned());
            }
            ids
        }
    });
    let changes = async {
        for i in 0..10 {
            let verb = if i % 2 == 0 { "suspend" } else { "reinstate" };
            let resp = app
                .post_json(
                    &officer,
                    &format!("/api/v1/parties/police/{verb}"),
                    json!({ "reason": "drill" }),
                )
                .await;
            assert!(resp.status().is_success(), "{verb}: {}", resp.status());
        }
    };
    let (answered, ()) = tokio::join!(futures::future::join_all(asks), changes);
    let verified = accord::audit::verify(app.registry.db())
        .await
        .unwrap()
        .expect("the chain verifies");
    let mut logged = std::collections::HashSet::new();
    let mut path = "/api/v1/audit?action=gate.check&limit=1000".to_owned();
    loop {
        let page = body(app.get(&officer, &path).await).await;
        let items = page["items"].as_array().unwrap();
        logged.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        let Some(after) = page["next_after"].as_i64() else {
            break;
        };
        path = format!("/api/v1/audit?action=gate.check&limit=1000&after={after}");
    }
    let answered: Vec<String> = answered.into_iter().flatten().collect();
    assert_eq!(answered.len(), 200);
    assert!(answered.iter().all(|id| logged.contains(id)));
    assert_eq!(logged.len(), 200);
    assert!(verified.records > 200 + 10, "{verified:?}");
}

async fn no_answer_without_a_durable_record(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let (client, officer) = ready(&app).await;
    let db = app.registry.db();
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "DROP TABLE audit_head",
    ))
    .await
    .unwrap();
    let resp = app
        .post_json(&client, "/api/v1/flows/check", check(&["full-name"]))
        .await;
    assert_eq!(
        resp.status(),
        503,
        "a decision that cannot be recorded is not given"
    );
    let b = body(resp).await;
    assert_eq!(b["code"], "unavailable");
    assert!(b.get("decision").is_none(), "no decision leaks out: {b}");
    let message = b["message"].as_str().unwrap();
    assert!(message.contains("could not be recorded"), "{message}");
    assert_eq!(message.matches("try again").count(), 1, "{message}");
    assert!(
        !message.contains("audit_head"),
        "the database's error stays in the log: {message}"
    );
    let records = json!([{ "full-name": "Ada", "address": "x" }]);
    let resp = app
        .post_json(&client, "/api/v1/flows", send(records, json!({})))
        .await;
    assert_eq!(resp.status(), 503);
    assert_eq!(
        body(app.get(&officer, "/api/v1/holdings").await).await["total"],
        0,
        "nothing stored"
    );
}

/// A ledger row as the journal writes one: `agreement`'s holding for `holder`, received at
/// `received` and due at `delete_by` (none: retention runs from an open-ended agreement's end).
fn ledger_row(
    agreement: &str,
    holder: &str,
    received: &str,
    delete_by: Option<&str>,
) -> accord::store::entity::holding::ActiveModel {
    use sea_orm::ActiveValue::Set;
    let mut row = support::holding_row(received, "2000-01-01T00:00:00.000000Z", 1);
    row.agreement_id = Set(agreement.into());
    row.holder = Set(holder.into());
    row.delete_by = Set(delete_by.map(str::to_owned));
    row
}

/// The ids of a page of holdings, in the order listed.
fn holding_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `GET /api/v1/holdings`: `agreement` and `holder` each narrow the list, and together;
/// `due_before` keeps what is due strictly before the time given (in any offset), never a
/// holding with no date yet; a time that is not RFC 3339 is a 400 naming `due_before`. Pages
/// run oldest first, `total` counting every match; page 0 reads as 1 and `per_page` is held to
/// 1..=500.
async fn the_holdings_list_filters_and_pages(app: TestApp) {
    use accord::store::entity::holding;
    use sea_orm::EntityTrait;
    let (_, officer) = ready(&app).await;
    const HUB: &str = "vulnerability-hub";
    let rows = [
        ledger_row(
            AGREEMENT,
            "foodbank",
            "2026-01-01T00:00:00.000000Z",
            Some("2026-07-01T00:00:00.000000Z"),
        ),
        ledger_row(
            AGREEMENT,
            "camden",
            "2026-02-01T00:00:00.000000Z",
            Some("2026-08-01T00:00:00.000000Z"),
        ),
        ledger_row(
            HUB,
            "bristol",
            "2026-03-01T00:00:00.000000Z",
            Some("2027-03-01T00:00:00.000000Z"),
        ),
        ledger_row(
            AGREEMENT,
            "foodbank",
            "2026-04-01T00:00:00.000000Z",
            Some("2027-04-01T00:00:00.000000Z"),
        ),
        ledger_row(HUB, "bristol", "2026-05-01T00:00:00.000000Z", None),
        ledger_row(
            AGREEMENT,
            "foodbank",
            "2026-06-01T00:00:00.000000Z",
            Some("2026-06-15T00:00:00.000000Z"),
        ),
    ];
    let id: Vec<String> = rows
        .iter()
        .map(|r| r.id.clone().unwrap().to_string())
        .collect();
    holding::Entity::insert_many(rows)
        .exec_without_returning(app.registry.db())
        .await
        .unwrap();
    let [a, b, c, d, e, f] = [0, 1, 2, 3, 4, 5].map(|i| id[i].as_str());
    let list = |query: &str| {
        let (app, officer) = (&app, &officer);
        let path = format!("/api/v1/holdings?{query}");
        async move {
            let resp = app.get(officer, &path).await;
            assert_eq!(resp.status(), 200, "{path}");
            body(resp).await
        }
    };

    let all = list("").await;
    assert_eq!(holding_ids(&all), [a, b, c, d, e, f], "oldest first");
    assert_eq!(all["total"], 6);
    for (query, want) in [
        (format!("agreement={AGREEMENT}"), vec![a, b, d, f]),
        (format!("agreement={HUB}"), vec![c, e]),
        ("agreement=no-such-agreement".to_owned(), vec![]),
        ("holder=foodbank".to_owned(), vec![a, d, f]),
        ("holder=bristol".to_owned(), vec![c, e]),
        (format!("agreement={AGREEMENT}&holder=camden"), vec![b]),
        (format!("agreement={HUB}&holder=foodbank"), vec![]),
        ("due_before=2026-07-15T00:00:00Z".to_owned(), vec![a, f]),
        ("due_before=2026-07-01T01:00:00%2B01:00".to_owned(), vec![f]),
        (
            "due_before=2026-07-01T01:00:00.000001%2B01:00".to_owned(),
            vec![a, f],
        ),
        (
            "due_before=2030-01-01T00:00:00Z".to_owned(),
            vec![a, b, c, d, f],
        ),
        ("due_before=2026-06-15T00:00:00Z".to_owned(), vec![]),
        (
            "holder=foodbank&due_before=2027-01-01T00:00:00Z".to_owned(),
            vec![a, f],
        ),
    ] {
        let page = list(&query).await;
        assert_eq!(holding_ids(&page), want, "{query}");
        assert_eq!(page["total"], want.len(), "{query}");
    }

    for bad in ["yesterday", "2026-07-01", "2026-13-01T00:00:00Z", ""] {
        let resp = app
            .get(&officer, &format!("/api/v1/holdings?due_before={bad}"))
            .await;
        assert_eq!(resp.status(), 400, "{bad:?}");
        let b = body(resp).await;
        assert_eq!(b["code"], "bad-request", "{bad:?}");
        assert!(
            b["message"].as_str().unwrap().contains("'due_before'"),
            "{bad:?}: {b}"
        );
    }

    for (query, want, page, per_page) in [
        ("per_page=4", vec![a, b, c, d], 1, 4),
        ("per_page=4&page=2", vec![e, f], 2, 4),
        ("per_page=4&page=3", vec![], 3, 4),
        ("per_page=1", vec![a], 1, 1),
        ("per_page=1&page=6", vec![f], 6, 1),
        ("per_page=500", vec![a, b, c, d, e, f], 1, 500),
        ("holder=foodbank&per_page=2&page=2", vec![f], 2, 2),
    ] {
        let got = list(query).await;
        assert_eq!(holding_ids(&got), want, "{query}");
        let total = if query.starts_with("holder") { 3 } else { 6 };
        assert_eq!(
            (&got["total"], &got["page"], &got["per_page"]),
            (&json!(total), &json!(page), &json!(per_page)),
            "{query}"
        );
    }
    // Out of the documented range (page 1 to 1,000,000,000; per_page 1 to 500): a 400 naming
    // the parameter, as the OpenAPI document's minimum and maximum say.
    for (query, name) in [
        ("page=0", "page"),
        ("page=1000000001", "page"),
        ("page=18446744073709551615", "page"),
        ("per_page=0", "per_page"),
        ("per_page=501", "per_page"),
        ("per_page=1000000", "per_page"),
    ] {
        let resp = app
            .get(&officer, &format!("/api/v1/holdings?{query}"))
            .await;
        assert_eq!(resp.status(), 400, "{query}");
        let b = body(resp).await;
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{name}`")),
            "{query}: {b}"
        );
    }
    for (page, per_page) in FAR_PAGES {
        let query = format!("page={page}&per_page={per_page}");
        let got = list(&query).await;
        assert_eq!(holding_ids(&got), Vec::<&str>::new(), "{query}");
        assert_eq!(
            (&got["total"], &got["page"], &got["per_page"]),
            (&json!(6), &json!(page), &json!(per_page)),
            "{query}"
        );
    }
}

/// Pages far past the end, as (page, per_page): the last page there is, whose offset is far
/// beyond any table.
const FAR_PAGES: [(u64, u64); 2] = [(1_000_000_000, 500), (1_000_000_000, 1)];

on_both_databases!(
    no_answer_without_a_durable_record,
    an_allowed_check_is_answered_and_logged,
    a_denied_check_is_200_with_reasons,
    suspension_takes_effect_at_once,
    a_gate_client_asks_only_for_its_own_party,
    an_allowed_send_returns_minimised_records_and_a_holding,
    extra_fields_are_rejected_or_stripped,
    odd_json_gets_a_clear_400,
    a_check_with_odd_json_gets_a_clear_400,
    decisions_and_registry_changes_share_one_chain,
    strip_removes_fields_and_nothing_else,
    unknown_agreements_and_ended_terms_are_denied,
    termination_dates_what_waited_for_the_agreements_end,
    the_holdings_list_filters_and_pages,
    the_largest_request_is_capped_and_its_audit_record_bounded,
    records_with_too_many_keys_are_refused,
);
