//! Query parameters read strictly, where poem-openapi has no type for them.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseFromParameter, ParseResult, Type};

use super::error::ApiError;

/// A time parameter as sent, documented as `format: date-time` (RFC 3339); [`instant`] reads it,
/// with a message naming the parameter.
pub struct Rfc3339(pub String);

impl Type for Rfc3339 {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string(date-time)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromParameter for Rfc3339 {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Rfc3339(value.to_owned()))
    }
}

/// An optional RFC 3339 time; a 400 naming the parameter otherwise.
pub fn instant(name: &str, text: Option<Rfc3339>) -> Result<Option<jiff::Timestamp>, ApiError> {
    text.map(|t| {
        t.0.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "'{name}' must be an RFC 3339 time, like 2026-11-21T09:00:00Z"
            ))
        })
    })
    .transpose()
}
