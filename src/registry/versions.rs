//! Adding versions: from a folder at start, or uploaded. Each distinct content of an agreement
//! id becomes one immutable version (identified by the SHA-256 of its bytes); the same content
//! again is recognised, not duplicated.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use poem_openapi::Object;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::lifecycle::{self, Control, Status, Stored};
use super::{Registry, RegistryError, Result};
use crate::agreement::vocab::SignatureRole;
use crate::agreement::{ValidAgreement, check_source};
use crate::audit::{Event, Writer};
use crate::check::{agreement_files, read_source};
use crate::store::entity::{agreement, signature, version};
use crate::store::time::stamp;

/// A version as the registry reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct VersionInfo {
    pub agreement_id: String,
    /// The registry's version number: 1, 2, 3… in order of arrival.
    pub number: i32,
    pub id: Uuid,
    pub status: Status,
    /// The `version:` the file declares.
    pub declared_version: i32,
    pub title: String,
    /// SHA-256 of the YAML source.
    pub content_hash: String,
    /// `import` (from the agreements folder) or `upload`.
    pub origin: String,
    pub created_at: String,
    pub created_by: String,
    #[oai(nullable)]
    pub activated_at: Option<String>,
    #[oai(nullable)]
    pub superseded_at: Option<String>,
    pub signatures: Vec<SignatureInfo>,
    /// Parties whose senior officer has not yet signed.
    pub awaiting: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct SignatureInfo {
    pub party: String,
    pub role: String,
    pub name: String,
    pub signed_on: String,
    /// `file` (declared under `signatures`) or `engine`.
    pub source: String,
}

/// The result of adding a version.
#[derive(Debug, Clone)]
pub enum Added {
    Created(VersionInfo),
    /// The same content was already a version of this agreement.
    Existing(VersionInfo),
}

/// What importing a folder did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub created: Vec<VersionInfo>,
    pub unchanged: usize,
    /// Files skipped, with why (errors, or unreadable).
    pub skipped: Vec<(PathBuf, String)>,
}

impl Registry {
    /// Checks and stores an uploaded or imported source.
    pub async fn add_version(&self, source: &[u8], actor: &str, origin: &str) -> Result<Added> {
        let checked = check_source(source, self.clock.today());
        let Some(agreement) = checked.agreement else {
            return Err(RegistryError::Invalid(checked.diagnostics));
        };
        let text = String::from_utf8_lossy(source).into_owned();
        self.store_version(&text, &agreement, actor, origin).await
    }

    /// Imports every agreement file under `dir`; files with errors are reported and skipped.
    pub async fn import_dir(&self, dir: &Path) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let files = agreement_files(dir).map_err(RegistryError::BadRequest)?;
        for file in files {
            let outcome = match read_source(&file) {
                Ok(bytes) => self.add_version(&bytes, "import", "import").await,
                Err(why) => {
                    report.skipped.push((file, why));
                    continue;
                }
            };
            match outcome {
                Ok(Added::Created(v)) => report.created.push(v),
                Ok(Added::Existing(_)) => report.unchanged += 1,
                Err(RegistryError::Invalid(diags)) => {
                    let first: Vec<String> = diags
                        .iter()
                        .filter(|d| d.is_error())
                        .map(|d| {
                            format!(
                                "{}:{}: {}[{}]: {}",
                                d.pos.line,
                                d.pos.column,
                                d.severity(),
                                d.code,
                                d.message
                            )
                        })
                        .collect();
                    report.skipped.push((file, first.join("; ")));
                }
                Err(other) => return Err(other),
            }
        }
        Ok(report)
    }

    async fn store_version(
        &self,
        source: &str,
        a: &ValidAgreement,
        actor: &str,
        origin: &str,
    ) -> Result<Added> {
        let now = self.clock.now();
        let hash = hex::encode(Sha256::digest(source.as_bytes()));
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let agreement_id = a.id.as_str();
        let control = ensure_agreement(&txn, &mut log, agreement_id, actor, now).await?;
        not_terminated(control, agreement_id, "it takes no new versions")?;
        let existing = version::Entity::find()
            .filter(version::Column::AgreementId.eq(agreement_id))
            .filter(version::Column::ContentHash.eq(hash.as_str()))
            .one(&txn)
            .await?;
        if let Some(row) = existing {
            drop(txn);
            return Ok(Added::Existing(self.version_info(row).await?));
        }
        let number = next_number(&txn, agreement_id).await?;
        let row = version::ActiveModel {
            id: Set(Uuid::now_v7()),
            agreement_id: Set(agreement_id.to_owned()),
            number: Set(number),
            content_hash: Set(hash.clone()),
            declared_version: Set(a.version.get() as i32),
            title: Set(a.title.clone()),
            source: Set(source.to_owned()),
            status: Set(Stored::Draft.as_str().to_owned()),
            origin: Set(origin.to_owned()),
            created_at: Set(stamp(now)),
            created_by: Set(actor.to_owned()),
            activated_at: Set(None),
            superseded_at: Set(None),
        };
        let row = version::Entity::insert(row)
            .exec_with_returning(&txn)
            .await?;
        let declared = declared_signatures(&txn, &row, a, actor, now).await?;
        let event = Event {
            actor,
            action: "version.created",
            subject: format!("agreement:{agreement_id}"),
            details: serde_json::json!({
                "version": number, "id": row.id, "content_hash": hash, "origin": origin,
                "declared_version": a.version, "declared_signatures": declared,
            }),
        };
        log.append(now, event);
        super::signing::activate_if_signed(&txn, &mut log, &row, a, actor, now).await?;
        self.commit_change(txn, log).await?;
        let fresh = version::Entity::find_by_id(row.id).one(&self.db).await?;
        let fresh = fresh.ok_or_else(|| RegistryError::NotFound("version vanished".into()))?;
        Ok(Added::Created(self.version_info(fresh).await?))
    }

    /// The full report of a stored version: status today, signatures, who is awaited.
    pub async fn version_info(&self, row: version::Model) -> Result<VersionInfo> {
        let control = control_of(&self.db, &row.agreement_id).await?;
        let sigs = signature::Entity::find()
            .filter(signature::Column::VersionId.eq(row.id))
            .order_by_asc(signature::Column::RecordedAt)
            .all(&self.db)
            .await?;
        let agreement = self.parsed(&row)?;
        let signed: BTreeSet<&str> = sigs
            .iter()
            .filter(|s| s.role == SignatureRole::SeniorOfficer.as_str())
            .map(|s| s.party_id.as_str())
            .collect();
        let awaiting = agreement
            .parties
            .iter()
            .map(|p| p.id.to_string())
            .filter(|p| !signed.contains(p.as_str()))
            .collect();
        let today = self.clock.today();
        let status = lifecycle::status(
            Stored::parse(&row.status),
            control,
            agreement.term.end,
            today,
        );
        Ok(VersionInfo {
            agreement_id: row.agreement_id,
            number: row.number,
            id: row.id,
            status,
            declared_version: row.declared_version,
            title: row.title,
            content_hash: row.content_hash,
            origin: row.origin,
            created_at: row.created_at,
            created_by: row.created_by,
            activated_at: row.activated_at,
            superseded_at: row.superseded_at,
            signatures: sigs.into_iter().map(signature_info).collect(),
            awaiting,
        })
    }
}

/// An agreement's control, read through `db` (a transaction, to read it under the writers'
/// lock); `Open` for an agreement not registered.
pub(super) async fn control_of(db: &impl ConnectionTrait, agreement_id: &str) -> Result<Control> {
    let row = agreement::Entity::find_by_id(agreement_id).one(db).await?;
    Ok(row.map_or(Control::Open, |r| Control::parse(&r.control)))
}

/// Termination is final: a terminated agreement takes no new versions, and its drafts take no
/// signatures (so none becomes active). `refused` says what was refused.
pub(super) fn not_terminated(control: Control, agreement_id: &str, refused: &str) -> Result<()> {
    if control == Control::Terminated {
        let msg = format!("agreement '{agreement_id}' was terminated; {refused}");
        return Err(RegistryError::Conflict(msg));
    }
    Ok(())
}

/// Reads a stored source into the typed agreement (call [`Registry::parsed`], which caches). Stored sources passed checking when they
/// were stored; one that no longer does (after a rule change) is reported, not trusted.
pub(super) fn parse_stored(row: &version::Model) -> Result<ValidAgreement> {
    let checked = check_source(row.source.as_bytes(), jiff::civil::date(2000, 1, 1));
    checked
        .agreement
        .ok_or(RegistryError::Invalid(checked.diagnostics))
}

fn signature_info(s: signature::Model) -> SignatureInfo {
    SignatureInfo {
        party: s.party_id,
        role: s.role,
        name: s.name,
        signed_on: s.signed_on,
        source: s.source,
    }
}

/// The agreement's row, created (and audited) on first sight; returns its control.
async fn ensure_agreement(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    id: &str,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<Control> {
    if let Some(row) = agreement::Entity::find_by_id(id).one(txn).await? {
        return Ok(Control::parse(&row.control));
    }
    let row = agreement::ActiveModel {
        id: Set(id.to_owned()),
        control: Set(Control::Open.as_str().to_owned()),
        control_reason: Set(None),
        control_changed_at: Set(None),
        control_changed_by: Set(None),
        created_at: Set(stamp(now)),
    };
    agreement::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    let event = Event {
        actor,
        action: "agreement.registered",
        subject: format!("agreement:{id}"),
        details: serde_json::json!({}),
    };
    log.append(now, event);
    Ok(Control::Open)
}

async fn next_number(txn: &impl ConnectionTrait, agreement_id: &str) -> Result<i32> {
    let last = version::Entity::find()
        .filter(version::Column::AgreementId.eq(agreement_id))
        .order_by_desc(version::Column::Number)
        .one(txn)
        .await?;
    Ok(last.map_or(1, |v| v.number + 1))
}

/// Records the file's `signatures:` as signatures of this version; returns them for the audit.
async fn declared_signatures(
    txn: &impl ConnectionTrait,
    row: &version::Model,
    a: &ValidAgreement,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<Vec<serde_json::Value>> {
    let mut seen = BTreeSet::new();
    let mut declared = Vec::new();
    for s in &a.signatures {
        if !seen.insert((s.party.as_str(), s.role)) {
            continue;
        }
        let sig = signature::ActiveModel {
            id: Set(Uuid::now_v7()),
            version_id: Set(row.id),
            party_id: Set(s.party.to_string()),
            role: Set(s.role.as_str().to_owned()),
            name: Set(s.name.clone()),
            signed_on: Set(s.date.to_string()),
            source: Set("file".to_owned()),
            recorded_at: Set(stamp(now)),
            recorded_by: Set(actor.to_owned()),
        };
        signature::Entity::insert(sig)
            .exec_without_returning(txn)
            .await?;
        declared.push(
            serde_json::json!({ "party": s.party, "role": s.role, "name": s.name, "date": s.date }),
        );
    }
    Ok(declared)
}
