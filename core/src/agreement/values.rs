//! Value types that can only hold valid values: slugs, field ids, emails, ISO 8601 durations
//! and calendar dates. Each parses from text once; everything downstream trusts it.

use std::borrow::Cow;
use std::fmt;

use jiff::civil::Date;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

/// An identifier: `[a-z0-9][a-z0-9-]*` (agreements, parties, purposes, flows, risks, handover).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

/// A field id. Like a slug but underscores are allowed too, because a field id is also the key
/// of that item in the JSON records sent through the gate (the format's own examples use
/// `full_name`, `nhs_number`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct FieldId(String);

fn is_id(text: &str, extra: &[u8]) -> bool {
    let mut bytes = text.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
}

impl Slug {
    pub const PATTERN: &'static str = "^[a-z0-9][a-z0-9-]*$";

    pub fn parse(text: &str) -> Option<Slug> {
        is_id(text, b"-").then(|| Slug(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FieldId {
    pub const PATTERN: &'static str = "^[a-z0-9][a-z0-9_-]*$";

    pub fn parse(text: &str) -> Option<FieldId> {
        is_id(text, b"-_").then(|| FieldId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reference to something declared elsewhere in the agreement (a party, field, purpose or
/// flow). Any text parses; validation resolves it, so an unknown name is reported as
/// `unknown-party` and friends, with a suggestion, rather than as a malformed id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Ref(String);

impl Ref {
    pub fn new(text: impl Into<String>) -> Ref {
        Ref(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(Slug, FieldId, Email);

impl JsonSchema for Slug {
    fn schema_name() -> Cow<'static, str> {
        "Slug".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": Slug::PATTERN,
            "description": "lower-case letters, digits and hyphens, starting with a letter or digit"
        })
    }
}

impl JsonSchema for FieldId {
    fn schema_name() -> Cow<'static, str> {
        "FieldId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": FieldId::PATTERN,
            "description": "lower-case letters, digits, hyphens and underscores"
        })
    }
}

/// An email address, checked only for shape (one `@`, a dotted domain, no spaces): deliverability
/// is the mail system's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const PATTERN: &'static str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";

    pub fn parse(text: &str) -> Option<Email> {
        let (local, domain) = text.split_once('@')?;
        let shape_ok = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(char::is_whitespace);
        shape_ok.then(|| Email(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl JsonSchema for Email {
    fn schema_name() -> Cow<'static, str> {
        "Email".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "email", "pattern": Email::PATTERN })
    }
}

/// A positive ISO 8601 duration such as `P90D`, `P6M`, `P7Y` or `PT12H`. (The JSON Schema
/// pattern is looser than `parse`, which also refuses `P`, `PT` and zero: editors get the shape,
/// `accord check` the rule.)
#[derive(Clone, Copy)]
pub struct IsoDuration(jiff::Span);

impl IsoDuration {
    pub const PATTERN: &'static str =
        r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$";

    /// Parses a duration; `Err` says why it is not one we accept.
    pub fn parse(text: &str) -> Result<IsoDuration, &'static str> {
        if !text.starts_with(['P', 'p']) {
            return Err("is not an ISO 8601 duration (like P90D, P6M, P7Y or PT12H)");
        }
        let span: jiff::Span = text
            .parse()
            .map_err(|_| "is not an ISO 8601 duration (like P90D, P6M, P7Y or PT12H)")?;
        if span.is_negative() {
            return Err("is negative; a duration must be positive");
        }
        if span.is_zero() {
            return Err("is zero; a duration must be positive");
        }
        Ok(IsoDuration(span))
    }

    pub fn span(&self) -> jiff::Span {
        self.0
    }

    /// The date this long after `date`, calendar-aware (P1M from 31 January is 28/29 February).
    /// Time units count as whole days rounded up, since agreements speak in calendar dates.
    pub fn after(&self, date: Date) -> Option<Date> {
        let start = date.to_datetime(jiff::civil::Time::midnight());
        let end = start.checked_add(self.0).ok()?;
        if end.time() == jiff::civil::Time::midnight() {
            Some(end.date())
        } else {
            end.date().tomorrow().ok()
        }
    }

    /// The instant this long after `at`, in Europe/London wall-clock terms for calendar units.
    pub fn after_instant(&self, at: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let zoned = at.to_zoned(crate::dates::london());
        Some(zoned.checked_add(self.0).ok()?.timestamp())
    }
}

impl PartialEq for IsoDuration {
    fn eq(&self, other: &Self) -> bool {
        self.0.fieldwise() == other.0.fieldwise()
    }
}

impl Eq for IsoDuration {}

impl fmt::Debug for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoDuration({})", self.0)
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for IsoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl JsonSchema for IsoDuration {
    fn schema_name() -> Cow<'static, str> {
        "IsoDuration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": IsoDuration::PATTERN,
            "description": "ISO 8601 duration, e.g. P90D, P6M, P7Y, PT12H"
        })
    }
}

/// What counts as blank in text a caller must fill in (a reason, a name, a data subject's
/// reference): Unicode white space, and the four information separators (U+001C to U+001F)
/// that Python's `\s` also matches. The API document's pattern for "not blank"
/// (`api::text::NON_BLANK_PATTERN`) spells out the same set.
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Parses a calendar date written exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    text.parse().ok()
}

/// JSON Schema for `jiff::civil::Date` fields (`#[schemars(schema_with = ...)]`).
pub fn date_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "date" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_field_ids() {
        assert!(Slug::parse("camden-foodbank-2").is_some());
        assert!(Slug::parse("0-day").is_some());
        for bad in ["", "-x", "Camden", "a b", "full_name", "é"] {
            assert!(Slug::parse(bad).is_none(), "{bad}");
        }
        assert!(FieldId::parse("full_name").is_some());
        assert!(FieldId::parse("_x").is_none());
        assert!(FieldId::parse("Full_Name").is_none());
    }

    #[test]
    fn emails_by_shape() {
        assert!(Email::parse("jo.bell@camden.example").is_some());
        for bad in [
            "jo",
            "@camden.example",
            "jo@camden",
            "jo@@x.example",
            "jo bell@x.example",
            "jo@x.example.",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        for ok in ["P90D", "P6M", "P7Y", "PT12H", "P1Y2M3DT4H", "P2W"] {
            assert!(IsoDuration::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["90 days", "P", "P0D", "PT0S", "-P1D", "12H", ""] {
            assert!(IsoDuration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(IsoDuration::parse("P90D").unwrap().to_string(), "P90D");
    }

    #[test]
    fn durations_add_calendar_aware() {
        let d = |s: &str| parse_date(s).unwrap();
        let p = |s: &str| IsoDuration::parse(s).unwrap();
        assert_eq!(p("P1M").after(d("2026-01-31")), Some(d("2026-02-28")));
        assert_eq!(p("P12M").after(d("2026-04-01")), Some(d("2027-04-01")));
        assert_eq!(p("PT12H").after(d("2026-04-01")), Some(d("2026-04-02")));
        assert_eq!(p("P90D").after(d("2026-04-01")), Some(d("2026-06-30")));
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-04-01").is_some());
        for bad in [
            "2026-4-1",
            "2026-02-30",
            "20260401",
            "2026-04-01T00:00",
            "01/04/2026",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}
