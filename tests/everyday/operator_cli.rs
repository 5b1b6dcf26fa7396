//! The operator's commands as an operator runs them, through the real binary. `accord user`
//! and `accord token` on both databases: disabled accounts (listed, refused a link, enabled
//! again, their sign-in audited as what it is), and party ids no agreement names. Commands
//! that only read, run in a folder with no database, never make one.

use crate::support;

use std::process::Output;

use accord::auth::Role;
use support::app::TestApp;
use support::web::{Browser, PASSWORD, person};

/// Runs `accord ARGS --database DB` off the async runtime.
async fn cli(app: &TestApp, args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--database".to_owned(), app.db_url.clone()]);
    tokio::task::spawn_blocking(move || {
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        support::accord(&all)
    })
    .await
    .unwrap()
}

/// The details of the last audit record with `action`.
async fn last_audited(app: &TestApp, action: &str) -> Option<serde_json::Value> {
    let filter = accord::audit::Filter {
        action: Some(action.to_owned()),
        ..Default::default()
    };
    let rows = accord::audit::list(app.registry.db(), &filter, 1000)
        .await
        .unwrap();
    rows.last()
        .map(|r| serde_json::from_str(&r.details).unwrap())
}

async fn links(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    accord::store::entity::password_link::Entity::find()
        .count(app.registry.db())
        .await
        .unwrap()
}

/// A disabled account is shown as disabled, gets no set-password link (exit 1, saying to
/// enable it first), and its sign-in is audited as the account being disabled while the page
/// says only what a wrong password hears. `accord user enable` gives it back, audited.
async fn a_disabled_account_is_listed_refused_a_link_and_enabled_again(app: TestApp) {
    let email = person(&app, Role::IgOfficer, None).await;
    let other = person(&app, Role::Auditor, None).await;

    let out = cli(&app, &["user", "disable", "--email", &email]).await;
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let disabled = last_audited(&app, "user.disabled").await.unwrap();
    assert_eq!(disabled["email"], email.as_str());

    let out = cli(&app, &["user", "list"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let listed = support::stdout(&out);
    let line = listed.lines().find(|l| l.starts_with(&email)).unwrap();
    assert!(line.contains("[disabled since "), "{listed}");
    let line = listed.lines().find(|l| l.starts_with(&other)).unwrap();
    assert!(!line.contains("disabled"), "{listed}");

    let before = links(&app).await;
    let out = cli(&app, &["user", "reset", "--email", &email]).await;
    assert_eq!(out.status.code(), Some(1), "{}", support::stdout(&out));
    assert_eq!(support::stdout(&out), "", "no link printed");
    let err = support::stderr(&out);
    assert!(
        err.contains("is disabled") && err.contains(&format!("accord user enable --email {email}")),
        "{err}"
    );
    assert_eq!(links(&app).await, before, "no link stored");

    let b = Browser::new(&app);
    let refused = b.sign_in(&email, PASSWORD).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let audited = last_audited(&app, "user.sign_in_failed").await.unwrap();
    assert_eq!(audited["email"], email.as_str());
    assert_eq!(audited["reason"], "the account is disabled");
    let wrong = Browser::new(&app)
        .sign_in(&other, "not the password at all")
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        last_audited(&app, "user.sign_in_failed").await.unwrap()["reason"],
        "wrong e-mail address or password"
    );
    let said = |body: &str| {
        body.contains(&support::web::unescape(
            "The e-mail address or password is not right",
        ))
    };
    assert!(
        said(&refused.body) && said(&wrong.body),
        "the same words as a wrong password: {}",
        refused.body
    );

    let out = cli(&app, &["user", "enable", "--email", &email]).await;
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert!(!support::stdout(&out).contains("disabled"));
    let enabled = last_audited(&app, "user.enabled").await.unwrap();
    assert_eq!(enabled["email"], email.as_str());
    assert!(enabled["disabled_at"].is_string(), "{enabled}");
    let out = cli(&app, &["user", "enable", "--email", &email]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(support::stderr(&out).contains("already enabled"));

    let page = Browser::new(&app).sign_in(&email, PASSWORD).await;
    assert_eq!(page.status, 303, "signs in again: {}", page.body);
    let out = cli(&app, &["user", "reset", "--email", &email]).await;
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert!(support::stdout(&out).contains("/set-password/"));

    let out = cli(
        &app,
        &["user", "enable", "--email", "nobody@council.example"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(support::stderr(&out).contains("no account for nobody@council.example"));
}

/// `accord user create` and `accord token create` refuse a party no agreement in the registry
/// names (exit 1, storing nothing, suggesting a near one), and take it with `--force`, warning.
async fn a_party_no_agreement_names_is_refused_unless_forced(app: TestApp) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let accounts = || async {
        accord::store::entity::user::Entity::find()
            .count(app.registry.db())
            .await
            .unwrap()
    };
    let user = |email: &'static str, party: &'static str| {
        [
            "user",
            "create",
            "--email",
            email,
            "--name",
            "Sam Patel",
            "--role",
            "signatory",
            "--party",
            party,
        ]
    };
    let token = |party: &'static str| {
        [
            "token",
            "create",
            "--role",
            "gate_client",
            "--name",
            "referrals",
            "--party",
            party,
        ]
    };
    // An empty registry names no party at all.
    for args in [
        &user("sam@foodbank.example", "foodbank")[..],
        &token("foodbank")[..],
    ] {
        let out = cli(&app, args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(support::stdout(&out), "", "{args:?}: nothing printed");
        let err = support::stderr(&out);
        assert!(
            err.contains("no agreement in the registry names party 'foodbank'")
                && err.contains("--force"),
            "{err}"
        );
    }
    assert_eq!(accounts().await, 0);
    assert!(
        accord::auth::list(app.registry.db())
            .await
            .unwrap()
            .is_empty()
    );

    app.registry
        .import_dir(&support::repo().join("agreements"))
        .await
        .unwrap();
    for args in [
        &user("sam@foodbank.example", "foodbnk")[..],
        &token("foodbnk")[..],
        &user("sam@foodbank.example", "nosuchparty")[..],
        &token("nosuchparty")[..],
    ] {
        let out = cli(&app, args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = support::stderr(&out);
        assert!(
            err.contains("no agreement in the registry names party"),
            "{err}"
        );
        if args.contains(&"foodbnk") {
            assert!(err.contains("(did you mean 'foodbank'?)"), "{err}");
        }
    }
    assert_eq!(accounts().await, 0);
    assert!(
        accord::auth::list(app.registry.db())
            .await
            .unwrap()
            .is_empty()
    );

    for args in [
        &user("sam@foodbank.example", "foodbank")[..],
        &token("foodbank")[..],
    ] {
        let out = cli(&app, args).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            support::stderr(&out)
        );
        assert!(!support::stderr(&out).contains("warning"));
    }
    for args in [
        &user("x@new.example", "newcomer")[..],
        &token("newcomer")[..],
    ] {
        let mut forced = args.to_vec();
        forced.push("--force");
        let out = cli(&app, &forced).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{forced:?}: {}",
            support::stderr(&out)
        );
        assert!(
            support::stderr(&out)
                .contains("warning: no agreement in the registry names party 'newcomer'"),
            "{}",
            support::stderr(&out)
        );
    }
    assert_eq!(accounts().await, 2);
    let tokens = accord::auth::list(app.registry.db()).await.unwrap();
    let mut parties: Vec<_> = tokens.iter().filter_map(|t| t.party.as_deref()).collect();
    parties.sort();
    assert_eq!(parties, ["foodbank", "newcomer"]);
}

on_both_databases!(
    a_disabled_account_is_listed_refused_a_link_and_enabled_again,
    a_party_no_agreement_names_is_refused_unless_forced
);

/// `accord ARGS` run in `dir` with no database named (the default, `accord.db` there), and no
/// settings from the environment.
fn in_folder(dir: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("ACCORD_CONFIG")
        .env_remove("ACCORD_PUBLIC_URL")
        .env_remove("ACCORD_MAIL_FROM")
        .env_remove("ACCORD_SMTP_URL")
        .output()
        .unwrap()
}

/// In a folder with no database, every command that only reads (or changes only what is
/// there: an account, a token) exits 3 naming the file it looked for, and leaves no
/// `accord.db` behind; `accord config` opens none. A command that writes (`migrate`) makes
/// it, and then each reading command says which database it opened.
#[test]
fn commands_that_only_read_never_make_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accord.db");
    let id = uuid::Uuid::now_v7().to_string();
    let reading: [&[&str]; 17] = [
        &["user", "list"],
        &["user", "reset", "--email", "jo@council.example"],
        &["user", "enable", "--email", "jo@council.example"],
        &["user", "disable", "--email", "jo@council.example"],
        &["user", "sso-only", "--email", "jo@council.example"],
        &["token", "list"],
        &["token", "revoke", &id],
        &["audit", "verify"],
        &["template", "export", "camden-foodbank-referrals"],
        &["sweep", "--dry-run"],
        &["jobs", "run", "reminders", "--dry-run"],
        &["jobs", "run", "handover", "--dry-run"],
        &["jobs", "run", "sweep", "--dry-run"],
        &["jobs", "run", "outbox", "--dry-run"],
        &["config", "--check"],
        &["backup", "copy.db"],
        &["config"],
    ];
    for args in reading {
        let out = in_folder(dir.path(), args);
        if args == ["config"] {
            assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
        } else {
            assert_eq!(
                out.status.code(),
                Some(3),
                "{args:?}: {}",
                support::stderr(&out)
            );
            // `config --check` reports on standard output, as a comment of the settings file.
            let err = support::stderr(&out) + &support::stdout(&out);
            let whole = dir.path().canonicalize().unwrap().join("accord.db");
            assert!(
                err.contains(&format!("there is no database at {}:", whole.display())),
                "{args:?}: {err}"
            );
            assert!(err.contains("--database"), "{args:?}: {err}");
            if args[0] != "config" {
                assert_eq!(support::stdout(&out), "", "{args:?}");
            }
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }

    let out = in_folder(dir.path(), &["migrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert!(file.exists(), "a command that writes makes the database");
    let shown = format!("database: {}", file.canonicalize().unwrap().display());
    for args in [
        &["user", "list"][..],
        &["token", "list"],
        &["audit", "verify"],
    ] {
        let out = in_folder(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            support::stderr(&out)
        );
        assert!(
            support::stderr(&out).contains(&shown),
            "{args:?}: {}",
            support::stderr(&out)
        );
    }
}

/// `mail_from` is a setting like any other: `accord.toml` takes it, `accord config` shows it,
/// and `serve` refuses a sender that is not an address (exit 2). Every entry `accord config`
/// prints has a description. The links `accord user` prints use the public URL configured,
/// and say so when none is.
#[test]
fn every_setting_is_in_the_one_list_and_the_links_use_the_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("accord.toml");
    std::fs::write(
        &toml,
        "mail_from = \"Accord <accord@camden.example>\"\npublic_url = \"https://accord.camden.example/\"\n",
    )
    .unwrap();
    let out = in_folder(dir.path(), &["config"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let printed = support::stdout(&out);
    assert!(
        printed.contains("# ACCORD_MAIL_FROM; from the settings file\nmail_from = \"Accord <accord@camden.example>\""),
        "{printed}"
    );
    let lines: Vec<&str> = printed.lines().collect();
    let mut entries = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("# ") && line.contains("; from ") {
            entries += 1;
            let help = lines[i - 1].strip_prefix('#').unwrap_or_default().trim();
            assert!(!help.is_empty(), "{line} has no description:\n{printed}");
        }
    }
    assert!(entries >= 20, "{printed}");

    let out = in_folder(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "jo@camden.example",
            "--name",
            "Jo",
            "--role",
            "ig_officer",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert!(
        support::stdout(&out).starts_with("https://accord.camden.example/set-password/"),
        "{}",
        support::stdout(&out)
    );
    assert!(!support::stderr(&out).contains("no public URL"));

    std::fs::write(&toml, "mail_from = \"not an address\"\n").unwrap();
    let out = in_folder(
        dir.path(),
        &["user", "reset", "--email", "jo@camden.example"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert!(
        support::stdout(&out).starts_with("http://127.0.0.1:8080/set-password/"),
        "{}",
        support::stdout(&out)
    );
    assert!(
        support::stderr(&out).contains("no public URL is set"),
        "{}",
        support::stderr(&out)
    );

    let out = in_folder(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--agreements", "none"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    assert!(
        support::stderr(&out).contains("the sender 'not an address' is not an address"),
        "{}",
        support::stderr(&out)
    );
}
