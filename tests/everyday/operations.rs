//! What an operator's tools call, on SQLite and on PostgreSQL: `/metrics` (Prometheus text,
//! for a `monitor` or `admin` token only) counting the gate, the journal, sweeps, HTTP
//! requests by route pattern, and reading agreements by status, the outbox and overdue
//! handover items from the database; `/readyz` saying when the database is behind its
//! migrations.

use crate::support;

use accord::auth::Role;
use accord::clock::Clock;
use jiff::civil::date;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use support::app::TestApp;

const ALLOWED: &str = r#"{"agreement":"camden-foodbank-referrals","from":"camden","to":"foodbank","purpose":"food-parcels","fields":["full-name"]}"#;

async fn with_samples(app: &TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
}

async fn scrape(app: &TestApp, token: &str) -> String {
    let r = app.get(token, "/metrics").await;
    assert_eq!(r.status(), 200);
    let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    r.text().await.unwrap()
}

/// The value of the sample whose name and labels are exactly `series`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn only_monitors_and_admins_read_metrics(app: TestApp) {
    let r = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token");
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let r = app.get("acc_not-a-token", "/metrics").await;
    assert_eq!(r.status(), 401, "an unknown token");
    // The scheme in any case, as HTTP allows.
    let admin = app.token(Role::Admin, None).await;
    let r = app
        .http
        .get(app.url("/metrics"))
        .header("authorization", format!("bearer {admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for role in Role::ALL {
        let token = app
            .token(role, role.needs_party().then_some("camden"))
            .await;
        let r = app.get(&token, "/metrics").await;
        let want = if matches!(role, Role::Admin | Role::Monitor) {
            200
        } else {
            403
        };
        assert_eq!(r.status(), want, "{role}");
    }
    // A monitor token reads nothing else.
    let monitor = app.token(Role::Monitor, None).await;
    for path in ["/api/v1/agreements", "/api/v1/audit", "/api/v1/register"] {
        assert_eq!(app.get(&monitor, path).await.status(), 403, "{path}");
    }
    let r = app
        .post_json(
            &monitor,
            "/api/v1/flows/check",
            serde_json::from_str(ALLOWED).unwrap(),
        )
        .await;
    assert_eq!(r.status(), 403, "a monitor asks the gate");
    // The role is a system's: no person may have it, so it never signs in to the console.
    let new = accord::people::NewUser {
        email: "grafana@council.example",
        name: "Grafana",
        role: Role::Monitor,
        party: None,
    };
    let refused =
        accord::people::accounts::create(app.registry.db(), app.clock.now(), new, "test").await;
    assert!(
        matches!(
            refused,
            Err(accord::people::PeopleError::TokenOnly(Role::Monitor))
        ),
        "{refused:?}"
    );
}

async fn decisions_journal_and_requests_are_counted(app: TestApp) {
    with_samples(&app).await;
    let monitor = app.token(Role::Monitor, None).await;
    let gate = app.token(Role::GateClient, Some("camden")).await;
    let before = scrape(&app, &monitor).await;
    let allow = r#"accord_gate_decisions_total{outcome="allow",reason="permitted"}"#;
    let deny = r#"accord_gate_decisions_total{outcome="deny",reason="field-not-permitted"}"#;
    assert_eq!(
        value(&before, allow),
        None,
        "nothing decided yet:\n{before}"
    );

    for _ in 0..3 {
        let r = app
            .post_json(
                &gate,
                "/api/v1/flows/check",
                serde_json::from_str(ALLOWED).unwrap(),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let mut refused: Value = serde_json::from_str(ALLOWED).unwrap();
    refused["fields"] = json!(["full-name", "nhs-number-not-in-this-agreement"]);
    let r = app.post_json(&gate, "/api/v1/flows/check", refused).await;
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["decision"], "deny");
    assert_eq!(answer["reasons"][0]["code"], "field-not-permitted");
    // A path with an id of its own: counted under its route's pattern, never its path.
    let r = app
        .get(&monitor, "/api/v1/agreements/zz-unique-probe-id")
        .await;
    assert_eq!(r.status(), 403);

    let after = scrape(&app, &monitor).await;
    assert_eq!(value(&after, allow), Some(3.0), "{after}");
    assert_eq!(value(&after, deny), Some(1.0), "{after}");
    assert_eq!(
        value(&after, "accord_gate_decision_seconds_count"),
        Some(4.0)
    );
    let batches = value(&after, "accord_journal_batch_size_count").unwrap();
    let journalled = value(&after, "accord_journal_batch_size_sum").unwrap();
    assert!((1.0..=4.0).contains(&batches), "{batches} batches");
    assert_eq!(journalled, 4.0, "every decision went through the journal");
    assert_eq!(
        value(&after, "accord_journal_commit_seconds_count"),
        Some(batches)
    );
    let checks =
        r#"accord_http_requests_total{method="POST",route="/api/v1/flows/check",status="200"}"#;
    assert_eq!(value(&after, checks), Some(4.0), "{after}");
    assert!(
        after.contains(r#"route="/api/v1/agreements/{id}",status="403""#),
        "{after}"
    );
    assert!(
        !after.contains("zz-unique-probe-id"),
        "a path became a label"
    );
    let unmatched = app.get(&monitor, "/no/such/place/42").await;
    assert_eq!(unmatched.status(), 404);
    let last = scrape(&app, &monitor).await;
    assert!(last.contains(r#"route="unmatched",status="404""#), "{last}");
    assert!(!last.contains("/no/such/place"));
}

async fn sweeps_are_counted(app: TestApp) {
    with_samples(&app).await;
    let monitor = app.token(Role::Monitor, None).await;
    let gate = app.token(Role::GateClient, Some("camden")).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let mut send: Value = serde_json::from_str(ALLOWED).unwrap();
    send["records"] = json!([{"full-name": "Ada Lovelace"}]);
    let sent: Value = app
        .post_json(&gate, "/api/v1/flows", send)
        .await
        .json()
        .await
        .unwrap();
    let delete_by: jiff::Timestamp = sent["delete_by"].as_str().unwrap().parse().unwrap();
    let dry = app
        .post_json(&officer, "/api/v1/sweep?dry_run=true", json!(null))
        .await;
    assert_eq!(dry.status(), 200);
    let text = scrape(&app, &monitor).await;
    assert_eq!(
        value(&text, r#"accord_sweep_results_total{result="ran"}"#),
        None,
        "a dry run is not a sweep"
    );

    app.clock
        .set(delete_by + jiff::SignedDuration::from_hours(1));
    let swept: Value = app
        .post_json(&officer, "/api/v1/sweep", json!(null))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(swept["requests"].as_array().unwrap().len(), 1, "{swept}");
    let text = scrape(&app, &monitor).await;
    assert_eq!(
        value(&text, r#"accord_sweep_results_total{result="ran"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"accord_sweep_results_total{result="requests_made"}"#
        ),
        Some(1.0)
    );
}

async fn gauges_are_read_from_the_database(app: TestApp) {
    with_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    let text = scrape(&app, &admin).await;
    assert_eq!(
        value(&text, r#"accord_agreements{status="active"}"#),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        value(&text, r#"accord_agreements{status="draft"}"#),
        Some(0.0)
    );
    assert_eq!(value(&text, "accord_outbox_depth"), Some(0.0));
    assert_eq!(value(&text, "accord_handover_items_overdue"), Some(0.0));

    // A draft appears under its status.
    let draft = support::draft("camden-foodbank-referrals.yaml", "brent-foodbank");
    let officer = app.token(Role::IgOfficer, None).await;
    assert_eq!(
        app.post_yaml(&officer, "/api/v1/agreements", &draft)
            .await
            .status(),
        201
    );

    // Past the runbook's due date, before the engagement ends: items still open are overdue,
    // and the escalations the reminders job queues wait in the outbox.
    let view: Value = app
        .get(
            &officer,
            "/api/v1/agreements/hmo-licensing-enforcement/handover",
        )
        .await
        .json()
        .await
        .unwrap();
    let today = date(2027, 3, 1);
    let overdue = view["engagements"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["due"].as_str().unwrap() < "2027-03-01" && i["state"] == "open")
        .count();
    assert!(overdue > 0, "{view}");
    app.clock.set(
        today
            .at(9, 0, 0, 0)
            .to_zoned(accord::clock::london())
            .unwrap()
            .timestamp(),
    );
    let queued = app.app.handover.enforce().await.unwrap();
    assert!(queued.queued > 0, "{queued:?}");
    app.clock.set(
        today
            .at(10, 0, 0, 0)
            .to_zoned(accord::clock::london())
            .unwrap()
            .timestamp(),
    );

    let text = scrape(&app, &admin).await;
    assert_eq!(
        value(&text, r#"accord_agreements{status="draft"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "accord_handover_items_overdue"),
        Some(overdue as f64)
    );
    assert_eq!(
        value(&text, "accord_outbox_depth"),
        Some(queued.queued as f64)
    );
    assert_eq!(
        value(&text, "accord_outbox_oldest_age_seconds"),
        Some(3600.0)
    );
}

/// Every metric the Grafana dashboard in docs/ draws is one the service exposes.
async fn the_dashboard_draws_only_what_is_exposed(app: TestApp) {
    with_samples(&app).await;
    let admin = app.token(Role::Admin, None).await;
    // A family with no sample yet is not written at all: decide once and sweep once.
    let check = serde_json::from_str(ALLOWED).unwrap();
    assert_eq!(
        app.post_json(&admin, "/api/v1/flows/check", check)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_json(&admin, "/api/v1/sweep", json!(null))
            .await
            .status(),
        200
    );
    let text = scrape(&app, &admin).await;
    let dashboard =
        std::fs::read_to_string(support::repo().join("docs/grafana-dashboard.json")).unwrap();
    let parsed: Value = serde_json::from_str(&dashboard).unwrap();
    let mut names = std::collections::BTreeSet::new();
    for panel in parsed["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("accord_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                names.insert(name);
            }
        }
    }
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        // Counters are described under their name without `_total`.
        let described = format!("# TYPE {} ", name.trim_end_matches("_total"));
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .fold(name.as_str(), |n, s| n.trim_end_matches(s));
        assert!(
            text.contains(&described) || text.contains(&format!("# TYPE {family} ")),
            "the dashboard draws {name}, which /metrics does not expose"
        );
    }
}

async fn readiness_follows_the_database_and_its_migrations(app: TestApp) {
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ready");
    // As if this binary were newer than the database: its newest migration not yet applied.
    let db = app.registry.db();
    let newest: String = {
        let q = Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        );
        db.query_one_raw(q)
            .await
            .unwrap()
            .unwrap()
            .try_get("", "version")
            .unwrap()
    };
    let delete = format!("DELETE FROM seaql_migrations WHERE version = '{newest}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), delete))
        .await
        .unwrap();
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("1 migration(s) pending") && text.contains(&newest),
        "{text}"
    );
    // /healthz only says the process answers.
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// The database stops answering (PostgreSQL refuses this database's connections and ends
/// those open): 503, without the driver's message.
#[tokio::test]
async fn readiness_fails_when_the_database_does_not_answer() {
    let app = TestApp::start(support::app::Backend::Postgres).await;
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let name = app.db_url.rsplit('/').next().unwrap().to_owned();
    let admin = accord::store::connect(&support::app::pg_admin_url())
        .await
        .unwrap();
    for sql in [
        format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
    ] {
        admin
            .execute_raw(Statement::from_string(admin.get_database_backend(), sql))
            .await
            .unwrap();
    }
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let text = r.text().await.unwrap();
    assert_eq!(text, "not ready: the database does not answer");
    let allow = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true");
    admin
        .execute_raw(Statement::from_string(admin.get_database_backend(), allow))
        .await
        .unwrap();
}

on_both_databases!(
    only_monitors_and_admins_read_metrics,
    decisions_journal_and_requests_are_counted,
    sweeps_are_counted,
    gauges_are_read_from_the_database,
    readiness_follows_the_database_and_its_migrations,
    the_dashboard_draws_only_what_is_exposed,
);
