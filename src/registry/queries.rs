//! Reading the registry: agreements with their current status, versions (as YAML and JSON),
//! and diffs between versions. A registry holds hundreds of agreements, not millions, so lists
//! are assembled in memory and then paginated.

use poem_openapi::Object;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::lifecycle::{Control, Status};
use super::signing::find_version;
use super::versions::VersionInfo;
use super::{Registry, RegistryError, Result};
use crate::agreement::ValidAgreement;
use crate::store::entity::{agreement, version};

#[derive(Debug, Clone, Serialize, Object)]
pub struct AgreementSummary {
    pub id: String,
    /// The title of the current version (the active one, else the newest).
    pub title: String,
    pub control: Control,
    #[oai(nullable)]
    pub control_reason: Option<String>,
    /// Status of the current version.
    pub status: Status,
    /// The version in force (active, suspended or expired), if any was ever activated.
    #[oai(nullable)]
    pub current_version: Option<i32>,
    pub latest_version: i32,
    pub versions: i32,
}

/// A page of results with the total before paging.
#[derive(Debug, Clone, Serialize, Object)]
pub struct AgreementPage {
    pub items: Vec<AgreementSummary>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// A version with its agreement as typed JSON.
#[derive(Debug, Clone, Serialize, Object)]
pub struct VersionDocument {
    pub version: VersionInfo,
    /// The agreement, in the JSON form of the format (`accord schema` describes it).
    pub agreement: serde_json::Value,
}

/// Paging parameters, already bounded.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    pub const MAX_PER_PAGE: u64 = 500;

    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Paging {
        Paging {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(50).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    /// How many items come before this page. Any page number is accepted, so the product
    /// saturates, and it is capped at `i64::MAX`, the largest offset SQL takes: a page past
    /// the end is empty, never an overflow (a panic, or a wrapped offset listing the first
    /// page) or an offset the database driver cannot bind.
    pub fn offset(&self) -> u64 {
        (self.page - 1)
            .saturating_mul(self.per_page)
            .min(i64::MAX as u64)
    }

    fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        let skip = usize::try_from(self.offset()).unwrap_or(usize::MAX);
        items
            .into_iter()
            .skip(skip)
            .take(self.per_page as usize)
            .collect()
    }
}

impl Registry {
    /// Agreements, filtered by current status and/or party, paginated, ordered by id. The
    /// party filter keeps what [`Registry::party_may_read`] lets that party read as a whole.
    pub async fn agreements(
        &self,
        status: Option<Status>,
        party: Option<&str>,
        paging: Paging,
    ) -> Result<AgreementPage> {
        let rows = agreement::Entity::find()
            .order_by_asc(agreement::Column::Id)
            .all(&self.db)
            .await?;
        let mut items = Vec::new();
        for row in rows {
            let summary = self.summary(row).await?;
            if status.is_some_and(|s| s != summary.status) {
                continue;
            }
            if let Some(p) = party
                && !self.involves(&summary, p).await?
            {
                continue;
            }
            items.push(summary);
        }
        let total = items.len() as u64;
        Ok(AgreementPage {
            items: paging.slice(items),
            total,
            page: paging.page,
            per_page: paging.per_page,
        })
    }

    pub async fn agreement(&self, id: &str) -> Result<AgreementSummary> {
        let row = agreement::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("no agreement '{id}'")))?;
        self.summary(row).await
    }

    /// Whether `party` may read agreement `id`: the agreement as a whole when `number` is
    /// `None`, else its version `number`. This is the one rule for what a party-bound reader
    /// (a signatory) may see:
    ///
    /// - an agreement whose current version (the one in force, else the newest) names the
    ///   party, with every version of it — what the party's list shows;
    /// - any version that names the party, so a party that a new draft adds can read the
    ///   draft it is asked to sign, though not the versions before it.
    ///
    /// An agreement that does not exist is `false`, like one the party may not read, so a
    /// party cannot probe for ids.
    pub async fn party_may_read(&self, id: &str, party: &str, number: Option<i32>) -> Result<bool> {
        let summary = match self.agreement(id).await {
            Ok(s) => s,
            Err(RegistryError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        if self.involves(&summary, party).await? {
            return Ok(true);
        }
        let Some(number) = number else {
            return Ok(false);
        };
        match find_version(&self.db, id, number).await {
            Ok(row) => Ok(self.parsed(&row)?.party(party).is_some()),
            Err(RegistryError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether `party` is a party to the agreement's current version.
    async fn involves(&self, summary: &AgreementSummary, party: &str) -> Result<bool> {
        let number = summary.current_version.unwrap_or(summary.latest_version);
        let row = find_version(&self.db, &summary.id, number).await?;
        Ok(self.parsed(&row)?.party(party).is_some())
    }

    pub async fn versions(&self, id: &str) -> Result<Vec<VersionInfo>> {
        let rows = self.version_rows(id).await?;
        if rows.is_empty() {
            return Err(RegistryError::NotFound(format!("no agreement '{id}'")));
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.version_info(row).await?);
        }
        Ok(out)
    }

    /// One version's YAML source, exactly as received.
    pub async fn version_source(&self, id: &str, number: i32) -> Result<String> {
        Ok(find_version(&self.db, id, number).await?.source)
    }

    pub async fn version_document(&self, id: &str, number: i32) -> Result<VersionDocument> {
        let row = find_version(&self.db, id, number).await?;
        let agreement = self.parsed(&row)?;
        let json = serde_json::to_value(&**agreement)
            .map_err(|e| RegistryError::BadRequest(format!("cannot render the agreement: {e}")))?;
        Ok(VersionDocument {
            version: self.version_info(row).await?,
            agreement: json,
        })
    }

    /// A version's typed agreement: `number`, or else the current version (the one in force,
    /// else the newest).
    pub async fn agreement_at(
        &self,
        id: &str,
        number: Option<i32>,
    ) -> Result<(i32, std::sync::Arc<ValidAgreement>)> {
        let number = match number {
            Some(n) => n,
            None => {
                let s = self.agreement(id).await?;
                s.current_version.unwrap_or(s.latest_version)
            }
        };
        let row = find_version(&self.db, id, number).await?;
        Ok((number, self.parsed(&row)?))
    }

    /// A unified diff of two versions' sources.
    pub async fn diff(&self, id: &str, from: i32, to: i32) -> Result<String> {
        let old = find_version(&self.db, id, from).await?;
        let new = find_version(&self.db, id, to).await?;
        let names = (format!("{id} version {from}"), format!("{id} version {to}"));
        Ok(super::diff::unified(
            &old.source,
            &new.source,
            &names.0,
            &names.1,
        ))
    }

    async fn version_rows(&self, id: &str) -> Result<Vec<version::Model>> {
        Ok(version::Entity::find()
            .filter(version::Column::AgreementId.eq(id))
            .order_by_asc(version::Column::Number)
            .all(&self.db)
            .await?)
    }

    async fn summary(&self, row: agreement::Model) -> Result<AgreementSummary> {
        let versions = self.version_rows(&row.id).await?;
        let latest = versions.last().cloned().ok_or_else(|| {
            RegistryError::NotFound(format!("agreement '{}' has no versions", row.id))
        })?;
        let current = versions
            .iter()
            .rev()
            .find(|v| v.activated_at.is_some() && v.superseded_at.is_none());
        let shown = current.cloned().unwrap_or_else(|| latest.clone());
        let current_version = current.map(|v| v.number);
        let info = self.version_info(shown).await?;
        Ok(AgreementSummary {
            id: row.id,
            title: info.title,
            control: Control::parse(&row.control),
            control_reason: row.control_reason,
            status: info.status,
            current_version,
            latest_version: latest.number,
            versions: versions.len() as i32,
        })
    }
}
