//! Throttling failed sign-ins, per account and per address: failures are rows, counted over a
//! window through the `(key, at)` index, so every instance sees the same count. The same table
//! counts other events a stranger can repeat (access requests started, per address and per
//! e-mail), each under a key of its own ([`count_recent`], [`note`]).

use jiff::{SignedDuration, Timestamp};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::{Result, new_id};
use crate::store::entity::sign_in_failure;
use crate::store::time::stamp;

/// The window failures are counted over.
pub const WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Failures on one account within the window before it is refused.
pub const PER_ACCOUNT: u64 = 5;
/// Failures from one address within the window before it is refused.
pub const PER_ADDRESS: u64 = 20;

pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Whether either key has reached its limit within the window before `now`.
pub async fn throttled(
    db: &impl ConnectionTrait,
    now: Timestamp,
    account: &str,
    address: &str,
) -> Result<bool> {
    Ok(
        count_recent(db, now, &account_key(account)).await? >= PER_ACCOUNT
            || count_recent(db, now, &address_key(address)).await? >= PER_ADDRESS,
    )
}

/// How many events `key` has within the window before `now`.
pub async fn count_recent(db: &impl ConnectionTrait, now: Timestamp, key: &str) -> Result<u64> {
    Ok(sign_in_failure::Entity::find()
        .filter(sign_in_failure::Column::Key.eq(key))
        .filter(sign_in_failure::Column::At.gt(stamp(now - WINDOW)))
        .count(db)
        .await?)
}

/// Records one failure against both keys, and forgets failures older than the window.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    now: Timestamp,
    account: &str,
    address: &str,
) -> Result<()> {
    note(db, now, &[account_key(account), address_key(address)]).await
}

/// Records one event under each of `keys`, and forgets events older than the window.
pub async fn note(db: &impl ConnectionTrait, now: Timestamp, keys: &[String]) -> Result<()> {
    let rows = keys.iter().map(|key| sign_in_failure::ActiveModel {
        id: Set(new_id()),
        key: Set(key.clone()),
        at: Set(stamp(now)),
    });
    sign_in_failure::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    sign_in_failure::Entity::delete_many()
        .filter(sign_in_failure::Column::At.lt(stamp(now - WINDOW)))
        .exec(db)
        .await?;
    Ok(())
}
