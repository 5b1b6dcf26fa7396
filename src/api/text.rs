//! Text in a JSON body, read strictly. poem-openapi's `String` also accepts a number or a
//! boolean and turns it into text (`{"reason": 5}` would become the reason "5"), which hides
//! a caller's mistake; `Text` takes only a JSON string and answers 400 otherwise.

use poem_openapi::NewType;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};
use serde_json::Value;

use super::error::ApiError;
use crate::inputs::Reason;

#[derive(Debug, Clone, PartialEq, Eq, NewType)]
#[oai(
    from_json = false,
    from_parameter = false,
    from_multipart = false,
    to_header = false
)]
pub struct Text(pub String);

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Ok(Text(s)),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Text that must say something: a JSON string of 1 to `MAX` characters with at least one that
/// is not blank, refused (400) otherwise. The document states the same rule (`minLength`,
/// `maxLength`, and a `pattern` that needs one character outside [`is_blank`]), so a caller
/// reading the schema knows exactly what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonBlank<const MAX: usize>(pub String);

pub use crate::agreement::values::is_blank;

/// A reason as a JSON body gives it: the schema states [`Reason`]'s bound.
pub type ReasonText = NonBlank<{ Reason::MAX }>;

/// The [`Reason`] a body gave, as the use cases take it (400 if it says nothing).
pub fn reason(text: &ReasonText) -> Result<Reason, ApiError> {
    Reason::parse(text).map_err(|p| ApiError::BadRequest(p.message("the reason")))
}

/// The pattern of [`NonBlank`]: somewhere, one character that is not blank ([`is_blank`]).
/// The blank characters are spelt out rather than written `\s`, whose meaning differs between
/// the engines that read the document (ECMA's includes U+FEFF but not U+0085; Python's includes
/// U+001C to U+001F).
pub const NON_BLANK_PATTERN: &str =
    r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

impl<const MAX: usize> NonBlank<MAX> {
    fn check(s: String) -> Result<Self, String> {
        let chars = s.chars().count();
        if chars > MAX {
            Err(format!("{chars} characters: at most {MAX} characters"))
        } else if s.chars().all(is_blank) {
            Err("it is blank: it must not be empty or blank".into())
        } else {
            Ok(NonBlank(s))
        }
    }
}

impl<const MAX: usize> std::ops::Deref for NonBlank<MAX> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> poem_openapi::types::Type for NonBlank<MAX> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> std::borrow::Cow<'static, str> {
        format!("non_blank_string_{MAX}").into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(
            poem_openapi::registry::MetaSchema {
                min_length: Some(1),
                max_length: Some(MAX),
                pattern: Some(NON_BLANK_PATTERN.to_owned()),
                ..poem_openapi::registry::MetaSchema::new("string")
            },
        ))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<const MAX: usize> ParseFromJSON for NonBlank<MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Self::check(s).map_err(ParseError::custom),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl<const MAX: usize> poem_openapi::types::ToJSON for NonBlank<MAX> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_blank_text_says_something_within_its_length() {
        let parse = |v: Value| NonBlank::<5>::parse_from_json(Some(v)).map(|t| t.0);
        assert_eq!(parse(Value::from(" ok ")).unwrap(), " ok ");
        assert_eq!(parse(Value::from("ééééé")).unwrap(), "ééééé");
        for refused in ["", " \t\n", "\u{a0}\u{3000}", "\u{1c}\u{1f}", "toolong"] {
            assert!(parse(Value::from(refused)).is_err(), "{refused:?}");
        }
        assert!(parse(Value::from(5)).is_err());
        assert!(parse(Value::Null).is_err());
    }

    #[test]
    fn the_pattern_finds_a_character_exactly_where_is_blank_does_not() {
        let re = regex::Regex::new(NON_BLANK_PATTERN).unwrap();
        let mut buf = [0; 4];
        for c in (0..=0x10_FFFFu32).filter_map(char::from_u32) {
            let matched = re.is_match(c.encode_utf8(&mut buf));
            assert_eq!(matched, !is_blank(c), "U+{:04X}", c as u32);
        }
    }
}
