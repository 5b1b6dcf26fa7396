//! Work queued in a table and done by whichever pass claims it first: mail in the outbox and
//! deletion requests posted by webhook. One pattern, kept here:
//!
//! - **Claim.** One statement takes the earliest due row (`next_attempt_at <= now` and the
//!   caller's own conditions) and moves its `next_attempt_at` on by a lease, returning the
//!   row: `UPDATE … WHERE id IN (SELECT … ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE
//!   SKIP LOCKED) RETURNING *`. On PostgreSQL, `SKIP LOCKED` lets passes on several instances
//!   claim different rows without waiting on each other; a row another pass has just claimed
//!   no longer matches once its lock is released. On SQLite the statement holds the
//!   database's write lock, which serialises passes (SQLite has no row locks, and `FOR
//!   UPDATE` is left out). The claim commits before the work starts, so no transaction or lock
//!   is held across the network, and a pass that dies mid-way leaves the row to go again when
//!   the lease ends.
//! - **Back off.** A failed attempt waits [`backoff`]: 1 minute, doubling up to an hour.
//! - **Clip.** An error's text is kept to [`MAX_ERROR_CHARS`] characters.

use jiff::{SignedDuration, Timestamp};
use sea_orm::sea_query::{
    Condition, Expr, IntoColumnRef, IntoIden, IntoTableRef, LockBehavior, LockType, Order, Query,
    SimpleExpr, UpdateStatement,
};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use super::time::stamp;

/// How long a claimed row is held by the pass working on it: far longer than one attempt can
/// take (an SMTP exchange, a webhook post).
pub const LEASE: SignedDuration = SignedDuration::from_mins(15);
/// The first retry's wait; each further failure doubles it, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: SignedDuration = SignedDuration::from_mins(1);
pub const MAX_BACKOFF: SignedDuration = SignedDuration::from_hours(1);
/// The most of an error's text that is kept (in `last_error` and audit records): enough for
/// any cause a server or library gives, not a whole page of HTML.
pub const MAX_ERROR_CHARS: usize = 2000;

/// A queue: its table, its key and its due-time column.
#[derive(Clone, Copy)]
pub struct Queue<T, C> {
    pub table: T,
    pub id: C,
    pub next_attempt_at: C,
}

impl<T, C> Queue<T, C>
where
    T: IntoTableRef + Copy,
    C: IntoColumnRef + IntoIden + Copy,
{
    /// The statement that claims the earliest row due at `now` that also meets `due`, moving
    /// its due time on by [`LEASE`] and setting `also` (say, an attempt counter).
    pub fn claim_statement(
        &self,
        due: Condition,
        now: Timestamp,
        also: Vec<(C, SimpleExpr)>,
    ) -> UpdateStatement {
        use sea_orm::sea_query::ExprTrait;
        let earliest = Query::select()
            .column(self.id)
            .from(self.table)
            .cond_where(due)
            .and_where(Expr::col(self.next_attempt_at).lte(stamp(now)))
            .order_by(self.next_attempt_at, Order::Asc)
            .order_by(self.id, Order::Asc)
            .limit(1)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .to_owned();
        let mut update = Query::update();
        update
            .table(self.table)
            .values(also)
            .value(self.next_attempt_at, stamp(later(now, LEASE)))
            .and_where(Expr::col(self.id).in_subquery(earliest))
            .returning_all();
        update
    }
}

/// Runs a claim statement: the row claimed, or `None` when nothing is due.
pub async fn claim<M: FromQueryResult>(
    db: &impl ConnectionTrait,
    statement: &UpdateStatement,
) -> Result<Option<M>, DbErr> {
    let rows = db.query_all(statement).await?;
    rows.first()
        .map(|r| M::from_query_result(r, ""))
        .transpose()
}

/// The wait after the `attempts`-th failed attempt: 1 minute, 2, 4 … up to an hour.
pub fn backoff(attempts: i32) -> SignedDuration {
    let doublings = attempts.saturating_sub(1).clamp(0, 16) as u32;
    let wait = FIRST_BACKOFF.as_secs().saturating_mul(1 << doublings);
    SignedDuration::from_secs(wait.min(MAX_BACKOFF.as_secs()))
}

/// `now` moved on by `by`, or the end of time.
pub fn later(now: Timestamp, by: SignedDuration) -> Timestamp {
    now.checked_add(by).unwrap_or(Timestamp::MAX)
}

/// `text` cut to at most `max` characters, with `…` when cut; never splits a character.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_to_an_hour() {
        let mins = |n: i32| backoff(n).as_secs() / 60;
        assert_eq!(mins(0), 1);
        assert_eq!(mins(1), 1);
        assert_eq!(mins(2), 2);
        assert_eq!(mins(3), 4);
        assert_eq!(mins(6), 32);
        assert_eq!(mins(7), 60);
        assert_eq!(mins(1000), 60);
        assert_eq!(mins(i32::MAX), 60);
    }

    #[test]
    fn errors_are_clipped() {
        assert_eq!(clip("short", MAX_ERROR_CHARS), "short");
        let long = "é".repeat(5000);
        assert_eq!(clip(&long, MAX_ERROR_CHARS).chars().count(), 2001);
        assert_eq!(clip("éèê", 2), "éè…");
        assert_eq!(clip("éè", 2), "éè");
    }

    #[test]
    fn time_past_the_end_stays_at_the_end() {
        assert_eq!(later(Timestamp::MAX, LEASE), Timestamp::MAX);
    }
}
