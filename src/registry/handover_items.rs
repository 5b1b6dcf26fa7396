//! The handover items an agreement declares, written when the agreement changes: when a version
//! comes into force, and when an engagement is ended early. Each write is in the transaction of
//! the change, with an audit record, so reading the handover never writes (a GET never does).
//!
//! Which items a version declares, and when each is due, is the pure core's
//! (`handover::items::declared`); this writes them. The handover's own use cases (an officer
//! adding an item, completing an engagement) and its daily job call the same function, so an
//! agreement in force before this rule arrived gets its items on the next change or job run.

use std::collections::HashMap;

use jiff::Timestamp;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use uuid::Uuid;

use crate::agreement::model::Agreement;
use crate::audit::{Event, Writer};
use crate::handover::items::{self, Declared, State};
use crate::store::entity::handover_item as item;
use crate::store::time::stamp;

/// Makes the rows for every item `agreement` declares that has none yet, and brings a declared
/// item's kind, title and due date up to date with a newer version (unless it was accepted).
/// Idempotent, and safe on several instances at once (the unique key decides). When it changed
/// anything, `log` gets one `handover.items_declared` record under `actor`. Returns every item
/// row of the agreement.
pub(crate) async fn declare(
    db: &impl ConnectionTrait,
    log: &mut Writer,
    agreement: &Agreement,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<item::Model>, sea_orm::DbErr> {
    let id = agreement.id.as_str();
    let declared = items::declared(agreement);
    let existing = rows(db, id).await?;
    let by_key: HashMap<(&str, &str), &item::Model> = existing
        .iter()
        .map(|r| ((r.party_id.as_str(), r.item_key.as_str()), r))
        .collect();
    let at = stamp(now);
    let mut fresh = Vec::new();
    let mut updated = 0usize;
    for d in &declared {
        match by_key.get(&(d.party.as_str(), d.key.as_str())) {
            None => fresh.push(new_row(agreement, d, &at)),
            Some(r) if r.declared && r.state != State::Accepted.as_str() => {
                let due = d.due.to_string();
                if r.due != due || r.title != d.title || r.kind != d.kind.as_str() {
                    let mut m = (*r).clone().into_active_model();
                    m.due = Set(due);
                    m.title = Set(d.title.clone());
                    m.kind = Set(d.kind.as_str().to_owned());
                    m.updated_at = Set(at.clone());
                    m.update(db).await?;
                    updated += 1;
                }
            }
            Some(_) => {}
        }
    }
    if fresh.is_empty() && updated == 0 {
        return Ok(existing);
    }
    let created = fresh.len();
    if !fresh.is_empty() {
        item::Entity::insert_many(fresh)
            .on_conflict(
                OnConflict::columns([
                    item::Column::AgreementId,
                    item::Column::PartyId,
                    item::Column::ItemKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    log.append(
        now,
        Event {
            actor,
            action: "handover.items_declared",
            subject: format!("agreement:{id}"),
            details: serde_json::json!({ "created": created, "updated": updated }),
        },
    );
    rows(db, id).await
}

/// Every item row of the agreement `id`, as stored. Reads only.
pub(crate) async fn rows(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Vec<item::Model>, sea_orm::DbErr> {
    item::Entity::find()
        .filter(item::Column::AgreementId.eq(id))
        .all(db)
        .await
}

/// A new row for the item `d` of `agreement`: open, declared, owned by the agreement's owner.
pub(crate) fn new_row(agreement: &Agreement, d: &Declared, now: &str) -> item::ActiveModel {
    item::ActiveModel {
        id: Set(Uuid::now_v7()),
        agreement_id: Set(agreement.id.as_str().to_owned()),
        party_id: Set(d.party.clone()),
        item_key: Set(d.key.clone()),
        kind: Set(d.kind.as_str().to_owned()),
        title: Set(d.title.clone()),
        owner_name: Set(agreement.owner.name.clone()),
        owner_email: Set(agreement.owner.email.as_str().to_owned()),
        due: Set(d.due.to_string()),
        state: Set(State::Open.as_str().to_owned()),
        declared: Set(true),
        latest: Set(0),
        created_at: Set(now.to_owned()),
        updated_at: Set(now.to_owned()),
        accepted_at: Set(None),
        accepted_by: Set(None),
    }
}
