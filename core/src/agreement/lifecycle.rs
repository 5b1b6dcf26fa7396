//! A version's status as the format defines it, derived (pure) from what is stored — its
//! signing state and the officer's control of the agreement — and from today's date.

use jiff::civil::Date;
use serde::Serialize;

/// The officer's control over a whole agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Open,
    Suspended,
    Terminated,
}

impl Control {
    pub fn as_str(self) -> &'static str {
        match self {
            Control::Open => "open",
            Control::Suspended => "suspended",
            Control::Terminated => "terminated",
        }
    }

    /// The moves an officer may make from this control, in the order they are offered:
    /// suspend or terminate an open agreement, reinstate or terminate a suspended one, and
    /// nothing once terminated (termination is final).
    pub fn moves(self) -> &'static [Control] {
        match self {
            Control::Open => &[Control::Suspended, Control::Terminated],
            Control::Suspended => &[Control::Open, Control::Terminated],
            Control::Terminated => &[],
        }
    }

    /// Whether an officer may move this control to `to`.
    pub fn may_become(self, to: Control) -> bool {
        self.moves().contains(&to)
    }

    /// The control stored as `text`, if `text` names one.
    pub fn from_text(text: &str) -> Option<Control> {
        [Control::Open, Control::Suspended, Control::Terminated]
            .into_iter()
            .find(|c| c.as_str() == text)
    }

    /// The control stored as `text`, failing closed: text that names no control (a damaged
    /// row) reads as `Terminated`, the state under which the gate allows nothing and nothing
    /// changes, and is logged as an error. Open is never a guess.
    pub fn parse(text: &str) -> Control {
        Control::from_text(text).unwrap_or_else(|| {
            tracing::error!(
                stored = text,
                "unknown agreement control; read as terminated"
            );
            Control::Terminated
        })
    }
}

/// What is stored for a version: signing moves it from draft to active, a newer active version
/// moves it to superseded. Expiry, suspension and termination are not stored on the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Draft,
    Active,
    Superseded,
}

impl Stored {
    pub fn as_str(self) -> &'static str {
        match self {
            Stored::Draft => "draft",
            Stored::Active => "active",
            Stored::Superseded => "superseded",
        }
    }

    /// The state stored as `text`, if `text` names one.
    pub fn from_text(text: &str) -> Option<Stored> {
        [Stored::Draft, Stored::Active, Stored::Superseded]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// The state stored as `text`, failing closed: text that names no state (a damaged row)
    /// reads as `Superseded`, the state that is never in force and takes no signatures (a
    /// draft would still take them), and is logged as an error.
    pub fn parse(text: &str) -> Stored {
        Stored::from_text(text).unwrap_or_else(|| {
            tracing::error!(stored = text, "unknown version status; read as superseded");
            Stored::Superseded
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Active,
    Expired,
    Superseded,
    Suspended,
    Terminated,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Draft,
        Status::Active,
        Status::Expired,
        Status::Superseded,
        Status::Suspended,
        Status::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Superseded => "superseded",
            Status::Suspended => "suspended",
            Status::Terminated => "terminated",
        }
    }
}

/// The status a version has today.
pub fn status(stored: Stored, control: Control, term_end: Option<Date>, today: Date) -> Status {
    match (control, stored) {
        (Control::Terminated, _) => Status::Terminated,
        (_, Stored::Draft) => Status::Draft,
        (_, Stored::Superseded) => Status::Superseded,
        (Control::Suspended, Stored::Active) => Status::Suspended,
        (Control::Open, Stored::Active) if term_end.is_some_and(|end| end < today) => {
            Status::Expired
        }
        (Control::Open, Stored::Active) => Status::Active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn termination_is_final_and_every_other_control_moves_both_ways() {
        use Control::*;
        assert!(Open.may_become(Suspended) && Open.may_become(Terminated));
        assert!(Suspended.may_become(Open) && Suspended.may_become(Terminated));
        assert!(Terminated.moves().is_empty());
        for c in [Open, Suspended, Terminated] {
            assert!(!c.may_become(c), "{c:?} to itself is no move");
        }
    }

    #[test]
    fn stored_text_reads_back_and_unknown_text_fails_closed() {
        for c in [Control::Open, Control::Suspended, Control::Terminated] {
            assert_eq!(Control::from_text(c.as_str()), Some(c));
            assert_eq!(Control::parse(c.as_str()), c);
        }
        for s in [Stored::Draft, Stored::Active, Stored::Superseded] {
            assert_eq!(Stored::from_text(s.as_str()), Some(s));
            assert_eq!(Stored::parse(s.as_str()), s);
        }
        for damaged in ["", "Open", "open ", "opne", "suspend", "active\n"] {
            assert_eq!(Control::from_text(damaged), None, "{damaged:?}");
            assert_eq!(Control::parse(damaged), Control::Terminated, "{damaged:?}");
        }
        for damaged in ["", "Active", "draft ", "actve", "expired"] {
            assert_eq!(Stored::from_text(damaged), None, "{damaged:?}");
            assert_eq!(Stored::parse(damaged), Stored::Superseded, "{damaged:?}");
        }
        let (today, end) = (date(2026, 11, 21), Some(date(2027, 3, 31)));
        let status = |stored: &str, control: &str| {
            status(Stored::parse(stored), Control::parse(control), end, today)
        };
        assert_eq!(status("active", "open"), Status::Active);
        assert_eq!(status("active", "0pen"), Status::Terminated, "never active");
        assert_eq!(status("activ", "open"), Status::Superseded, "never active");
    }

    #[test]
    fn the_lifecycle_of_the_format() {
        let today = date(2026, 11, 21);
        let end = Some(date(2027, 3, 31));
        let past = Some(date(2026, 11, 20));
        assert_eq!(
            status(Stored::Draft, Control::Open, end, today),
            Status::Draft
        );
        assert_eq!(
            status(Stored::Active, Control::Open, end, today),
            Status::Active
        );
        assert_eq!(
            status(Stored::Active, Control::Open, None, today),
            Status::Active
        );
        assert_eq!(
            status(Stored::Active, Control::Open, Some(today), today),
            Status::Active
        );
        assert_eq!(
            status(Stored::Active, Control::Open, past, today),
            Status::Expired
        );
        assert_eq!(
            status(Stored::Superseded, Control::Open, end, today),
            Status::Superseded
        );
        assert_eq!(
            status(Stored::Active, Control::Suspended, end, today),
            Status::Suspended
        );
        assert_eq!(
            status(Stored::Draft, Control::Suspended, end, today),
            Status::Draft
        );
        assert_eq!(
            status(Stored::Draft, Control::Terminated, end, today),
            Status::Terminated
        );
        assert_eq!(
            status(Stored::Active, Control::Terminated, past, today),
            Status::Terminated
        );
    }
}
