//! Server-side sessions. The cookie holds 256 random bits; the database holds their SHA-256,
//! when the session began, when it was last used, and when it must end. A session ends after
//! [`IDLE`] without use, at [`ABSOLUTE`] after sign-in, at sign-out, and when the password
//! changes, and when the identity provider says the person signed out there (a back-channel
//! logout, for a session single sign-on opened). Sign-in, its failures and sign-out are
//! audited.

use jiff::{SignedDuration, Timestamp};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};

use super::logout_token::ProviderLogout;
use super::password::verify_blocking;
use super::{
    PeopleError, Result, after, hash_secret, normal_email, principal, random_secret, throttle,
};
use crate::audit::{Event, Writer};
use crate::auth::Principal;
use crate::store::entity::{user, web_session};
use crate::store::time::stamp;

/// A session ends after this long unused.
pub const IDLE: SignedDuration = SignedDuration::from_mins(30);
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE: SignedDuration = SignedDuration::from_hours(12);
/// Use is recorded at most this often, so reading pages does not write on every request.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// A live session: who it is, and the cookie's secret (which binds its CSRF tokens).
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub email: String,
    pub secret: String,
    /// How it began: signing out of a session opened by single sign-on goes on to the
    /// identity provider.
    pub via: Via,
}

/// How a session began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Password,
    SingleSignOn,
}

/// Signs a person in: throttled (see [`throttle`]), audited either way. Returns the session,
/// whose secret goes in the cookie. An attempt the throttle refuses checks no password and is
/// not counted as a failure; the right password is not a failure, and makes the address known
/// to the account.
pub async fn sign_in(
    db: &DatabaseConnection,
    now: Timestamp,
    email: &str,
    password: &str,
    address: &str,
) -> Result<Session> {
    let email = normal_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    let attempt = Attempt {
        actor: "anonymous",
        action: "user.sign_in_failed",
        subject: format!("account:{email}"),
        email: &email,
        address,
    };
    let guess = match throttle::admit(db, now, &email, address).await? {
        Ok(guess) => guess,
        Err(limit) => {
            refuse(db, now, &attempt, Refusal::Throttled(limit)).await?;
            return Err(PeopleError::Throttled {
                minutes: throttle::WINDOW.as_mins(),
            });
        }
    };
    let row = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(db)
        .await?;
    let stored = row
        .as_ref()
        .and_then(|r| r.password_hash.clone())
        .unwrap_or_default();
    let matched = verify_blocking(password.to_owned(), stored).await;
    if row.as_ref().is_some_and(|r| r.disabled_at.is_some()) {
        // Audited as what it is; the person is told only what a wrong password is told, so a
        // stranger learns nothing about the account.
        let why = Refusal::Failed("the account is disabled");
        refuse(db, now, &attempt, why).await?;
        return Err(PeopleError::WrongPassword);
    }
    let (Some(row), true) = (row, matched) else {
        let why = Refusal::Failed("wrong e-mail address or password");
        refuse(db, now, &attempt, why).await?;
        return Err(PeopleError::WrongPassword);
    };
    let Some(principal) = principal(&row) else {
        let why = Refusal::Failed("the account's role is not known");
        refuse(db, now, &attempt, why).await?;
        return Err(PeopleError::WrongPassword);
    };
    if row.sso_only {
        let why = Refusal::Failed("the account signs in only by single sign-on");
        refuse(db, now, &attempt, why).await?;
        return Err(PeopleError::SsoOnly);
    }
    guess.signed_in(db, now).await?;
    let details = serde_json::json!({ "email": email, "address": address });
    open(db, now, &row, principal, (Via::Password, None), details).await
}

/// An attempt to give an account's password, as its refusal is audited.
pub(super) struct Attempt<'a> {
    pub actor: &'a str,
    pub action: &'static str,
    pub subject: String,
    /// The account's throttle key: the e-mail address, lower-cased.
    pub email: &'a str,
    pub address: &'a str,
}

/// Why an attempt was refused.
pub(super) enum Refusal {
    /// The password was checked and was not right (or the account cannot sign in with it): a
    /// failure, which the throttle counted when it admitted the guess; the reason, as audited.
    Failed(&'static str),
    /// The throttle refused it before any password was checked: not counted, so a stranger
    /// who keeps trying cannot keep the refusal going.
    Throttled(throttle::Limit),
}

/// Audits a refused attempt.
pub(super) async fn refuse(
    db: &DatabaseConnection,
    now: Timestamp,
    attempt: &Attempt<'_>,
    why: Refusal,
) -> Result<()> {
    let (email, address) = (attempt.email, attempt.address);
    let details = match why {
        Refusal::Failed(reason) => {
            serde_json::json!({ "email": email, "address": address, "reason": reason })
        }
        Refusal::Throttled(limit) => serde_json::json!({
            "email": email, "address": address, "reason": "throttled", "limit": limit.as_str(),
        }),
    };
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    log.append(
        now,
        Event {
            actor: attempt.actor,
            action: attempt.action,
            subject: attempt.subject.clone(),
            details,
        },
    );
    log.commit(txn).await?;
    Ok(())
}

/// A new session for `row`, acting as `principal`, begun `via` (with single sign-on, the
/// provider's session that opened it, when the provider names one), audited as
/// `user.signed_in` with `details`.
pub(crate) async fn open(
    db: &DatabaseConnection,
    now: Timestamp,
    row: &user::Model,
    principal: Principal,
    (via, provider_session): (Via, Option<&str>),
    details: serde_json::Value,
) -> Result<Session> {
    let secret = random_secret()?;
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let session = web_session::ActiveModel {
        id_hash: Set(hash_secret(&secret)),
        user_id: Set(row.id),
        created_at: Set(stamp(now)),
        last_seen_at: Set(stamp(now)),
        expires_at: Set(stamp(after(now, ABSOLUTE))),
        ended_at: Set(None),
        via_sso: Set(via == Via::SingleSignOn),
        sso_sid: Set(provider_session.map(str::to_owned)),
    };
    web_session::Entity::insert(session)
        .exec_without_returning(&txn)
        .await?;
    log.append(
        now,
        Event {
            actor: &principal.actor(),
            action: "user.signed_in",
            subject: format!("user:{}", row.id),
            details,
        },
    );
    log.commit(txn).await?;
    Ok(Session {
        principal,
        email: row.email.clone(),
        secret,
        via,
    })
}

/// The live session a cookie's secret names, if any; records its use.
pub async fn find(
    db: &DatabaseConnection,
    now: Timestamp,
    secret: &str,
) -> Result<Option<Session>> {
    if secret.len() != 64 {
        return Ok(None);
    }
    let hash = hash_secret(secret);
    let Some(row) = web_session::Entity::find_by_id(hash.clone())
        .filter(web_session::Column::EndedAt.is_null())
        .filter(web_session::Column::ExpiresAt.gt(stamp(now)))
        .filter(web_session::Column::LastSeenAt.gt(stamp(now - IDLE)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(person) = user::Entity::find_by_id(row.user_id)
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(principal) = principal(&person) else {
        return Ok(None);
    };
    if row.last_seen_at < stamp(now - TOUCH_EVERY) {
        web_session::Entity::update_many()
            .col_expr(
                web_session::Column::LastSeenAt,
                sea_orm::sea_query::Expr::value(stamp(now)),
            )
            .filter(web_session::Column::IdHash.eq(hash))
            .exec(db)
            .await?;
    }
    Ok(Some(Session {
        principal,
        email: person.email,
        secret: secret.to_owned(),
        via: if row.via_sso {
            Via::SingleSignOn
        } else {
            Via::Password
        },
    }))
}

/// Ends a session (audited); ending one already ended changes nothing.
pub async fn sign_out(db: &DatabaseConnection, now: Timestamp, session: &Session) -> Result<()> {
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    if end_one(&txn, &hash_secret(&session.secret), now).await? {
        log.append(
            now,
            Event {
                actor: &session.principal.actor(),
                action: "user.signed_out",
                subject: format!("user:{}", session.principal.id),
                details: serde_json::json!({ "email": session.email }),
            },
        );
        log.commit(txn).await?;
    }
    Ok(())
}

/// Ends the session stored as `id_hash` if it is still open: whether it was.
async fn end_one(
    txn: &impl sea_orm::ConnectionTrait,
    id_hash: &str,
    now: Timestamp,
) -> Result<bool> {
    Ok(end_open(txn, web_session::Column::IdHash.eq(id_hash), now).await? == 1)
}

/// Ends every still-open session of the account `user_id` (its password set or changed, its
/// party disabled, or single sign-on made its only way in).
pub(super) async fn end_every(
    txn: &impl sea_orm::ConnectionTrait,
    user_id: uuid::Uuid,
    now: Timestamp,
) -> std::result::Result<(), sea_orm::DbErr> {
    end_open(txn, web_session::Column::UserId.eq(user_id), now).await?;
    Ok(())
}

/// Ends the still-open sessions `which` names (one by its id, or all of a person's): how many
/// ended.
async fn end_open(
    txn: &impl sea_orm::ConnectionTrait,
    which: impl sea_orm::sea_query::IntoCondition,
    now: Timestamp,
) -> std::result::Result<u64, sea_orm::DbErr> {
    let ended = web_session::Entity::update_many()
        .col_expr(
            web_session::Column::EndedAt,
            sea_orm::sea_query::Expr::value(stamp(now)),
        )
        .filter(which)
        .filter(web_session::Column::EndedAt.is_null())
        .exec(txn)
        .await?;
    Ok(ended.rows_affected)
}

/// How far apart Accord's clock and the provider's may be when a back-channel logout is
/// matched to the sessions opened before it: in favour of ending a session.
pub const PROVIDER_CLOCK_LEEWAY: SignedDuration = SignedDuration::from_secs(60);

/// Ends the live single sign-on sessions a provider's logout names, in one transaction, each
/// audited as `user.signed_out` by "single sign-on": with a `sid`, the sessions that provider
/// session opened (only the person's, when it names one too, and also that person's sessions
/// opened before sessions recorded their provider session); with a person alone, every one of
/// theirs. Password sessions are never touched. Returns how many ended.
pub async fn end_for_provider(
    db: &DatabaseConnection,
    now: Timestamp,
    logout: &ProviderLogout,
) -> Result<u64> {
    use sea_orm::Condition;
    use web_session::Column as C;
    let txn = db.begin().await?;
    let person = match &logout.subject {
        Some(subject) => {
            let found = user::Entity::find()
                .filter(user::Column::SsoSubject.eq(subject))
                .one(&txn)
                .await?;
            match found {
                Some(u) => Some(u),
                // Nobody here signed in as that person: nothing of theirs to end.
                None => return Ok(0),
            }
        }
        None => None,
    };
    let whose = match (&logout.sid, &person) {
        (Some(sid), Some(u)) => Condition::all().add(C::UserId.eq(u.id)).add(
            Condition::any()
                .add(C::SsoSid.eq(sid.as_str()))
                .add(C::SsoSid.is_null()),
        ),
        (Some(sid), None) => Condition::all().add(C::SsoSid.eq(sid.as_str())),
        (None, Some(u)) => Condition::all().add(C::UserId.eq(u.id)),
        (None, None) => return Ok(0),
    };
    let opened_by = stamp(logout.issued_at + PROVIDER_CLOCK_LEEWAY);
    let live = web_session::Entity::find()
        .filter(whose)
        .filter(C::ViaSso.eq(true))
        .filter(C::EndedAt.is_null())
        .filter(C::ExpiresAt.gt(stamp(now)))
        .filter(C::CreatedAt.lte(opened_by))
        .all(&txn)
        .await?;
    if live.is_empty() {
        return Ok(0);
    }
    let users: std::collections::HashMap<uuid::Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(live.iter().map(|s| s.user_id)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let mut log = Writer::begin(&txn).await?;
    let mut ended = 0;
    for s in &live {
        // Only what this logout ends is audited, not one a sign-out ended meanwhile.
        if !end_one(&txn, &s.id_hash, now).await? {
            continue;
        }
        ended += 1;
        log.append(
            now,
            Event {
                actor: "single sign-on",
                action: "user.signed_out",
                subject: format!("user:{}", s.user_id),
                details: serde_json::json!({
                    "email": users.get(&s.user_id),
                    "method": "back-channel logout",
                    "provider_session": logout.sid,
                }),
            },
        );
    }
    log.commit(txn).await?;
    Ok(ended)
}
