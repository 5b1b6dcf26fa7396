//! The register's use cases: the published agreements a page at a time (all, or those of one
//! organisation, or those with words in their titles), one agreement with its monthly counts, the newest for the feed, and the
//! organisations a resident can choose from. Every read of agreements is an indexed query
//! bounded by its page, so an answer costs the same whatever the registry's size (a search by
//! words reads every published title, once, in the database); the organisations are worked out once for each registry generation and day, and kept. Only an
//! agreement in force whose version in force says `publish: true` is ever read; for any other
//! id, whether it exists or not, the answer is the same `None`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use super::public::{Month, PublicAgreement, view};
use crate::agreement::lifecycle::{Status, Stored};
use crate::registry::queries::status_is;
use crate::registry::stored::find_version;
use crate::registry::{Registry, Result};
use crate::store::entity::{agreement, agreement_party, transparency_count, version};

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

/// Which published agreements in force a list shows: those naming `organisation` as a party,
/// given one, whose titles hold every one of `words` (as `text::search_words` makes them:
/// lower-case letters and digits) by its root (`text::word_root`: "licensing" finds
/// "Unlicensed"), whatever their case.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice<'a> {
    pub organisation: Option<&'a str>,
    pub words: &'a [String],
}

/// An organisation that is a party to at least one published agreement in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its party id, as the agreements name it.
    pub id: String,
    /// Its name, as the first of its agreements (by id) gives it.
    pub name: String,
    /// How many published agreements in force it is a party to.
    pub agreements: usize,
}

/// The organisations as last worked out, with the registry generation and the day they hold
/// for.
type Kept = (i64, Date, Arc<Vec<Listed>>);

#[derive(Clone)]
pub struct Register {
    registry: Registry,
    organisations: Arc<Mutex<Option<Kept>>>,
}

impl Register {
    pub fn new(registry: Registry) -> Register {
        Register {
            registry,
            organisations: Arc::default(),
        }
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

    /// Published and in force today, and as `choice` narrows.
    fn shown_with(&self, choice: Choice) -> Condition {
        let mut shown = self.shown();
        for word in choice.words {
            let escaped = crate::text::word_root(word)
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = LikeExpr::new(format!("%{escaped}%")).escape('\\');
            shown = shown
                .add(Expr::expr(Func::lower(Expr::col(agreement::Column::Title))).like(pattern));
        }
        match choice.organisation {
            None => shown,
            Some(party) => shown.add(
                agreement::Column::Id.in_subquery(
                    agreement_party::Entity::find()
                        .select_only()
                        .column(agreement_party::Column::AgreementId)
                        .filter(agreement_party::Column::PartyId.eq(party))
                        .into_query(),
                ),
            ),
        }
    }

    /// Up to `per_page` published agreements in title order, after `after`; only those
    /// `choice` names.
    pub async fn page(
        &self,
        after: Option<&After>,
        per_page: u64,
        choice: Choice<'_>,
    ) -> Result<Page> {
        use agreement::Column as C;
        let mut q = agreement::Entity::find().filter(self.shown_with(choice));
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

    /// The agreements most recently come into force, newest first, of those `choice` shows.
    pub async fn newest(&self, choice: Choice<'_>) -> Result<Vec<Published>> {
        use agreement::Column as C;
        let rows = agreement::Entity::find()
            .filter(self.shown_with(choice))
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

    /// Every organisation that is a party to a published agreement in force, by name (then
    /// id), with how many such agreements it is a party to. Worked out from every published
    /// agreement when the registry has changed (its generation, which every instance shares)
    /// or the day has, and kept until then: an agreement comes into force or ends only by a
    /// change or a date. So a request costs one read of the generation, not a pass over the
    /// register.
    pub async fn organisations(&self) -> Result<Arc<Vec<Listed>>> {
        // The generation is read before the agreements: a change committed in between makes
        // the next request work them out again, never keeps a stale list.
        let generation = self.registry.generation().await?;
        let today = self.today();
        if let Some((g, d, kept)) = &*self.kept()
            && *g == generation
            && *d == today
        {
            return Ok(kept.clone());
        }
        let worked_out = Arc::new(self.work_out_organisations().await?);
        *self.kept() = Some((generation, today, worked_out.clone()));
        Ok(worked_out)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        self.organisations.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn work_out_organisations(&self) -> Result<Vec<Listed>> {
        let shown = agreement::Entity::find()
            .select_only()
            .column(agreement::Column::Id)
            .filter(self.shown())
            .into_query();
        let named = agreement_party::Entity::find()
            .filter(agreement_party::Column::AgreementId.in_subquery(shown))
            .order_by_asc(agreement_party::Column::PartyId)
            .order_by_asc(agreement_party::Column::AgreementId)
            .all(self.db())
            .await?;
        // Each organisation's first agreement (by id), where its name is read, and its count.
        let mut parties: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for row in named {
            parties
                .entry(row.party_id)
                .or_insert_with(|| (row.agreement_id, 0))
                .1 += 1;
        }
        let firsts: Vec<String> = parties
            .values()
            .map(|(a, _)| a.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut names: HashMap<(String, String), String> = HashMap::new();
        for chunk in firsts.chunks(500) {
            let rows = agreement::Entity::find()
                .filter(agreement::Column::Id.is_in(chunk.iter().cloned()))
                .all(self.db())
                .await?;
            for a in self.public_all(&rows).await? {
                for o in a.organisations {
                    names.insert((a.id.clone(), o.id), o.name);
                }
            }
        }
        let mut listed: Vec<Listed> = parties
            .into_iter()
            .map(|(id, (first, agreements))| Listed {
                name: names
                    .remove(&(first, id.clone()))
                    .unwrap_or_else(|| id.clone()),
                id,
                agreements,
            })
            .collect();
        listed.sort_by_cached_key(|o| (o.name.to_lowercase(), o.id.clone()));
        Ok(listed)
    }

    async fn public(&self, row: &agreement::Model) -> Result<PublicAgreement> {
        let number = row.current_version.unwrap_or(row.latest_version);
        let version = find_version(self.db(), &row.id, number).await?;
        let parsed = self.registry.parsed(&version)?;
        Ok(view(&row.id, &parsed, self.registry.clock().today()))
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
                Some(v) => out.push(view(
                    &row.id,
                    &*self.registry.parsed(v)?,
                    self.registry.clock().today(),
                )),
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
