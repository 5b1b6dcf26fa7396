//! Legal holds: while one is in force, no holding in its scope is deleted, and the sweep says so.

use crate::inputs::{HoldScope, Reason};
use poem_openapi::{Enum, Object};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use serde::Serialize;
use std::collections::HashMap;

use uuid::Uuid;

use super::plan::{DueHolding, Hold};
use super::{Result, Retention, RetentionError};
use crate::audit::{Event, Writer};
use crate::store::entity::{holding, holding_subject, legal_hold, version};
use crate::store::time::stamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum HoldKind {
    Litigation,
    Inquiry,
    Foi,
    Sar,
    Audit,
    Other,
}

impl HoldKind {
    pub const ALL: [HoldKind; 6] = [
        HoldKind::Litigation,
        HoldKind::Inquiry,
        HoldKind::Foi,
        HoldKind::Sar,
        HoldKind::Audit,
        HoldKind::Other,
    ];

    /// As stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldKind::Litigation => "litigation",
            HoldKind::Inquiry => "inquiry",
            HoldKind::Foi => "foi",
            HoldKind::Sar => "sar",
            HoldKind::Audit => "audit",
            HoldKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<HoldKind> {
        HoldKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// In words, for people.
    pub fn label(self) -> &'static str {
        match self {
            HoldKind::Litigation => "Litigation",
            HoldKind::Inquiry => "Public inquiry",
            HoldKind::Foi => "Freedom of information request",
            HoldKind::Sar => "Subject access request",
            HoldKind::Audit => "Audit",
            HoldKind::Other => "Other",
        }
    }
}

/// What a hold keeps: every scope given must match (an agreement, a party on either end of the
/// flow, a data subject's reference); at least one is required.
#[derive(Debug, Clone, Default, Serialize, Object)]
pub struct Scope {
    #[oai(nullable)]
    pub agreement: Option<String>,
    #[oai(nullable)]
    pub party: Option<String>,
    #[oai(nullable)]
    pub subject_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct LegalHold {
    pub id: Uuid,
    pub kind: String,
    pub reason: String,
    pub scope: Scope,
    pub placed_at: String,
    pub placed_by: String,
    #[oai(nullable)]
    pub released_at: Option<String>,
    #[oai(nullable)]
    pub released_by: Option<String>,
    #[oai(nullable)]
    pub release_reason: Option<String>,
}

impl Retention {
    pub async fn place_hold(
        &self,
        kind: HoldKind,
        why: &Reason,
        scope: &HoldScope,
        actor: &str,
    ) -> Result<LegalHold> {
        let why = why.as_str().to_owned();
        let scope = self.checked(scope).await?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let row = legal_hold::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(kind.as_str().to_owned()),
            reason: Set(why.clone()),
            agreement_id: Set(scope.agreement.clone()),
            party_id: Set(scope.party.clone()),
            subject_ref: Set(scope.subject_ref.clone()),
            placed_at: Set(stamp(now)),
            placed_by: Set(actor.to_owned()),
            released_at: Set(None),
            released_by: Set(None),
            release_reason: Set(None),
        };
        let row = legal_hold::Entity::insert(row)
            .exec_with_returning(&txn)
            .await?;
        let details = serde_json::json!({ "kind": row.kind, "reason": why, "scope": scope });
        log.append(
            now,
            Event {
                actor,
                action: "legal_hold.placed",
                subject: format!("legal_hold:{}", row.id),
                details,
            },
        );
        log.commit(txn).await?;
        Ok(info(row))
    }

    pub async fn release_hold(&self, id: Uuid, why: &Reason, actor: &str) -> Result<LegalHold> {
        let why = why.as_str().to_owned();
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let row = legal_hold::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| RetentionError::NotFound(format!("no legal hold {id}")))?;
        if row.released_at.is_some() {
            return Err(RetentionError::Conflict(format!(
                "legal hold {id} is already released"
            )));
        }
        let mut released: legal_hold::ActiveModel = row.into();
        released.released_at = Set(Some(stamp(now)));
        released.released_by = Set(Some(actor.to_owned()));
        released.release_reason = Set(Some(why.clone()));
        let row = legal_hold::Entity::update(released).exec(&txn).await?;
        let details = serde_json::json!({ "reason": why });
        log.append(
            now,
            Event {
                actor,
                action: "legal_hold.released",
                subject: format!("legal_hold:{id}"),
                details,
            },
        );
        log.commit(txn).await?;
        Ok(info(row))
    }

    /// The scope checked to name what exists: a hold on a misspelt agreement or party would
    /// keep nothing, and say nothing. Subject references are not looked up; a hold may come
    /// before the data it keeps.
    async fn checked(&self, scope: &HoldScope) -> Result<Scope> {
        let scope = Scope {
            agreement: scope.agreement().map(str::to_owned),
            party: scope.party().map(str::to_owned),
            subject_ref: scope.subject_ref().map(str::to_owned),
        };
        if let Some(agreement) = &scope.agreement {
            self.registry.agreement(agreement).await?;
        }
        if let Some(party) = &scope.party {
            let mut versions = version::Entity::find();
            if let Some(agreement) = &scope.agreement {
                versions = versions.filter(version::Column::AgreementId.eq(agreement.as_str()));
            }
            let mut named = false;
            for row in versions.all(&self.db).await? {
                if self.registry.parsed(&row)?.party(party).is_some() {
                    named = true;
                    break;
                }
            }
            if !named {
                return Err(RetentionError::NotFound(match &scope.agreement {
                    Some(a) => format!("no version of agreement '{a}' names a party '{party}'"),
                    None => format!("no agreement names a party '{party}'"),
                }));
            }
        }
        Ok(scope)
    }

    /// Holds, newest first; only those in force when `active_only`.
    pub async fn holds(&self, active_only: bool) -> Result<Vec<LegalHold>> {
        let mut q = legal_hold::Entity::find().order_by_desc(legal_hold::Column::PlacedAt);
        if active_only {
            q = q.filter(legal_hold::Column::ReleasedAt.is_null());
        }
        Ok(q.all(&self.db).await?.into_iter().map(info).collect())
    }

    /// How many holds are in force.
    pub async fn holds_in_force_count(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(legal_hold::Entity::find()
            .filter(legal_hold::Column::ReleasedAt.is_null())
            .count(&self.db)
            .await?)
    }
}

/// The legal holds in force that keep any of `holdings` (read through `db`: inside a change,
/// its transaction, under the writers' lock that placing or releasing a hold takes too).
pub(super) async fn keeping(db: &impl ConnectionTrait, holdings: &[Uuid]) -> Result<Vec<Uuid>> {
    let holds = holds_in_force(db).await?;
    if holds.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::with_capacity(holdings.len());
    for chunk in holdings.chunks(1000) {
        rows.extend(
            holding::Entity::find()
                .filter(holding::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    let covered = with_subjects(db, rows).await?;
    Ok(holds
        .into_iter()
        .filter(|hold| covered.iter().any(|h| hold.keeps(h)))
        .map(|hold| hold.id)
        .collect())
}

fn info(r: legal_hold::Model) -> LegalHold {
    LegalHold {
        id: r.id,
        kind: r.kind,
        reason: r.reason,
        scope: Scope {
            agreement: r.agreement_id,
            party: r.party_id,
            subject_ref: r.subject_ref,
        },
        placed_at: r.placed_at,
        placed_by: r.placed_by,
        released_at: r.released_at,
        released_by: r.released_by,
        release_reason: r.release_reason,
    }
}

/// Holdings with what a hold's scope can match (their subjects' references).
pub(super) async fn with_subjects(
    db: &impl ConnectionTrait,
    rows: Vec<holding::Model>,
) -> Result<Vec<DueHolding>> {
    let ids: Vec<Uuid> = rows.iter().map(|h| h.id).collect();
    let mut subjects: HashMap<Uuid, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(1000) {
        let found = holding_subject::Entity::find()
            .filter(holding_subject::Column::HoldingId.is_in(chunk.to_vec()))
            .all(db)
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

/// The legal holds not yet released.
pub(super) async fn holds_in_force(db: &impl ConnectionTrait) -> Result<Vec<Hold>> {
    let rows = legal_hold::Entity::find()
        .filter(legal_hold::Column::ReleasedAt.is_null())
        .all(db)
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
