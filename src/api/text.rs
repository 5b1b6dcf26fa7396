//! Text in a JSON body, read strictly. poem-openapi's `String` also accepts a number or a
//! boolean and turns it into text (`{"reason": 5}` would become the reason "5"), which hides
//! a caller's mistake; `Text` takes only a JSON string and answers 400 otherwise.

use poem_openapi::NewType;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};
use serde_json::Value;

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
