//! Deletion certificates: one per holder, agreement and sweep, proving what was deleted (data
//! classes, counts, dates, method, who confirmed and when) without any personal data.

use handlebars::Handlebars;
use poem_openapi::Object;
use serde::Serialize;
use uuid::Uuid;

use super::requests::facts;
use super::{Result, Retention, RetentionError};
use crate::store::time::stamp;

const BUILTIN_HTML: &str = include_str!("../../templates/deletions/certificate.html.hbs");

#[derive(Debug, Clone, Serialize, Object)]
pub struct Certificate {
    /// The deletion request this certifies.
    pub certificate_id: Uuid,
    pub sweep_id: Uuid,
    pub agreement_id: String,
    pub agreement_title: String,
    pub agreement_version: i32,
    pub holder: String,
    pub holder_name: String,
    /// `delete`, `anonymise` or `return`.
    pub action: String,
    /// How the holder was asked: `webhook`, `email` or `manual`.
    pub method: String,
    /// The data classes (field ids) deleted.
    pub data_classes: Vec<String>,
    pub record_count: i64,
    pub subject_count: i64,
    /// The earliest and latest receipt of the records.
    #[oai(nullable)]
    pub received_from: Option<String>,
    #[oai(nullable)]
    pub received_to: Option<String>,
    pub requested_at: String,
    pub confirmed_at: String,
    pub confirmed_by: String,
    pub issued_at: String,
}

impl Retention {
    /// The certificate of a confirmed request; `Conflict` while it is not confirmed.
    pub async fn certificate(&self, id: Uuid) -> Result<Certificate> {
        let req = self.request(id).await?;
        let (Some(confirmed_at), Some(confirmed_by)) =
            (req.confirmed_at.clone(), req.confirmed_by.clone())
        else {
            let msg = format!(
                "deletion request {id} is {}; a certificate follows confirmation",
                req.status
            );
            return Err(RetentionError::Conflict(msg));
        };
        let (_, agreement) = self
            .registry
            .agreement_at(&req.agreement_id, Some(req.version))
            .await?;
        let f = facts(&self.db, id).await?;
        Ok(Certificate {
            certificate_id: id,
            sweep_id: req.sweep_id,
            agreement_title: agreement.title.clone(),
            holder_name: agreement
                .party(&req.holder)
                .map_or_else(|| req.holder.clone(), |p| p.name.clone()),
            agreement_id: req.agreement_id,
            agreement_version: req.version,
            holder: req.holder,
            action: req.action,
            method: req.method,
            data_classes: f.fields,
            record_count: f.records,
            subject_count: f.subjects,
            received_from: f.received_from.map(stamp),
            received_to: f.received_to.map(stamp),
            requested_at: req.created_at,
            confirmed_at,
            confirmed_by,
            issued_at: stamp(self.clock.now()),
        })
    }
}

/// The certificate as an HTML page (all text escaped by handlebars).
pub fn html(cert: &Certificate) -> std::result::Result<String, handlebars::RenderError> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_template_string("certificate", BUILTIN_HTML)
        .map_err(handlebars::RenderError::from)?;
    hb.render("certificate", cert)
}
