//! A version's status as the format defines it, derived (pure) from what is stored — its
//! signing state and the officer's control of the agreement — and from today's date.

use jiff::civil::Date;
use serde::Serialize;

/// The officer's control over a whole agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
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

    pub fn parse(text: &str) -> Control {
        match text {
            "suspended" => Control::Suspended,
            "terminated" => Control::Terminated,
            _ => Control::Open,
        }
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

    pub fn parse(text: &str) -> Stored {
        match text {
            "active" => Stored::Active,
            "superseded" => Stored::Superseded,
            _ => Stored::Draft,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Active,
    Expired,
    Superseded,
    Suspended,
    Terminated,
}

impl Status {
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
