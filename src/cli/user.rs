//! `accord user`: accounts of people who sign in to the web console. `create` and `reset`
//! print a one-time set-password link (valid 24 hours); only its hash is stored.

use std::process::ExitCode;

use clap::Subcommand;

use super::db::{open, open_existing};
use super::{DbArgs, runtime};
use crate::auth::Role;
use crate::clock::{Clock, SystemClock};
use crate::people::{self, NewUser, User};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print its set-password link.
    Create {
        /// The person's e-mail address: what they sign in with.
        #[arg(long)]
        email: String,
        /// Their name, as shown in the audit log.
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
        /// The party a signatory or contractor acts for: a party some agreement in the
        /// registry names.
        #[arg(long)]
        party: Option<String>,
        /// Make the account though no agreement names --party (a warning says so).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        link: LinkArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print a new set-password link for an account (a forgotten password); older links stop
    /// working.
    Reset {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        link: LinkArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Make an account sign in only through single sign-on (its sessions end), or, with
    /// --off, with a password again.
    SsoOnly {
        #[arg(long)]
        email: String,
        #[arg(long)]
        off: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled account again (audited): it signs in as before, with its password
    /// if it had one.
    Enable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an account (audited): its sessions end and it cannot sign in until enabled.
    Disable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List accounts: e-mail, name, role, party, whether a password is set, whether disabled.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// Where Accord is reached from outside, for the link (as `serve` takes it).
    #[arg(long, env = "ACCORD_PUBLIC_URL")]
    public_url: Option<String>,
}

impl LinkArgs {
    /// The set-password link for `token`, at the public URL configured (a flag, the
    /// environment or `accord.toml`); with none, at `serve`'s default, and a note says so.
    fn link(&self, token: &str) -> String {
        let base = match self.public_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => {
                let default = crate::settings::Settings::default().public_url;
                eprintln!(
                    "note: no public URL is set (--public-url, ACCORD_PUBLIC_URL, or public_url in accord.toml), so the link points at {default}, which opens only on the machine Accord runs on"
                );
                default
            }
        };
        format!("{}/set-password/{token}", base.trim_end_matches('/'))
    }
}

pub fn run(cmd: UserCommand) -> ExitCode {
    runtime().block_on(async {
        let db = match &cmd {
            UserCommand::Create { db, .. }
            | UserCommand::Reset { db, .. }
            | UserCommand::SsoOnly { db, .. }
            | UserCommand::Enable { db, .. }
            | UserCommand::Disable { db, .. }
            | UserCommand::List { db } => db,
        };
        // Only `create` may make a new database; the rest act on accounts already there.
        let opened = match &cmd {
            UserCommand::Create { .. } => open(db).await,
            _ => open_existing(db).await,
        };
        let conn = match opened {
            Ok(c) => c,
            Err(code) => return code,
        };
        let now = SystemClock.now();
        let made = match &cmd {
            UserCommand::Create { email, name, role, party, force, link, .. } => {
                if let Err(code) = super::db::known_party(&conn, *role, party.as_deref(), *force, "account").await {
                    return code;
                }
                let new = NewUser { email, name, role: *role, party: party.as_deref() };
                people::accounts::create(&conn, now, new, "cli").await.map(|r| (r, link))
            }
            UserCommand::Reset { email, link, .. } => {
                people::accounts::new_link(&conn, now, email, "cli").await.map(|r| (r, link))
            }
            UserCommand::SsoOnly { email, off, .. } => {
                return match people::accounts::set_sso_only(&conn, now, email, !off, "cli").await {
                    Ok(u) => {
                        println!("{}", line(&u));
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                };
            }
            UserCommand::Enable { email, .. } | UserCommand::Disable { email, .. } => {
                let disable = matches!(cmd, UserCommand::Disable { .. });
                return match people::accounts::set_disabled(&conn, now, email, disable, "cli").await {
                    Ok((u, changed)) => {
                        println!("{}", line(&u));
                        let state = if disable { "disabled" } else { "enabled" };
                        if changed {
                            eprintln!("the account is {state}");
                        } else {
                            eprintln!("the account was already {state}; nothing changed");
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                };
            }
            UserCommand::List { .. } => {
                return match people::accounts::list(&conn).await {
                    Ok(users) => {
                        for u in users {
                            println!("{}", line(&u));
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                };
            }
        };
        match made {
            Ok(((user, token), link)) => {
                println!("{}", link.link(&token));
                eprintln!(
                    "set-password link for {} printed; it works once, for 24 hours: send it to them",
                    line(&user)
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

fn line(u: &User) -> String {
    format!(
        "{} {} ({}{}){}{}",
        u.email,
        u.name,
        u.role,
        u.party
            .as_deref()
            .map(|p| format!(", {p}"))
            .unwrap_or_default(),
        match (u.sso_only, u.has_password) {
            (true, _) => " [single sign-on only]",
            (false, true) => "",
            (false, false) => " [no password yet]",
        },
        u.disabled_at
            .as_deref()
            .map(|at| format!(" [disabled since {at}]"))
            .unwrap_or_default()
    )
}
