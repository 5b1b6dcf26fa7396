//! `GET /api/v1/agreements/{id}/dpia`: the DPIA of a registered agreement, as HTML or Markdown,
//! of the current version or a named one, escaped, and only for those who may read it.

use crate::support;

use accord::auth::Role;
use support::app::TestApp;

async fn html_by_default_with_the_diagram(app: TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let officer = app.token(Role::IgOfficer, None).await;
    let resp = app
        .get(&officer, "/api/v1/agreements/vulnerability-hub/dpia")
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    let html = resp.text().await.unwrap();
    assert!(html.contains("<svg"), "the data-flow diagram is embedded");
    assert!(
        html.contains("Multi-agency vulnerability hub") || html.contains("vulnerability"),
        "names the agreement"
    );
    let md = app
        .get(
            &officer,
            "/api/v1/agreements/vulnerability-hub/dpia?format=md&version=1",
        )
        .await;
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    let text = md.text().await.unwrap();
    let golden =
        std::fs::read_to_string(support::repo().join("tests/golden/dpia/vulnerability-hub.md"))
            .unwrap();
    let first_heading = |t: &str| t.lines().find(|l| l.starts_with("# ")).map(str::to_owned);
    assert_eq!(first_heading(&text), first_heading(&golden));
    assert_eq!(
        app.get(
            &officer,
            "/api/v1/agreements/vulnerability-hub/dpia?version=9"
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.get(
            &officer,
            "/api/v1/agreements/vulnerability-hub/dpia?format=pdf"
        )
        .await
        .status(),
        400
    );
}

async fn user_text_is_escaped(app: TestApp) {
    let officer = app.token(Role::IgOfficer, None).await;
    let yaml = support::draft("camden-foodbank-referrals.yaml", "hostile").replace(
        "title: Emergency food support referrals",
        "title: \"<script>alert(1)</script> {{title}}\"",
    );
    assert_eq!(
        app.post_yaml(&officer, "/api/v1/agreements", &yaml)
            .await
            .status(),
        201
    );
    let html = app
        .get(&officer, "/api/v1/agreements/hostile/dpia")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("<script>alert(1)"),
        "raw script tag in the HTML"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        html.contains("{{title}}"),
        "template syntax in user text is shown, not evaluated"
    );
}

async fn only_readers_of_the_agreement_get_its_dpia(app: TestApp) {
    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    let foodbank_signatory = app.token(Role::Signatory, Some("foodbank")).await;
    let gate = app.token(Role::GateClient, Some("camden")).await;
    let path = "/api/v1/agreements/camden-foodbank-referrals/dpia";
    assert_eq!(app.get(&foodbank_signatory, path).await.status(), 200);
    assert_eq!(
        app.get(
            &foodbank_signatory,
            "/api/v1/agreements/vulnerability-hub/dpia"
        )
        .await
        .status(),
        403
    );
    assert_eq!(app.get(&gate, path).await.status(), 403);
    assert_eq!(
        app.http.get(app.url(path)).send().await.unwrap().status(),
        401
    );
}

/// The DPIA names a version as the agreement's page does, by the register's number; where the
/// file's own `version:` differs it says so, rather than showing another number as the same.
async fn the_dpia_names_the_registers_version(app: TestApp) {
    let path = support::repo().join("agreements/camden-foodbank-referrals.yaml");
    let file = std::fs::read_to_string(path).unwrap();
    let first = file.replacen("\nversion: 3\n", "\nversion: 1\n", 1);
    app.import_yaml(&first).await;
    let second = file
        .replacen("\nversion: 3\n", "\nversion: 5\n", 1)
        .replacen("summary: >", "summary: >\n  Amended.", 1);
    assert_ne!(first, second);
    app.import_yaml(&second).await;
    let officer = app.token(Role::IgOfficer, None).await;
    let md = |v: u32| {
        let (app, officer) = (&app, officer.clone());
        async move {
            app.get(
                &officer,
                &format!("/api/v1/agreements/camden-foodbank-referrals/dpia?format=md&version={v}"),
            )
            .await
            .text()
            .await
            .unwrap()
        }
    };
    let one = md(1).await;
    assert!(
        one.contains("camden-foodbank-referrals, version 1 |"),
        "{one}"
    );
    let two = md(2).await;
    assert!(
        two.contains("version 2 in the register (the agreement file calls itself version 5)"),
        "{two}"
    );
}

on_both_databases!(
    the_dpia_names_the_registers_version,
    html_by_default_with_the_diagram,
    user_text_is_escaped,
    only_readers_of_the_agreement_get_its_dpia,
);
