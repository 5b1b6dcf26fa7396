//! Throttling failed sign-ins, per account and per address: failures are rows, counted over a
//! window through the `(key, at)` index, so every instance sees the same count.

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
    let since = stamp(now - WINDOW);
    let count = |key: String| {
        sign_in_failure::Entity::find()
            .filter(sign_in_failure::Column::Key.eq(key))
            .filter(sign_in_failure::Column::At.gt(since.clone()))
            .count(db)
    };
    Ok(count(account_key(account)).await? >= PER_ACCOUNT
        || count(address_key(address)).await? >= PER_ADDRESS)
}

/// Records one failure against both keys, and forgets failures older than the window.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    now: Timestamp,
    account: &str,
    address: &str,
) -> Result<()> {
    let rows =
        [account_key(account), address_key(address)].map(|key| sign_in_failure::ActiveModel {
            id: Set(new_id()),
            key: Set(key),
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
