//! `accord.toml`, the optional settings file, and `accord config`, which prints the settings in
//! effect. A setting comes from a flag, then the environment, then the file, then its default.
//!
//! The file's keys are the environment variables' names without `ACCORD_`, in lower case
//! (`listen` for `ACCORD_LISTEN`, `database_url` for `DATABASE_URL`), so there is one list of
//! settings: the command line's own. The file is `--config FILE`, else `ACCORD_CONFIG`, else
//! `accord.toml` in the working folder if there is one. Before clap reads the command line,
//! each setting the file gives and the environment does not is put into the environment; clap
//! then applies flags over both and defaults under them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::CommandFactory;

/// The file read at start, and the settings it gave that the environment did not.
#[derive(Debug, Default)]
struct Loaded {
    path: Option<PathBuf>,
    /// Environment variable name → value, for each setting taken from the file.
    from_file: BTreeMap<String, String>,
}

static LOADED: OnceLock<Loaded> = OnceLock::new();

/// Settings that are not a flag of any command but are read from the environment (secrets
/// kept off the command line, where other users see them), each with its description.
const ENV_ONLY: &[(&str, &str)] = &[
    (
        "ACCORD_SMTP_URL",
        "SMTP server for outgoing mail (unset: .eml files in the outbox folder)",
    ),
    (
        "ACCORD_OIDC_CLIENT_SECRET",
        "Single sign-on: Accord's client secret at the OpenID provider",
    ),
];
/// Settings whose values are secret: shown redacted.
const SECRET: &[&str] = &[
    "DATABASE_URL",
    "ACCORD_SMTP_URL",
    "ACCORD_WEBHOOK_SECRETS",
    "ACCORD_OIDC_CLIENT_SECRET",
];

/// Every setting: its environment variable, default, and help, from the command line's own
/// definitions (each distinct variable once: where several commands take it, the first
/// default and the first description found).
fn settings() -> BTreeMap<String, (Option<String>, String)> {
    let mut out = BTreeMap::new();
    let cli = super::Cli::command();
    let mut stack = vec![cli];
    while let Some(cmd) = stack.pop() {
        for arg in cmd.get_arguments() {
            let Some(env) = arg.get_env().and_then(|e| e.to_str()) else {
                continue;
            };
            let default = arg
                .get_default_values()
                .first()
                .map(|v| v.to_string_lossy().into_owned());
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let entry = out.entry(env.to_owned()).or_insert((None, String::new()));
            if entry.0.is_none() {
                entry.0 = default;
            }
            if entry.1.trim().is_empty() {
                entry.1 = help;
            }
        }
        stack.extend(cmd.get_subcommands().cloned());
    }
    for (env, help) in ENV_ONLY {
        out.insert((*env).to_owned(), (None, (*help).to_owned()));
    }
    out.remove("ACCORD_CONFIG");
    out
}

/// A file key's environment variable: `database_url` → `DATABASE_URL`, `listen` →
/// `ACCORD_LISTEN`.
fn env_name(key: &str) -> String {
    let upper = key.to_ascii_uppercase();
    if upper == "DATABASE_URL" {
        upper
    } else {
        format!("ACCORD_{upper}")
    }
}

fn key_name(env: &str) -> String {
    env.strip_prefix("ACCORD_")
        .unwrap_or(env)
        .to_ascii_lowercase()
}

/// Which file to read: `--config FILE` (or `--config=FILE`) in `args`, else `ACCORD_CONFIG`,
/// else `accord.toml` here if it exists. `Err` names a file given but missing.
fn chosen(args: &[OsString]) -> Result<Option<PathBuf>, String> {
    let mut given = None;
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--config" {
            given = it.next().map(PathBuf::from);
        } else if let Some(p) = a.strip_prefix("--config=") {
            given = Some(PathBuf::from(p));
        }
    }
    let given = given.or_else(|| std::env::var_os("ACCORD_CONFIG").map(PathBuf::from));
    match given {
        Some(p) if !p.is_file() => Err(format!("the settings file {} does not exist", p.display())),
        Some(p) => Ok(Some(p)),
        None => Ok(Some(PathBuf::from("accord.toml")).filter(|p| p.is_file())),
    }
}

/// Reads a settings file: a flat table of known keys to strings, numbers or booleans.
fn read(
    path: &Path,
    known: &BTreeMap<String, (Option<String>, String)>,
) -> Result<BTreeMap<String, String>, String> {
    let at = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{at}: {e}"))?;
    if meta.len() > 64 * 1024 {
        return Err(format!("{at}: a settings file is at most 64 KiB"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{at}: {e}"))?;
    let table: toml::Table = text.parse().map_err(|e| format!("{at}: {e}"))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let env = env_name(&key);
        if !known.contains_key(&env) || key.starts_with("accord_") {
            let keys: Vec<String> = known.keys().map(|e| key_name(e)).collect();
            let near = keys
                .iter()
                .min_by_key(|k| strsim::levenshtein(k, &key))
                .filter(|k| strsim::levenshtein(k, &key) <= 3)
                .map(|k| format!("; did you mean '{k}'?"))
                .unwrap_or_default();
            return Err(format!("{at}: unknown setting '{key}'{near}"));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "{at}: '{key}' is a {}; give a string, a number or true/false",
                    other.type_str()
                ));
            }
        };
        out.insert(env, text);
    }
    Ok(out)
}

/// Reads the settings file, if any, and puts what it gives into the environment wherever the
/// environment gives nothing. Call first thing in `main`, before any thread starts.
pub fn load(args: &[OsString]) -> Result<(), String> {
    let known = settings();
    let mut loaded = Loaded::default();
    if let Some(path) = chosen(args)? {
        for (env, value) in read(&path, &known)? {
            if std::env::var_os(&env).is_none() {
                // SAFETY: called from `main` before the runtime or any other thread exists,
                // so nothing reads the environment concurrently.
                unsafe { std::env::set_var(&env, &value) };
                loaded.from_file.insert(env, value);
            }
        }
        loaded.path = Some(path);
    }
    let _ = LOADED.set(loaded);
    Ok(())
}

/// A setting's value as it may be shown: secrets redacted.
fn shown(env: &str, value: &str) -> String {
    if !SECRET.contains(&env) {
        return value.to_owned();
    }
    if env == "ACCORD_WEBHOOK_SECRETS" {
        let parties: Vec<String> = value
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("{}=***", p.split('=').next().unwrap_or("").trim()))
            .collect();
        return parties.join(",");
    }
    crate::store::redact(value)
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Also try what can be tried, changing nothing: open the database (never creating it),
    /// and connect to the mail server as a delivery would (TLS, sign-in) without sending; say
    /// what is wrong (exit 1; 3 when the database cannot be opened).
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    db: super::DbArgs,
    #[command(flatten)]
    mail: super::jobs::MailArgs,
}

/// `accord config`: every setting in effect for `serve` and `sweep`, with where it came from,
/// as a settings file would hold it. Secrets are redacted. With `--check`, then the checks.
pub fn print(args: &ConfigArgs) -> ExitCode {
    let code = print_settings();
    if !args.check {
        return code;
    }
    super::runtime().block_on(check(args))
}

/// The checks of `accord config --check`, each a comment line (`# check NAME: ok, …` or
/// `# check NAME: FAILED, …`), so the output is still a settings file.
async fn check(args: &ConfigArgs) -> ExitCode {
    use crate::mail::transport::SendError;
    use crate::mail::{Transport, from_address, outbox};
    let say = |name: &str, result: Result<String, String>| match result {
        Ok(what) => println!("# check {name}: ok, {what}"),
        Err(why) => println!("# check {name}: FAILED, {}", crate::text::one_line(&why)),
    };
    println!();
    let url = &args.db.database;
    let db = crate::store::connect_existing(url).await;
    match &db {
        Ok(conn) => {
            let shown = crate::store::describe(url);
            let state = match crate::store::pending_migrations(conn).await {
                Ok(p) if p.is_empty() => Ok(format!("{shown} (every migration applied)")),
                Ok(p) => Ok(format!(
                    "{shown} ({} migrations pending: accord migrate applies them)",
                    p.len()
                )),
                Err(e) => Err(format!("{shown} does not answer: {e}")),
            };
            say("database", state);
        }
        Err(e) => say("database", Err(e.to_string())),
    }
    let mut failed = false;
    if let Err(e) = from_address(&args.mail.mail_from) {
        failed = true;
        say("sender", Err(e.to_string()));
    }
    let smtp = std::env::var("ACCORD_SMTP_URL").ok();
    match Transport::from_env_or_dir(smtp.as_deref(), &args.mail.outbox) {
        Err(e) => {
            failed = true;
            say("mail", Err(e.to_string()));
        }
        Ok(transport) => match transport.check().await {
            Ok(()) => say(
                "mail",
                Ok(format!(
                    "{} (connected; nothing sent)",
                    transport.describe()
                )),
            ),
            Err(
                SendError::Rejected(why)
                | SendError::Deferred(why)
                | SendError::Unreachable(why)
                | SendError::Misconfigured(why),
            ) => {
                failed = true;
                say("mail", Err(format!("{}: {why}", transport.describe())));
            }
        },
    }
    if let Ok(conn) = &db {
        let waiting = outbox::waiting(conn).await;
        let latest = outbox::latest_error(conn).await;
        if let (Ok((depth, oldest)), Ok(latest)) = (waiting, latest) {
            let oldest = oldest
                .map(|at| format!(", the oldest queued at {at}"))
                .unwrap_or_default();
            let latest = latest
                .map(|e| format!("; the latest error: {e}"))
                .unwrap_or_default();
            say("outbox", Ok(format!("{depth} waiting{oldest}{latest}")));
        }
    }
    if db.is_err() {
        ExitCode::from(super::EXIT_DB)
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_settings() -> ExitCode {
    let loaded = LOADED.get_or_init(Loaded::default);
    match &loaded.path {
        Some(p) => println!("# settings file: {}", p.display()),
        None => println!("# no settings file (accord.toml, ACCORD_CONFIG or --config)"),
    }
    for (env, (default, help)) in settings() {
        let (value, from) = match (loaded.from_file.get(&env), std::env::var(&env).ok()) {
            (Some(v), _) => (Some(v.clone()), "the settings file"),
            (None, Some(v)) => (Some(v), "environment"),
            (None, None) => (default.clone(), "default"),
        };
        let help = help.lines().next().unwrap_or_default();
        println!("\n# {help}\n# {env}; from {from}");
        match value {
            Some(v) => println!("{} = {}", key_name(&env), toml_string(&shown(&env, &v))),
            None => println!("# {} is not set", key_name(&env)),
        }
    }
    ExitCode::SUCCESS
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_the_environment_and_back() {
        assert_eq!(env_name("listen"), "ACCORD_LISTEN");
        assert_eq!(env_name("database_url"), "DATABASE_URL");
        assert_eq!(key_name("ACCORD_SWEEP_CRON"), "sweep_cron");
        assert_eq!(key_name("DATABASE_URL"), "database_url");
        let known = settings();
        for env in [
            "ACCORD_LISTEN",
            "DATABASE_URL",
            "ACCORD_SMTP_URL",
            "ACCORD_SWEEP_CRON",
        ] {
            assert!(known.contains_key(env), "{env}");
        }
        assert_eq!(known["ACCORD_LISTEN"].0.as_deref(), Some("127.0.0.1:8080"));
    }

    #[test]
    fn a_file_is_read_strictly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accord.toml");
        let known = settings();
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:80\"\nmax_body_bytes = 2048\nlog_json = true\n",
        )
        .unwrap();
        let read_back = read(&path, &known).unwrap();
        assert_eq!(read_back["ACCORD_LISTEN"], "0.0.0.0:80");
        assert_eq!(read_back["ACCORD_MAX_BODY_BYTES"], "2048");
        assert_eq!(read_back["ACCORD_LOG_JSON"], "true");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let e = read(&path, &known).unwrap_err();
        assert!(
            e.contains("unknown setting 'lisen'; did you mean 'listen'?"),
            "{e}"
        );
        std::fs::write(&path, "listen = [1]\n").unwrap();
        assert!(read(&path, &known).unwrap_err().contains("is a array"));
        std::fs::write(&path, "listen = \n").unwrap();
        assert!(read(&path, &known).is_err());
    }

    #[test]
    fn every_setting_is_described_and_mail_from_is_one() {
        let known = settings();
        for (env, (_, help)) in &known {
            assert!(
                !help.lines().next().unwrap_or_default().trim().is_empty(),
                "{env} has no description"
            );
        }
        let from = &known["ACCORD_MAIL_FROM"];
        assert_eq!(from.0.as_deref(), Some(crate::mail::DEFAULT_FROM));
        assert_eq!(env_name("mail_from"), "ACCORD_MAIL_FROM");
        assert_eq!(
            known["ACCORD_PUBLIC_URL"].0.as_deref(),
            Some("http://127.0.0.1:8080"),
            "the default of the commands that have one"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let shown = shown("ACCORD_WEBHOOK_SECRETS", "camden=s3cret, foodbank=other");
        assert_eq!(shown, "camden=***,foodbank=***");
        let url = super::shown("DATABASE_URL", "postgres://accord:hunter2@db/accord");
        assert!(!url.contains("hunter2"), "{url}");
        assert_eq!(super::shown("ACCORD_LISTEN", "127.0.0.1:1"), "127.0.0.1:1");
    }
}
