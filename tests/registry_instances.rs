//! Two instances of the registry on one database. A change committed on one reaches the other's
//! gate when that one refreshes (serve does every 2 s), even when the changes carry the same
//! time: a fixed clock here, the same microsecond or clocks apart in production.

mod support;

use accord::clock::Clock;
use accord::gate::{CheckRequest, Outcome, decide};
use accord::registry::Registry;
use support::app::TestApp;

const FOODBANK: &str = "camden-foodbank-referrals";
const DISCHARGE: &str = "hospital-discharge";

fn foodbank_referral() -> CheckRequest {
    CheckRequest {
        agreement: FOODBANK.into(),
        from: "camden".into(),
        to: "foodbank".into(),
        purpose: "food-parcels".into(),
        fields: vec!["full-name".into()],
        flow: None,
    }
}

fn discharge_referral() -> CheckRequest {
    CheckRequest {
        agreement: DISCHARGE.into(),
        from: "lth".into(),
        to: "leeds".into(),
        purpose: "discharge-planning".into(),
        fields: vec!["nhs-number".into()],
        flow: None,
    }
}

/// What `registry`'s gate answers to each request now.
fn answers(app: &TestApp, registry: &Registry) -> [Outcome; 2] {
    let today = app.clock.today();
    let index = registry.gate_index();
    [foodbank_referral(), discharge_referral()].map(|ask| decide(&index, &ask, today).decision)
}

/// The samples imported through `a`, and a second instance `b` on the same database.
async fn two_instances(app: &TestApp) -> Registry {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let db = accord::store::open(&app.db_url).await.unwrap();
    let b = Registry::new(db, app.clock.clone());
    b.reload_index().await.unwrap();
    assert_eq!(answers(app, &b), [Outcome::Allow, Outcome::Allow]);
    assert!(
        !b.refresh_if_changed().await.unwrap(),
        "nothing changed yet"
    );
    b
}

async fn changes_at_the_same_time_all_reach_the_other_instance(app: TestApp) {
    let b = two_instances(&app).await;
    let a = &app.registry;
    a.suspend(FOODBANK, "breach", "officer").await.unwrap();
    assert!(b.refresh_if_changed().await.unwrap(), "b sees the first");
    assert_eq!(answers(&app, &b), [Outcome::Deny, Outcome::Allow]);
    a.suspend(DISCHARGE, "breach", "officer").await.unwrap();
    assert!(
        b.refresh_if_changed().await.unwrap(),
        "b sees the second, stamped at the same time as the first"
    );
    assert_eq!(answers(&app, &b), [Outcome::Deny, Outcome::Deny]);
    assert!(!b.refresh_if_changed().await.unwrap(), "and rebuilds once");
    a.reinstate(FOODBANK, "fixed", "officer").await.unwrap();
    assert!(b.refresh_if_changed().await.unwrap());
    assert_eq!(answers(&app, &b), [Outcome::Allow, Outcome::Deny]);
}

/// A party's second suspension and reinstatement add no row and no later time; b still
/// follows them.
async fn a_party_suspended_again_at_the_same_time_reaches_the_other_instance(app: TestApp) {
    let b = two_instances(&app).await;
    let a = &app.registry;
    for round in 1..=2 {
        a.suspend_party("foodbank", "breach", "officer")
            .await
            .unwrap();
        assert!(b.refresh_if_changed().await.unwrap(), "suspension {round}");
        assert_eq!(answers(&app, &b), [Outcome::Deny, Outcome::Allow]);
        a.reinstate_party("foodbank", "fixed", "officer")
            .await
            .unwrap();
        assert!(
            b.refresh_if_changed().await.unwrap(),
            "reinstatement {round}"
        );
        assert_eq!(answers(&app, &b), [Outcome::Allow, Outcome::Allow]);
    }
}

on_both_databases!(
    changes_at_the_same_time_all_reach_the_other_instance,
    a_party_suspended_again_at_the_same_time_reaches_the_other_instance,
);
