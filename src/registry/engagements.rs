//! Contractors' engagements ended early by an officer: recorded once, never removed, and
//! applied to every version of the agreement (see `agreement::engagement`). The gate's index
//! and [`Registry::agreement_enforced`] read the agreement with its ends applied; a new version
//! or a signature that would let an ended engagement run on is refused.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::civil::Date;
use poem_openapi::Object;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde::Serialize;

use super::gate_index::Touched;
use super::{Registry, RegistryError, Result};
use crate::agreement::ValidAgreement;
use crate::agreement::engagement::{EarlyEnd, outlasting};
use crate::agreement::model::Agreement;
use crate::audit::{Event, Writer};
use crate::dpia::labels::date as words;
use crate::inputs::Reason;
use crate::store::entity::engagement_end;
use crate::store::time::stamp;

/// An engagement an officer ended early.
#[derive(Debug, Clone, Serialize, Object)]
pub struct EndedEarly {
    /// `YYYY-MM-DD`: the day it ended; the day before was its last.
    pub ended_on: String,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

impl From<engagement_end::Model> for EndedEarly {
    fn from(m: engagement_end::Model) -> Self {
        EndedEarly {
            ended_on: m.ended_on,
            reason: m.reason,
            recorded_by: m.recorded_by,
            recorded_at: m.recorded_at,
        }
    }
}

impl Registry {
    /// The agreement's current version (in force, else the newest) as enforced: with the
    /// engagements ended early applied.
    pub async fn agreement_enforced(&self, id: &str) -> Result<(i32, Arc<ValidAgreement>)> {
        let (number, a) = self.agreement_at(id, None).await?;
        let ends = ends_of(&self.db, id).await?;
        Ok((number, applied(a, &ends)))
    }

    /// The engagements of `agreement_id` ended early, by party.
    pub async fn ended_early(&self, agreement_id: &str) -> Result<HashMap<String, EndedEarly>> {
        Ok(rows_of(&self.db, agreement_id)
            .await?
            .into_iter()
            .map(|m| (m.party_id.clone(), m.into()))
            .collect())
    }

    /// Records, in the caller's transaction (which holds the writers' lock: `log` was begun
    /// on it), that `party`'s engagement under `agreement_id` ended `today`. Refused if it was
    /// already ended early. Commit with [`Registry::commit_engagement_end`].
    pub(crate) async fn record_engagement_end(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        agreement_id: &str,
        party: &str,
        why: &Reason,
        actor: &str,
    ) -> Result<EarlyEnd> {
        let why = why.as_str().to_owned();
        let now = self.clock.now();
        let today = self.clock.today();
        let existing =
            engagement_end::Entity::find_by_id((agreement_id.to_owned(), party.to_owned()))
                .one(txn)
                .await?;
        if let Some(e) = existing {
            let on = e.ended_on.parse().map_or(e.ended_on.clone(), words);
            return Err(RegistryError::Conflict(format!(
                "the engagement of '{party}' under '{agreement_id}' was already ended on {on}"
            )));
        }
        engagement_end::Entity::insert(engagement_end::ActiveModel {
            agreement_id: Set(agreement_id.to_owned()),
            party_id: Set(party.to_owned()),
            ended_on: Set(today.to_string()),
            reason: Set(why.clone()),
            recorded_by: Set(actor.to_owned()),
            recorded_at: Set(stamp(now)),
        })
        .exec_without_returning(txn)
        .await?;
        let end = EarlyEnd {
            party: party.to_owned(),
            ended_on: today,
        };
        log.append(
            now,
            Event {
                actor,
                action: "engagement.ended_early",
                subject: format!("agreement:{agreement_id}"),
                details: serde_json::json!({
                    "party": party, "ended_on": today.to_string(),
                    "last_day": end.last_day().to_string(), "reason": why,
                }),
            },
        );
        Ok(end)
    }

    /// Commits an engagement's end recorded in `txn`, with whatever the caller did beside it,
    /// and updates the gate's index at once.
    pub(crate) async fn commit_engagement_end(
        &self,
        txn: DatabaseTransaction,
        log: Writer,
        agreement_id: &str,
    ) -> Result<()> {
        self.commit_change(txn, log, Touched::Agreements(&[agreement_id.to_owned()]))
            .await
    }
}

/// `a` with `ends` applied (itself when there are none).
pub(super) fn applied(a: Arc<ValidAgreement>, ends: &[EarlyEnd]) -> Arc<ValidAgreement> {
    if ends.is_empty() {
        a
    } else {
        Arc::new(a.with_ends(ends))
    }
}

async fn rows_of(
    db: &impl ConnectionTrait,
    agreement_id: &str,
) -> Result<Vec<engagement_end::Model>> {
    Ok(engagement_end::Entity::find()
        .filter(engagement_end::Column::AgreementId.eq(agreement_id))
        .all(db)
        .await?)
}

fn early_end(m: &engagement_end::Model) -> Result<EarlyEnd> {
    let ended_on: Date = m.ended_on.parse().map_err(|_| {
        RegistryError::Conflict(format!(
            "a stored engagement end is not a date: {}",
            m.ended_on
        ))
    })?;
    Ok(EarlyEnd {
        party: m.party_id.clone(),
        ended_on,
    })
}

/// The engagements of one agreement ended early.
pub(super) async fn ends_of(
    db: &impl ConnectionTrait,
    agreement_id: &str,
) -> Result<Vec<EarlyEnd>> {
    rows_of(db, agreement_id)
        .await?
        .iter()
        .map(early_end)
        .collect()
}

/// Every engagement ended early, by agreement.
pub(super) async fn all_ends(db: &impl ConnectionTrait) -> Result<HashMap<String, Vec<EarlyEnd>>> {
    let mut out: HashMap<String, Vec<EarlyEnd>> = HashMap::new();
    for m in engagement_end::Entity::find().all(db).await? {
        let end = early_end(&m)?;
        out.entry(m.agreement_id).or_default().push(end);
    }
    Ok(out)
}

/// Refuses a version of `a` that lets an engagement ended early run on; `what` says what was
/// refused.
pub(super) async fn carries_ends(
    db: &impl ConnectionTrait,
    a: &Agreement,
    what: &str,
) -> Result<()> {
    let ends = ends_of(db, a.id.as_str()).await?;
    let Some(o) = outlasting(a, &ends).into_iter().next() else {
        return Ok(());
    };
    Err(RegistryError::Conflict(format!(
        "{what}: the engagement of contractor '{}' was ended early, so its last day was {}, \
         but this version gives engagement_end {}. Give {} or earlier as its engagement_end, \
         with each of its handover items due by then, and save that as a new version",
        o.party,
        words(o.last_day),
        o.says,
        o.last_day
    )))
}
