//! What people type, parsed once where it arrives (a console form or an API body) into a type
//! the use cases take. Each type's rule (what it must say, how long it may be) lives here and
//! nowhere else: the pages word their errors from [`Problem`], and the API's schema states the
//! same bound through the type's `MAX`. Pure.

use std::fmt;

use crate::agreement::values::{Slug, is_blank};

/// Why typed text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Nothing but blanks.
    Blank,
    /// Longer than `max` characters.
    TooLong { max: usize },
    /// Not an id: an id is lower-case letters, digits and hyphens.
    NotAnId,
}

impl Problem {
    /// The GOV.UK error message for the field asking for `what` (for example "the reason").
    pub fn message(self, what: &str) -> String {
        match self {
            Problem::Blank => format!("Enter {what}"),
            Problem::TooLong { max } => format!(
                "{} must be {} characters or fewer",
                crate::text::capitalised(what),
                crate::text::thousands(max as u64)
            ),
            Problem::NotAnId => format!(
                "{} must be lower-case letters, digits and hyphens, like camden-council",
                crate::text::capitalised(what)
            ),
        }
    }
}

/// Text that must say something, trimmed, at most `max` characters.
fn bounded(text: &str, max: usize) -> Result<String, Problem> {
    let text = text.trim_matches(is_blank);
    if text.is_empty() {
        return Err(Problem::Blank);
    }
    if text.chars().count() > max {
        return Err(Problem::TooLong { max });
    }
    Ok(text.to_owned())
}

macro_rules! bounded_text {
    ($($(#[$doc:meta])* $name:ident, $max:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The most characters it may have.
            pub const MAX: usize = $max;

            /// `text` without its surrounding blanks, if it says something in at most
            /// [`Self::MAX`] characters.
            pub fn parse(text: &str) -> Result<Self, Problem> {
                bounded(text, Self::MAX).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

bounded_text! {
    /// Why an officer acts: suspending, reinstating or terminating an agreement, suspending a
    /// party, placing or releasing a legal hold, ending an engagement early. Audited with the
    /// act.
    Reason, 2000;
    /// A person's name as they sign an agreement.
    SignerName, 200;
    /// A data subject's reference, as the holder of the data knows it (the gate's records, the
    /// holdings, a legal hold's scope).
    SubjectRef, 200;
}

/// A party's id, as agreements name their parties and tokens and accounts are bound to them:
/// lower-case letters, digits and hyphens (a [`Slug`]), at most [`PartyId::MAX`] characters (the
/// gate's bound on every id). Taken as typed: an id with a blank in it is not an id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartyId(String);

impl PartyId {
    pub const MAX: usize = crate::gate::limits::MAX_NAME_CHARS;

    pub fn parse(text: &str) -> Result<PartyId, Problem> {
        if text.trim_matches(is_blank).is_empty() {
            return Err(Problem::Blank);
        }
        if text.chars().count() > Self::MAX {
            return Err(Problem::TooLong { max: Self::MAX });
        }
        match Slug::parse(text) {
            Some(_) => Ok(PartyId(text.to_owned())),
            None => Err(Problem::NotAnId),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One part of a legal hold's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePart {
    Agreement,
    Party,
    SubjectRef,
}

impl ScopePart {
    /// Its key in the API's `scope`.
    pub fn key(self) -> &'static str {
        match self {
            ScopePart::Agreement => "agreement",
            ScopePart::Party => "party",
            ScopePart::SubjectRef => "subject_ref",
        }
    }

    /// What the console's field asks for, to word its error.
    pub fn what(self) -> &'static str {
        match self {
            ScopePart::Agreement => "the agreement",
            ScopePart::Party => "the party",
            ScopePart::SubjectRef => "the subject reference",
        }
    }
}

/// Why a legal hold's scope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeProblem {
    /// It names nothing: a hold that would keep everything.
    Nothing,
    /// A part given is wrong.
    Part(ScopePart, Problem),
}

impl ScopeProblem {
    /// The GOV.UK error message.
    pub fn message(self) -> String {
        match self {
            ScopeProblem::Nothing => {
                "Enter what the hold keeps: an agreement, a party or a subject reference".into()
            }
            ScopeProblem::Part(part, problem) => problem.message(part.what()),
        }
    }
}

/// What a legal hold keeps: an agreement, a party on either end of a flow, a data subject's
/// reference. Every part given must match; at least one is needed. The agreement and the party
/// are trimmed; the subject reference is kept exactly as given, since the gate stores it as it
/// was sent and a hold matches it exactly. Each part is at most [`SubjectRef::MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldScope {
    agreement: Option<String>,
    party: Option<String>,
    subject_ref: Option<String>,
}

impl HoldScope {
    /// The scope from the parts given (`None`: not given), or every problem with it.
    pub fn parse(
        agreement: Option<&str>,
        party: Option<&str>,
        subject_ref: Option<&str>,
    ) -> Result<HoldScope, Vec<ScopeProblem>> {
        let mut problems = Vec::new();
        let mut part = |which: ScopePart, given: Option<&str>, trim: bool| {
            let given = given?;
            match bounded(given, SubjectRef::MAX) {
                Ok(trimmed) if trim => Some(trimmed),
                Ok(_) => Some(given.to_owned()),
                Err(p) => {
                    problems.push(ScopeProblem::Part(which, p));
                    None
                }
            }
        };
        let scope = HoldScope {
            agreement: part(ScopePart::Agreement, agreement, true),
            party: part(ScopePart::Party, party, true),
            subject_ref: part(ScopePart::SubjectRef, subject_ref, false),
        };
        let given = [agreement, party, subject_ref];
        if given.iter().all(Option::is_none) {
            problems.push(ScopeProblem::Nothing);
        }
        if problems.is_empty() {
            Ok(scope)
        } else {
            Err(problems)
        }
    }

    pub fn agreement(&self) -> Option<&str> {
        self.agreement.as_deref()
    }

    pub fn party(&self) -> Option<&str> {
        self.party.as_deref()
    }

    pub fn subject_ref(&self) -> Option<&str> {
        self.subject_ref.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_must_say_something_within_its_bound() {
        assert_eq!(Reason::parse("  a breach \n").unwrap().as_str(), "a breach");
        assert_eq!(Reason::parse(" \u{a0}\t"), Err(Problem::Blank));
        assert!(
            Reason::parse(&"é".repeat(Reason::MAX)).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(
            Reason::parse(&"x".repeat(Reason::MAX + 1)),
            Err(Problem::TooLong { max: 2000 })
        );
    }

    #[test]
    fn a_party_id_is_an_id_within_the_gates_bound() {
        assert_eq!(
            PartyId::parse("camden-council").unwrap().as_str(),
            "camden-council"
        );
        assert_eq!(PartyId::parse(" "), Err(Problem::Blank));
        assert_eq!(PartyId::parse("Police"), Err(Problem::NotAnId));
        assert_eq!(PartyId::parse(" police"), Err(Problem::NotAnId));
        assert!(PartyId::parse(&"a".repeat(200)).is_ok());
        assert_eq!(
            PartyId::parse(&"a".repeat(201)),
            Err(Problem::TooLong { max: 200 })
        );
        assert_eq!(
            Problem::NotAnId.message("the party"),
            "The party must be lower-case letters, digits and hyphens, like camden-council"
        );
    }

    #[test]
    fn a_hold_scope_names_something_and_bounds_each_part() {
        let s = HoldScope::parse(Some(" hub "), None, Some(" R-1 ")).unwrap();
        assert_eq!(s.agreement(), Some("hub"));
        assert_eq!(s.party(), None);
        assert_eq!(s.subject_ref(), Some(" R-1 "), "kept exactly as sent");
        assert_eq!(
            HoldScope::parse(None, None, None),
            Err(vec![ScopeProblem::Nothing])
        );
        let long = "x".repeat(201);
        assert_eq!(
            HoldScope::parse(Some(" "), Some(&long), None),
            Err(vec![
                ScopeProblem::Part(ScopePart::Agreement, Problem::Blank),
                ScopeProblem::Part(ScopePart::Party, Problem::TooLong { max: 200 }),
            ])
        );
        assert_eq!(
            ScopeProblem::Part(ScopePart::SubjectRef, Problem::Blank).message(),
            "Enter the subject reference"
        );
    }

    #[test]
    fn problems_read_as_govuk_error_messages() {
        assert_eq!(Problem::Blank.message("the reason"), "Enter the reason");
        assert_eq!(
            Problem::TooLong { max: 2000 }.message("the reason"),
            "The reason must be 2,000 characters or fewer"
        );
        assert_eq!(
            SignerName::parse(&"x".repeat(201))
                .unwrap_err()
                .message("your name"),
            "Your name must be 200 characters or fewer"
        );
    }
}
