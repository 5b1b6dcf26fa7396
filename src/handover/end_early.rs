//! An officer ends a contractor's engagement early, today, with a reason. The end is recorded
//! in the registry (see `registry/engagements.rs`), and in the same transaction the
//! contractor's access ends (its tokens revoked and accounts disabled, unless it has another
//! engagement running; its holdings under the agreement due for deletion now) and its handover
//! items fall due by the engagement's new last day. The gate refuses its flows from the moment
//! the transaction commits; no party signs anything.

use sea_orm::TransactionTrait;

use super::enforce::EnforcementReport;
use super::records::{Engagement, Handover, HandoverError, Result};
use crate::agreement::lifecycle::Status;
use crate::audit::Writer;
use crate::auth::{OFFICERS, Principal};
use crate::dpia::labels::date as words;
use crate::inputs::Reason;
use crate::registry::handover_items;

impl Handover {
    /// Ends `party`'s engagement under `agreement_id` today, for `reason` (officers). Refused
    /// (`Conflict`) unless the agreement is in force (active or suspended) and the engagement
    /// is still running.
    pub async fn end_early(
        &self,
        who: &Principal,
        agreement_id: &str,
        party: &str,
        reason: &Reason,
    ) -> Result<Engagement> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let summary = self.registry.agreement(agreement_id).await?;
        if !matches!(*summary.status, Status::Active | Status::Suspended) {
            return Err(HandoverError::Conflict(format!(
                "the agreement is {}: only an engagement under an agreement in force can be \
                 ended early",
                summary.status.as_str()
            )));
        }
        let (_, agreement) = self.registry.agreement_enforced(agreement_id).await?;
        let Some(c) = agreement
            .contractors
            .iter()
            .find(|c| c.party.as_str() == party)
        else {
            return Err(HandoverError::NotFound(format!(
                "'{party}' is not a contractor of this agreement"
            )));
        };
        let today = self.today();
        if c.engagement_end < today {
            return Err(HandoverError::Conflict(format!(
                "the engagement of '{party}' has already ended: its last day was {}",
                words(c.engagement_end)
            )));
        }
        // A party with an engagement still running under another agreement keeps its tokens
        // and accounts, as at an engagement's planned end.
        let keep = self
            .registry
            .agreements_in_force()
            .await?
            .iter()
            .filter(|(_, a)| a.id.as_str() != agreement_id)
            .flat_map(|(_, a)| a.contractors.iter())
            .any(|c| c.party.as_str() == party && c.engagement_end >= today);
        let actor = who.actor();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let end = self
            .registry
            .record_engagement_end(&txn, &mut log, agreement_id, party, reason, &actor)
            .await?;
        let ended = agreement.with_ends(&[end]);
        handover_items::declare(&txn, &mut log, &ended, &actor, self.clock.now()).await?;
        let contractor = ended
            .contractors
            .iter()
            .find(|c| c.party.as_str() == party)
            .ok_or_else(|| HandoverError::NotFound(format!("no contractor '{party}'")))?;
        let mut report = EnforcementReport::default();
        self.end_access(
            &txn,
            &mut log,
            &ended,
            contractor,
            keep,
            &actor,
            &mut report,
        )
        .await?;
        self.registry
            .commit_engagement_end(txn, log, agreement_id)
            .await?;
        self.handover(who, agreement_id)
            .await?
            .engagements
            .into_iter()
            .find(|e| e.party_id == party)
            .ok_or_else(|| HandoverError::NotFound("no such engagement".into()))
    }
}
