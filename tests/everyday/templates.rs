//! Templates councils can borrow (docs/templates.md): every sample round-trips through its
//! template to a clean `accord check` once the placeholders the findings name are filled; the
//! shipped templates are fresh exports of the samples; the foodbank journey through the real
//! command line; a draft with placeholders is never activated (signing refused, a signed file
//! in the agreements folder skipped), on SQLite and PostgreSQL; bad templates store nothing.

use crate::support;

use std::path::Path;

use accord::agreement::{Code, check_source};
use accord::registry::RegistryError;
use accord::registry::templates::FromTemplate;
use accord::template::export::{Source, export};
use accord::template::import::import;
use accord::template::shipped;
use jiff::civil::{Date, date};
use sea_orm::{EntityTrait, PaginatorTrait};
use sha2::{Digest, Sha256};
use support::app::TestApp;
use support::{accord, repo, samples, stderr, stdout};

const FOODBANK: &str = "camden-foodbank-referrals";

fn sample_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A sample's template as shipped: no export date and no registry version, so it is the same
/// every time; the SHA-256 of the sample's bytes.
fn shipped_export(sample: &str) -> (String, String) {
    let today = date(2026, 12, 1);
    let a = check_source(sample.as_bytes(), today)
        .agreement
        .expect("the samples pass check");
    let source = Source {
        registry_version: None,
        sha256: Some(hex::encode(Sha256::digest(sample.as_bytes()))),
        exported_on: None,
    };
    (a.id.to_string(), export(&a, &source).unwrap())
}

/// Fills every placeholder on the lines the findings point at (or, for a block scalar, the
/// first line after it that holds one), as an officer would: text in `[[…]]` becomes the
/// borrowing council's words, addresses at fill-in.invalid move to its domain.
fn fill(yaml: &str, lines: &[u32]) -> String {
    let mut out: Vec<String> = yaml.lines().map(str::to_owned).collect();
    for &line in lines {
        let at = (line as usize - 1..out.len())
            .find(|&i| out[i].contains("[[") || out[i].contains("fill-in.invalid"))
            .unwrap_or_else(|| panic!("no placeholder at or after line {line}"));
        let mut text = out[at].replace("fill-in.invalid", "westminster.example");
        while let (Some(open), Some(close)) = (text.find("[["), text.find("]]")) {
            if close < open {
                break;
            }
            // Each value in the council's own words, distinct as real names are (a person's
            // name the same as an organisation's would be refused for publishing).
            let words = format!("Westminster {}", &text[open + 2..close]);
            text.replace_range(open..close + 2, &words);
        }
        out[at] = text;
    }
    out.join("\n") + "\n"
}

/// The lines of the `unfilled-placeholder` findings in `yaml`, checked as of `today`.
fn unfilled_lines(yaml: &str, today: Date) -> Vec<u32> {
    check_source(yaml.as_bytes(), today)
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::UnfilledPlaceholder)
        .map(|d| d.pos.line)
        .collect()
}

#[test]
fn every_sample_round_trips_through_its_template_to_a_clean_check() {
    let (start, today) = (date(2027, 4, 1), date(2027, 4, 1));
    for path in samples() {
        let (id, template) = shipped_export(&sample_text(&path));
        let new_id = accord::template::new_id(&format!("westminster-{id}")).unwrap();
        let draft = import(template.as_bytes(), &new_id, start, today)
            .unwrap_or_else(|p| panic!("{id}: {p:?}"));
        let named = unfilled_lines(&draft.yaml, today);
        assert!(!named.is_empty(), "{id}: the draft names no placeholder");
        let filled = fill(&draft.yaml, &named);
        let checked = check_source(filled.as_bytes(), today);
        let left: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error() || d.code == Code::UnfilledPlaceholder)
            .collect();
        assert!(left.is_empty(), "{id}: {left:?}\n{filled}");
        let a = checked.agreement.unwrap();
        assert_eq!(a.id.as_str(), new_id.as_str());
        assert_eq!(a.term.start, start);
        assert!(a.signatures.is_empty());
    }
}

#[test]
fn the_shipped_templates_are_fresh_exports_of_the_samples() {
    let mut names = Vec::new();
    for path in samples() {
        let (id, text) = shipped_export(&sample_text(&path));
        let file = repo()
            .join("agreement-templates")
            .join(format!("{id}.yaml"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            // Rewritten only: the binary holds them from the next build on.
            std::fs::write(&file, &text).unwrap();
            continue;
        }
        let shipped_text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", file.display()));
        assert_eq!(
            shipped_text,
            text,
            "{} differs from a fresh export of its sample (run with UPDATE_GOLDEN=1)",
            file.display()
        );
        let built_in = shipped::find(&id).unwrap_or_else(|| panic!("{id} is not built in"));
        assert_eq!(built_in.text, text, "the binary's {id} template is stale");
        names.push(id);
    }
    if std::env::var_os("UPDATE_GOLDEN").is_none() {
        let built: Vec<&str> = shipped::ALL.iter().map(|t| t.name).collect();
        assert_eq!(built, names, "the built-in list is the samples, in order");
    }
}

/// The foodbank sample as another council's officer meets it: exported from a registry that
/// imported agreements/, drafted with --out, its placeholders named by the findings, filled,
/// and `accord check` clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_starts_from_the_foodbank_template_and_reaches_a_clean_check() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/accord.db?mode=rwc", dir.path().display());
    let db = accord::store::open(&db_url).await.unwrap();
    let clock = std::sync::Arc::new(accord::clock::SystemClock);
    let registry = accord::registry::Registry::new(db, clock);
    let report = registry
        .import_dir(&repo().join("agreements"))
        .await
        .unwrap();
    assert_eq!(report.created.len(), samples().len(), "{report:?}");

    let template = dir.path().join("foodbank-template.yaml");
    let out = accord(&[
        "template",
        "export",
        FOODBANK,
        "--database",
        &db_url,
        "--out",
        template.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&template).unwrap();
    assert!(text.contains("registry_version: 1"), "{text}");
    assert!(!text.contains("Jo Bell") && !text.contains("camden.example"));

    let draft = dir.path().join("westminster-food.yaml");
    let out = accord(&[
        "template",
        "import",
        template.to_str().unwrap(),
        "--as",
        "westminster-food",
        "--start",
        "2027-04-01",
        "--out",
        draft.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let draft_text = std::fs::read_to_string(&draft).unwrap();
    let placeholders = draft_text
        .lines()
        .filter(|l| l.contains("[[") || l.contains("fill-in.invalid"))
        .count();
    let prefix = format!("{}:", draft.display());
    let named: Vec<u32> = stdout(&out)
        .lines()
        .filter(|l| l.contains("warning[unfilled-placeholder]"))
        .map(|l| {
            assert!(l.starts_with(&prefix), "{l}");
            l[prefix.len()..]
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(named.len(), placeholders, "{}", stdout(&out));
    assert!(
        stdout(&out).contains(
            "parties[0].signatory.email is still the template's placeholder \
             'lead-council.signatory@fill-in.invalid': fill in the lead-council signatory's \
             e-mail address"
        ),
        "{}",
        stdout(&out)
    );

    std::fs::write(&draft, fill(&draft_text, &named)).unwrap();
    let out = accord(&["check", draft.to_str().unwrap(), "--as-of", "2027-04-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        !stdout(&out).contains("unfilled-placeholder"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("0 errors"), "{}", stderr(&out));
}

#[test]
fn the_command_line_refuses_bad_templates_and_ids_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let template = repo().join("agreement-templates/camden-foodbank-referrals.yaml");
    let draft = dir.path().join("draft.yaml");
    let run = |file: &Path, id: &str| {
        accord(&[
            "template",
            "import",
            file.to_str().unwrap(),
            "--as",
            id,
            "--out",
            draft.to_str().unwrap(),
        ])
    };
    let out = run(&template, "Not An Id");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be an agreement id"),
        "{}",
        stderr(&out)
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "accord_template: 2\nagreement: {}\n").unwrap();
    let out = run(&bad, "westminster-food");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("bad.yaml:1:18: error[template]: 'accord_template' must be 1"),
        "{}",
        stdout(&out)
    );
    assert!(!draft.exists(), "a refused template wrote a draft");

    let out = run(&dir.path().join("missing.yaml"), "westminster-food");
    assert_eq!(out.status.code(), Some(2));
}

/// Bad templates through the registry: each refused with a clear message, nothing stored.
async fn bad_templates_store_nothing(app: TestApp) {
    let registry = &app.registry;
    let good = shipped::find(FOODBANK).unwrap().text;
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
    let keys = |n: usize, indent: &str| -> String {
        (0..n).map(|i| format!("{indent}k{i}: red\n")).collect()
    };
    let cases: Vec<(String, &str)> = vec![
        ("\u{1}not: [yaml".to_owned(), "not valid YAML"),
        (bomb.to_owned(), "not valid YAML"),
        (
            good.replace("accord_template: 1", "accord_template: 1\ncolour: red"),
            "'colour' is not a key of an agreement template",
        ),
        (
            good.replace("accord_template: 1", "accord_template: 7"),
            "'accord_template' must be 1",
        ),
        (
            good.replace("end: start+P1Y11M30D", "end: next spring"),
            "'next spring' is not a date offset",
        ),
        (
            good.replace("keep_for: P6M", "keep_for: P6M\n    colour: red"),
            "colour",
        ),
        (
            good.replace(
                "accord_template: 1\n",
                &format!("accord_template: 1\nmany:\n{}", keys(10_001, "  ")),
            ),
            "has more than 10000 keys",
        ),
    ];
    for (text, says) in cases {
        match registry
            .import_template(text.as_bytes(), "westminster-food", None, "officer")
            .await
        {
            Err(FromTemplate::Problems(p)) => {
                assert!(p.iter().any(|p| p.message.contains(says)), "{says}: {p:?}")
            }
            other => panic!("{says}: {other:?}"),
        }
    }
    // Thousands of unknown keys in one of the agreement's mappings: each problem is found at
    // its own line of the template.
    let many = good.replacen(
        "keep_for: P6M\n",
        &format!("keep_for: P6M\n{}", keys(9_000, "    ")),
        1,
    );
    let first = many.lines().position(|l| l == "    k0: red").unwrap() + 1;
    match registry
        .import_template(many.as_bytes(), "westminster-food", None, "officer")
        .await
    {
        Err(FromTemplate::Problems(p)) => {
            assert_eq!(p.len(), 9_000, "{:?}", &p[..2]);
            for (i, p) in p.iter().enumerate() {
                assert_eq!(p.pos.line as usize, first + i, "{p:?}");
                assert!(
                    p.message.starts_with(&format!("unknown key 'k{i}'")),
                    "{p:?}"
                );
            }
        }
        other => panic!("{other:?}"),
    }
    match registry
        .import_template(good.as_bytes(), "Westminster Food", None, "officer")
        .await
    {
        Err(FromTemplate::Registry(RegistryError::BadRequest(m))) => {
            assert!(m.contains("cannot be an agreement id"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let records = accord::store::entity::audit_record::Entity::find()
        .count(registry.db())
        .await
        .unwrap();
    assert_eq!(records, 0, "a refused template left an audit record");
    let stored = accord::store::entity::version::Entity::find()
        .count(registry.db())
        .await
        .unwrap();
    assert_eq!(stored, 0, "a refused template stored a version");

    app.import_yaml(&sample_text(
        &repo().join("agreements/hospital-discharge.yaml"),
    ))
    .await;
    match registry
        .import_template(good.as_bytes(), "hospital-discharge", None, "officer")
        .await
    {
        Err(FromTemplate::Registry(RegistryError::Conflict(m))) => {
            assert!(
                m.contains("already an agreement 'hospital-discharge'"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    let versions = registry.versions("hospital-discharge").await.unwrap();
    assert_eq!(versions.len(), 1, "the taken id gained a version");
}

/// A draft from a template is stored with its audit records; signing it is refused (409)
/// while a placeholder is left, and a filled version signs and comes into force.
async fn a_draft_with_placeholders_is_never_activated(app: TestApp) {
    let template = shipped::find(FOODBANK).unwrap().text;
    let drafted = app
        .registry
        .import_template(
            template.as_bytes(),
            "westminster-food",
            Some(date(2026, 11, 1)),
            "user:officer@westminster.example",
        )
        .await
        .unwrap();
    assert_eq!(drafted.version.number, 1);
    assert_eq!(
        drafted.version.created_by,
        "user:officer@westminster.example"
    );
    let unfilled = drafted
        .findings
        .iter()
        .filter(|d| d.code == Code::UnfilledPlaceholder)
        .count();
    assert!(unfilled >= 20, "{unfilled}");
    let log = accord::audit::list(app.registry.db(), &Default::default(), 100)
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    assert!(
        actions.starts_with(&["agreement.drafted_from_template", "agreement.registered"]),
        "{actions:?}"
    );

    let signer = app
        .token(accord::auth::Role::Signatory, Some("lead-council"))
        .await;
    let path = "/api/v1/agreements/westminster-food/versions/1/signatures";
    let body = serde_json::json!({ "name": "Ann Other" });
    let answer = app.post_json(&signer, path, body.clone()).await;
    assert_eq!(answer.status(), 409);
    let said: serde_json::Value = answer.json().await.unwrap();
    let message = said["message"].as_str().unwrap();
    assert!(
        message.contains("placeholders or drafting notes to fill in or complete")
            && message.contains("never activated"),
        "{message}"
    );
    let v = &app.registry.versions("westminster-food").await.unwrap()[0];
    assert!(v.signatures.is_empty(), "a refused signature was recorded");

    // Filled, saved as a new version, it takes the signature.
    let today = date(2026, 11, 21);
    let source = app
        .registry
        .version_source("westminster-food", 1)
        .await
        .unwrap();
    let filled = fill(&source, &unfilled_lines(&source, today));
    let added = app
        .registry
        .add_version(
            filled.as_bytes(),
            "officer",
            accord::registry::versions::Origin::Upload,
        )
        .await
        .unwrap();
    let accord::registry::versions::Added::Created(v2) = added else {
        panic!("the filled draft was already stored");
    };
    let path = format!(
        "/api/v1/agreements/westminster-food/versions/{}/signatures",
        v2.number
    );
    let answer = app.post_json(&signer, &path, body).await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

/// A file of the agreements folder whose signatures would count, but that still holds
/// placeholders, is skipped with the reason; nothing of it is stored.
async fn a_signed_file_with_placeholders_is_not_imported(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let today = date(2026, 11, 21);
    let template = shipped::find(FOODBANK).unwrap().text;
    let id = accord::template::new_id("westminster-food").unwrap();
    let draft = import(template.as_bytes(), &id, date(2026, 4, 1), today).unwrap();
    let signed = format!(
        "{}signatures:\n  - {{ party: lead-council, name: Ann Other, role: senior_officer, date: 2026-03-20 }}\n  \
         - {{ party: voluntary-partner, name: Bo Else, role: senior_officer, date: 2026-03-21 }}\n",
        draft.yaml
    );
    assert!(check_source(signed.as_bytes(), today).agreement.is_some());
    std::fs::write(dir.path().join("westminster-food.yaml"), &signed).unwrap();
    let report = app.registry.import_dir(dir.path()).await.unwrap();
    assert!(report.created.is_empty(), "{report:?}");
    assert_eq!(report.skipped.len(), 1);
    let why = &report.skipped[0].1;
    assert!(
        why.contains("carries signatures but still has")
            && why.contains("placeholders or drafting notes to fill in or complete")
            && why.contains("never activated"),
        "{why}"
    );
    assert!(app.registry.agreement("westminster-food").await.is_err());

    // Unsigned, the same draft is stored, as a draft.
    std::fs::write(dir.path().join("westminster-food.yaml"), &draft.yaml).unwrap();
    let report = app.registry.import_dir(dir.path()).await.unwrap();
    assert_eq!(report.created, [("westminster-food".to_owned(), 1)]);
    let summary = app.registry.agreement("westminster-food").await.unwrap();
    assert_eq!(summary.current_version, None);
}

on_both_databases!(
    bad_templates_store_nothing,
    a_draft_with_placeholders_is_never_activated,
    a_signed_file_with_placeholders_is_not_imported,
);

/// The console: who may download an agreement as a template and start one from a template;
/// the officer's journey with a shipped template and with an upload; each problem in the
/// error summary linked to its field; forged forms and a huge upload refused, storing nothing.
async fn the_console_downloads_and_starts_from_templates(app: TestApp) {
    use accord::auth::Role;
    use support::web::{Browser, hidden, signed_in};
    app.import_yaml(&sample_text(
        &repo().join(format!("agreements/{FOODBANK}.yaml")),
    ))
    .await;
    let download = format!("/agreements/{FOODBANK}/template");
    for &role in Role::PEOPLE {
        let b = signed_in(&app, role, role.needs_party().then_some("camden")).await;
        let page = b.get(&download).await;
        let reads = matches!(
            role,
            Role::Admin | Role::IgOfficer | Role::Auditor | Role::Signatory
        );
        assert_eq!(
            page.status,
            if reads { 200 } else { 403 },
            "{role} GET {download}"
        );
        if reads {
            assert_eq!(
                page.headers["content-disposition"],
                format!("attachment; filename=\"{FOODBANK}-template.yaml\"")
            );
            assert!(page.body.contains("accord_template: 1"), "{}", page.body);
            assert!(!page.body.contains("Jo Bell"), "{role}: a name left in");
        }
        let officer = matches!(role, Role::Admin | Role::IgOfficer);
        let form = b.get("/agreements/new/template").await;
        assert_eq!(form.status, if officer { 200 } else { 403 }, "{role}");
        if !officer {
            let csrf = b.get("/").await.csrf();
            let parts: &[(&str, Option<&str>, &[u8])] = &[
                ("csrf", None, csrf.as_bytes()),
                ("template", None, FOODBANK.as_bytes()),
                ("id", None, b"by-someone-else"),
                ("start", None, b"2027-04-01"),
            ];
            let page = b.post_multipart("/agreements/new/template", parts).await;
            assert_eq!(page.status, 403, "{role} POST");
        }
    }
    let outsider = signed_in(&app, Role::Signatory, Some("hackney")).await;
    assert_eq!(outsider.get(&download).await.status, 403);
    let anonymous = Browser::new(&app);
    assert_eq!(anonymous.get(&download).await.status, 303);

    let officer = signed_in(&app, Role::IgOfficer, None).await;
    let form = officer.get("/agreements/new/template").await;
    for t in shipped::ALL {
        assert!(form.body.contains(&t.title()), "{} not offered", t.name);
    }
    let drafting = officer.get("/agreements/new").await;
    assert!(drafting.body.contains("href=\"/agreements/new/template\""));
    let csrf = form.csrf();
    let post = |template: &'static str, file: Vec<u8>, id: &'static str, start: &'static str| {
        let csrf = csrf.clone();
        let officer = &officer;
        async move {
            let parts: Vec<(&str, Option<&str>, &[u8])> = vec![
                ("csrf", None, csrf.as_bytes()),
                ("template", None, template.as_bytes()),
                ("file", Some("template.yaml"), &file),
                ("id", None, id.as_bytes()),
                ("start", None, start.as_bytes()),
            ];
            officer
                .post_multipart("/agreements/new/template", &parts)
                .await
        }
    };

    // Every problem in the error summary, linked to its field.
    let page = post("", Vec::new(), "Not An Id", "next April").await;
    assert_eq!(page.status, 400);
    for (field, says) in [
        ("template-camden-foodbank-referrals", "Choose a template"),
        ("id", "cannot be an agreement id"),
        ("start", "Enter the start date as YYYY-MM-DD"),
    ] {
        assert!(page.body.contains(&format!("href=\"#{field}\"")), "{field}");
        assert!(page.body.contains(says), "{says}: {}", page.body);
    }
    let page = post(FOODBANK, Vec::new(), FOODBANK, "2027-04-01").await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("There is already an agreement"),
        "{}",
        page.body
    );
    let page = post("upload", Vec::new(), "westminster-food", "2027-04-01").await;
    assert!(page.body.contains("Choose the template file to upload"));

    // A huge upload: past 1 MiB the page says so; past the body limit the server refuses it.
    let big = vec![b'#'; 1024 * 1024 + 1];
    let page = post("upload", big, "westminster-food", "2027-04-01").await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("The template must be at most 1 MiB"));
    let huge = vec![b'#'; 3 * 1024 * 1024];
    let page = post("upload", huge, "westminster-food", "2027-04-01").await;
    assert_eq!(page.status, 413, "{}", page.body);

    // An uploaded template with a problem: listed at its line, no draft.
    let good = shipped::find(FOODBANK).unwrap().text;
    let broken = good.replace("end: start+P1Y11M30D", "end: next spring");
    let page = post(
        "upload",
        broken.into_bytes(),
        "westminster-food",
        "2027-04-01",
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(
        page.body
            .contains("&#x27;next spring&#x27; is not a date offset"),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"#file\""));

    // A forged form is refused, at both steps.
    let forged: &[(&str, Option<&str>, &[u8])] = &[
        ("csrf", None, b"forged"),
        ("template", None, FOODBANK.as_bytes()),
        ("id", None, b"westminster-food"),
        ("start", None, b"2027-04-01"),
    ];
    assert_eq!(
        officer
            .post_multipart("/agreements/new/template", forged)
            .await
            .status,
        403
    );
    let create = "/agreements/new/template/create";
    let forged = [
        ("csrf", "forged"),
        ("template", FOODBANK),
        ("id", "westminster-food"),
        ("start", "2027-04-01"),
    ];
    assert_eq!(officer.post(create, &forged).await.status, 403);
    assert!(app.registry.agreement("westminster-food").await.is_err());

    // A shipped template: check your answers, create, and the draft's page lists what to fill.
    let page = post(FOODBANK, Vec::new(), "westminster-food", "2027-04-01").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Check before you create the draft"));
    assert!(page.body.contains("Placeholders to fill in"));
    let form: Vec<(&str, String)> = ["csrf", "template", "id", "start", "step"]
        .into_iter()
        .map(|name| (name, hidden(&page.body, name).unwrap()))
        .collect();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = officer.post(create, &form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location(),
        Some("/agreements/westminster-food?done=drafted")
    );
    let draft = officer
        .get("/agreements/westminster-food?done=drafted")
        .await;
    assert!(draft.body.contains("Still to fill in"), "{}", draft.body);
    assert!(draft.body.contains(
        "parties[0].signatory.email is still the template&#x27;s placeholder \
         &#x27;lead-council.signatory@fill-in.invalid&#x27;"
    ));
    let v = &app.registry.versions("westminster-food").await.unwrap()[0];
    assert!(v.created_by.contains("ig_officer"), "{}", v.created_by);
    // Its signatory is refused with a page saying why.
    let signer = signed_in(&app, Role::Signatory, Some("lead-council")).await;
    let sign = "/agreements/westminster-food/versions/1/sign";
    let form = [
        ("name", "Ann Other"),
        ("role", "senior_officer"),
        ("step", "confirm"),
    ];
    let page = signer.submit(sign, sign, &form).await;
    assert_eq!(page.status, 409, "{}", page.body);
    assert!(
        page.body
            .contains("placeholders or drafting notes to fill in or complete"),
        "{}",
        page.body
    );
    assert!(
        app.registry.versions("westminster-food").await.unwrap()[0]
            .signatures
            .is_empty()
    );

    // An upload goes through check your answers with its text.
    let page = post(
        "upload",
        good.as_bytes().to_vec(),
        "westminster-two",
        "2027-04-01",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let form: Vec<(&str, String)> = ["csrf", "template", "id", "start", "text", "step"]
        .into_iter()
        .map(|name| (name, hidden(&page.body, name).unwrap()))
        .collect();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = officer.post(create, &form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let source = app
        .registry
        .version_source("westminster-two", 1)
        .await
        .unwrap();
    assert!(source.contains("id: westminster-two"));
    // The same id again is refused at the last step too.
    let again = officer.post(create, &form).await;
    assert_eq!(again.status, 409);
    assert!(
        again.body.contains("already an agreement"),
        "{}",
        again.body
    );
}

mod console {
    use super::*;

    on_both_databases!(the_console_downloads_and_starts_from_templates);
}
