//! People who sign in to the web console: accounts with argon2id passwords set through one-time
//! links, server-side sessions kept in the database (so instances share them), and throttled
//! sign-in. Systems keep using API tokens (`crate::auth`); both end in the same [`Principal`],
//! so the web console and the API apply one set of role rules.
//!
//! Every secret that reaches a person (a set-password link, a session cookie) is 256 random
//! bits; only its SHA-256 is stored.

pub mod accounts;
pub mod logout_token;
pub mod password;
pub mod sessions;
pub mod sso;
pub mod throttle;

use jiff::Timestamp;
use sea_orm::DbErr;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::store::entity::user;

pub use accounts::{NewUser, User};
pub use sessions::Session;

/// People who sign in, as the console reaches them: sessions and passwords over the store and
/// the clock, so no page holds a database handle. The command line and the jobs call the
/// functions of `accounts` and `sessions` directly, inside their own transactions.
#[derive(Clone)]
pub struct People {
    db: sea_orm::DatabaseConnection,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl People {
    pub fn new(
        db: sea_orm::DatabaseConnection,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> People {
        People { db, clock }
    }

    /// [`sessions::sign_in`], now.
    pub async fn sign_in(&self, email: &str, password: &str, address: &str) -> Result<Session> {
        sessions::sign_in(&self.db, self.clock.now(), email, password, address).await
    }

    /// [`sessions::find`]: the live session whose secret this is, now.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>> {
        sessions::find(&self.db, self.clock.now(), secret).await
    }

    /// [`sessions::sign_out`].
    pub async fn sign_out(&self, session: &Session) -> Result<()> {
        sessions::sign_out(&self.db, self.clock.now(), session).await
    }

    /// [`accounts::link_user`]: whose set-password link this is, if it still works.
    pub async fn link_user(&self, token: &str) -> Result<User> {
        accounts::link_user(&self.db, self.clock.now(), token).await
    }

    /// [`accounts::set_password`] through a set-password link.
    pub async fn set_password(&self, token: &str, new: &str) -> Result<User> {
        accounts::set_password(&self.db, self.clock.now(), token, new).await
    }

    /// [`accounts::change_password`] by a person signed in, who gives the current one.
    pub async fn change_password(
        &self,
        id: Uuid,
        current: &str,
        new: &str,
        address: &str,
    ) -> Result<User> {
        accounts::change_password(&self.db, self.clock.now(), id, current, new, address).await
    }
}

/// Longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// How long a set-password link works.
pub const LINK_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("'{0}' is not an e-mail address")]
    BadEmail(String),
    #[error("the name must not be empty, and at most 200 characters")]
    BadName,
    #[error("role {0} acts for one party: give --party")]
    PartyRequired(Role),
    #[error("role {0} is not bound to a party: leave out --party")]
    PartyNotAllowed(Role),
    #[error("role {0} is for a monitoring system's token (accord db token create), not a person")]
    TokenOnly(Role),
    #[error("'{0}' is not a party id (lower-case letters, digits and hyphens)")]
    BadParty(String),
    #[error("there is already an account for {0}")]
    EmailTaken(String),
    #[error("no account for {0}")]
    NoSuchUser(String),
    #[error(
        "the account for {0} is disabled, so a set-password link would not work: enable it first (accord user enable --email {0})"
    )]
    Disabled(String),
    #[error("this link is not valid: it may have been used already, or have expired")]
    BadLink,
    #[error("{0}")]
    WeakPassword(&'static str),
    #[error("the e-mail address or password is not right")]
    WrongPassword,
    #[error("this account signs in with your organisation's single sign-on, not a password")]
    SsoOnly,
    #[error("too many failed attempts; try again in {minutes} minutes")]
    Throttled { minutes: i64 },
    #[error("cannot draw random bytes: {0}")]
    Random(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl crate::failure::Failure for PeopleError {
    fn kind(&self) -> crate::failure::Kind {
        use crate::failure::Kind;
        match self {
            PeopleError::EmailTaken(_) | PeopleError::Disabled(_) => Kind::Conflict,
            PeopleError::NoSuchUser(_) | PeopleError::BadLink => Kind::NotFound,
            PeopleError::Throttled { .. } => Kind::TooMany,
            PeopleError::Random(_) | PeopleError::Hash(_) | PeopleError::Db(_) => Kind::Internal,
            PeopleError::BadEmail(_)
            | PeopleError::BadName
            | PeopleError::PartyRequired(_)
            | PeopleError::PartyNotAllowed(_)
            | PeopleError::TokenOnly(_)
            | PeopleError::BadParty(_)
            | PeopleError::WeakPassword(_)
            | PeopleError::WrongPassword
            | PeopleError::SsoOnly => Kind::BadRequest,
        }
    }
}

pub type Result<T> = std::result::Result<T, PeopleError>;

/// 256 random bits, as 64 hex digits.
pub(crate) fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| PeopleError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// What is stored for a secret: its SHA-256, hex.
pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The principal a person acts as: the same type the API's tokens give.
pub(crate) fn principal(row: &user::Model) -> Option<Principal> {
    Some(Principal::new(
        row.id,
        row.name.clone(),
        row.role.parse().ok()?,
        row.party_id.clone(),
    ))
}

/// When something that lasts `d` from `now` ends.
pub(crate) fn after(now: Timestamp, d: jiff::SignedDuration) -> Timestamp {
    now.checked_add(d).unwrap_or(Timestamp::MAX)
}

pub(crate) fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// An e-mail address as stored: trimmed, lower-case, one `@` with text on both sides.
pub fn normal_email(email: &str) -> Result<String> {
    let e = email.trim().to_lowercase();
    let ok = e.chars().count() <= MAX_EMAIL_CHARS
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.contains('@'));
    if ok {
        Ok(e)
    } else {
        Err(PeopleError::BadEmail(email.trim().to_owned()))
    }
}
