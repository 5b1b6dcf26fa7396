//! Deletion requests after the sweep: what each covers, confirming them (by webhook reply, by
//! the one-time link in an email, or by an officer for manual ones), and listing them.

use std::collections::BTreeSet;

use jiff::Timestamp;
use poem_openapi::Object;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
    sea_query::Expr,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Result, Retention, RetentionError};
use crate::audit::{Event, Writer};
use crate::store::entity::{deletion_request, deletion_request_holding, holding, holding_subject};
use crate::store::lease::{MAX_ERROR_CHARS, backoff, clip};
use crate::store::time::{parse, stamp};

/// A one-time confirmation secret for an emailed request (only its hash is stored).
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| RetentionError::Internal(format!("cannot draw random bytes: {e}")))?;
    Ok(hex::encode(bytes))
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct DeletionRequestInfo {
    pub id: Uuid,
    pub sweep_id: Uuid,
    pub agreement_id: String,
    pub version: i32,
    pub holder: String,
    pub method: String,
    pub action: String,
    /// `requested`, `deleted` or `escalated`.
    pub status: String,
    pub attempts: i32,
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub created_at: String,
    #[oai(nullable)]
    pub confirmed_at: Option<String>,
    #[oai(nullable)]
    pub confirmed_by: Option<String>,
    pub holdings: Vec<Uuid>,
}

/// What a request covers, summed over its holdings: no personal data.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub holdings: Vec<Uuid>,
    pub fields: Vec<String>,
    pub flows: Vec<String>,
    pub purposes: Vec<String>,
    pub records: i64,
    pub subjects: i64,
    pub received_from: Option<Timestamp>,
    pub received_to: Option<Timestamp>,
    pub due_from: Option<Timestamp>,
}

pub async fn facts(db: &impl ConnectionTrait, request: Uuid) -> Result<Facts> {
    let ids: Vec<Uuid> = deletion_request_holding::Entity::find()
        .filter(deletion_request_holding::Column::RequestId.eq(request))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.holding_id)
        .collect();
    let rows = holding::Entity::find()
        .filter(holding::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let subjects: BTreeSet<String> = holding_subject::Entity::find()
        .filter(holding_subject::Column::HoldingId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.subject_ref)
        .collect();
    let mut fields = BTreeSet::new();
    let (mut flows, mut purposes) = (BTreeSet::new(), BTreeSet::new());
    let mut f = Facts {
        holdings: ids,
        subjects: subjects.len() as i64,
        ..Facts::default()
    };
    for h in rows {
        fields.extend(serde_json::from_str::<Vec<String>>(&h.fields).unwrap_or_default());
        flows.insert(h.flow_id);
        purposes.insert(h.purpose);
        f.records += i64::from(h.record_count);
        let received = parse(&h.received_at);
        f.received_from = min(f.received_from, received);
        f.received_to = max(f.received_to, received);
        f.due_from = min(f.due_from, h.delete_by.as_deref().and_then(parse));
    }
    f.fields = fields.into_iter().collect();
    f.flows = flows.into_iter().collect();
    f.purposes = purposes.into_iter().collect();
    Ok(f)
}

fn min(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl Retention {
    /// Marks a request done and its holdings deleted (audited). `Conflict` unless it is open,
    /// and while a legal hold in force covers any of its holdings (a hold placed after the
    /// request was made): the refusal is audited, since the holder may already have deleted
    /// what the hold keeps, and nothing else changes.
    pub async fn confirm(&self, id: Uuid, by: &str) -> Result<DeletionRequestInfo> {
        use deletion_request::Column as C;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let row = deletion_request::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| RetentionError::NotFound(format!("no deletion request {id}")))?;
        if row.status == "deleted" {
            return Err(RetentionError::Conflict(format!(
                "deletion request {id} is already confirmed"
            )));
        }
        let subject = format!("agreement:{}", row.agreement_id);
        let facts = facts(&txn, id).await?;
        let keeping = super::holds::keeping(&txn, &facts.holdings).await?;
        if !keeping.is_empty() {
            let details = serde_json::json!({ "request_id": id, "by": by, "legal_holds": keeping });
            log.append(
                now,
                Event {
                    actor: by,
                    action: "deletion.confirm_refused",
                    subject,
                    details,
                },
            );
            log.commit(txn).await?;
            let holds: Vec<String> = keeping.iter().map(Uuid::to_string).collect();
            return Err(RetentionError::Conflict(format!(
                "deletion request {id} cannot be confirmed: legal hold {} covers data it names; \
                 keep the data until the hold is released",
                holds.join(", ")
            )));
        }
        deletion_request::Entity::update_many()
            .col_expr(C::Status, Expr::value("deleted"))
            .col_expr(C::ConfirmedAt, Expr::value(stamp(now)))
            .col_expr(C::ConfirmedBy, Expr::value(by))
            .col_expr(C::TokenHash, Expr::value(Option::<String>::None))
            .col_expr(C::NextAttemptAt, Expr::value(Option::<String>::None))
            .filter(C::Id.eq(id))
            .filter(C::Status.ne("deleted"))
            .exec(&txn)
            .await?;
        for chunk in facts.holdings.chunks(1000) {
            holding::Entity::update_many()
                .col_expr(holding::Column::State, Expr::value("deleted"))
                .filter(holding::Column::Id.is_in(chunk.to_vec()))
                .filter(holding::Column::State.is_in(["deletion_requested", "escalated"]))
                .exec(&txn)
                .await?;
        }
        let month = crate::transparency::counts::month_of(now);
        let deleted = [0, 0, facts.records];
        crate::transparency::counts::add(&txn, &row.agreement_id, &month, deleted).await?;
        let details =
            serde_json::json!({ "request_id": id, "confirmed_by": by, "holdings": facts.holdings });
        log.append(
            now,
            Event {
                actor: by,
                action: "deletion.confirmed",
                subject,
                details,
            },
        );
        log.commit(txn).await?;
        self.request(id).await
    }

    /// Confirms the request whose one-time email token this is.
    pub async fn confirm_token(&self, token: &str) -> Result<DeletionRequestInfo> {
        let hash = hex::encode(Sha256::digest(token.trim().as_bytes()));
        let row = deletion_request::Entity::find()
            .filter(deletion_request::Column::TokenHash.eq(hash))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                RetentionError::NotFound(
                    "this confirmation link is not valid, or was already used".into(),
                )
            })?;
        self.confirm(row.id, &format!("{} (by the emailed link)", row.holder))
            .await
    }

    pub async fn request(&self, id: Uuid) -> Result<DeletionRequestInfo> {
        let row = deletion_request::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| RetentionError::NotFound(format!("no deletion request {id}")))?;
        let holdings = facts(&self.db, id).await?.holdings;
        Ok(info(row, holdings))
    }

    /// Requests, newest first, filtered by status, holder, agreement and method.
    pub async fn requests(
        &self,
        status: Option<&str>,
        holder: Option<&str>,
        agreement: Option<&str>,
        method: Option<&str>,
    ) -> Result<Vec<DeletionRequestInfo>> {
        use deletion_request::Column as C;
        let mut q = deletion_request::Entity::find().order_by_desc(C::CreatedAt);
        for (col, value) in [
            (C::Status, status),
            (C::Holder, holder),
            (C::AgreementId, agreement),
            (C::Method, method),
        ] {
            if let Some(v) = value {
                q = q.filter(col.eq(v));
            }
        }
        let mut out = Vec::new();
        for row in q.all(&self.db).await? {
            let holdings = facts(&self.db, row.id).await?.holdings;
            out.push(info(row, holdings));
        }
        Ok(out)
    }

    /// One page of requests, newest first, with how many match: by `status` and `method`
    /// (through the `(status, …)` index), each with what it covers.
    pub async fn requests_page(
        &self,
        status: Option<&str>,
        method: Option<&str>,
        paging: crate::registry::queries::Paging,
    ) -> Result<(Vec<DeletionRequestInfo>, u64)> {
        use deletion_request::Column as C;
        use sea_orm::{PaginatorTrait, QuerySelect};
        let mut q = deletion_request::Entity::find();
        if let Some(s) = status {
            q = q.filter(C::Status.eq(s));
        }
        if let Some(m) = method {
            q = q.filter(C::Method.eq(m));
        }
        let total = q.clone().count(&self.db).await?;
        let rows = q
            .order_by_desc(C::CreatedAt)
            .offset(paging.offset())
            .limit(paging.per_page)
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let holdings = facts(&self.db, row.id).await?.holdings;
            out.push(info(row, holdings));
        }
        Ok((out, total))
    }

    /// Records a failed attempt: the next one waits as mail does ([`backoff`]: 1 minute, 2, 4
    /// …); gives up (escalates) after `MAX_ATTEMPTS`. Returns whether it escalated.
    ///
    /// `row` is the request as claimed for this attempt. If it changed since (confirmed by an
    /// officer or the emailed link while the post failed), nothing is recorded: a failure never
    /// reopens or escalates a confirmed request.
    pub(crate) async fn failed(&self, row: &deletion_request::Model, error: &str) -> Result<bool> {
        use deletion_request::Column as C;
        const MAX_ATTEMPTS: i32 = 5;
        let now = self.clock.now();
        let attempts = row.attempts + 1;
        let escalate = attempts >= MAX_ATTEMPTS;
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let error = clip(error, MAX_ERROR_CHARS);
        let retry_at = now.checked_add(backoff(attempts)).unwrap_or(Timestamp::MAX);
        let status = if escalate { "escalated" } else { "requested" };
        let recorded = deletion_request::Entity::update_many()
            .col_expr(C::Attempts, Expr::value(attempts))
            .col_expr(C::LastError, Expr::value(error.clone()))
            .col_expr(
                C::NextAttemptAt,
                Expr::value((!escalate).then(|| stamp(retry_at))),
            )
            .col_expr(C::Status, Expr::value(status))
            .filter(C::Id.eq(row.id))
            .filter(C::Status.eq("requested"))
            .filter(C::Attempts.eq(row.attempts))
            .exec(&txn)
            .await?;
        if recorded.rows_affected == 0 {
            tracing::info!(request = %row.id, "deletion request changed during a failed attempt; not recorded");
            txn.rollback().await?;
            return Ok(false);
        }
        if escalate {
            let covered = facts(&txn, row.id).await?.holdings;
            holding::Entity::update_many()
                .col_expr(holding::Column::State, Expr::value("escalated"))
                .filter(holding::Column::Id.is_in(covered))
                .filter(holding::Column::State.eq("deletion_requested"))
                .exec(&txn)
                .await?;
        }
        let action = if escalate {
            "deletion.escalated"
        } else {
            "deletion.attempt_failed"
        };
        let details =
            serde_json::json!({ "request_id": row.id, "attempts": attempts, "error": error });
        log.append(
            now,
            Event {
                actor: "retention sweep",
                action,
                subject: format!("agreement:{}", row.agreement_id),
                details,
            },
        );
        if escalate {
            self.queue_escalation(&txn, row, attempts, &error, now)
                .await?;
        }
        log.commit(txn).await?;
        Ok(escalate)
    }

    async fn queue_escalation(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        row: &deletion_request::Model,
        attempts: i32,
        error: &str,
        now: Timestamp,
    ) -> Result<()> {
        let (_, agreement) = self
            .registry
            .agreement_at(&row.agreement_id, Some(row.version))
            .await?;
        let escalation = crate::mail::compose::Escalation {
            summary: format!("Deletion request to {} failed {attempts} times", row.holder),
            details: format!(
                "Accord asked {} by webhook to {} the data it holds under this agreement (request {}). \
                 The last attempt failed: {}",
                row.holder, row.action, row.id, error
            ),
            action: "Contact the holder, arrange deletion, and confirm the request in Accord."
                .to_owned(),
        };
        let composed = self
            .templates
            .escalation(&agreement, row.version, &escalation)
            .map_err(|e| RetentionError::Internal(e.to_string()))?;
        let key = format!("escalation:deletion:{}", row.id);
        let messages = crate::mail::compose::to_recipients(
            &agreement,
            crate::mail::Kind::Escalation,
            &composed,
            Some(&key),
        );
        for message in messages {
            crate::mail::outbox::enqueue(txn, now, &message).await?;
        }
        Ok(())
    }
}

fn info(r: deletion_request::Model, holdings: Vec<Uuid>) -> DeletionRequestInfo {
    DeletionRequestInfo {
        id: r.id,
        sweep_id: r.sweep_id,
        agreement_id: r.agreement_id,
        version: r.version,
        holder: r.holder,
        method: r.method,
        action: r.action,
        status: r.status,
        attempts: r.attempts,
        last_error: r.last_error,
        created_at: r.created_at,
        confirmed_at: r.confirmed_at,
        confirmed_by: r.confirmed_by,
        holdings,
    }
}
