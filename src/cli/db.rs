//! Commands that work on the database directly: `migrate`, `token create`, `audit verify`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use sea_orm::DatabaseConnection;

use std::sync::Arc;

use super::{DbArgs, EXIT_DB, runtime};
use crate::auth::{RevokeError, Revoker, Role, TokenCache, mint};
use crate::clock::{Clock, SystemClock};
use crate::registry::Registry;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    #[command(flatten)]
    Admin(TokenAdmin),
    /// Mint an API token. It is printed once; only its hash is stored.
    Create {
        #[arg(long)]
        role: Role,
        /// Who or what the token is for (shown in the audit log).
        #[arg(long)]
        name: String,
        /// The party a signatory, gate_client or contractor acts for: a party some agreement
        /// in the registry names.
        #[arg(long)]
        party: Option<String>,
        /// Mint it though no agreement names --party (a warning says so).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAdmin {
    /// List tokens: id, role, party, name, and when revoked. Never secrets.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by its id (from `accord token list`).
    Revoke {
        id: uuid::Uuid,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log's hash chain (exit 1 and name the first bad record on tamper).
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    db: DbArgs,
}

impl clap::builder::ValueParserFactory for Role {
    type Parser = clap::builder::ValueParser;

    fn value_parser() -> Self::Parser {
        clap::builder::ValueParser::new(|s: &str| s.parse::<Role>())
    }
}

pub(super) async fn open(db: &DbArgs) -> Result<DatabaseConnection, ExitCode> {
    crate::store::open(&db.database).await.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_DB)
    })
}

/// Opens a database that must exist (see [`crate::store::open_existing`]) and says which
/// it opened, on standard error: what commands that only read, or that change only what is
/// there (a token, an account), open. Exit 3 when it is not there.
pub(super) async fn open_existing(db: &DbArgs) -> Result<DatabaseConnection, ExitCode> {
    let conn = crate::store::open_existing(&db.database)
        .await
        .map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_DB)
        })?;
    eprintln!("database: {}", crate::store::describe(&db.database));
    Ok(conn)
}

pub fn migrate(args: MigrateArgs) -> ExitCode {
    runtime().block_on(async {
        match open(&args.db).await {
            Ok(_) => {
                eprintln!("migrations applied");
                ExitCode::SUCCESS
            }
            Err(code) => code,
        }
    })
}

/// Whether a new account or token may act for `party`: a party some agreement in the
/// registry names (`agreement_parties`), so a typo cannot make an account that acts for
/// nobody. With `force`, one that no agreement names is taken, with a warning. Only a role
/// bound to a party and a well-formed id are looked up: anything else is the use case's to
/// refuse, with its own words. `Err` is the exit code (1), the refusal printed.
pub(super) async fn known_party(
    conn: &DatabaseConnection,
    role: Role,
    party: Option<&str>,
    force: bool,
    what: &str,
) -> Result<(), ExitCode> {
    use crate::inputs::PartyId;
    use crate::store::entity::agreement_party;
    use sea_orm::{EntityTrait, QuerySelect};
    let Some(party) = party.filter(|p| role.needs_party() && PartyId::parse(p).is_ok()) else {
        return Ok(());
    };
    let registry = Registry::new(conn.clone(), Arc::new(SystemClock));
    let named = registry.party_exists(party).await.map_err(|e| {
        eprintln!("error: cannot read the registry's parties: {e}");
        ExitCode::from(EXIT_DB)
    })?;
    if named {
        return Ok(());
    }
    if force {
        eprintln!(
            "warning: no agreement in the registry names party '{party}'; the {what} acts for it anyway (--force)"
        );
        return Ok(());
    }
    let known: Vec<String> = agreement_party::Entity::find()
        .select_only()
        .column(agreement_party::Column::PartyId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await
        .unwrap_or_default();
    let near = known
        .iter()
        .filter(|k| strsim::levenshtein(k, party) <= 3)
        .min_by_key(|k| strsim::levenshtein(k, party))
        .map(|k| format!(" (did you mean '{k}'?)"))
        .unwrap_or_default();
    eprintln!(
        "error: no agreement in the registry names party '{party}'{near}: check the spelling, or import its agreement first (accord serve imports the agreements folder); --force makes the {what} anyway"
    );
    Err(ExitCode::FAILURE)
}

pub fn token(cmd: TokenCommand) -> ExitCode {
    let (role, name, party, force, db) = match cmd {
        TokenCommand::Create {
            role,
            name,
            party,
            force,
            db,
        } => (role, name, party, force, db),
        TokenCommand::Admin(admin) => return token_admin(admin),
    };
    runtime().block_on(async {
        let conn = match open(&db).await {
            Ok(c) => c,
            Err(code) => return code,
        };
        if let Err(code) = known_party(&conn, role, party.as_deref(), force, "token").await {
            return code;
        }
        match mint(
            &conn,
            SystemClock.now(),
            role,
            &name,
            party.as_deref(),
            "cli",
        )
        .await
        {
            Ok((secret, p)) => {
                println!("{secret}");
                eprintln!(
                    "token for {} ({}{}) created; it is shown only now, so keep it safe",
                    p.name,
                    p.role,
                    p.bound_party()
                        .ok()
                        .map(|x| format!(", party {x}"))
                        .unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

pub fn audit(cmd: AuditCommand) -> ExitCode {
    let AuditCommand::Verify { db } = cmd;
    runtime().block_on(async {
        match open_existing(&db).await {
            Ok(conn) => verify(&conn).await,
            Err(code) => code,
        }
    })
}

/// Verifies the audit log's chain and says so: 0 intact, 1 tampered, 3 unreadable.
pub(super) async fn verify(conn: &DatabaseConnection) -> ExitCode {
    match crate::audit::verify(conn).await {
        Ok(Ok(v)) => {
            println!("audit log verified: {} records, head {}", v.records, v.head);
            ExitCode::SUCCESS
        }
        Ok(Err(t)) => {
            let id = t.id.map(|i| format!(" (id {i})")).unwrap_or_default();
            println!("audit log TAMPERED at record {}{id}: {}", t.seq, t.problem);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: cannot read the audit log: {e}");
            ExitCode::from(EXIT_DB)
        }
    }
}

fn token_admin(cmd: TokenAdmin) -> ExitCode {
    runtime().block_on(async {
        let db = match &cmd {
            TokenAdmin::List { db } | TokenAdmin::Revoke { db, .. } => db,
        };
        let conn = match open_existing(db).await {
            Ok(c) => c,
            Err(code) => return code,
        };
        match cmd {
            TokenAdmin::List { .. } => match crate::auth::list(&conn).await {
                Ok(tokens) => {
                    for t in tokens {
                        let party = t.party.as_deref().unwrap_or("-");
                        let state = t.revoked_at.map_or("active".to_owned(), |at| format!("revoked {at}"));
                        println!("{}  {:<11} {:<20} {}  ({state})", t.id, t.role, party, t.name);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_DB)
                }
            },
            TokenAdmin::Revoke { id, .. } => match crate::auth::revoke(&conn, SystemClock.now(), id, Revoker::Cli).await {
                Ok(t) => {
                    eprintln!("token {} ({}, {}) is revoked; running servers stop accepting it within {} s", t.id, t.name, t.role, TokenCache::TTL.as_secs());
                    ExitCode::SUCCESS
                }
                Err(e @ RevokeError::NotFound(_)) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_DB)
                }
            },
        }
    })
}
