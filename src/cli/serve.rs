//! `accord serve`: migrate, import the agreements folder, and serve the HTTP API until
//! interrupted.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use poem::listener::{Acceptor, Listener, RustlsCertificate, RustlsConfig, TcpListener};

use super::app_args::AppArgs;
use super::{DbArgs, EXIT_DB, runtime};
use crate::app::{App, StartError};
use crate::clock::SystemClock;
use crate::people::sso::{RoleRule, SsoConfig};
use crate::registry::Registry;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "ACCORD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    db: DbArgs,
    /// Folder of agreements imported at start (new contents become new versions).
    #[arg(long, env = "ACCORD_AGREEMENTS", default_value = "agreements")]
    agreements: PathBuf,
    #[command(flatten)]
    app: AppArgs,
    #[command(flatten)]
    scheduler: crate::scheduler::SchedulerConfig,
    #[command(flatten)]
    mail: super::jobs::MailArgs,
    /// Largest request body, in bytes.
    #[arg(long, env = "ACCORD_MAX_BODY_BYTES", default_value_t = crate::settings::DEFAULT_MAX_BODY)]
    max_body_bytes: usize,
    #[command(flatten)]
    connections: crate::connections::Limits,
    /// Serve HTTPS with this certificate chain (PEM), for a council with no TLS proxy in
    /// front; needs --tls-key. Every answer then carries Strict-Transport-Security.
    #[arg(
        long,
        env = "ACCORD_TLS_CERT",
        requires = "tls_key",
        value_name = "FILE"
    )]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(
        long,
        env = "ACCORD_TLS_KEY",
        requires = "tls_cert",
        value_name = "FILE"
    )]
    tls_key: Option<PathBuf>,
    /// Single sign-on: the OpenID provider's issuer URL (Entra ID:
    /// https://login.microsoftonline.com/TENANT/v2.0). Needs --oidc-client-id,
    /// --oidc-role-map and ACCORD_OIDC_CLIENT_SECRET.
    #[arg(long, env = "ACCORD_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_role_map"])]
    oidc_issuer: Option<String>,
    /// Accord's client id at the provider.
    #[arg(long, env = "ACCORD_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// The ID token's claim holding roles or groups.
    #[arg(long, env = "ACCORD_OIDC_CLAIM", default_value = "roles")]
    oidc_claim: String,
    /// Claim values to Accord roles, first match wins: `value=role[:party],…`.
    #[arg(long, env = "ACCORD_OIDC_ROLE_MAP", requires = "oidc_issuer")]
    oidc_role_map: Option<String>,
    /// Log as JSON lines (for log shippers) instead of text.
    #[arg(long, env = "ACCORD_LOG_JSON")]
    log_json: bool,
}

pub fn run(args: ServeArgs) -> ExitCode {
    init_tracing(args.log_json);
    runtime().block_on(serve(args))
}

async fn serve(args: ServeArgs) -> ExitCode {
    let registry = match open_registry(&args).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    let settings = match args.app.settings() {
        Ok(s) => match sso_config(&args, &s.public_url) {
            Ok(sso) => Settings {
                max_body: args.max_body_bytes,
                hsts: args.tls_cert.is_some(),
                sso,
                connections: args.connections.clone(),
                ..s
            },
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let app = match App::new(registry.clone(), settings) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return match e {
                StartError::MailTemplates(_) => ExitCode::from(2),
                StartError::Start(_) => ExitCode::FAILURE,
            };
        }
    };
    let jobs = match super::jobs::scheduler(&app, &args.scheduler, &args.mail) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let endpoint = match crate::server::endpoint(&app) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tls = match tls_config(&args) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = TcpListener::bind(args.listen.clone());
    let (scheme, acceptor) = match tls {
        None => ("http", listener.boxed().into_acceptor().await),
        Some(tls) => ("https", listener.rustls(tls).boxed().into_acceptor().await),
    };
    let acceptor = match acceptor {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    tokio::spawn(follow_other_instances(registry));
    tokio::spawn(jobs.run_forever());
    let addr = acceptor
        .local_addr()
        .first()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let addr = addr.trim_start_matches("socket://").to_owned();
    println!("accord listening on {scheme}://{addr}");
    tracing::info!(%addr, "listening");
    let grace = std::time::Duration::from_secs(10);
    crate::connections::serve(
        acceptor,
        endpoint,
        &args.connections,
        shutdown_signal(),
        grace,
    )
    .await;
    ExitCode::SUCCESS
}

/// Single sign-on's settings, when --oidc-issuer is given; the client secret comes from the
/// environment only (`ACCORD_OIDC_CLIENT_SECRET`), never the command line.
fn sso_config(args: &ServeArgs, public_url: &str) -> Result<Option<SsoConfig>, String> {
    let Some(issuer) = &args.oidc_issuer else {
        return Ok(None);
    };
    let secret = std::env::var("ACCORD_OIDC_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or("--oidc-issuer needs ACCORD_OIDC_CLIENT_SECRET in the environment")?;
    let rules = RoleRule::parse_all(args.oidc_role_map.as_deref().unwrap_or(""))
        .map_err(|e| format!("ACCORD_OIDC_ROLE_MAP: {e}"))?;
    Ok(Some(SsoConfig {
        issuer: issuer.clone(),
        client_id: args.oidc_client_id.clone().unwrap_or_default(),
        client_secret: secret,
        claim: args.oidc_claim.clone(),
        rules,
        public_url: public_url.to_owned(),
    }))
}

/// The TLS listener's settings from --tls-cert and --tls-key, read and checked now so a bad
/// file stops the start with its name; `None` without them.
fn tls_config(args: &ServeArgs) -> Result<Option<RustlsConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let (cert_pem, key_pem) = (read(cert)?, read(key)?);
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM certificate chain: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("{} is not a PEM private key: {e}", key.display()))?;
    crate::tls::install_crypto_provider();
    let certificate = RustlsCertificate::new().cert(cert_pem).key(key_pem);
    Ok(Some(RustlsConfig::new().fallback(certificate)))
}

/// Opens and migrates the database, imports the agreements folder, and loads the gate's index.
async fn open_registry(args: &ServeArgs) -> Result<Registry, ExitCode> {
    let db = crate::store::open(&args.db.database).await.map_err(|e| {
        tracing::error!(error = %e, "cannot start");
        eprintln!("error: {e}");
        ExitCode::from(EXIT_DB)
    })?;
    let registry = Registry::new(db, Arc::new(SystemClock));
    import(&registry, &args.agreements).await;
    registry.reload_index().await.map_err(|e| {
        eprintln!("error: cannot load the registry: {e}");
        ExitCode::from(EXIT_DB)
    })?;
    Ok(registry)
}

/// Imports the agreements folder; files with errors are logged and skipped, so one broken file
/// never keeps the service down.
async fn import(registry: &Registry, dir: &std::path::Path) {
    if !dir.exists() {
        tracing::warn!(dir = %dir.display(), "agreements folder not found; nothing imported");
        return;
    }
    match registry.import_dir(dir).await {
        Ok(report) => {
            for (file, why) in &report.skipped {
                tracing::warn!(file = %file.display(), problems = %why, "agreement skipped");
            }
            tracing::info!(
                created = report.created.len(),
                unchanged = report.unchanged,
                skipped = report.skipped.len(),
                "agreements imported"
            );
        }
        Err(e) => tracing::error!(error = %e, "import failed"),
    }
}

/// Instances sharing one database see each other's registry changes by the registry's
/// generation (a counter every change moves, in its own transaction; gate decisions do not):
/// poll it and rebuild the gate's index when it has moved.
async fn follow_other_instances(registry: Registry) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tick.tick().await;
        if let Err(e) = registry.refresh_if_changed().await {
            tracing::warn!(error = %e, "cannot refresh the gate's index");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = ctrl_c => {},
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {},
    }
}

/// Logs to stderr: text, or JSON lines; `RUST_LOG` refines the default (`info`, with the
/// database drivers' per-statement logging off).
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,poem=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
