//! Stored rows read back, shared by the registry's use cases: a version by number, an
//! agreement's control, a stored source parsed, and the report of a version (`VersionInfo`).
//! It imports no other file of the registry, so the use cases that share it form no circle.

use poem_openapi::Object;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use super::{RegistryError, Result};
use crate::agreement::lifecycle::Control;
use crate::agreement::{ValidAgreement, check_source};
use crate::store::entity::{agreement, signature, version};

/// A version as the registry reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct VersionInfo {
    pub agreement_id: String,
    /// The registry's version number: 1, 2, 3… in order of arrival.
    pub number: i32,
    pub id: Uuid,
    pub status: crate::openapi_types::Status,
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
    /// Parties whose senior officer has not yet signed (a claimed signature does not count).
    pub awaiting: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct SignatureInfo {
    pub party: String,
    pub role: String,
    pub name: String,
    pub signed_on: String,
    /// `file` (declared in a file of the agreements folder), `engine` (given through Accord by
    /// the party's signatory), or `claimed` (declared in an uploaded file: it does not count
    /// until the party's signatory signs, which confirms it).
    pub source: String,
}

/// How a signature came to be recorded. Only [`SignatureSource::Claimed`] does not count
/// towards activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureSource {
    /// Written in a file of the agreements folder (trusted).
    File,
    /// Given through Accord by the party's signatory.
    Engine,
    /// Written in an uploaded file: awaiting the party's signatory.
    Claimed,
}

impl SignatureSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureSource::File => "file",
            SignatureSource::Engine => "engine",
            SignatureSource::Claimed => "claimed",
        }
    }
}

/// An agreement's control, read through `db` (a transaction, to read it under the writers'
/// lock); `Open` for an agreement not registered.
pub(crate) async fn control_of(db: &impl ConnectionTrait, agreement_id: &str) -> Result<Control> {
    let row = agreement::Entity::find_by_id(agreement_id).one(db).await?;
    Ok(row.map_or(Control::Open, |r| Control::parse(&r.control)))
}

/// Termination is final: a terminated agreement takes no new versions, and its drafts take no
/// signatures (so none becomes active). `refused` says what was refused.
pub(crate) fn not_terminated(control: Control, agreement_id: &str, refused: &str) -> Result<()> {
    if control == Control::Terminated {
        let msg = format!("agreement '{agreement_id}' was terminated; {refused}");
        return Err(RegistryError::Conflict(msg));
    }
    Ok(())
}

/// Reads a stored source into the typed agreement (call [`Registry::parsed`], which caches). Stored sources passed checking when they
/// were stored; one that no longer does (after a rule change) is reported, not trusted.
pub(crate) fn parse_stored(row: &version::Model) -> Result<ValidAgreement> {
    let checked = check_source(row.source.as_bytes(), jiff::civil::date(2000, 1, 1));
    checked
        .agreement
        .ok_or(RegistryError::Invalid(checked.diagnostics))
}

pub(super) fn signature_info(s: signature::Model) -> SignatureInfo {
    SignatureInfo {
        party: s.party_id,
        role: s.role,
        name: s.name,
        signed_on: s.signed_on,
        source: s.source,
    }
}

/// Version `number` of `agreement_id`, read through `db` (a transaction or the pool).
pub(crate) async fn find_version(
    db: &impl ConnectionTrait,
    agreement_id: &str,
    number: i32,
) -> Result<version::Model> {
    version::Entity::find()
        .filter(version::Column::AgreementId.eq(agreement_id))
        .filter(version::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or_else(|| {
            RegistryError::NotFound(format!(
                "agreement '{agreement_id}' has no version {number}"
            ))
        })
}
