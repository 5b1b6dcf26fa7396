//! What a contractor hands over, and where each item stands. Pure: the agreement and today's
//! date in; items, moves and notices out.
//!
//! ```text
//! open → submitted → accepted
//!            ↓  ↑
//!          returned (with the officer's comments; the contractor submits again)
//! ```
//!
//! Each contractor of an agreement in force has the items its `handover:` declares, three
//! items every exit needs (open risks and incidents, pending changes, contacts: due at the
//! engagement's end), and any an officer adds.

use jiff::civil::Date;
use serde::Serialize;

use crate::agreement::model::Agreement;
use crate::agreement::vocab::HandoverKind;
use crate::dates::days_between;
use crate::text::one_line;

/// An item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Nothing submitted yet.
    Open,
    /// Submitted; waiting for an officer.
    Submitted,
    /// Sent back with the officer's comments; the contractor submits again.
    Returned,
    /// Accepted by an officer: part of the knowledge pack.
    Accepted,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Open,
        State::Submitted,
        State::Returned,
        State::Accepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Submitted => "submitted",
            State::Returned => "returned",
            State::Accepted => "accepted",
        }
    }

    /// The stored spelling back; unknown text is `None` (the caller fails closed).
    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Words for people (the task list's tags).
    pub fn label(self) -> &'static str {
        match self {
            State::Open => "Not started",
            State::Submitted => "Waiting for review",
            State::Returned => "Returned",
            State::Accepted => "Accepted",
        }
    }
}

/// What someone does to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// The contractor submits a version.
    Submit,
    /// An officer accepts the latest version.
    Accept,
    /// An officer sends it back with comments.
    Return,
}

impl Move {
    pub fn verb(self) -> &'static str {
        match self {
            Move::Submit => "submitted",
            Move::Accept => "accepted",
            Move::Return => "returned",
        }
    }
}

/// The state after `m`, or `None` when `m` is not allowed from `s`. An accepted item is
/// final: what a successor relies on does not change under them.
pub fn next(s: State, m: Move) -> Option<State> {
    match (s, m) {
        (State::Open | State::Returned | State::Submitted, Move::Submit) => Some(State::Submitted),
        (State::Submitted, Move::Accept) => Some(State::Accepted),
        (State::Submitted, Move::Return) => Some(State::Returned),
        _ => None,
    }
}

/// An item's kind, as the API spells it (the agreement format's `handover[].kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Document,
    Training,
    AccessRevocation,
    DataReturn,
    DeletionCertificate,
    Code,
    Licence,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Document,
        Kind::Training,
        Kind::AccessRevocation,
        Kind::DataReturn,
        Kind::DeletionCertificate,
        Kind::Code,
        Kind::Licence,
        Kind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        self.format().as_str()
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    fn format(self) -> HandoverKind {
        match self {
            Kind::Document => HandoverKind::Document,
            Kind::Training => HandoverKind::Training,
            Kind::AccessRevocation => HandoverKind::AccessRevocation,
            Kind::DataReturn => HandoverKind::DataReturn,
            Kind::DeletionCertificate => HandoverKind::DeletionCertificate,
            Kind::Code => HandoverKind::Code,
            Kind::Licence => HandoverKind::Licence,
            Kind::Other => HandoverKind::Other,
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Document => "Document",
            Kind::Training => "Training",
            Kind::AccessRevocation => "Access revocation",
            Kind::DataReturn => "Data return",
            Kind::DeletionCertificate => "Deletion certificate",
            Kind::Code => "Code",
            Kind::Licence => "Licence",
            Kind::Other => "Other",
        }
    }

    /// What a submission of this kind must cover: shown beside the form, and in the pack.
    pub fn checklist(self) -> &'static [&'static str] {
        match self {
            Kind::Document => &[
                "Runbooks: how each job is run, checked and recovered",
                "Architecture: systems, data stores and where copies of the data sit",
                "Decisions taken, and why",
            ],
            Kind::Training => &[
                "Sessions held, with dates",
                "Who attended",
                "Where the recordings and materials are",
            ],
            Kind::AccessRevocation => &[
                "Every account, key and credential the contractor holds",
                "Who rotates or removes each",
                "When it was done",
                "Never the secret itself: Accord refuses text that looks like one",
            ],
            Kind::DataReturn => &[
                "What was returned, in which format, and to whom",
                "The holdings the ledger lists for the contractor under this agreement",
            ],
            Kind::DeletionCertificate => &[
                "What was deleted, how, and when",
                "Every holding of the contractor under this agreement closed through a deletion request",
            ],
            Kind::Code => &[
                "Repositories, and where they now live",
                "Who owns each from now on",
            ],
            Kind::Licence => &[
                "Licences and subscriptions, and who holds each now",
                "Renewal dates",
            ],
            Kind::Other => &["What a successor needs to know"],
        }
    }

    /// Whether a submission must list credentials (the access-revocation table).
    pub fn lists_credentials(self) -> bool {
        self == Kind::AccessRevocation
    }
}

impl From<HandoverKind> for Kind {
    fn from(k: HandoverKind) -> Kind {
        Kind::ALL
            .into_iter()
            .find(|x| x.format() == k)
            .unwrap_or(Kind::Other)
    }
}

/// An item the agreement (or the exit itself) asks of a contractor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The contractor's party id.
    pub party: String,
    /// Unique per agreement and contractor.
    pub key: String,
    pub kind: Kind,
    pub title: String,
    pub due: Date,
}

/// The items every exit records beside the declared ones, due at the engagement's end:
/// `(key, title)`.
pub const EXIT_RECORDS: [(&str, &str); 3] = [
    (
        "open-risks-and-incidents",
        "Open risks and incidents, and who now owns each",
    ),
    (
        "pending-changes",
        "Changes requested or in progress, and where each stands",
    ),
    (
        "contacts",
        "Contacts: who to ask about what, at the contractor and its suppliers",
    ),
];

/// Every item `agreement` asks of each contractor, in the order the file lists them, then the
/// exit records.
pub fn declared(agreement: &Agreement) -> Vec<Declared> {
    let mut out = Vec::new();
    for c in &agreement.contractors {
        let party = c.party.as_str().to_owned();
        for item in &c.handover {
            out.push(Declared {
                party: party.clone(),
                key: item.id.as_str().to_owned(),
                kind: item.kind.into(),
                title: item
                    .description
                    .as_deref()
                    .map(one_line)
                    .unwrap_or_else(|| Kind::from(item.kind).label().to_owned()),
                due: item.due,
            });
        }
        for (key, title) in EXIT_RECORDS {
            if c.handover.iter().any(|i| i.id.as_str() == key) {
                continue;
            }
            out.push(Declared {
                party: party.clone(),
                key: key.to_owned(),
                kind: Kind::Other,
                title: title.to_owned(),
                due: c.engagement_end,
            });
        }
    }
    out
}

/// The reminders before a due date: this many days before, farthest first.
pub const REMINDER_DAYS: [i64; 3] = [30, 14, 7];

/// What is owed about an item that is not accepted, on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Notice {
    /// The reminder at `threshold` days before the due date (the nearest reached, as the
    /// term-ending reminders do: an item first seen 10 days out gets the 14-day one).
    Due { threshold: i64, days_left: i64 },
    /// Past its due date: escalated to the DPOs.
    Overdue { days_over: i64 },
}

impl Notice {
    /// Unique per item and notice, so the outbox sends each once.
    pub fn key(self) -> String {
        match self {
            Notice::Due { threshold, .. } => format!("due-{threshold}"),
            Notice::Overdue { .. } => "overdue".to_owned(),
        }
    }
}

/// The notice an item not yet accepted is due on `today`, if any.
pub fn notice(due: Date, today: Date) -> Option<Notice> {
    let days_left = days_between(today, due);
    if days_left < 0 {
        return Some(Notice::Overdue {
            days_over: -days_left,
        });
    }
    REMINDER_DAYS
        .iter()
        .rev()
        .find(|&&t| days_left <= t)
        .map(|&threshold| Notice::Due {
            threshold,
            days_left,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn moves_follow_the_states() {
        assert_eq!(next(State::Open, Move::Submit), Some(State::Submitted));
        assert_eq!(next(State::Submitted, Move::Submit), Some(State::Submitted));
        assert_eq!(next(State::Submitted, Move::Return), Some(State::Returned));
        assert_eq!(next(State::Returned, Move::Submit), Some(State::Submitted));
        assert_eq!(next(State::Submitted, Move::Accept), Some(State::Accepted));
        for m in [Move::Submit, Move::Accept, Move::Return] {
            assert_eq!(next(State::Accepted, m), None, "accepted is final");
        }
        assert_eq!(next(State::Open, Move::Accept), None);
        assert_eq!(next(State::Returned, Move::Accept), None);
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn kinds_are_spelt_as_the_format_spells_them() {
        for k in HandoverKind::ALL {
            assert_eq!(Kind::from(*k).as_str(), k.as_str());
        }
        assert_eq!(Kind::ALL.len(), HandoverKind::ALL.len());
        assert_eq!(
            Kind::parse("access_revocation"),
            Some(Kind::AccessRevocation)
        );
        assert_eq!(Kind::parse("runbook"), None);
    }

    #[test]
    fn notices_come_at_30_14_and_7_days_then_overdue() {
        let due = date(2027, 3, 31);
        assert_eq!(notice(due, date(2027, 2, 28)), None, "31 days out");
        let at = |d| notice(due, d).map(Notice::key);
        assert_eq!(at(date(2027, 3, 1)).as_deref(), Some("due-30"));
        assert_eq!(at(date(2027, 3, 17)).as_deref(), Some("due-14"));
        assert_eq!(at(date(2027, 3, 20)).as_deref(), Some("due-14"));
        assert_eq!(at(date(2027, 3, 24)).as_deref(), Some("due-7"));
        assert_eq!(at(date(2027, 3, 31)).as_deref(), Some("due-7"));
        assert_eq!(
            notice(due, date(2027, 4, 2)),
            Some(Notice::Overdue { days_over: 2 })
        );
    }
}
