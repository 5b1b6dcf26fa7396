//! `GET /api/v1/audit` as an auditor uses it: filters narrow, pages follow `next_after` to the
//! end without gaps or repeats, and a bad time is a 400.

use crate::support;

use accord::auth::Role;
use serde_json::{Value, json};
use support::app::TestApp;

async fn body(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

/// Five suspensions and reinstatements by an officer, at a minute apart.
async fn five_changes(app: &TestApp) -> String {
    let officer = app.token(Role::IgOfficer, None).await;
    let start: jiff::Timestamp = "2026-11-21T09:00:00Z".parse().unwrap();
    for i in 0..5 {
        app.clock.set(start + jiff::SignedDuration::from_mins(i));
        let verb = if i % 2 == 0 { "suspend" } else { "reinstate" };
        let resp = app
            .post_json(
                &officer,
                &format!("/api/v1/parties/police/{verb}"),
                json!({ "reason": "drill" }),
            )
            .await;
        assert!(resp.status().is_success());
    }
    officer
}

async fn pages_follow_next_after_to_the_end(app: TestApp) {
    let officer = five_changes(&app).await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/audit?limit=2".to_owned();
    loop {
        let page = body(app.get(&officer, &path).await).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|r| r["seq"].as_i64().unwrap()));
        match page["next_after"].as_i64() {
            Some(after) => {
                assert_eq!(Some(after), items.last().and_then(|r| r["seq"].as_i64()));
                path = format!("/api/v1/audit?limit=2&after={after}");
            }
            None => break,
        }
    }
    let all: Vec<i64> = (1..=seen.len() as i64).collect();
    assert_eq!(seen, all, "every record once, in order");
    assert!(seen.len() >= 5);
    let one = body(app.get(&officer, "/api/v1/audit?limit=1").await).await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1, "a limit of 1");
    for out_of_range in ["0", "1001"] {
        let resp = app
            .get(&officer, &format!("/api/v1/audit?limit={out_of_range}"))
            .await;
        assert_eq!(resp.status(), 400, "limit={out_of_range}: 1 to 1000");
    }
}

async fn filters_narrow_by_actor_action_and_time(app: TestApp) {
    let officer = five_changes(&app).await;
    let get = |q: &str| {
        let (app, officer) = (&app, &officer);
        let path = format!("/api/v1/audit?{q}");
        async move { body(app.get(officer, &path).await).await["items"].clone() }
    };
    let suspended = get("action=party.suspended").await;
    assert_eq!(suspended.as_array().unwrap().len(), 3);
    let by_officer = get("actor=test-ig_officer%20(ig_officer)").await;
    assert_eq!(by_officer.as_array().unwrap().len(), 5, "{by_officer}");
    assert_eq!(get("actor=someone-else").await, json!([]));
    let window = get("since=2026-11-21T09:01:00Z&until=2026-11-21T09:03:00Z").await;
    let times: Vec<&str> = window
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        times.len(),
        2,
        "since is inclusive, until exclusive: {times:?}"
    );
    assert!(
        times[0].starts_with("2026-11-21T09:01:00") && times[1].starts_with("2026-11-21T09:02:00")
    );
    let subject = get("subject=party:police&action=party.reinstated").await;
    assert_eq!(subject.as_array().unwrap().len(), 2);
    let resp = app.get(&officer, "/api/v1/audit?until=tomorrow").await;
    assert_eq!(resp.status(), 400);
    assert!(
        body(resp).await["message"]
            .as_str()
            .unwrap()
            .contains("'until'")
    );
}

on_both_databases!(
    pages_follow_next_after_to_the_end,
    filters_narrow_by_actor_action_and_time,
);
