//! Accounts: created by an operator (`accord user create`) with a one-time set-password link;
//! the person sets their password through it; later they may change it. Each change is
//! audited in its own transaction, and setting or changing a password ends every session. The
//! current password a change needs is throttled with sign-in's guesses.

use jiff::Timestamp;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::password::{hash_blocking, verify_blocking};
use super::sessions::{Attempt, Refusal, end_every, refuse};
use super::{
    LINK_LIFETIME, PeopleError, Result, after, hash_secret, new_id, normal_email, password,
    random_secret, throttle,
};
use crate::audit::{Event, Writer};
use crate::auth::Role;
use crate::inputs::PartyId;
use crate::store::entity::{password_link, user};
use crate::store::time::stamp;

/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// An account as shown: never its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub party: Option<String>,
    pub created_at: String,
    pub has_password: bool,
    /// Signs in only through single sign-on.
    pub sso_only: bool,
    /// When the account was disabled (it cannot sign in), if it is.
    pub disabled_at: Option<String>,
}

impl From<&user::Model> for User {
    fn from(r: &user::Model) -> User {
        User {
            id: r.id,
            email: r.email.clone(),
            name: r.name.clone(),
            role: r.role.clone(),
            party: r.party_id.clone(),
            created_at: r.created_at.clone(),
            has_password: r.password_hash.is_some(),
            sso_only: r.sso_only,
            disabled_at: r.disabled_at.clone(),
        }
    }
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub party: Option<&'a str>,
}

/// Creates an account (no password yet) and its first set-password link; returns the account
/// and the link's token, which only the caller ever sees.
pub async fn create(
    db: &DatabaseConnection,
    now: Timestamp,
    new: NewUser<'_>,
    actor: &str,
) -> Result<(User, String)> {
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let made = create_in(&txn, &mut log, now, new, actor).await?;
    log.commit(txn).await?;
    Ok(made)
}

/// [`create`] inside the caller's transaction, which holds the writers' lock (`log` was begun
/// on it): an approved access request makes the requester's account with its own change.
pub(crate) async fn create_in(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    now: Timestamp,
    new: NewUser<'_>,
    actor: &str,
) -> Result<(User, String)> {
    let email = normal_email(new.email)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(PeopleError::BadName);
    }
    if !Role::PEOPLE.contains(&new.role) {
        return Err(PeopleError::TokenOnly(new.role));
    }
    match (new.role.needs_party(), new.party) {
        (true, None) => return Err(PeopleError::PartyRequired(new.role)),
        (false, Some(_)) => return Err(PeopleError::PartyNotAllowed(new.role)),
        (_, Some(p)) if PartyId::parse(p).is_err() => return Err(PeopleError::BadParty(p.into())),
        _ => {}
    }
    let token = random_secret()?;
    let taken = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(txn)
        .await?;
    if taken.is_some() {
        return Err(PeopleError::EmailTaken(email));
    }
    let row = user::Model {
        id: new_id(),
        email,
        name: name.to_owned(),
        role: new.role.as_str().to_owned(),
        party_id: new.party.map(str::to_owned),
        password_hash: None,
        created_at: stamp(now),
        password_set_at: None,
        disabled_at: None,
        sso_subject: None,
        sso_only: false,
    };
    let am: user::ActiveModel = row.clone().into();
    user::Entity::insert(am).exec_without_returning(txn).await?;
    insert_link(txn, now, row.id, &token).await?;
    log.append(
        now,
        Event {
            actor,
            action: "user.created",
            subject: format!("user:{}", row.id),
            details: serde_json::json!({
                "email": row.email, "name": row.name, "role": row.role, "party": row.party_id,
            }),
        },
    );
    Ok((User::from(&row), token))
}

/// A new set-password link for an existing account (a forgotten password); earlier unused
/// links stop working. A disabled account gets none (a link opens nothing for it): it is
/// enabled first, as its own decision ([`set_disabled`]).
pub async fn new_link(
    db: &DatabaseConnection,
    now: Timestamp,
    email: &str,
    actor: &str,
) -> Result<(User, String)> {
    let email = normal_email(email)?;
    let token = random_secret()?;
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let Some(row) = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?
    else {
        return Err(PeopleError::NoSuchUser(email));
    };
    if row.disabled_at.is_some() {
        return Err(PeopleError::Disabled(email));
    }
    password_link::Entity::update_many()
        .col_expr(
            password_link::Column::UsedAt,
            sea_orm::sea_query::Expr::value(stamp(now)),
        )
        .filter(password_link::Column::UserId.eq(row.id))
        .filter(password_link::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    insert_link(&txn, now, row.id, &token).await?;
    log.append(
        now,
        Event {
            actor,
            action: "user.password_link_created",
            subject: format!("user:{}", row.id),
            details: serde_json::json!({ "email": row.email }),
        },
    );
    log.commit(txn).await?;
    Ok((User::from(&row), token))
}

async fn insert_link(
    txn: &sea_orm::DatabaseTransaction,
    now: Timestamp,
    user_id: Uuid,
    token: &str,
) -> Result<()> {
    let link = password_link::ActiveModel {
        token_hash: Set(hash_secret(token)),
        user_id: Set(user_id),
        created_at: Set(stamp(now)),
        expires_at: Set(stamp(after(now, LINK_LIFETIME))),
        used_at: Set(None),
    };
    password_link::Entity::insert(link)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The account a set-password link is for, if the link is unused and unexpired.
pub async fn link_user(db: &DatabaseConnection, now: Timestamp, token: &str) -> Result<User> {
    let (_, row) = live_link(db, now, token).await?;
    Ok(User::from(&row))
}

async fn live_link(
    db: &impl sea_orm::ConnectionTrait,
    now: Timestamp,
    token: &str,
) -> Result<(password_link::Model, user::Model)> {
    if token.len() != 64 {
        return Err(PeopleError::BadLink);
    }
    let link = password_link::Entity::find_by_id(hash_secret(token))
        .filter(password_link::Column::UsedAt.is_null())
        .filter(password_link::Column::ExpiresAt.gt(stamp(now)))
        .one(db)
        .await?
        .ok_or(PeopleError::BadLink)?;
    let row = user::Entity::find_by_id(link.user_id)
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?
        .ok_or(PeopleError::BadLink)?;
    Ok((link, row))
}

/// Sets the password through a link, which then stops working; ends every session.
pub async fn set_password(
    db: &DatabaseConnection,
    now: Timestamp,
    token: &str,
    new: &str,
) -> Result<User> {
    password::acceptable(new).map_err(PeopleError::WeakPassword)?;
    live_link(db, now, token).await?;
    let hashed = hash_blocking(new.to_owned()).await?;
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    // Checked again under the writers' lock: two submissions of one link set one password.
    let (link, row) = live_link(&txn, now, token).await?;
    let used = password_link::Entity::update_many()
        .col_expr(
            password_link::Column::UsedAt,
            sea_orm::sea_query::Expr::value(stamp(now)),
        )
        .filter(password_link::Column::TokenHash.eq(&link.token_hash))
        .filter(password_link::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(PeopleError::BadLink);
    }
    store_password(&txn, now, &row, hashed).await?;
    log.append(
        now,
        Event {
            actor: &format!("{} ({})", row.name, row.role),
            action: "user.password_set",
            subject: format!("user:{}", row.id),
            details: serde_json::json!({ "email": row.email, "through": "link" }),
        },
    );
    log.commit(txn).await?;
    Ok(User::from(&row))
}

/// Changes a signed-in person's password, given the current one (from `address`); ends every
/// session. The current password is a guess like a sign-in's, so it is throttled with them
/// (see [`throttle`]): while the account is refused at `address`, no password is checked; a
/// wrong one counts as a failure. Both are audited as `user.password_change_failed`. A change
/// clears no failure.
pub async fn change_password(
    db: &DatabaseConnection,
    now: Timestamp,
    id: Uuid,
    current: &str,
    new: &str,
    address: &str,
) -> Result<User> {
    let row = user::Entity::find_by_id(id)
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| PeopleError::NoSuchUser(id.to_string()))?;
    let actor = format!("{} ({})", row.name, row.role);
    let attempt = Attempt {
        actor: &actor,
        action: "user.password_change_failed",
        subject: format!("user:{}", row.id),
        email: &row.email,
        address,
    };
    let guess = match throttle::admit(db, now, &row.email, address).await? {
        Ok(guess) => guess,
        Err(limit) => {
            refuse(db, now, &attempt, Refusal::Throttled(limit)).await?;
            return Err(PeopleError::Throttled {
                minutes: throttle::WINDOW.as_mins(),
            });
        }
    };
    let stored = row.password_hash.clone().unwrap_or_default();
    if !verify_blocking(current.to_owned(), stored).await {
        let why = Refusal::Failed("the current password is not right");
        refuse(db, now, &attempt, why).await?;
        return Err(PeopleError::WrongPassword);
    }
    guess.right(db).await?;
    password::acceptable(new).map_err(PeopleError::WeakPassword)?;
    let hashed = hash_blocking(new.to_owned()).await?;
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    store_password(&txn, now, &row, hashed).await?;
    log.append(
        now,
        Event {
            actor: &actor,
            action: "user.password_changed",
            subject: format!("user:{}", row.id),
            details: serde_json::json!({ "email": row.email }),
        },
    );
    log.commit(txn).await?;
    Ok(User::from(&row))
}

async fn store_password(
    txn: &sea_orm::DatabaseTransaction,
    now: Timestamp,
    row: &user::Model,
    hashed: String,
) -> Result<()> {
    let mut am: user::ActiveModel = row.clone().into();
    am.password_hash = Set(Some(hashed));
    am.password_set_at = Set(Some(stamp(now)));
    user::Entity::update(am).exec(txn).await?;
    end_every(txn, row.id, now).await?;
    Ok(())
}

/// Disables every account bound to `party` and ends its sessions, inside the caller's
/// transaction, each with its `user.disabled` record giving `reason` (a contractor's engagement
/// ended). Returns how many were disabled.
pub async fn disable_party(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    now: Timestamp,
    party: &str,
    actor: &str,
    reason: &str,
) -> std::result::Result<usize, sea_orm::DbErr> {
    let people = user::Entity::find()
        .filter(user::Column::PartyId.eq(party))
        .filter(user::Column::DisabledAt.is_null())
        .all(txn)
        .await?;
    let n = people.len();
    for u in people {
        let (id, email, role) = (u.id, u.email.clone(), u.role.clone());
        let mut m: user::ActiveModel = u.into();
        m.disabled_at = Set(Some(stamp(now)));
        user::Entity::update(m).exec(txn).await?;
        end_every(txn, id, now).await?;
        log.append(
            now,
            Event {
                actor,
                action: "user.disabled",
                subject: format!("user:{id}"),
                details: serde_json::json!({ "email": email, "role": role, "party": party, "reason": reason }),
            },
        );
    }
    Ok(n)
}

/// Disables (`disable`) or enables again the account at `email`, audited as `user.disabled`
/// or `user.enabled`. Disabling ends its sessions; enabling gives back what it had (its
/// password, if set; a person without one asks for a link). Returns the account and whether
/// anything changed (it may already be as asked).
pub async fn set_disabled(
    db: &DatabaseConnection,
    now: Timestamp,
    email: &str,
    disable: bool,
    actor: &str,
) -> Result<(User, bool)> {
    let email = normal_email(email)?;
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let row = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?
        .ok_or_else(|| PeopleError::NoSuchUser(email.clone()))?;
    if row.disabled_at.is_some() == disable {
        return Ok((User::from(&row), false));
    }
    let was_disabled_at = row.disabled_at.clone();
    let mut am: user::ActiveModel = row.into();
    am.disabled_at = Set(disable.then(|| stamp(now)));
    let row = sea_orm::ActiveModelTrait::update(am, &txn).await?;
    if disable {
        end_every(&txn, row.id, now).await?;
    }
    let (action, details) = if disable {
        let details =
            serde_json::json!({ "email": row.email, "role": row.role, "party": row.party_id });
        ("user.disabled", details)
    } else {
        let details = serde_json::json!({
            "email": row.email, "role": row.role, "party": row.party_id,
            "disabled_at": was_disabled_at,
        });
        ("user.enabled", details)
    };
    log.append(
        now,
        Event {
            actor,
            action,
            subject: format!("user:{}", row.id),
            details,
        },
    );
    log.commit(txn).await?;
    Ok((User::from(&row), true))
}

/// Every account, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<User>> {
    let rows = user::Entity::find()
        .order_by_asc(user::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows.iter().map(User::from).collect())
}

/// Sets whether the account at `email` signs in only through single sign-on. Turning it on
/// ends the account's sessions (one begun with a password must not outlive the rule).
pub async fn set_sso_only(
    db: &DatabaseConnection,
    now: Timestamp,
    email: &str,
    on: bool,
    actor: &str,
) -> Result<User> {
    let email = normal_email(email)?;
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let row = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?
        .ok_or_else(|| PeopleError::NoSuchUser(email.clone()))?;
    let mut am: user::ActiveModel = row.clone().into();
    am.sso_only = Set(on);
    let row = sea_orm::ActiveModelTrait::update(am, &txn).await?;
    if on {
        end_every(&txn, row.id, now).await?;
    }
    log.append(
        now,
        Event {
            actor,
            action: "user.sso_only_set",
            subject: format!("user:{}", row.id),
            details: serde_json::json!({ "email": email, "sso_only": on }),
        },
    );
    log.commit(txn).await?;
    Ok(User::from(&row))
}
