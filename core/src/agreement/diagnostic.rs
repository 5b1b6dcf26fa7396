//! Findings about an agreement: a code from the format's table, its fixed severity, a message
//! for an IG officer, and the place in the source it is about.

use std::fmt;

use serde::Serialize;

use super::yaml::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

macro_rules! codes {
    ($($variant:ident = $text:literal, $severity:ident;)*) => {
        /// Every diagnostic code of docs/agreement-format.md; the text is public interface.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }
        }
    };
}

codes! {
    YamlSyntax = "yaml-syntax", Error;
    Schema = "schema", Error;
    FormatVersion = "format-version", Error;
    InvalidId = "invalid-id", Error;
    DuplicateId = "duplicate-id", Error;
    TooFewParties = "too-few-parties", Error;
    NoController = "no-controller", Error;
    UnknownParty = "unknown-party", Error;
    UnknownField = "unknown-field", Error;
    UnknownPurpose = "unknown-purpose", Error;
    UnknownFlow = "unknown-flow", Error;
    SelfFlow = "self-flow", Error;
    SpecialCategoryWithoutArticle9 = "special-category-without-article9", Error;
    Article9NeedsSchedule1 = "article9-needs-schedule1", Error;
    CriminalDataWithoutArticle10 = "criminal-data-without-article10", Error;
    MissingLegalPower = "missing-legal-power", Error;
    Schedule1Mismatch = "schedule1-mismatch", Error;
    MissingAppropriatePolicyDocument = "missing-appropriate-policy-document", Warning;
    PublicAuthorityLegitimateInterests = "public-authority-legitimate-interests", Warning;
    ConsentPowerImbalance = "consent-power-imbalance", Warning;
    MissingJointControllerArrangement = "missing-joint-controller-arrangement", Error;
    ProcessorWithoutContract = "processor-without-contract", Error;
    FlowWithoutRetention = "flow-without-retention", Error;
    InvalidDuration = "invalid-duration", Error;
    TermOrder = "term-order", Error;
    Expired = "expired", Warning;
    ReviewOverdue = "review-overdue", Warning;
    AssuranceExpired = "assurance-expired", Warning;
    UnusedField = "unused-field", Warning;
    ContractorNotProcessor = "contractor-not-processor", Error;
    HandoverAfterEngagement = "handover-after-engagement", Error;
    MissingContact = "missing-contact", Warning;
    TransparencyWithoutSummary = "transparency-without-summary", Warning;
    PublishedPersonalData = "published-personal-data", Error;
    UnfilledPlaceholder = "unfilled-placeholder", Warning;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub pos: Pos,
    pub message: String,
}

impl Diagnostic {
    pub fn new(code: Code, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            pos,
            message: message.into(),
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Puts findings in reading order, so output is stable and diffable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (a.pos, a.code, &a.message).cmp(&(b.pos, b.code, &b.message)));
}

/// The closest candidate to a misspelt word, when one is close enough to be a likely typo.
/// A candidate whose length differs from the word's by more than that is never compared (the
/// distance is at least the difference), so a huge word against short keys costs only its
/// length, not its length times each key's.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let word = word.to_lowercase();
    let chars = word.chars().count();
    candidates
        .into_iter()
        .filter(|c| c.chars().take(chars + limit + 1).count().abs_diff(chars) <= limit)
        .map(|c| (strsim::damerau_levenshtein(&word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// ", did you mean 'x'?" or nothing.
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!("; did you mean '{c}'?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert!(
                code.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
        }
        assert_eq!(Code::ALL.len(), 35);
    }

    #[test]
    fn suggestions_find_close_words_only() {
        let keys = ["purposes", "parties", "fields"];
        assert_eq!(did_you_mean("purpose", keys), Some("purposes"));
        assert_eq!(did_you_mean("Parties", keys), Some("parties"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }

    /// Skipping candidates by length alone gives what comparing every candidate gave.
    #[test]
    fn candidates_skipped_by_length_change_no_answer() {
        let every = |word: &str, keys: &[&'static str]| {
            let limit = (word.chars().count() / 3).max(1);
            keys.iter()
                .map(|&c| (strsim::damerau_levenshtein(&word.to_lowercase(), c), c))
                .filter(|&(d, _)| d <= limit)
                .min_by_key(|&(d, _)| d)
                .map(|(_, c)| c)
        };
        let keys = [
            "id",
            "ids",
            "purpose",
            "purposes",
            "parties",
            "flows",
            "i̇d",
            "retention-period",
        ];
        let words = [
            "i",
            "d",
            "idd",
            "Purpose",
            "purpse",
            "purposess",
            "partie",
            "İD",
            "flow",
            "fl",
            "retention",
            "retentionperiod",
            "retention-periods-x",
            "zzzzzzzzzzzzzzzzzzzz",
            "",
        ];
        for word in words {
            assert_eq!(did_you_mean(word, keys), every(word, &keys), "{word:?}");
        }
        assert_eq!(did_you_mean(&"x".repeat(1_000_000), keys), None);
    }
}
