//! The register's use cases: the published agreements a page at a time, one agreement with its
//! monthly counts, and the newest for the feed. Every read is an indexed query bounded by its
//! page, so an answer costs the same whatever the registry's size. Only an agreement in force
//! whose version in force says `publish: true` is ever read; for any other id, whether it
//! exists or not, the answer is the same `None`.

use std::collections::HashMap;

use jiff::civil::Date;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::public::{Month, PublicAgreement, view};
use crate::agreement::lifecycle::{Status, Stored};
use crate::registry::queries::status_is;
use crate::registry::stored::find_version;
use crate::registry::{Registry, Result};
use crate::store::entity::{agreement, transparency_count, version};

/// Agreements on one page of the register.
pub const PER_PAGE: u64 = 20;
/// Agreements on one page of the register's CSV.
pub const CSV_PER_PAGE: u64 = 500;
/// Entries in the feed: the agreements most recently come into force.
pub const FEED_ENTRIES: u64 = 50;
/// Months of counts shown, this month included.
pub const MONTHS_SHOWN: i64 = 24;

/// Where a page starts: after this title and id (the last entry of the page before).
#[derive(Debug, Clone, Default)]
pub struct After {
    pub title: String,
    pub id: String,
}

/// One page of the register.
#[derive(Debug, Clone)]
pub struct Page {
    pub entries: Vec<PublicAgreement>,
    /// Where the next page starts, when there is one.
    pub next: Option<After>,
}

/// A published agreement with when its version came into force (for the feed).
#[derive(Debug, Clone)]
pub struct Published {
    pub agreement: PublicAgreement,
    pub in_force_since: Option<String>,
}

#[derive(Clone)]
pub struct Register {
    registry: Registry,
}

impl Register {
    pub fn new(registry: Registry) -> Register {
        Register { registry }
    }

    fn db(&self) -> &DatabaseConnection {
        self.registry.db()
    }

    fn today(&self) -> Date {
        self.registry.clock().today()
    }

    /// Published and in force today.
    fn shown(&self) -> Condition {
        Condition::all()
            .add(agreement::Column::Published.eq(true))
            .add(status_is(Status::Active, &self.today().to_string()))
    }

    /// Up to `per_page` published agreements in title order, after `after`.
    pub async fn page(&self, after: Option<&After>, per_page: u64) -> Result<Page> {
        use agreement::Column as C;
        let mut q = agreement::Entity::find().filter(self.shown());
        if let Some(a) = after {
            q = q.filter(
                Condition::any().add(C::Title.gt(a.title.as_str())).add(
                    Condition::all()
                        .add(C::Title.eq(a.title.as_str()))
                        .add(C::Id.gt(a.id.as_str())),
                ),
            );
        }
        let mut rows = q
            .order_by_asc(C::Title)
            .order_by_asc(C::Id)
            .limit(per_page + 1)
            .all(self.db())
            .await?;
        let more = rows.len() as u64 > per_page;
        rows.truncate(per_page as usize);
        let next = more.then(|| rows.last()).flatten().map(|r| After {
            title: r.title.clone(),
            id: r.id.clone(),
        });
        let entries = self.public_all(&rows).await?;
        Ok(Page { entries, next })
    }

    /// The agreements most recently come into force, newest first.
    pub async fn newest(&self) -> Result<Vec<Published>> {
        use agreement::Column as C;
        let rows = agreement::Entity::find()
            .filter(self.shown())
            .order_by_desc(C::InForceSince)
            .order_by_asc(C::Id)
            .limit(FEED_ENTRIES)
            .all(self.db())
            .await?;
        let public = self.public_all(&rows).await?;
        Ok(public
            .into_iter()
            .zip(rows)
            .map(|(agreement, row)| Published {
                agreement,
                in_force_since: row.in_force_since,
            })
            .collect())
    }

    /// Agreement `id` as published, with its last [`MONTHS_SHOWN`] months of counts (newest
    /// first, every month since it came into force, zeros included); `None` unless it is
    /// published and in force.
    pub async fn agreement(&self, id: &str) -> Result<Option<(PublicAgreement, Vec<Month>)>> {
        let row = agreement::Entity::find()
            .filter(self.shown())
            .filter(agreement::Column::Id.eq(id))
            .one(self.db())
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let public = self.public(&row).await?;
        let since = row
            .in_force_since
            .as_deref()
            .and_then(crate::store::time::parse)
            .map(crate::clock::london_date);
        let months = months_back(self.today(), since);
        let Some(oldest) = months.last().cloned() else {
            return Ok(Some((public, Vec::new())));
        };
        let counted = transparency_count::Entity::find()
            .filter(transparency_count::Column::AgreementId.eq(id))
            .filter(transparency_count::Column::Month.gte(oldest))
            .order_by_desc(transparency_count::Column::Month)
            .limit(MONTHS_SHOWN as u64)
            .all(self.db())
            .await?;
        let shown = months
            .iter()
            .map(|m| {
                let c = counted.iter().find(|c| &c.month == m);
                Month::new(m, c.map_or([0; 3], |c| [c.allowed, c.refused, c.deleted]))
            })
            .collect();
        Ok(Some((public, shown)))
    }

    async fn public(&self, row: &agreement::Model) -> Result<PublicAgreement> {
        let number = row.current_version.unwrap_or(row.latest_version);
        let version = find_version(self.db(), &row.id, number).await?;
        let parsed = self.registry.parsed(&version)?;
        Ok(view(&row.id, &parsed))
    }

    /// The public view of each row's version in force, in the rows' order: one query for all
    /// their versions (each parsed once, then cached by the registry).
    async fn public_all(&self, rows: &[agreement::Model]) -> Result<Vec<PublicAgreement>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids = rows.iter().map(|r| r.id.clone());
        let versions: HashMap<(String, i32), version::Model> = version::Entity::find()
            .filter(version::Column::AgreementId.is_in(ids))
            .filter(version::Column::Status.eq(Stored::Active.as_str()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|v| ((v.agreement_id.clone(), v.number), v))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let number = row.current_version.unwrap_or(row.latest_version);
            match versions.get(&(row.id.clone(), number)) {
                Some(v) => out.push(view(&row.id, &*self.registry.parsed(v)?)),
                // Changed since the page was read: read it alone.
                None => out.push(self.public(row).await?),
            }
        }
        Ok(out)
    }
}

/// The months to show on `today`, newest first: this month and those before it, back to the
/// month of `since` (when the version came into force), at most [`MONTHS_SHOWN`].
fn months_back(today: Date, since: Option<Date>) -> Vec<String> {
    let first = since.map(|d| d.first_of_month());
    let mut out = Vec::new();
    let mut month = today.first_of_month();
    while (out.len() as i64) < MONTHS_SHOWN && first.is_none_or(|f| month >= f) {
        out.push(month.strftime("%Y-%m").to_string());
        match month.checked_sub(jiff::Span::new().months(1)) {
            Ok(m) => month = m,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::months_back;
    use jiff::civil::date;

    #[test]
    fn months_run_back_to_the_start_and_no_further_than_two_years() {
        let today = date(2026, 12, 7);
        assert_eq!(
            months_back(today, Some(date(2026, 10, 31))),
            ["2026-12", "2026-11", "2026-10"]
        );
        let all = months_back(today, None);
        assert_eq!(all.len(), 24);
        assert_eq!(all.last().map(String::as_str), Some("2025-01"));
        assert_eq!(months_back(today, Some(date(2026, 12, 1))), ["2026-12"]);
    }
}
