//! Templates through the registry (docs/templates.md): an agreement's version written as a
//! template, and a template turned into the first draft of a new agreement. The template's
//! own work is pure (`crate::template`); here the version is read, and the draft is stored in
//! one transaction with its audit records, as an upload is.

use jiff::civil::Date;
use sea_orm::{EntityTrait, TransactionTrait};

use super::stored::{VersionInfo, find_version};
use super::{Registry, RegistryError};
use crate::agreement::Diagnostic;
use crate::audit::{Event, Writer};
use crate::check::on_blocking_thread;
use crate::store::entity::agreement;
use crate::template::export::{Source, export};
use crate::template::import::{Problem, import};

/// Why no draft was made from a template.
#[derive(Debug, thiserror::Error)]
pub enum FromTemplate {
    /// The template itself: every problem, at its place in the template.
    #[error("the template has problems")]
    Problems(Vec<Problem>),
    /// The new id (taken, or not an id), or the store.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// A draft stored from a template: its version, and the findings still to deal with (the
/// placeholders to fill among them), at their places in the version's source.
#[derive(Debug, Clone)]
pub struct Drafted {
    pub version: VersionInfo,
    pub findings: Vec<Diagnostic>,
}

impl Registry {
    /// The template of agreement `id`'s version `number`, else of the version in force, else
    /// of the newest; dated today.
    pub async fn export_template(&self, id: &str, number: Option<i32>) -> super::Result<String> {
        let (number, agreement) = self.agreement_at(id, number).await?;
        let row = find_version(&self.db, id, number).await?;
        let source = Source {
            registry_version: Some(number),
            sha256: Some(row.content_hash),
            exported_on: Some(self.clock.today()),
        };
        export(&agreement, &source).map_err(|e| {
            RegistryError::BadRequest(format!("cannot write the template of '{id}': {e}"))
        })
    }

    /// Stores the draft made from `template` as version 1 of the new agreement `new_id`, its
    /// dates counted from `start` (today when not given). Refused, storing nothing, when the
    /// template has problems, the id is not an id, or an agreement already has it.
    pub async fn import_template(
        &self,
        template: &[u8],
        new_id: &str,
        start: Option<Date>,
        actor: &str,
    ) -> Result<Drafted, FromTemplate> {
        let id = crate::template::new_id(new_id).map_err(RegistryError::BadRequest)?;
        let today = self.clock.today();
        let start = start.unwrap_or(today);
        let (bytes, new) = (template.to_vec(), id.clone());
        let draft = on_blocking_thread(move || import(&bytes, &new, start, today))
            .await
            .map_err(FromTemplate::Problems)?;
        let txn = self.db.begin().await.map_err(RegistryError::from)?;
        let mut log = Writer::begin(&txn).await.map_err(RegistryError::from)?;
        // Read under the writers' lock: two drafts racing for one id cannot both be first.
        let taken = agreement::Entity::find_by_id(id.as_str())
            .one(&txn)
            .await
            .map_err(RegistryError::from)?;
        if taken.is_some() {
            let msg = format!("there is already an agreement '{id}': choose another id");
            return Err(RegistryError::Conflict(msg).into());
        }
        log.append(
            self.clock.now(),
            Event {
                actor,
                action: "agreement.drafted_from_template",
                subject: format!("agreement:{id}"),
                details: serde_json::json!({ "start": start.to_string() }),
            },
        );
        let version = self.add_version_in(txn, log, &draft.yaml, actor).await?;
        Ok(Drafted {
            version,
            findings: draft.checked.diagnostics,
        })
    }
}
