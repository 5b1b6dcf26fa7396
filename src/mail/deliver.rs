//! The delivery pass: claim a due message, send it, record what happened; repeat.
//!
//! - **Claim** the earliest due message (unsent, not failed) and count the attempt, as
//!   [`crate::store::lease`] claims any queued work: one statement, `SKIP LOCKED` on
//!   PostgreSQL, committed before sending, so no transaction or lock is held across the
//!   network.
//! - **Send** through the [`Transport`](super::Transport).
//! - **Record.** Sent: `sent_at`, with a `mail.sent` audit record in the same transaction.
//!   Refused for good (SMTP 5xx, or an unusable address): `failed_at` and `last_error`, with a
//!   `mail.failed` record; not tried again. Refused for now (SMTP 4xx) or unreachable:
//!   `last_error`, and `next_attempt_at` after [`lease::backoff`]; when the server cannot be reached
//!   at all the pass stops, leaving the rest queued (and their attempts uncounted).
//! - **A configuration that cannot work** (the server's certificate does not verify against
//!   what Accord trusts: a CA certificate as the server's own, another CA, another name) is not
//!   an outage, and retrying cannot mend it: the message keeps its place in the queue with
//!   `last_error` saying what to change, a `mail.failed` record gives the reason, the error is
//!   logged, and this mailer sends nothing more until the process restarts (the configuration
//!   is read at start), so nothing is lost and nothing is retried in vain.
//!
//! A message is sent once. The one exception is a crash (or a lost database) between the
//! server accepting a message and the pass recording it: the lease then runs out and the
//! message goes again, which is the right way round for reminders (at least once, never lost).
//! The lease ([`lease::LEASE`]) is far longer than one send can take
//! ([`super::transport::SMTP_TIMEOUT`] per step).

use jiff::Timestamp;
use sea_orm::sea_query::{Condition, Expr, UpdateStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::transport::{self, SendError};
use super::{Mailer, Result};
use crate::audit::{Event, Writer};
use crate::store::entity::outbox_message::{self, Column, Model};
use crate::store::lease::{self, MAX_ERROR_CHARS, Queue, backoff, clip, later};
use crate::store::time::stamp;

/// A pass stops after this many messages; the next pass carries on.
pub const MAX_PER_PASS: usize = 1000;
/// The actor of the audit records delivery writes.
pub const ACTOR: &str = "mailer";

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Handed to the server (or written), in order.
    pub sent: Vec<Uuid>,
    /// Not sent this time; queued for a retry after backoff.
    pub deferred: Vec<Uuid>,
    /// Refused for good; not tried again.
    pub failed: Vec<Uuid>,
    /// Why the pass stopped early: the server or folder could not be reached.
    pub unreachable: Option<String>,
    /// Why nothing more is sent by this process: the configuration cannot work (see the
    /// module); delivery resumes when Accord restarts with it mended.
    pub misconfigured: Option<String>,
}

impl DeliveryReport {
    pub fn handled(&self) -> usize {
        self.sent.len() + self.deferred.len() + self.failed.len()
    }
}

pub(super) async fn pass(mailer: &Mailer) -> Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    if let Some(why) = mailer.stopped() {
        tracing::debug!(error = %why, "mail delivery stopped by a configuration error");
        report.misconfigured = Some(why);
        return Ok(report);
    }
    while report.handled() < MAX_PER_PASS {
        let Some(row) = claim(&mailer.db, mailer.clock.now()).await? else {
            break;
        };
        let outcome = match transport::build(&mailer.from, &row) {
            Ok(message) => mailer.transport.send(row.id, message).await,
            Err(why) => Err(SendError::Rejected(why)),
        };
        let now = mailer.clock.now();
        match outcome {
            Ok(()) => {
                mark_sent(&mailer.db, now, &row, mailer.transport.kind()).await?;
                report.sent.push(row.id);
            }
            Err(SendError::Rejected(why)) => {
                tracing::warn!(id = %row.id, to = %row.to_addr, error = %why, "mail refused");
                mark_failed(&mailer.db, now, &row, &why).await?;
                report.failed.push(row.id);
            }
            Err(SendError::Deferred(why)) => {
                tracing::info!(id = %row.id, error = %why, "mail deferred");
                defer(&mailer.db, now, &row, &why).await?;
                report.deferred.push(row.id);
            }
            Err(SendError::Unreachable(why)) => {
                tracing::warn!(
                    transport = %mailer.transport.describe(),
                    error = %why,
                    "mail transport unreachable; messages stay queued"
                );
                defer(&mailer.db, now, &row, &why).await?;
                report.deferred.push(row.id);
                report.unreachable = Some(why);
                break;
            }
            Err(SendError::Misconfigured(why)) => {
                tracing::error!(
                    id = %row.id,
                    transport = %mailer.transport.describe(),
                    error = %why,
                    "mail cannot be sent as configured; nothing more is sent until Accord restarts with the configuration mended; messages stay queued"
                );
                misconfigured(&mailer.db, now, &row, &why).await?;
                mailer.stop(&why);
                report.deferred.push(row.id);
                report.misconfigured = Some(why);
                break;
            }
        }
    }
    Ok(report)
}

/// A message that met a configuration that cannot work: kept queued (after the usual
/// back-off) with the reason as `last_error`, and a `mail.failed` record giving it.
async fn misconfigured(
    db: &DatabaseConnection,
    now: Timestamp,
    row: &Model,
    why: &str,
) -> Result<()> {
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    defer(&txn, now, row, why).await?;
    let details = serde_json::json!({
        "error": clip(why, MAX_ERROR_CHARS),
        "configuration": true,
        "queued": "kept; delivery resumes when Accord restarts with the configuration mended",
    });
    log.append(now, event("mail.failed", row, details));
    log.commit(txn).await?;
    Ok(())
}

/// The messages a pass would take now, in the order it takes them (at most
/// [`MAX_PER_PASS`]): what a dry run lists. Nothing is claimed.
pub(super) async fn due(db: &DatabaseConnection, now: Timestamp) -> Result<Vec<Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(outbox_message::Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(Column::FailedAt.is_null())
        .filter(Column::NextAttemptAt.lte(stamp(now)))
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(MAX_PER_PASS as u64)
        .all(db)
        .await?)
}

/// The outbox as a queue of work.
const OUTBOX: Queue<outbox_message::Entity, Column> = Queue {
    table: outbox_message::Entity,
    id: Column::Id,
    next_attempt_at: Column::NextAttemptAt,
};

/// Claims the earliest due message, if any, counting the attempt.
async fn claim(db: &DatabaseConnection, now: Timestamp) -> Result<Option<Model>> {
    Ok(lease::claim(db, &claim_statement(now)).await?)
}

fn claim_statement(now: Timestamp) -> UpdateStatement {
    use sea_orm::sea_query::ExprTrait;
    let due = Condition::all()
        .add(Expr::col(Column::SentAt).is_null())
        .add(Expr::col(Column::FailedAt).is_null());
    let count = (Column::Attempts, Expr::col(Column::Attempts).add(1));
    OUTBOX.claim_statement(due, now, vec![count])
}

async fn mark_sent(db: &DatabaseConnection, now: Timestamp, row: &Model, via: &str) -> Result<()> {
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let marked = outbox_message::Entity::update_many()
        .col_expr(Column::SentAt, Expr::val(stamp(now)))
        .filter(Column::Id.eq(row.id))
        .filter(Column::SentAt.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected == 0 {
        // Its lease ran out mid-send and another pass sent it too: nothing more to record.
        tracing::warn!(id = %row.id, "mail was sent by two passes (a lease ran out)");
    } else {
        log.append(
            now,
            event("mail.sent", row, serde_json::json!({ "via": via })),
        );
    }
    log.commit(txn).await?;
    Ok(())
}

async fn mark_failed(
    db: &DatabaseConnection,
    now: Timestamp,
    row: &Model,
    why: &str,
) -> Result<()> {
    let why = clip(why, MAX_ERROR_CHARS);
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let marked = outbox_message::Entity::update_many()
        .col_expr(Column::FailedAt, Expr::val(stamp(now)))
        .col_expr(Column::LastError, Expr::val(why.clone()))
        .filter(Column::Id.eq(row.id))
        .filter(Column::SentAt.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected > 0 {
        log.append(
            now,
            event("mail.failed", row, serde_json::json!({ "error": why })),
        );
    }
    log.commit(txn).await?;
    Ok(())
}

async fn defer(
    db: &impl ConnectionTrait,
    now: Timestamp,
    row: &Model,
    why: &str,
) -> std::result::Result<(), DbErr> {
    outbox_message::Entity::update_many()
        .col_expr(
            Column::NextAttemptAt,
            Expr::val(stamp(later(now, backoff(row.attempts)))),
        )
        .col_expr(Column::LastError, Expr::val(clip(why, MAX_ERROR_CHARS)))
        .filter(Column::Id.eq(row.id))
        .filter(Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

fn event<'a>(action: &'a str, row: &Model, extra: serde_json::Value) -> Event<'a> {
    let mut details = serde_json::json!({
        "to": row.to_addr,
        "kind": row.kind,
        "subject": row.subject,
        "dedupe_key": row.dedupe_key,
        "attempts": row.attempts,
    });
    if let (Some(d), Some(extra)) = (details.as_object_mut(), extra.as_object()) {
        d.extend(extra.clone());
    }
    Event {
        actor: ACTOR,
        action,
        subject: format!("mail:{}", row.id),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_outlasts_a_whole_smtp_exchange() {
        let six_steps = 6 * transport::SMTP_TIMEOUT.as_secs() as i64;
        assert!(lease::LEASE > jiff::SignedDuration::from_secs(six_steps));
    }

    #[test]
    fn the_claim_skips_locked_rows_on_postgres() {
        use sea_orm::DbBackend;
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let stmt = claim_statement(now);
        let pg = DbBackend::Postgres.build(&stmt).to_string();
        assert_eq!(
            pg,
            r#"UPDATE "outbox_messages" SET "attempts" = "attempts" + 1, "next_attempt_at" = '2026-11-21T12:15:00.000000Z' WHERE "id" IN (SELECT "id" FROM "outbox_messages" WHERE "sent_at" IS NULL AND "failed_at" IS NULL AND "next_attempt_at" <= '2026-11-21T12:00:00.000000Z' ORDER BY "next_attempt_at" ASC, "id" ASC LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *"#
        );
        let sqlite = DbBackend::Sqlite.build(&stmt).to_string();
        assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
        assert!(
            sqlite.contains("LIMIT 1") && sqlite.ends_with(") RETURNING *"),
            "{sqlite}"
        );
    }
}
