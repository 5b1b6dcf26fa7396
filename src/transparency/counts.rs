//! The register's proof that the rules are enforced: per agreement and month, how many gate
//! decisions allowed and refused, and how many records were confirmed deleted. Each decision
//! batch and each confirmation adds to its rows in its own transaction (an upsert on the
//! primary key), so the counts cost one indexed read, never a scan of the audit log.

use std::collections::BTreeMap;

use jiff::Timestamp;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

use crate::clock::london;

/// The month `at` falls in, in Europe/London: `YYYY-MM`.
pub fn month_of(at: Timestamp) -> String {
    at.to_zoned(london()).strftime("%Y-%m").to_string()
}

/// A decision as the register counts it: made under an agreement the registry knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub agreement: String,
    pub month: String,
    pub allowed: bool,
}

/// What one batch adds: (allowed, refused) per (agreement, month).
#[derive(Debug, Default)]
pub struct Batch(BTreeMap<(String, String), (i64, i64)>);

impl Batch {
    pub fn add(&mut self, c: &Counted) {
        let row = self
            .0
            .entry((c.agreement.clone(), c.month.clone()))
            .or_default();
        if c.allowed {
            row.0 += 1;
        } else {
            row.1 += 1;
        }
    }

    /// Each row to add: agreement, month, allowed, refused.
    pub fn rows(&self) -> impl Iterator<Item = (&str, &str, i64, i64)> {
        self.0
            .iter()
            .map(|((a, m), (yes, no))| (a.as_str(), m.as_str(), *yes, *no))
    }
}

/// Adds to a month's counts, creating the row the first time. Parameters: agreement, month,
/// allowed, refused, deleted; `?` placeholders (SQLite, and rusqlite's journal).
pub const ADD_SQLITE: &str = "INSERT INTO transparency_counts \
     (agreement_id, month, allowed, refused, deleted) VALUES (?, ?, ?, ?, ?) \
     ON CONFLICT (agreement_id, month) DO UPDATE SET \
     allowed = transparency_counts.allowed + excluded.allowed, \
     refused = transparency_counts.refused + excluded.refused, \
     deleted = transparency_counts.deleted + excluded.deleted";

/// [`ADD_SQLITE`] with PostgreSQL's numbered placeholders.
const ADD_POSTGRES: &str = "INSERT INTO transparency_counts \
     (agreement_id, month, allowed, refused, deleted) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (agreement_id, month) DO UPDATE SET \
     allowed = transparency_counts.allowed + excluded.allowed, \
     refused = transparency_counts.refused + excluded.refused, \
     deleted = transparency_counts.deleted + excluded.deleted";

/// Adds `allowed`, `refused` and `deleted` to `agreement`'s counts for `month`, through `db`
/// (the caller's transaction).
pub async fn add(
    db: &impl ConnectionTrait,
    agreement: &str,
    month: &str,
    [allowed, refused, deleted]: [i64; 3],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => ADD_POSTGRES,
        _ => ADD_SQLITE,
    };
    let values: [Value; 5] = [
        agreement.into(),
        month.into(),
        allowed.into(),
        refused.into(),
        deleted.into(),
    ];
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_london_months() {
        // 23:30 UTC on 31 May is 00:30 on 1 June in British Summer Time.
        let late_may: Timestamp = "2026-05-31T23:30:00Z".parse().unwrap();
        assert_eq!(month_of(late_may), "2026-06");
        // In winter London is on UTC.
        let new_year: Timestamp = "2026-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(month_of(new_year), "2026-12");
    }

    #[test]
    fn a_batch_adds_each_decision_to_its_agreement_and_month() {
        let mut b = Batch::default();
        let c = |a: &str, m: &str, allowed| Counted {
            agreement: a.into(),
            month: m.into(),
            allowed,
        };
        b.add(&c("a", "2026-01", true));
        b.add(&c("a", "2026-01", false));
        b.add(&c("a", "2026-01", true));
        b.add(&c("b", "2026-01", false));
        b.add(&c("a", "2026-02", false));
        let rows: Vec<_> = b.rows().collect();
        assert_eq!(
            rows,
            [
                ("a", "2026-01", 2, 1),
                ("a", "2026-02", 0, 1),
                ("b", "2026-01", 0, 1)
            ]
        );
    }
}
