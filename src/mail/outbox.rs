//! The outbox: messages are queued here, in the transaction of the change that causes them,
//! and a delivery pass ([`super::deliver`]) sends them later.
//!
//! A message with a dedupe key is queued at most once: a second [`enqueue`] with the same key
//! does nothing (`INSERT … ON CONFLICT (dedupe_key) DO NOTHING`, which neither fails nor
//! aborts the caller's transaction, on SQLite and on PostgreSQL) and returns `false`.

use jiff::Timestamp;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TryInsertResult,
};
use uuid::Uuid;

use super::{Composed, Kind};
use crate::store::entity::outbox_message::{self, Column};
use crate::store::time::stamp;

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// One address. (An address the mail system cannot take is not refused here, where it
    /// would undo the caller's change: delivery marks that message failed, and audits it.)
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub kind: Kind,
    /// Unique across the outbox's history; `None` never conflicts.
    pub dedupe_key: Option<String>,
}

impl NewMessage {
    pub fn new(to: &str, kind: Kind, composed: Composed) -> NewMessage {
        NewMessage {
            to: to.trim().to_owned(),
            subject: composed.subject,
            text_body: composed.body,
            html_body: None,
            kind,
            dedupe_key: None,
        }
    }

    pub fn dedupe_key(mut self, key: Option<String>) -> NewMessage {
        self.dedupe_key = key;
        self
    }
}

/// How many messages wait to be sent (neither sent nor refused for good), and when the oldest
/// of them was queued.
pub async fn waiting(db: &impl ConnectionTrait) -> Result<(u64, Option<String>), DbErr> {
    let pending = || {
        outbox_message::Entity::find()
            .filter(Column::SentAt.is_null())
            .filter(Column::FailedAt.is_null())
    };
    let depth = pending().count(db).await?;
    let oldest = pending()
        .order_by_asc(Column::CreatedAt)
        .one(db)
        .await?
        .map(|m| m.created_at);
    Ok((depth, oldest))
}

/// The error the latest attempt of a waiting message met, if any did: what is holding mail
/// back, as `accord config --check` tells it.
pub async fn latest_error(db: &impl ConnectionTrait) -> Result<Option<String>, DbErr> {
    Ok(outbox_message::Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(Column::FailedAt.is_null())
        .filter(Column::LastError.is_not_null())
        .order_by_desc(Column::NextAttemptAt)
        .one(db)
        .await?
        .and_then(|m| m.last_error))
}

/// Queues `message` inside the caller's transaction (or on a connection), due at once.
/// Returns `false`, changing nothing, when its dedupe key is already in the outbox.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    now: Timestamp,
    message: &NewMessage,
) -> Result<bool, DbErr> {
    let at = stamp(now);
    let row = outbox_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        to_addr: Set(message.to.clone()),
        subject: Set(message.subject.clone()),
        text_body: Set(message.text_body.clone()),
        html_body: Set(message.html_body.clone()),
        kind: Set(message.kind.as_str().to_owned()),
        dedupe_key: Set(message.dedupe_key.clone()),
        created_at: Set(at.clone()),
        attempts: Set(0),
        next_attempt_at: Set(at),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    };
    let inserted = outbox_message::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .try_insert()
        .exec_without_returning(txn)
        .await?;
    Ok(match inserted {
        TryInsertResult::Inserted(rows) => rows > 0,
        TryInsertResult::Conflicted | TryInsertResult::Empty => false,
    })
}

/// One message by id.
pub async fn get(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<outbox_message::Model>, DbErr> {
    outbox_message::Entity::find_by_id(id).one(db).await
}

/// One message by its dedupe key.
pub async fn by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<outbox_message::Model>, DbErr> {
    outbox_message::Entity::find()
        .filter(Column::DedupeKey.eq(key))
        .one(db)
        .await
}

/// Messages neither sent nor failed, earliest due first: what an outage is holding back.
pub async fn pending(db: &impl ConnectionTrait) -> Result<Vec<outbox_message::Model>, DbErr> {
    outbox_message::Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(Column::FailedAt.is_null())
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}
