//! Deletion requests by webhook: a JSON POST signed with HMAC-SHA256 under the holder's secret
//! (`X-Accord-Signature: sha256=<hex>` over the exact body). A 2xx answer that quotes the
//! request id confirms it; anything else is retried with backoff, then escalated.
//!
//! Each due request is claimed before it is posted, as mail is, through
//! [`crate::store::lease`]: overlapping sweeps, on one instance or several, post each request
//! once; a pass that dies mid-post leaves the request to go again when the lease ends.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Condition, Expr, UpdateStatement};
use sha2::Sha256;

use super::requests::facts;
use super::{Result, Retention, RetentionError};
use crate::store::entity::deletion_request::{self, Column, Model};
use crate::store::lease::{self, Queue};

/// A pass stops after claiming this many requests; the next sweep carries on.
pub const MAX_PER_PASS: usize = 1000;

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub sent: usize,
    pub confirmed: usize,
    pub escalated: usize,
}

impl Retention {
    /// Sends every open webhook request whose next attempt is due, each claimed first.
    pub async fn send_webhooks(&self) -> Result<Outcome> {
        let mut outcome = Outcome::default();
        for _ in 0..MAX_PER_PASS {
            let Some(row) = claim(&self.db, self.clock.now()).await? else {
                break;
            };
            let covered = facts(&self.db, row.id).await?.holdings;
            let keeping = super::holds::keeping(&self.db, &covered).await?;
            if !keeping.is_empty() {
                // Not asked again while a hold keeps its data; looked at again after the lease.
                tracing::info!(request = %row.id, holds = ?keeping, "deletion webhook held back by a legal hold");
                continue;
            }
            outcome.sent += 1;
            match self.post(&row).await {
                Ok(()) => match self
                    .confirm(row.id, &format!("{} (webhook)", row.holder))
                    .await
                {
                    Ok(_) => outcome.confirmed += 1,
                    // Confirmed meanwhile by other means (an officer, the emailed link): done.
                    Err(RetentionError::Conflict(why)) => {
                        tracing::info!(request = %row.id, reason = %why, "webhook answer not recorded");
                    }
                    Err(e) => return Err(e),
                },
                Err(why) => {
                    tracing::warn!(request = %row.id, holder = %row.holder, error = %why, "deletion webhook failed");
                    if self.failed(&row, &why).await? {
                        outcome.escalated += 1;
                    }
                }
            }
        }
        Ok(outcome)
    }

    async fn post(&self, row: &Model) -> std::result::Result<(), String> {
        let (_, agreement) = self
            .registry
            .agreement_at(&row.agreement_id, Some(row.version))
            .await
            .map_err(|e| e.to_string())?;
        let url = agreement
            .party(&row.holder)
            .and_then(|p| p.deletion.as_ref()?.url.clone())
            .ok_or_else(|| format!("party '{}' declares no webhook url", row.holder))?;
        let secret = self
            .secrets
            .get(&row.holder)
            .ok_or_else(|| format!("no webhook secret is configured for party '{}'", row.holder))?;
        let f = facts(&self.db, row.id).await.map_err(|e| e.to_string())?;
        let body = serde_json::json!({
            "request_id": row.id, "agreement": row.agreement_id, "version": row.version,
            "holder": row.holder, "action": row.action, "holdings": f.holdings,
            "fields": f.fields, "records": f.records, "subjects": f.subjects,
        });
        let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let resp = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-accord-request-id", row.id.to_string())
            .header("x-accord-signature", signature(secret, &bytes))
            .body(bytes)
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        if !text.contains(&row.id.to_string()) {
            return Err(format!(
                "{url} answered {status} without quoting the request id"
            ));
        }
        Ok(())
    }
}

/// Deletion requests as a queue of work.
const REQUESTS: Queue<deletion_request::Entity, Column> = Queue {
    table: deletion_request::Entity,
    id: Column::Id,
    next_attempt_at: Column::NextAttemptAt,
};

/// Claims the earliest due webhook request, if any (see the module's notes).
async fn claim(db: &impl ConnectionTrait, now: Timestamp) -> Result<Option<Model>> {
    Ok(lease::claim(db, &claim_statement(now)).await?)
}

fn claim_statement(now: Timestamp) -> UpdateStatement {
    use sea_orm::sea_query::ExprTrait;
    let due = Condition::all()
        .add(Expr::col(Column::Method).eq("webhook"))
        .add(Expr::col(Column::Status).eq("requested"));
    REQUESTS.claim_statement(due, now, Vec::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_claim_skips_locked_rows_on_postgres() {
        use sea_orm::DbBackend;
        let now: jiff::Timestamp = "2029-01-02T09:00:00Z".parse().unwrap();
        let stmt = super::claim_statement(now);
        let pg = DbBackend::Postgres.build(&stmt).to_string();
        assert_eq!(
            pg,
            r#"UPDATE "deletion_requests" SET "next_attempt_at" = '2029-01-02T09:15:00.000000Z' WHERE "id" IN (SELECT "id" FROM "deletion_requests" WHERE "method" = 'webhook' AND "status" = 'requested' AND "next_attempt_at" <= '2029-01-02T09:00:00.000000Z' ORDER BY "next_attempt_at" ASC, "id" ASC LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *"#
        );
        let sqlite = DbBackend::Sqlite.build(&stmt).to_string();
        assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
        assert!(sqlite.ends_with(") RETURNING *"), "{sqlite}");
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        let sig = super::signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
