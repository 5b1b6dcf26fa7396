//! Deletion requests by webhook: a JSON POST signed with HMAC-SHA256 under the holder's secret
//! (`X-Accord-Signature: sha256=<hex>` over the exact body). A 2xx answer that quotes the
//! request id confirms it; anything else is retried with backoff, then escalated.

use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sha2::Sha256;

use super::requests::facts;
use super::{Result, Retention};
use crate::store::entity::deletion_request;
use crate::store::time::stamp;

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
    /// Sends every open webhook request whose next attempt is due.
    pub async fn send_webhooks(&self) -> Result<Outcome> {
        let now = stamp(self.clock.now());
        let due = deletion_request::Entity::find()
            .filter(deletion_request::Column::Method.eq("webhook"))
            .filter(deletion_request::Column::Status.eq("requested"))
            .filter(deletion_request::Column::NextAttemptAt.lte(now))
            .all(&self.db)
            .await?;
        let mut outcome = Outcome::default();
        for row in due {
            outcome.sent += 1;
            match self.post(&row).await {
                Ok(()) => {
                    self.confirm(row.id, &format!("{} (webhook)", row.holder))
                        .await?;
                    outcome.confirmed += 1;
                }
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

    async fn post(&self, row: &deletion_request::Model) -> std::result::Result<(), String> {
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

#[cfg(test)]
mod tests {
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
