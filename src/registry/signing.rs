//! Signatures and activation. A version becomes active when every party's senior officer has
//! signed; activating it supersedes the older active version. Activation is a conditional
//! update (`… WHERE status = 'draft'`) inside the writers' lock, so however signatures race,
//! a version is activated exactly once. A terminated agreement's drafts take no signatures,
//! checked under the same lock, so termination cannot race an activation. A draft that still
//! holds a template's placeholders takes no signature, so it is never activated.

use std::collections::BTreeSet;

use jiff::Timestamp;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::Expr,
};
use uuid::Uuid;

use super::engagements::carries_ends;
use super::gate_index::Touched;
use super::stored::{SignatureSource, VersionInfo, control_of, find_version, not_terminated};
use super::{Registry, RegistryError, Result};
use crate::agreement::ValidAgreement;
use crate::agreement::lifecycle::Stored;
use crate::agreement::validate::placeholders::{left_to_fill, unfilled_in};
use crate::agreement::vocab::SignatureRole;
use crate::audit::{Event, Writer};
use crate::auth::{Principal, Role};
use crate::inputs::SignerName;
use crate::store::entity::{signature, version};
use crate::store::time::stamp;

impl Registry {
    /// Records `signer`'s signature on version `number` of `agreement_id` for the signer's party.
    pub async fn sign(
        &self,
        agreement_id: &str,
        number: i32,
        signer: &Principal,
        name: &SignerName,
        role: SignatureRole,
    ) -> Result<VersionInfo> {
        let name = name.as_str();
        let party = match (signer.role, signer.bound_party()) {
            (Role::Signatory, Ok(p)) => p.to_owned(),
            _ => {
                return Err(RegistryError::Forbidden(
                    "only a signatory signs, for its own party".into(),
                ));
            }
        };
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let row = find_version(&txn, agreement_id, number).await?;
        let agreement = self.parsed(&row)?;
        if agreement.party(&party).is_none() {
            let msg = format!("party '{party}' is not a party to agreement '{agreement_id}'");
            return Err(RegistryError::Forbidden(msg));
        }
        let control = control_of(&txn, agreement_id).await?;
        not_terminated(control, agreement_id, "its versions take no signatures")?;
        if Stored::parse(&row.status) != Stored::Draft {
            let msg = format!(
                "version {number} is already {}; only drafts take signatures",
                row.status
            );
            return Err(RegistryError::Conflict(msg));
        }
        if let Some(left) = left_to_fill(&unfilled_in(row.source.as_bytes())) {
            let msg = format!(
                "version {number} of '{agreement_id}' cannot be signed: it still has {left}. A \
                 version with a placeholder left is never activated: fill them in, save the \
                 agreement as a new version, and sign that"
            );
            return Err(RegistryError::Conflict(msg));
        }
        let what = format!("version {number} of '{agreement_id}' cannot be signed");
        carries_ends(&txn, &agreement, &what).await?;
        let claim = insert_signature(&txn, &row, &party, role, name, now, &signer.actor()).await?;
        let mut details =
            serde_json::json!({ "version": number, "party": party, "role": role, "name": name });
        if let Some(c) = claim {
            details["confirms_claim"] =
                serde_json::json!({ "name": c.name, "date": c.signed_on, "by": c.recorded_by });
        }
        let event = Event {
            actor: &signer.actor(),
            action: "signature.added",
            subject: format!("agreement:{agreement_id}"),
            details,
        };
        log.append(now, event);
        activate_if_signed(&txn, &mut log, &row, &agreement, &signer.actor(), now).await?;
        self.commit_change(txn, log, Touched::Agreements(&[agreement_id.to_owned()]))
            .await?;
        let fresh = find_version(self.db(), agreement_id, number).await?;
        self.version_info(fresh).await
    }
}

/// Records the signature. A signature the uploaded file only claimed for this party and role
/// is replaced by this one (the claim is confirmed, in the signatory's own name); returns the
/// claim it confirmed, if any.
async fn insert_signature(
    txn: &DatabaseTransaction,
    row: &version::Model,
    party: &str,
    role: SignatureRole,
    name: &str,
    now: Timestamp,
    actor: &str,
) -> Result<Option<signature::Model>> {
    let exists = signature::Entity::find()
        .filter(signature::Column::VersionId.eq(row.id))
        .filter(signature::Column::PartyId.eq(party))
        .filter(signature::Column::Role.eq(role.as_str()))
        .one(txn)
        .await?;
    let claim = match exists {
        Some(s) if s.source == SignatureSource::Claimed.as_str() => {
            signature::Entity::delete_by_id(s.id).exec(txn).await?;
            Some(s)
        }
        Some(_) => {
            let msg = format!(
                "party '{party}' has already signed version {} as {role}",
                row.number
            );
            return Err(RegistryError::Conflict(msg));
        }
        None => None,
    };
    let sig = signature::ActiveModel {
        id: Set(Uuid::now_v7()),
        version_id: Set(row.id),
        party_id: Set(party.to_owned()),
        role: Set(role.as_str().to_owned()),
        name: Set(name.to_owned()),
        signed_on: Set(crate::clock::london_date(now).to_string()),
        source: Set(SignatureSource::Engine.as_str().to_owned()),
        recorded_at: Set(stamp(now)),
        recorded_by: Set(actor.to_owned()),
    };
    signature::Entity::insert(sig)
        .exec_without_returning(txn)
        .await?;
    Ok(claim)
}

/// Activates `row` if every party has a senior officer's signature (or marks it superseded if a
/// newer version is already active), superseding older active versions, and declares the
/// handover items the version now in force owes (engagements ended early applied). Audited.
pub(crate) async fn activate_if_signed(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    row: &version::Model,
    agreement: &ValidAgreement,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let signed: BTreeSet<String> = signature::Entity::find()
        .filter(signature::Column::VersionId.eq(row.id))
        .filter(signature::Column::Role.eq(SignatureRole::SeniorOfficer.as_str()))
        .filter(signature::Column::Source.ne(SignatureSource::Claimed.as_str()))
        .all(txn)
        .await?
        .into_iter()
        .map(|s| s.party_id)
        .collect();
    if !agreement
        .parties
        .iter()
        .all(|p| signed.contains(p.id.as_str()))
    {
        return Ok(());
    }
    let newer_active = version::Entity::find()
        .filter(version::Column::AgreementId.eq(row.agreement_id.as_str()))
        .filter(version::Column::Number.gt(row.number))
        .filter(version::Column::Status.ne(Stored::Draft.as_str()))
        .one(txn)
        .await?;
    let subject = format!("agreement:{}", row.agreement_id);
    if let Some(newer) = newer_active {
        if set_status(txn, row.id, Stored::Draft, Stored::Superseded, now).await? {
            let details = serde_json::json!({ "version": row.number, "by_version": newer.number, "on_signing": true });
            log.append(
                now,
                Event {
                    actor,
                    action: "version.superseded",
                    subject,
                    details,
                },
            );
        }
        return Ok(());
    }
    if !set_status(txn, row.id, Stored::Draft, Stored::Active, now).await? {
        return Ok(());
    }
    let details = serde_json::json!({ "version": row.number, "id": row.id });
    log.append(
        now,
        Event {
            actor,
            action: "version.activated",
            subject: subject.clone(),
            details,
        },
    );
    let older = version::Entity::find()
        .filter(version::Column::AgreementId.eq(row.agreement_id.as_str()))
        .filter(version::Column::Number.lt(row.number))
        .filter(version::Column::Status.eq(Stored::Active.as_str()))
        .all(txn)
        .await?;
    for old in older {
        if set_status(txn, old.id, Stored::Active, Stored::Superseded, now).await? {
            let details = serde_json::json!({ "version": old.number, "by_version": row.number });
            let event = Event {
                actor,
                action: "version.superseded",
                subject: subject.clone(),
                details,
            };
            log.append(now, event);
        }
    }
    let ends = super::engagements::ends_of(txn, &row.agreement_id).await?;
    super::handover_items::declare(txn, log, &agreement.with_ends(&ends), actor, now).await?;
    Ok(())
}

/// Moves a version from one stored status to another; `false` if it was not in `from`.
async fn set_status(
    txn: &DatabaseTransaction,
    id: Uuid,
    from: Stored,
    to: Stored,
    now: Timestamp,
) -> Result<bool> {
    let column = match to {
        Stored::Active => version::Column::ActivatedAt,
        _ => version::Column::SupersededAt,
    };
    let result = version::Entity::update_many()
        .col_expr(version::Column::Status, Expr::value(to.as_str()))
        .col_expr(column, Expr::value(stamp(now)))
        .filter(version::Column::Id.eq(id))
        .filter(version::Column::Status.eq(from.as_str()))
        .exec(txn)
        .await?;
    Ok(result.rows_affected == 1)
}
