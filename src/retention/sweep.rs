//! The sweep: due holdings → a plan → deletion requests, in one transaction with their audit
//! records and their emails, planned under the writers' lock; then webhooks are sent, and
//! failed ones retried.
//!
//! Due holdings are found through the `(state, delete_by)` index, so a sweep costs what is due,
//! not what is held.

use std::sync::Arc;

use poem_openapi::Object;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait, sea_query::Expr,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::holds::{holds_in_force, with_subjects};
use super::plan::{Group, Plan, plan};
use super::{Result, Retention, RetentionError};
use crate::agreement::ValidAgreement;
use crate::agreement::vocab::DeletionMethod;
use crate::audit::{Event, Writer};
use crate::mail::Kind;
use crate::mail::outbox::{NewMessage, enqueue};
use crate::registry::stored::find_version;
use crate::store::entity::{deletion_request, deletion_request_holding, holding};
use crate::store::time::stamp;

#[derive(Debug, Clone, Default, Serialize, Object)]
pub struct SweepReport {
    #[oai(nullable)]
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
    #[oai(nullable)]
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

/// A plan, with the deletion method of each of its groups.
struct Planned {
    plan: Plan,
    methods: Vec<DeletionMethod>,
}

impl Planned {
    fn report(&self, dry_run: bool) -> SweepReport {
        let requests = self
            .plan
            .groups
            .iter()
            .zip(&self.methods)
            .map(|(g, method)| PlannedRequest {
                request_id: None,
                agreement_id: g.agreement_id.clone(),
                version: g.version,
                holder: g.holder.clone(),
                method: method.as_str().to_owned(),
                action: g.action.clone(),
                holdings: g.holdings.clone(),
            })
            .collect();
        let held = self
            .plan
            .held
            .iter()
            .map(|(h, by)| HeldHolding {
                holding_id: *h,
                legal_holds: by.clone(),
            })
            .collect();
        SweepReport {
            dry_run,
            requests,
            held,
            ..SweepReport::default()
        }
    }
}

impl Retention {
    /// Runs the sweep now; with `dry_run`, only says what it would do.
    ///
    /// A real sweep takes the writers' lock first and then reads what is due and which holds are
    /// in force, inside its transaction: what it plans is what is still held when it writes, so
    /// two sweeps (on one instance or several, whatever their clocks) never ask for one holding
    /// twice, and a hold placed a moment before is always applied.
    /// Every real sweep, done or failed, is counted in the metrics.
    pub async fn sweep(&self, dry_run: bool) -> Result<SweepReport> {
        if dry_run {
            let now = self.clock.now();
            return Ok(self.plan_on(&self.db, now).await?.report(true));
        }
        let swept = self.sweep_now().await;
        self.metrics.swept(swept.as_ref().ok());
        swept
    }

    async fn sweep_now(&self) -> Result<SweepReport> {
        let now = self.clock.now();
        let sweep_id = Uuid::now_v7();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let planned = self.plan_on(&txn, now).await?;
        let made = self
            .make_requests(&txn, &mut log, sweep_id, &planned, now)
            .await?;
        log.commit(txn).await?;
        let mut report = planned.report(false);
        report.sweep_id = Some(sweep_id);
        for (request, id) in report.requests.iter_mut().zip(made) {
            request.request_id = Some(id);
        }
        let outcome = self.send_webhooks().await?;
        report.webhooks_sent = outcome.sent;
        report.confirmed = outcome.confirmed;
        report.escalated = outcome.escalated;
        Ok(report)
    }

    /// What is due at `now`, grouped, with the holds in force applied, read through `db`.
    async fn plan_on(&self, db: &impl ConnectionTrait, now: jiff::Timestamp) -> Result<Planned> {
        let rows = holding::Entity::find()
            .filter(holding::Column::State.eq("held"))
            .filter(holding::Column::DeleteBy.lte(stamp(now)))
            .all(db)
            .await?;
        let due = with_subjects(db, rows).await?;
        let holds = holds_in_force(db).await?;
        let plan = plan(&due, &holds);
        let mut methods = Vec::with_capacity(plan.groups.len());
        for g in &plan.groups {
            methods.push(self.method_of(db, g).await?);
        }
        Ok(Planned { plan, methods })
    }

    /// The agreement as of `version`, read through `db` (inside a sweep, its transaction: no
    /// second connection is taken while the writers' lock is held). An error is the sweep's
    /// error; the version a holding came under is stored for good, so a missing one is a fault.
    async fn version_of(
        &self,
        db: &impl ConnectionTrait,
        agreement_id: &str,
        version: i32,
    ) -> Result<Arc<ValidAgreement>> {
        let read = match find_version(db, agreement_id, version).await {
            Ok(row) => self.registry.parsed(&row),
            Err(e) => Err(e),
        };
        read.map_err(|e| match RetentionError::from(e) {
            RetentionError::Db(db) => RetentionError::Db(db),
            other => RetentionError::Internal(format!(
                "cannot read version {version} of '{agreement_id}' for a deletion request: {other}"
            )),
        })
    }

    /// How the holder asked to be sent deletion requests, per the version the data came under:
    /// never `manual` because the version could not be read just then.
    async fn method_of(&self, db: &impl ConnectionTrait, g: &Group) -> Result<DeletionMethod> {
        let agreement = self.version_of(db, &g.agreement_id, g.version).await?;
        Ok(agreement
            .party(&g.holder)
            .map_or(DeletionMethod::Manual, |p| p.deletion_method()))
    }

    /// Writes the planned requests, moves their holdings to `deletion_requested`, queues the
    /// emails and audits it all, in the sweep's transaction. Returns each request's id, in plan
    /// order.
    async fn make_requests(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        sweep_id: Uuid,
        planned: &Planned,
        now: jiff::Timestamp,
    ) -> Result<Vec<Uuid>> {
        let Planned { plan, methods } = planned;
        let mut made = Vec::with_capacity(plan.groups.len());
        for (g, &method) in plan.groups.iter().zip(methods) {
            let token = match method {
                DeletionMethod::Email => Some(super::requests::new_token()?),
                _ => None,
            };
            let id = Uuid::now_v7();
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
                .exec_without_returning(txn)
                .await?;
            request_holdings(txn, &g.holdings).await?;
            for chunk in g.holdings.chunks(1000) {
                let links = chunk.iter().map(|h| deletion_request_holding::ActiveModel {
                    request_id: Set(id),
                    holding_id: Set(*h),
                });
                deletion_request_holding::Entity::insert_many(links)
                    .exec_without_returning(txn)
                    .await?;
            }
            if let Some(token) = token {
                self.queue_email(txn, id, g, &token, now).await?;
            }
            let details = serde_json::json!({
                "request_id": id, "sweep_id": sweep_id, "holder": g.holder, "method": method,
                "action": g.action, "holdings": g.holdings, "version": g.version,
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
            made.push(id);
        }
        if !plan.held.is_empty() {
            let kept: Vec<_> = plan
                .held
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
        let agreement = self.version_of(txn, &g.agreement_id, g.version).await?;
        let Some(to) = agreement
            .party(&g.holder)
            .and_then(|p| p.deletion.as_ref()?.email.clone())
        else {
            return Ok(());
        };
        // Through the transaction: the request and its links are not committed yet.
        let facts = super::requests::facts(txn, id).await?;
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

/// Moves `ids` from `held` to `deletion_requested`. The sweep planned them under the writers'
/// lock, which every change of a holding's state takes, so all are still held; the update is
/// conditional all the same, and a shortfall undoes the sweep rather than link a holding that
/// is no longer held.
async fn request_holdings(txn: &DatabaseTransaction, ids: &[Uuid]) -> Result<()> {
    let mut moved = 0;
    for chunk in ids.chunks(1000) {
        moved += holding::Entity::update_many()
            .col_expr(holding::Column::State, Expr::value("deletion_requested"))
            .filter(holding::Column::Id.is_in(chunk.to_vec()))
            .filter(holding::Column::State.eq("held"))
            .exec(txn)
            .await?
            .rows_affected;
    }
    if moved != ids.len() as u64 {
        return Err(RetentionError::Internal(format!(
            "{} of {} holdings planned under the writers' lock were no longer held",
            ids.len() as u64 - moved.min(ids.len() as u64),
            ids.len()
        )));
    }
    Ok(())
}
