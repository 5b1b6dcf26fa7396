//! A contractor's engagement that an officer ended early: what any version of the agreement
//! then means for that contractor. Pure.
//!
//! An engagement ended on a day is over for the whole of that day, so its last day is the day
//! before. Whatever a version says, the contractor's `engagement_end` is taken as at most that
//! last day, and each of its handover items as due by then: the gate, the end of access and the
//! handover deadlines all follow from the agreement as enforced ([`ValidAgreement::with_ends`]).
//! A later version must say the same ([`outlasting`]).

use jiff::civil::Date;

use super::ValidAgreement;
use super::model::Agreement;

/// A contractor's engagement ended early: its party, and the day it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyEnd {
    pub party: String,
    pub ended_on: Date,
}

impl EarlyEnd {
    /// The engagement's last day: the day before it ended.
    pub fn last_day(&self) -> Date {
        self.ended_on.yesterday().unwrap_or(self.ended_on)
    }
}

impl ValidAgreement {
    /// The agreement as enforced once `ends` are recorded: each named contractor's
    /// `engagement_end` at most its last day, and each of its handover items due by then. The
    /// rules still hold (an item is never due after its engagement ends).
    pub fn with_ends(&self, ends: &[EarlyEnd]) -> ValidAgreement {
        let mut a = self.0.clone();
        for c in &mut a.contractors {
            let Some(end) = ends.iter().find(|e| e.party == c.party.as_str()) else {
                continue;
            };
            let last = end.last_day();
            c.engagement_end = c.engagement_end.min(last);
            for item in &mut c.handover {
                item.due = item.due.min(c.engagement_end);
            }
        }
        ValidAgreement(a)
    }
}

/// A contractor whose engagement a version lets run past the day it was ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlasting {
    pub party: String,
    /// What the version gives as `engagement_end`.
    pub says: Date,
    /// The last day it may give.
    pub last_day: Date,
}

/// The contractors of `a` whose `engagement_end` is later than the last day of an engagement
/// ended early, in the agreement's order.
pub fn outlasting(a: &Agreement, ends: &[EarlyEnd]) -> Vec<Outlasting> {
    a.contractors
        .iter()
        .filter_map(|c| {
            let end = ends.iter().find(|e| e.party == c.party.as_str())?;
            (c.engagement_end > end.last_day()).then(|| Outlasting {
                party: c.party.as_str().to_owned(),
                says: c.engagement_end,
                last_day: end.last_day(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;
    use jiff::civil::date;

    fn with_contractor() -> ValidAgreement {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .join("agreements/hmo-licensing-enforcement.yaml");
        let source = std::fs::read_to_string(path).unwrap();
        check_source(source.as_bytes(), date(2026, 12, 1))
            .agreement
            .expect("the sample passes")
    }

    #[test]
    fn an_engagement_ended_early_ends_the_day_before_with_its_items_due_by_then() {
        let a = with_contractor();
        let c = &a.contractors[0];
        assert!(
            c.engagement_end > date(2026, 12, 7),
            "the sample runs past the test day"
        );
        assert!(c.handover.iter().any(|i| i.due > date(2026, 12, 6)));
        let end = EarlyEnd {
            party: c.party.as_str().to_owned(),
            ended_on: date(2026, 12, 7),
        };
        let ended = a.with_ends(std::slice::from_ref(&end));
        let e = &ended.contractors[0];
        assert_eq!(e.engagement_end, date(2026, 12, 6));
        assert!(e.handover.iter().all(|i| i.due <= date(2026, 12, 6)));
        // Items already due earlier keep their day.
        for (was, now) in c.handover.iter().zip(&e.handover) {
            assert_eq!(now.due, was.due.min(date(2026, 12, 6)));
        }
        assert_eq!(
            outlasting(&a, std::slice::from_ref(&end)),
            vec![Outlasting {
                party: end.party.clone(),
                says: c.engagement_end,
                last_day: date(2026, 12, 6),
            }]
        );
        assert!(outlasting(&ended, &[end]).is_empty());
    }

    #[test]
    fn an_end_after_the_engagement_changes_nothing() {
        let a = with_contractor();
        let c = &a.contractors[0];
        let late = EarlyEnd {
            party: c.party.as_str().to_owned(),
            ended_on: c.engagement_end.tomorrow().unwrap().tomorrow().unwrap(),
        };
        assert_eq!(a.with_ends(std::slice::from_ref(&late)), a);
        assert!(outlasting(&a, &[late]).is_empty());
        let other = EarlyEnd {
            party: "someone-else".into(),
            ended_on: date(2026, 1, 1),
        };
        assert_eq!(a.with_ends(&[other]), a);
    }
}
