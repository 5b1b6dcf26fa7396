//! What people type, parsed once where it arrives (a console form or an API body) into a type
//! the use cases take. Each type's rule (what it must say, how long it may be) lives here and
//! nowhere else: the pages word their errors from [`Problem`], and the API's schema states the
//! same bound through the type's `MAX`. Pure.

use std::fmt;

use crate::agreement::values::is_blank;

/// Why typed text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Nothing but blanks.
    Blank,
    /// Longer than `max` characters.
    TooLong { max: usize },
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
