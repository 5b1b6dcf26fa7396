//! Throttling password guesses (signing in, and the current password on "Change your
//! password"): failures are rows, counted over a window through the `(key, at)` index, so
//! every instance sees the same count. The same table counts other events a stranger can
//! repeat (access requests started, per address and per e-mail), each under a key of its own
//! ([`count_recent`], [`note`]).
//!
//! A guess is counted as a failure before its password is checked ([`admit`]), so guesses sent
//! together see each other, and taken back if the password proves right ([`Guess::right`]).
//! Three limits, each over [`WINDOW`]; a guess any of them refuses is refused before its
//! password is checked, and is not a failure (so a stranger who keeps trying while refused
//! does not keep the refusal going):
//!
//! - [`PER_ACCOUNT_AND_ADDRESS`] failures for one account from one address refuse that address
//!   for that account. Failures from a stranger's address never refuse the owner at another.
//! - [`PER_ADDRESS`] failures from one address, over every account, refuse that address for
//!   every account: one address spraying guesses across many accounts.
//! - [`PER_ACCOUNT`] failures for one account, over every address, refuse that account at
//!   every address it has not been signed in from with its password within [`KNOWN_FOR`] (a
//!   guesser spread over many addresses). Addresses it was signed in from stay open, so a
//!   stranger with many addresses slows every guesser down but cannot lock the owner out where
//!   they usually sign in; at a new address the owner waits for the window, as the guessers do.
//!   A plain limit per account would let anyone lock anyone out; none would leave a guesser
//!   with many addresses unbounded.
//!
//! An address is the client's IP address, except that an IPv6 address counts as its /64 (one
//! subscriber's network: a stranger given one has 2^64 addresses to try from), and an IPv4
//! address mapped into IPv6 as the IPv4 address. Nothing clears failures early: signing in or
//! changing the password does not, so only waiting out the window lifts a refusal.

use std::net::{IpAddr, Ipv6Addr};

use jiff::{SignedDuration, Timestamp};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use uuid::Uuid;

use super::{Result, new_id};
use crate::store::entity::sign_in_failure;
use crate::store::time::stamp;

/// The window failures are counted over.
pub const WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Failures on one account from one address within the window before that address is refused
/// for that account.
pub const PER_ACCOUNT_AND_ADDRESS: u64 = 5;
/// Failures from one address, over every account, within the window before it is refused.
pub const PER_ADDRESS: u64 = 20;
/// Failures on one account, over every address, within the window before it is refused at
/// addresses it has not been signed in from within [`KNOWN_FOR`]: ten addresses' worth of
/// [`PER_ACCOUNT_AND_ADDRESS`], far more than a person mistypes, and a cap of 200 guesses an
/// hour on one account however many addresses a guesser has.
pub const PER_ACCOUNT: u64 = 50;
/// How long an address stays known to an account after it was signed in from with its password.
pub const KNOWN_FOR: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Which limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`PER_ACCOUNT_AND_ADDRESS`].
    AccountAndAddress,
    /// [`PER_ADDRESS`].
    Address,
    /// [`PER_ACCOUNT`], at an address not known to the account.
    Account,
}

impl Limit {
    /// As the audit log names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::AccountAndAddress => "account and address",
            Limit::Address => "address",
            Limit::Account => "account, from an address not known to it",
        }
    }
}

/// The network `address` is counted as: an IPv6 address's /64, an IPv4 address (also when
/// mapped into IPv6) as itself; anything else (not an IP address) as given.
pub fn network(address: &str) -> String {
    match address.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

pub fn address_key(address: &str) -> String {
    format!("address:{}", network(address))
}

/// The account and the address together: the network first, since it never holds `|`.
pub fn account_and_address_key(email: &str, address: &str) -> String {
    format!("account-address:{}|{email}", network(address))
}

/// Where the account was signed in from: kept for [`KNOWN_FOR`], not [`WINDOW`].
fn known_key(email: &str, address: &str) -> String {
    format!("{KNOWN}{}|{email}", network(address))
}

const KNOWN: &str = "known:";

/// A password guess [`admit`] let through: counted as a failure from before its password is
/// checked, so guesses made at the same moment see each other; taken back when the password
/// proves right ([`Guess::right`], [`Guess::signed_in`]).
pub struct Guess {
    ids: Vec<Uuid>,
    account: String,
    address: String,
}

/// Counts a guess at `account`'s password from `address` as a failure, unless a limit refuses
/// it: then nothing of it is kept, and the answer is the limit. The guess is counted first and
/// the limits checked after, so however many arrive together, no more are let through than the
/// limits allow.
pub async fn admit(
    db: &impl ConnectionTrait,
    now: Timestamp,
    account: &str,
    address: &str,
) -> Result<std::result::Result<Guess, Limit>> {
    let (pair, by_address, by_account) = (
        account_and_address_key(account, address),
        address_key(address),
        account_key(account),
    );
    let ids: Vec<Uuid> = (0..3).map(|_| new_id()).collect();
    let rows = [&pair, &by_address, &by_account]
        .into_iter()
        .zip(&ids)
        .map(|(key, id)| sign_in_failure::ActiveModel {
            id: Set(*id),
            key: Set(key.clone()),
            at: Set(stamp(now)),
        });
    sign_in_failure::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    let guess = Guess {
        ids,
        account: account.to_owned(),
        address: address.to_owned(),
    };
    // Each count includes this guess: a limit refuses once the failures before it reach it.
    let limit = if count_recent(db, now, &pair).await? > PER_ACCOUNT_AND_ADDRESS {
        Some(Limit::AccountAndAddress)
    } else if count_recent(db, now, &by_address).await? > PER_ADDRESS {
        Some(Limit::Address)
    } else if count_recent(db, now, &by_account).await? > PER_ACCOUNT
        && !known(db, now, account, address).await?
    {
        Some(Limit::Account)
    } else {
        None
    };
    match limit {
        Some(limit) => {
            guess.forget(db).await?;
            Ok(Err(limit))
        }
        None => {
            forget_old(db, now).await?;
            Ok(Ok(guess))
        }
    }
}

impl Guess {
    /// The password proved right: the guess is not a failure. Clears no other failure.
    pub async fn right(self, db: &impl ConnectionTrait) -> Result<()> {
        self.forget(db).await
    }

    /// The password proved right and the account signs in: the guess is not a failure, and
    /// the address is known to the account for [`KNOWN_FOR`]. Clears no other failure.
    pub async fn signed_in(self, db: &impl ConnectionTrait, now: Timestamp) -> Result<()> {
        self.forget(db).await?;
        let key = known_key(&self.account, &self.address);
        sign_in_failure::Entity::delete_many()
            .filter(sign_in_failure::Column::Key.eq(&key))
            .exec(db)
            .await?;
        note(db, now, &[key]).await
    }

    async fn forget(&self, db: &impl ConnectionTrait) -> Result<()> {
        sign_in_failure::Entity::delete_many()
            .filter(sign_in_failure::Column::Id.is_in(self.ids.clone()))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// Whether the right password for `account` was given from `address` within [`KNOWN_FOR`].
async fn known(
    db: &impl ConnectionTrait,
    now: Timestamp,
    account: &str,
    address: &str,
) -> Result<bool> {
    let found = sign_in_failure::Entity::find()
        .filter(sign_in_failure::Column::Key.eq(known_key(account, address)))
        .filter(sign_in_failure::Column::At.gt(stamp(now - KNOWN_FOR)))
        .count(db)
        .await?;
    Ok(found > 0)
}

/// How many events `key` has within the window before `now`.
pub async fn count_recent(db: &impl ConnectionTrait, now: Timestamp, key: &str) -> Result<u64> {
    Ok(sign_in_failure::Entity::find()
        .filter(sign_in_failure::Column::Key.eq(key))
        .filter(sign_in_failure::Column::At.gt(stamp(now - WINDOW)))
        .count(db)
        .await?)
}

/// Records one event under each of `keys`, and forgets events older than the window (and
/// known addresses older than [`KNOWN_FOR`]).
pub async fn note(db: &impl ConnectionTrait, now: Timestamp, keys: &[String]) -> Result<()> {
    let rows = keys.iter().map(|key| sign_in_failure::ActiveModel {
        id: Set(new_id()),
        key: Set(key.clone()),
        at: Set(stamp(now)),
    });
    sign_in_failure::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    forget_old(db, now).await
}

/// Forgets events older than the window, and known addresses older than [`KNOWN_FOR`].
async fn forget_old(db: &impl ConnectionTrait, now: Timestamp) -> Result<()> {
    let (at, key) = (sign_in_failure::Column::At, sign_in_failure::Column::Key);
    sign_in_failure::Entity::delete_many()
        .filter(
            Condition::any().add(at.lt(stamp(now - KNOWN_FOR))).add(
                Condition::all()
                    .add(at.lt(stamp(now - WINDOW)))
                    .add(key.not_like(format!("{KNOWN}%"))),
            ),
        )
        .exec(db)
        .await?;
    Ok(())
}
