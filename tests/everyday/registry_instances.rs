//! The gate's index follows the registry. With two instances on one database, a change
//! committed on one reaches the other's gate when that one refreshes (serve does every 2 s),
//! even when the changes carry the same time: a fixed clock here, the same microsecond or
//! clocks apart in production. On one instance, however changes race, the index left in place
//! is the registry's final state.

use crate::support;

/// A reason, as the pages and the API parse it.
fn why(text: &str) -> accord::inputs::Reason {
    accord::inputs::Reason::parse(text).unwrap()
}

use accord::clock::Clock;
use accord::gate::{CheckRequest, Decision, Index, Outcome, decide};
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
    a.suspend(FOODBANK, &why("breach"), "officer")
        .await
        .unwrap();
    assert!(b.refresh_if_changed().await.unwrap(), "b sees the first");
    assert_eq!(answers(&app, &b), [Outcome::Deny, Outcome::Allow]);
    a.suspend(DISCHARGE, &why("breach"), "officer")
        .await
        .unwrap();
    assert!(
        b.refresh_if_changed().await.unwrap(),
        "b sees the second, stamped at the same time as the first"
    );
    assert_eq!(answers(&app, &b), [Outcome::Deny, Outcome::Deny]);
    assert!(!b.refresh_if_changed().await.unwrap(), "and rebuilds once");
    a.reinstate(FOODBANK, &why("fixed"), "officer")
        .await
        .unwrap();
    assert!(b.refresh_if_changed().await.unwrap());
    assert_eq!(answers(&app, &b), [Outcome::Allow, Outcome::Deny]);
}

/// A party's second suspension and reinstatement add no row and no later time; b still
/// follows them.
async fn a_party_suspended_again_at_the_same_time_reaches_the_other_instance(app: TestApp) {
    let b = two_instances(&app).await;
    let a = &app.registry;
    for round in 1..=2 {
        a.suspend_party("foodbank", &why("breach"), "officer")
            .await
            .unwrap();
        assert!(b.refresh_if_changed().await.unwrap(), "suspension {round}");
        assert_eq!(answers(&app, &b), [Outcome::Deny, Outcome::Allow]);
        a.reinstate_party("foodbank", &why("fixed"), "officer")
            .await
            .unwrap();
        assert!(
            b.refresh_if_changed().await.unwrap(),
            "reinstatement {round}"
        );
        assert_eq!(answers(&app, &b), [Outcome::Allow, Outcome::Allow]);
    }
}

/// An instance updates its own index for only what its change touched when nothing came
/// between; when another instance changed something first, its next change rebuilds, so the
/// other's change is not lost until the next poll.
async fn a_change_made_elsewhere_is_not_lost_by_the_next_change_here(app: TestApp) {
    let b = two_instances(&app).await;
    let a = &app.registry;
    b.suspend_party("foodbank", &why("breach"), "officer")
        .await
        .unwrap();
    assert_eq!(
        answers(&app, a),
        [Outcome::Allow, Outcome::Allow],
        "a has not looked yet"
    );
    a.suspend(DISCHARGE, &why("breach"), "officer")
        .await
        .unwrap();
    assert_eq!(
        answers(&app, a),
        [Outcome::Deny, Outcome::Deny],
        "a's own change, and b's before it"
    );
    assert!(
        !a.refresh_if_changed().await.unwrap(),
        "nothing left to see"
    );
    a.reinstate(DISCHARGE, &why("fixed"), "officer")
        .await
        .unwrap();
    assert_eq!(answers(&app, a), [Outcome::Deny, Outcome::Allow]);
}

/// One request per sample agreement: its first flow, as declared.
fn first_flows(index: &Index) -> Vec<CheckRequest> {
    support::samples()
        .iter()
        .map(|file| {
            let id = file.file_stem().unwrap().to_str().unwrap();
            let (_, agreement) = index.version(id).unwrap();
            let flow = &agreement.flows[0];
            CheckRequest {
                agreement: id.to_owned(),
                from: flow.from.to_string(),
                to: flow.to.to_string(),
                purpose: flow.purpose.to_string(),
                fields: flow.fields.iter().map(ToString::to_string).collect(),
                flow: None,
            }
        })
        .collect()
}

fn decisions(app: &TestApp, registry: &Registry, asks: &[CheckRequest]) -> Vec<Decision> {
    let index = registry.gate_index();
    asks.iter()
        .map(|ask| decide(&index, ask, app.clock.today()))
        .collect()
}

/// An engagement ended early on one instance reaches the other's gate: the version and the
/// control are unchanged, so only the count of amendments tells the rebuild to recompile.
async fn an_engagement_ended_early_reaches_the_other_instance(app: TestApp) {
    let b = two_instances(&app).await;
    let to_metis = CheckRequest {
        agreement: "hmo-licensing-enforcement".into(),
        from: "newham".into(),
        to: "metis".into(),
        purpose: "identify-unlicensed-hmos".into(),
        fields: vec!["uprn".into()],
        flow: None,
    };
    let today = app.clock.today();
    let asked = |r: &Registry| decide(&r.gate_index(), &to_metis, today).decision;
    assert_eq!(asked(&b), Outcome::Allow);
    let officer = accord::auth::Principal::new(
        uuid::Uuid::now_v7(),
        "Deepak Mistry".into(),
        accord::auth::Role::IgOfficer,
        None,
    );
    app.app
        .handover
        .end_early(
            &officer,
            "hmo-licensing-enforcement",
            "metis",
            &why("Contract ended"),
        )
        .await
        .unwrap();
    assert_eq!(asked(&app.registry), Outcome::Deny, "at once, here");
    assert!(b.refresh_if_changed().await.unwrap());
    assert_eq!(asked(&b), Outcome::Deny, "and on the other instance");
    let fresh = Registry::new(
        accord::store::open(&app.db_url).await.unwrap(),
        app.clock.clone(),
    );
    fresh.reload_index().await.unwrap();
    assert_eq!(asked(&fresh), Outcome::Deny, "and on one started after");
}

/// Every agreement and every sending party suspended at once, then reinstated at once, round
/// after round. Each change rebuilds the index when it commits; the rebuild that finishes last
/// must be the one that read last, so after each round the index matches one built afresh.
async fn racing_changes_leave_the_index_at_the_final_state(app: TestApp) {
    const ROUNDS: usize = 60;
    let a = app.registry.clone();
    a.import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let asks = first_flows(&a.gate_index());
    let mut parties: Vec<String> = asks.iter().map(|ask| ask.from.clone()).collect();
    parties.sort();
    parties.dedup();
    let db = accord::store::open(&app.db_url).await.unwrap();
    let fresh = Registry::new(db, app.clock.clone());
    for round in 0..ROUNDS {
        let suspend = round % 2 == 0;
        let mut changes = tokio::task::JoinSet::new();
        for ask in &asks {
            let (a, id) = (a.clone(), ask.agreement.clone());
            changes.spawn(async move {
                match suspend {
                    true => a.suspend(&id, &why("race"), "officer").await.map(drop),
                    false => a.reinstate(&id, &why("race"), "officer").await.map(drop),
                }
            });
        }
        for party in &parties {
            let (a, party) = (a.clone(), party.clone());
            changes.spawn(async move {
                match suspend {
                    true => a
                        .suspend_party(&party, &why("race"), "officer")
                        .await
                        .map(drop),
                    false => a
                        .reinstate_party(&party, &why("race"), "officer")
                        .await
                        .map(drop),
                }
            });
        }
        while let Some(done) = changes.join_next().await {
            done.unwrap().unwrap();
        }
        fresh.reload_index().await.unwrap();
        let want = decisions(&app, &fresh, &asks);
        let denied = want.iter().filter(|d| d.decision == Outcome::Deny).count();
        assert_eq!(
            denied,
            if suspend { asks.len() } else { 0 },
            "round {round}"
        );
        assert_eq!(
            decisions(&app, &a, &asks),
            want,
            "round {round}: an older rebuild replaced the newest"
        );
    }
}

on_both_databases!(
    changes_at_the_same_time_all_reach_the_other_instance,
    a_party_suspended_again_at_the_same_time_reaches_the_other_instance,
    racing_changes_leave_the_index_at_the_final_state,
    an_engagement_ended_early_reaches_the_other_instance,
    a_change_made_elsewhere_is_not_lost_by_the_next_change_here,
);
