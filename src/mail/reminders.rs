//! Which reminders an agreement version is due on a given day. Pure: the agreement, its
//! registry version number and today's (Europe/London) date in, reminders out.
//!
//! Each reminder carries a dedupe key; the outbox refuses a key it has seen, so the scheduler
//! may ask every day (or every minute) and each reminder still goes once. Call this for the
//! versions that are in force (active and open); drafts and superseded versions get none.
//!
//! The rules:
//!
//! - **Review due**: from [`REVIEW_NOTICE_DAYS`] (14) days before the next review date
//!   (`term.last_reviewed`, else `term.start`, plus `term.review_every`), and on any later day
//!   while that version is in force, so a review already overdue is still announced once. Key:
//!   `review-due:AGREEMENT:VERSION:DUE-DATE`. A new version with a new `last_reviewed` has a
//!   new key.
//! - **Term ending**: at 60, 30 and 7 days before `term.end` ([`TERM_THRESHOLDS`]). Each fires
//!   on or after its day, and only the nearest one that has been reached: an agreement first
//!   seen 20 days before its end gets the 30-day reminder, not the 60-day one too, and on the
//!   7th day the 7-day one. Nothing fires once the end has passed (the version is expired).
//!   Key: `term-ending:AGREEMENT:VERSION:DAYS`.
//! - **Assurance expiring**: a party's DSPT or Cyber Essentials certificate expiring within
//!   [`ASSURANCE_NOTICE_DAYS`] (30) days, or already expired. Key:
//!   `assurance-expiring:AGREEMENT:VERSION:PARTY:SCHEME:EXPIRY-DATE`.
//!
//! The outbox key of each message adds the recipient (see [`super::compose::messages`]), so
//! every recipient gets each reminder once.

use jiff::civil::Date;
use serde::Serialize;

use super::Kind;
use crate::agreement::model::Agreement;

/// How many days before the next review date the review reminder goes.
pub const REVIEW_NOTICE_DAYS: i64 = 14;
/// The term-ending reminders: this many days before `term.end`, farthest first.
pub const TERM_THRESHOLDS: [i64; 3] = [60, 30, 7];
/// How many days before an assurance certificate expires the reminder goes.
pub const ASSURANCE_NOTICE_DAYS: i64 = 30;

/// One reminder due for one agreement version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub agreement_id: String,
    pub version: i32,
    /// Unique per reminder and recipient-independent; see the module's rules.
    pub dedupe_key: String,
    pub about: About,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum About {
    /// `days_left` is negative when the review is overdue.
    ReviewDue { due: Date, days_left: i64 },
    /// `threshold` is the reminder's day: 60, 30 or 7.
    TermEnding {
        end: Date,
        days_left: i64,
        threshold: i64,
    },
    /// `days_left` is negative when the certificate has already expired.
    AssuranceExpiring {
        party: String,
        scheme: Scheme,
        expires: Date,
        days_left: i64,
    },
}

/// The assurance schemes the format records for a party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// The NHS Data Security and Protection Toolkit.
    Dspt,
    CyberEssentials,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dspt => "dspt",
            Scheme::CyberEssentials => "cyber-essentials",
        }
    }

    /// The name used in messages.
    pub fn label(self) -> &'static str {
        match self {
            Scheme::Dspt => "Data Security and Protection Toolkit (DSPT)",
            Scheme::CyberEssentials => "Cyber Essentials",
        }
    }
}

impl Reminder {
    pub fn kind(&self) -> Kind {
        match self.about {
            About::ReviewDue { .. } => Kind::ReviewDue,
            About::TermEnding { .. } => Kind::TermEnding,
            About::AssuranceExpiring { .. } => Kind::AssuranceExpiring,
        }
    }
}

/// The reminders `version` of `agreement` is due `today`, each once (by its dedupe key).
pub fn due(agreement: &Agreement, version: i32, today: Date) -> Vec<Reminder> {
    let id = agreement.id.as_str();
    let reminder = |dedupe_key: String, about: About| Reminder {
        agreement_id: id.to_owned(),
        version,
        dedupe_key,
        about,
    };
    let mut out = Vec::new();

    if let Some(due) = agreement.term.next_review() {
        let days_left = days_between(today, due);
        if days_left <= REVIEW_NOTICE_DAYS {
            let key = format!("review-due:{id}:{version}:{due}");
            out.push(reminder(key, About::ReviewDue { due, days_left }));
        }
    }

    if let Some(end) = agreement.term.end {
        let days_left = days_between(today, end);
        let reached = TERM_THRESHOLDS.iter().rev().find(|&&t| days_left <= t);
        if let (true, Some(&threshold)) = (days_left >= 0, reached) {
            let key = format!("term-ending:{id}:{version}:{threshold}");
            let about = About::TermEnding {
                end,
                days_left,
                threshold,
            };
            out.push(reminder(key, about));
        }
    }

    for party in &agreement.parties {
        let Some(assurance) = &party.assurance else {
            continue;
        };
        let certificates = [
            assurance.dspt.as_ref().map(|d| (Scheme::Dspt, d.expires)),
            assurance
                .cyber_essentials
                .as_ref()
                .map(|c| (Scheme::CyberEssentials, c.expires)),
        ];
        for (scheme, expires) in certificates.into_iter().flatten() {
            let days_left = days_between(today, expires);
            if days_left <= ASSURANCE_NOTICE_DAYS {
                let party_id = party.id.as_str();
                let key = format!(
                    "assurance-expiring:{id}:{version}:{party_id}:{}:{expires}",
                    scheme.as_str()
                );
                let about = About::AssuranceExpiring {
                    party: party_id.to_owned(),
                    scheme,
                    expires,
                    days_left,
                };
                out.push(reminder(key, about));
            }
        }
    }
    out
}

pub use accord_core::dates::days_between;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;
    use jiff::civil::date;

    /// The Camden sample: term 2026-04-01 to 2028-03-31, reviewed every 12 months, last on
    /// 2026-04-01 (next review 2027-04-01); Camden's DSPT expires 2027-06-30 and the
    /// foodbank's Cyber Essentials 2027-05-31.
    fn camden() -> Agreement {
        let source = include_str!("../../agreements/camden-foodbank-referrals.yaml");
        check_source(source.as_bytes(), date(2026, 11, 21))
            .agreement
            .expect("the sample is valid")
            .into_inner()
    }

    fn keys(a: &Agreement, today: Date) -> Vec<String> {
        due(a, 3, today).into_iter().map(|r| r.dedupe_key).collect()
    }

    #[test]
    fn nothing_is_due_on_a_quiet_day() {
        assert!(keys(&camden(), date(2026, 11, 21)).is_empty());
    }

    #[test]
    fn review_is_announced_from_fourteen_days_before() {
        let a = camden();
        assert!(keys(&a, date(2027, 3, 17)).is_empty());
        let on_time = due(&a, 3, date(2027, 3, 18));
        assert_eq!(on_time.len(), 1);
        assert_eq!(
            on_time[0].dedupe_key,
            "review-due:camden-foodbank-referrals:3:2027-04-01"
        );
        assert_eq!(on_time[0].kind(), Kind::ReviewDue);
        assert_eq!(
            on_time[0].about,
            About::ReviewDue {
                due: date(2027, 4, 1),
                days_left: 14
            }
        );
        // Overdue: the same reminder (same key), so it is queued once however late.
        let late = due(&a, 3, date(2027, 4, 20));
        let review: Vec<_> = late
            .iter()
            .filter(|r| r.kind() == Kind::ReviewDue)
            .collect();
        assert_eq!(review[0].dedupe_key, on_time[0].dedupe_key);
        assert_eq!(
            review[0].about,
            About::ReviewDue {
                due: date(2027, 4, 1),
                days_left: -19
            }
        );
    }

    #[test]
    fn term_ending_fires_at_sixty_thirty_and_seven_days() {
        let mut a = camden();
        a.parties.iter_mut().for_each(|p| p.assurance = None);
        a.term.last_reviewed = Some(date(2028, 1, 1)); // keep review out of the way
        let end = date(2028, 3, 31);
        let term = |today: Date| -> Vec<String> {
            keys(&a, today)
                .into_iter()
                .filter(|k| k.starts_with("term-ending"))
                .collect()
        };
        let before = |n: i64| end.checked_sub(jiff::Span::new().days(n)).unwrap();
        assert!(term(before(61)).is_empty());
        assert_eq!(
            term(before(60)),
            ["term-ending:camden-foodbank-referrals:3:60"]
        );
        assert_eq!(
            term(before(31)),
            ["term-ending:camden-foodbank-referrals:3:60"]
        );
        assert_eq!(
            term(before(30)),
            ["term-ending:camden-foodbank-referrals:3:30"]
        );
        assert_eq!(
            term(before(8)),
            ["term-ending:camden-foodbank-referrals:3:30"]
        );
        assert_eq!(
            term(before(7)),
            ["term-ending:camden-foodbank-referrals:3:7"]
        );
        assert_eq!(term(end), ["term-ending:camden-foodbank-referrals:3:7"]);
        assert!(
            term(date(2028, 4, 1)).is_empty(),
            "ended: expired, not ending"
        );
        // First seen late: only the nearest threshold, never the farther ones as well.
        let r = due(&a, 3, before(20));
        let ending: Vec<_> = r.iter().filter(|r| r.kind() == Kind::TermEnding).collect();
        assert_eq!(ending.len(), 1);
        assert_eq!(
            ending[0].about,
            About::TermEnding {
                end,
                days_left: 20,
                threshold: 30
            }
        );
    }

    #[test]
    fn an_open_ended_term_never_ends() {
        let mut a = camden();
        a.term.end = None;
        assert!(
            keys(&a, date(2028, 3, 30))
                .iter()
                .all(|k| !k.starts_with("term-ending"))
        );
    }

    #[test]
    fn assurance_within_thirty_days_or_expired() {
        let a = camden();
        // Cyber Essentials (foodbank) expires 2027-05-31; DSPT (camden) 2027-06-30.
        let assurance = |today: Date| -> Vec<String> {
            keys(&a, today)
                .into_iter()
                .filter(|k| k.starts_with("assurance"))
                .collect()
        };
        assert!(assurance(date(2027, 4, 30)).is_empty());
        assert_eq!(
            assurance(date(2027, 5, 1)),
            ["assurance-expiring:camden-foodbank-referrals:3:foodbank:cyber-essentials:2027-05-31"]
        );
        let both = due(&a, 3, date(2027, 6, 15));
        let assurance: Vec<_> = both
            .iter()
            .filter(|r| r.kind() == Kind::AssuranceExpiring)
            .map(|r| &r.about)
            .collect();
        assert_eq!(
            assurance,
            [
                &About::AssuranceExpiring {
                    party: "camden".into(),
                    scheme: Scheme::Dspt,
                    expires: date(2027, 6, 30),
                    days_left: 15
                },
                &About::AssuranceExpiring {
                    party: "foodbank".into(),
                    scheme: Scheme::CyberEssentials,
                    expires: date(2027, 5, 31),
                    days_left: -15
                },
            ]
        );
    }

    #[test]
    fn keys_name_the_version() {
        let a = camden();
        let today = date(2027, 3, 20);
        assert_ne!(
            due(&a, 3, today)[0].dedupe_key,
            due(&a, 4, today)[0].dedupe_key
        );
        assert!(due(&a, 4, today).iter().all(|r| r.version == 4));
    }

    #[test]
    fn days_between_counts_whole_days_both_ways() {
        assert_eq!(days_between(date(2027, 1, 1), date(2027, 3, 1)), 59);
        assert_eq!(days_between(date(2027, 3, 1), date(2027, 1, 1)), -59);
        assert_eq!(days_between(date(2028, 2, 28), date(2028, 3, 1)), 2);
    }
}
