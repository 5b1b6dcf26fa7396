//! Reading the registry: agreements with their current status, versions (as YAML and JSON),
//! and diffs between versions. The agreement list reads the list entries kept on each
//! agreement's row (`listing.rs`), so a page costs one indexed query however many agreements
//! the registry holds.

use std::collections::BTreeSet;

use poem_openapi::Object;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, JoinType, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use serde::Serialize;

use super::stored::{SignatureSource, VersionInfo, control_of, find_version, signature_info};
use super::{Registry, RegistryError, Result};
use crate::agreement::ValidAgreement;
use crate::agreement::lifecycle::{self, Control, Status, Stored};
use crate::agreement::vocab::SignatureRole;
use crate::auth::{Principal, ReadScope};
use crate::store::entity::{agreement, agreement_party, signature, version};

#[derive(Debug, Clone, Serialize, Object)]
pub struct AgreementSummary {
    pub id: String,
    /// The title of the current version (the active one, else the newest).
    pub title: String,
    pub control: crate::openapi_types::Control,
    #[oai(nullable)]
    pub control_reason: Option<String>,
    /// Status of the current version.
    pub status: crate::openapi_types::Status,
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
    /// Pass as `after` for the next page (paging by key); null on the last page.
    #[oai(nullable)]
    pub next_after: Option<String>,
}

/// Rows with a list entry: every agreement but one whose first version is still being
/// stored by a transaction that has not refreshed it yet.
fn listed() -> Condition {
    Condition::all().add(agreement::Column::VersionCount.gt(0))
}

/// The rows whose version shown has status `s` on `today` (ISO 8601, so dates compare as
/// text): [`lifecycle::status`] written as a condition on the list entry's columns.
pub(crate) fn status_is(s: Status, today: &str) -> Condition {
    use agreement::Column as C;
    let control = |c: Control| C::Control.eq(c.as_str());
    let stored = |st: Stored| C::ShownStored.eq(st.as_str());
    let not_terminated = C::Control.ne(Control::Terminated.as_str());
    match s {
        Status::Terminated => Condition::all().add(control(Control::Terminated)),
        Status::Draft => Condition::all()
            .add(not_terminated)
            .add(stored(Stored::Draft)),
        Status::Superseded => Condition::all()
            .add(not_terminated)
            .add(stored(Stored::Superseded)),
        Status::Suspended => Condition::all()
            .add(control(Control::Suspended))
            .add(stored(Stored::Active)),
        Status::Expired => Condition::all()
            .add(control(Control::Open))
            .add(stored(Stored::Active))
            .add(C::ShownTermEnd.lt(today)),
        Status::Active => Condition::all()
            .add(control(Control::Open))
            .add(stored(Stored::Active))
            .add(
                Condition::any()
                    .add(C::ShownTermEnd.is_null())
                    .add(C::ShownTermEnd.gte(today)),
            ),
    }
}

/// A version with its agreement as typed JSON.
#[derive(Debug, Clone, Serialize, Object)]
pub struct VersionDocument {
    pub version: VersionInfo,
    /// The agreement, in the JSON form of the format (`accord schema` describes it).
    pub agreement: serde_json::Value,
}

/// What an agreement list keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter<'a> {
    /// Current status.
    pub status: Option<Status>,
    /// Agreements this party is a party to (as its current version says).
    pub party: Option<&'a str>,
    /// Agreements with a draft this party's senior officer has not signed.
    pub awaiting: Option<&'a str>,
    /// Agreements whose review or term end falls within [`DUE_SOON_DAYS`] (or is past).
    pub due: Option<Due>,
}

/// A date an officer must act by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Review,
    TermEnd,
}

/// How far ahead "due soon" looks.
pub const DUE_SOON_DAYS: i32 = 60;

/// Agreements in force whose `due` date falls on or before `days` from `today`: indexed by
/// the list entry's date columns (ISO 8601, so dates compare as text).
fn due_within(due: Due, today: jiff::civil::Date, days: i32) -> Condition {
    let horizon = today
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(today)
        .to_string();
    let col = match due {
        Due::Review => agreement::Column::ShownReviewDue,
        Due::TermEnd => agreement::Column::ShownTermEnd,
    };
    Condition::all()
        .add(col.is_not_null())
        .add(col.lte(horizon))
        .add(agreement::Column::Control.ne(Control::Terminated.as_str()))
        .add(agreement::Column::ShownStored.eq(Stored::Active.as_str()))
}

/// Ids of agreements with a draft naming `party` (by its list entry) that the party's senior
/// officer has not signed through Accord or in a trusted file (a claim does not count).
fn awaiting_signature(party: &str) -> sea_orm::sea_query::SelectStatement {
    use crate::store::entity::signature;
    let signed = signature::Entity::find()
        .select_only()
        .column(signature::Column::VersionId)
        .filter(signature::Column::PartyId.eq(party))
        .filter(signature::Column::Role.eq("senior_officer"))
        .filter(signature::Column::Source.ne("claimed"))
        .into_query();
    let named = agreement_party::Entity::find()
        .select_only()
        .column(agreement_party::Column::AgreementId)
        .filter(agreement_party::Column::PartyId.eq(party))
        .into_query();
    version::Entity::find()
        .select_only()
        .column(version::Column::AgreementId)
        .filter(version::Column::Status.eq(Stored::Draft.as_str()))
        .filter(version::Column::AgreementId.in_subquery(named))
        .filter(version::Column::Id.not_in_subquery(signed))
        .into_query()
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
}

impl Registry {
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
            .filter(|s| s.source != SignatureSource::Claimed.as_str())
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
            status: status.into(),
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

    /// How many agreements have each status today, every status listed (zeros too): one
    /// count per status over the list entries' columns.
    pub async fn count_by_status(&self) -> Result<Vec<(Status, u64)>> {
        let today = self.clock.today().to_string();
        let mut out = Vec::with_capacity(Status::ALL.len());
        for s in Status::ALL {
            let n = agreement::Entity::find()
                .filter(listed())
                .filter(status_is(s, &today))
                .count(&self.db)
                .await?;
            out.push((s, n));
        }
        Ok(out)
    }

    /// Agreements, filtered by current status and/or party, ordered by id: one page, read
    /// from the list entries kept on the agreements' rows (`listing.rs`) by one indexed query
    /// and a count, whatever the registry's size. `after` (an agreement id) pages by key: the
    /// page starts after it. The party filter keeps what [`Registry::party_may_read`] lets
    /// that party read as a whole.
    pub async fn agreements(
        &self,
        filter: &ListFilter<'_>,
        after: Option<&str>,
        paging: Paging,
    ) -> Result<AgreementPage> {
        let today = self.clock.today();
        let mut q = agreement::Entity::find().filter(listed());
        if let Some(s) = filter.status {
            q = q.filter(status_is(s, &today.to_string()));
        }
        // With a party, the page is read in the order of the party's index, which is the
        // agreements' id order: no sort of every agreement that names the party.
        let mut key: SimpleExpr = Expr::col((agreement::Entity, agreement::Column::Id));
        if let Some(p) = filter.party {
            let naming = agreement_party::Entity::belongs_to(agreement::Entity)
                .from(agreement_party::Column::AgreementId)
                .to(agreement::Column::Id)
                .into();
            q = q
                .join_rev(JoinType::InnerJoin, naming)
                .filter(agreement_party::Column::PartyId.eq(p));
            key = Expr::col((
                agreement_party::Entity,
                agreement_party::Column::AgreementId,
            ));
        }
        if let Some(p) = filter.awaiting {
            q = q.filter(agreement::Column::Id.in_subquery(awaiting_signature(p)));
        }
        if let Some(due) = filter.due {
            q = q.filter(due_within(due, today, DUE_SOON_DAYS));
        }
        let total = q.clone().count(&self.db).await?;
        if let Some(after) = after {
            q = q.filter(sea_orm::sea_query::ExprTrait::gt(key.clone(), after));
        }
        let rows = q
            .order_by(key, Order::Asc)
            .offset(if after.is_some() { 0 } else { paging.offset() })
            .limit(paging.per_page)
            .all(&self.db)
            .await?;
        let items: Vec<AgreementSummary> = rows.into_iter().map(|r| self.summary(r)).collect();
        let next_after = (items.len() as u64 == paging.per_page)
            .then(|| items.last().map(|a| a.id.clone()))
            .flatten();
        Ok(AgreementPage {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
            next_after,
        })
    }

    /// Every party id an agreement names (in the version its list entry shows).
    pub async fn party_ids(&self) -> Result<Vec<String>> {
        Ok(agreement_party::Entity::find()
            .select_only()
            .column(agreement_party::Column::PartyId)
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Whether any agreement names the party `id`.
    pub async fn party_exists(&self, id: &str) -> Result<bool> {
        Ok(agreement_party::Entity::find()
            .filter(agreement_party::Column::PartyId.eq(id))
            .count(&self.db)
            .await?
            > 0)
    }

    pub async fn agreement(&self, id: &str) -> Result<AgreementSummary> {
        let row = agreement::Entity::find_by_id(id)
            .filter(listed())
            .one(&self.db)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("no agreement '{id}'")))?;
        Ok(self.summary(row))
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

    /// Whether `who` may read agreement `id` (as a whole, or its version `number`): the
    /// API's and the web console's one check. `Forbidden` otherwise, the same for an agreement
    /// that does not exist, so a party cannot probe for ids.
    pub async fn readable(&self, who: &Principal, id: &str, number: Option<i32>) -> Result<()> {
        match who.read_scope() {
            Err(d) => Err(RegistryError::Forbidden(d.0)),
            Ok(ReadScope::Everything) => Ok(()),
            Ok(ReadScope::Party(party)) => {
                if self.party_may_read(id, party, number).await? {
                    Ok(())
                } else {
                    Err(RegistryError::Forbidden(
                        "not your party's agreement".into(),
                    ))
                }
            }
        }
    }

    /// Whether `party` is a party to the agreement's current version.
    async fn involves(&self, summary: &AgreementSummary, party: &str) -> Result<bool> {
        let found = agreement_party::Entity::find_by_id((summary.id.clone(), party.to_owned()))
            .one(&self.db)
            .await?;
        Ok(found.is_some())
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

    /// An agreement's list entry, as kept on its row, with its status today.
    fn summary(&self, row: agreement::Model) -> AgreementSummary {
        let control = Control::parse(&row.control);
        let term_end = row
            .shown_term_end
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok());
        let stored = Stored::parse(&row.shown_stored);
        AgreementSummary {
            status: lifecycle::status(stored, control, term_end, self.clock.today()).into(),
            id: row.id,
            title: row.title,
            control: control.into(),
            control_reason: row.control_reason,
            current_version: row.current_version,
            latest_version: row.latest_version,
            versions: row.version_count,
        }
    }
}
