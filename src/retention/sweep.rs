//! The sweep: due holdings → a plan → deletion requests, in one transaction with their audit
//! records and their emails; then webhooks are sent, and failed ones retried.
//!
//! Due holdings are found through the `(state, delete_by)` index, so a sweep costs what is due,
//! not what is held.

use std::collections::HashMap;

use poem_openapi::Object;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::Expr,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::plan::{DueHolding, Group, Hold, plan};
use super::{Result, Retention, RetentionError};
use crate::agreement::vocab::DeletionMethod;
use crate::audit::{Event, Writer};
use crate::mail::Kind;
use crate::mail::outbox::{NewMessage, enqueue};
use crate::store::entity::{
    deletion_request, deletion_request_holding, holding, holding_subject, legal_hold,
};
use crate::store::time::stamp;

#[derive(Debug, Clone, Default, Serialize, Object)]
pub struct SweepReport {
    pub sweep_id: Option<Uuid>,
    pub dry_run: bool,
    /// Deletion requests made (or, in a dry run, that would be made).
    pub requests: Vec<PlannedRequest>,
    /// Holdings past their date that a legal hold keeps.
    pub held: Vec<HeldHolding>,
    /// Webhook requests sent or retried, and how many were confirmed or escalated.
    pub webhooks_sent: usize,
    pub confirmed: usize,
    pub escalated: usize,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct PlannedRequest {
    pub request_id: Option<Uuid>,
    pub agreement_id: String,
    pub version: i32,
    pub holder: String,
    pub method: String,
    pub action: String,
    pub holdings: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct HeldHolding {
    pub holding_id: Uuid,
    pub legal_holds: Vec<Uuid>,
}

impl Retention {
    /// Runs the sweep now; with `dry_run`, only says what it would do.
    pub async fn sweep(&self, dry_run: bool) -> Result<SweepReport> {
        let due = self.due_holdings().await?;
        let holds = self.holds_in_force().await?;
        let plan = plan(&due, &holds);
        let mut report = SweepReport {
            dry_run,
            held: plan
                .held
                .iter()
                .map(|(h, by)| HeldHolding {
                    holding_id: *h,
                    legal_holds: by.clone(),
                })
                .collect(),
            ..SweepReport::default()
        };
        let mut methods = Vec::with_capacity(plan.groups.len());
        for g in &plan.groups {
            let method = self.method_of(g).await?;
            methods.push(method);
            report.requests.push(PlannedRequest {
                request_id: None,
                agreement_id: g.agreement_id.clone(),
                version: g.version,
                holder: g.holder.clone(),
                method: method.as_str().to_owned(),
                action: g.action.clone(),
                holdings: g.holdings.clone(),
            });
        }
        if dry_run {
            return Ok(report);
        }
        let sweep_id = Uuid::now_v7();
        report.sweep_id = Some(sweep_id);
        let made = self
            .make_requests(sweep_id, &plan.groups, &methods, &plan.held)
            .await?;
        let planned = std::mem::take(&mut report.requests);
        for (mut request, outcome) in planned.into_iter().zip(made) {
            if let Some((id, holdings)) = outcome {
                request.request_id = Some(id);
                request.holdings = holdings;
                report.requests.push(request);
            }
        }
        let outcome = self.send_webhooks().await?;
        report.webhooks_sent = outcome.sent;
        report.confirmed = outcome.confirmed;
        report.escalated = outcome.escalated;
        Ok(report)
    }

    async fn due_holdings(&self) -> Result<Vec<DueHolding>> {
        let now = stamp(self.clock.now());
        let rows = holding::Entity::find()
            .filter(holding::Column::State.eq("held"))
            .filter(holding::Column::DeleteBy.lte(now))
            .all(&self.db)
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|h| h.id).collect();
        let mut subjects: HashMap<Uuid, Vec<String>> = HashMap::new();
        for chunk in ids.chunks(1000) {
            let found = holding_subject::Entity::find()
                .filter(holding_subject::Column::HoldingId.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?;
            for s in found {
                subjects
                    .entry(s.holding_id)
                    .or_default()
                    .push(s.subject_ref);
            }
        }
        Ok(rows
            .into_iter()
            .map(|h| DueHolding {
                subject_refs: subjects.remove(&h.id).unwrap_or_default(),
                id: h.id,
                agreement_id: h.agreement_id,
                version: h.version,
                holder: h.holder,
                from_party: h.from_party,
                then: h.then_action,
            })
            .collect())
    }

    async fn holds_in_force(&self) -> Result<Vec<Hold>> {
        let rows = legal_hold::Entity::find()
            .filter(legal_hold::Column::ReleasedAt.is_null())
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|h| Hold {
                id: h.id,
                agreement_id: h.agreement_id,
                party_id: h.party_id,
                subject_ref: h.subject_ref,
            })
            .collect())
    }

    /// How the holder asked to be sent deletion requests, per the version the data came under.
    /// An error is the sweep's error: a request is recorded with the method the holder
    /// declared, never with `manual` because the version could not be read just then.
    async fn method_of(&self, g: &Group) -> Result<DeletionMethod> {
        let (_, agreement) = self
            .registry
            .agreement_at(&g.agreement_id, Some(g.version))
            .await
            .map_err(|e| match RetentionError::from(e) {
                RetentionError::Db(db) => RetentionError::Db(db),
                // The version a holding came under is stored for good: missing, it is a fault.
                other => RetentionError::Internal(format!(
                    "cannot read version {} of '{}' for a deletion request: {other}",
                    g.version, g.agreement_id
                )),
            })?;
        Ok(agreement
            .party(&g.holder)
            .map_or(DeletionMethod::Manual, |p| p.deletion_method()))
    }

    /// Writes the requests, moves their holdings to `deletion_requested`, queues the emails and
    /// audits it all, in one transaction. Returns, in plan order, each request made with the
    /// holdings it covers (`None` where another instance had already requested them all).
    async fn make_requests(
        &self,
        sweep_id: Uuid,
        groups: &[Group],
        methods: &[DeletionMethod],
        held: &[(Uuid, Vec<Uuid>)],
    ) -> Result<Vec<Option<(Uuid, Vec<Uuid>)>>> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let mut made = Vec::with_capacity(groups.len());
        for (g, &method) in groups.iter().zip(methods) {
            let token = match method {
                DeletionMethod::Email => Some(super::requests::new_token()?),
                _ => None,
            };
            let id = Uuid::now_v7();
            let claimed = claim_holdings(&txn, &g.holdings).await?;
            if claimed.is_empty() {
                // Another instance's sweep requested them first.
                made.push(None);
                continue;
            }
            let row = deletion_request::ActiveModel {
                id: Set(id),
                sweep_id: Set(sweep_id),
                agreement_id: Set(g.agreement_id.clone()),
                version: Set(g.version),
                holder: Set(g.holder.clone()),
                method: Set(method.as_str().to_owned()),
                action: Set(g.action.clone()),
                status: Set("requested".to_owned()),
                token_hash: Set(token
                    .as_ref()
                    .map(|t| hex::encode(Sha256::digest(t.as_bytes())))),
                attempts: Set(0),
                next_attempt_at: Set((method == DeletionMethod::Webhook).then(|| stamp(now))),
                last_error: Set(None),
                created_at: Set(stamp(now)),
                confirmed_at: Set(None),
                confirmed_by: Set(None),
            };
            deletion_request::Entity::insert(row)
                .exec_without_returning(&txn)
                .await?;
            let links = g
                .holdings
                .iter()
                .map(|h| deletion_request_holding::ActiveModel {
                    request_id: Set(id),
                    holding_id: Set(*h),
                });
            deletion_request_holding::Entity::insert_many(links)
                .exec_without_returning(&txn)
                .await?;
            if let Some(token) = token {
                self.queue_email(&txn, id, g, &token, now).await?;
            }
            let details = serde_json::json!({
                "request_id": id, "sweep_id": sweep_id, "holder": g.holder, "method": method,
                "action": g.action, "holdings": claimed, "version": g.version,
            });
            let subject = format!("agreement:{}", g.agreement_id);
            log.append(
                now,
                Event {
                    actor: "retention sweep",
                    action: "deletion.requested",
                    subject,
                    details,
                },
            );
            made.push(Some((id, claimed)));
        }
        if !held.is_empty() {
            let kept: Vec<_> = held
                .iter()
                .map(|(h, by)| serde_json::json!({ "holding": h, "holds": by }))
                .collect();
            let details = serde_json::json!({ "sweep_id": sweep_id, "held": kept });
            let event = Event {
                actor: "retention sweep",
                action: "deletion.held",
                subject: format!("sweep:{sweep_id}"),
                details,
            };
            log.append(now, event);
        }
        log.commit(txn).await?;
        Ok(made)
    }

    async fn queue_email(
        &self,
        txn: &DatabaseTransaction,
        id: Uuid,
        g: &Group,
        token: &str,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let (_, agreement) = self
            .registry
            .agreement_at(&g.agreement_id, Some(g.version))
            .await?;
        let Some(to) = agreement
            .party(&g.holder)
            .and_then(|p| p.deletion.as_ref()?.email.clone())
        else {
            return Ok(());
        };
        let facts = super::requests::facts(&self.db, id).await?;
        let request = crate::mail::compose::DeletionRequest {
            holder: g.holder.clone(),
            reference: id.to_string(),
            flow_id: facts.flows.join(", "),
            purpose: facts.purposes.join(", "),
            fields: facts.fields.clone(),
            record_count: facts.records,
            received_on: facts
                .received_from
                .map_or(crate::clock::london_date(now), crate::clock::london_date),
            delete_by: facts
                .due_from
                .map_or(crate::clock::london_date(now), crate::clock::london_date),
            then_action: g.action.clone(),
            confirm_url: format!("{}/api/v1/deletions/confirm?token={token}", self.public_url),
        };
        let composed = self
            .templates
            .deletion_request(&agreement, g.version, &request)
            .map_err(|e| super::RetentionError::Internal(e.to_string()))?;
        let message = NewMessage::new(to.as_str(), Kind::DeletionRequest, composed)
            .dedupe_key(Some(format!("deletion-request:{id}")));
        enqueue(txn, now, &message).await?;
        Ok(())
    }
}

/// Moves those of `ids` still `held` to `deletion_requested`, and returns them. Every sweep
/// holds the writers' lock, so no other sweep changes these rows until this one commits.
async fn claim_holdings(txn: &DatabaseTransaction, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    let mut claimed = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let held: Vec<Uuid> = holding::Entity::find()
            .filter(holding::Column::Id.is_in(chunk.to_vec()))
            .filter(holding::Column::State.eq("held"))
            .all(txn)
            .await?
            .into_iter()
            .map(|h| h.id)
            .collect();
        holding::Entity::update_many()
            .col_expr(holding::Column::State, Expr::value("deletion_requested"))
            .filter(holding::Column::Id.is_in(held.clone()))
            .exec(txn)
            .await?;
        claimed.extend(held);
    }
    Ok(claimed)
}
