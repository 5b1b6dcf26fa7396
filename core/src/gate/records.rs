//! The records sent through the gate, read strictly and minimised (pure). A record is a flat
//! JSON object of field id to value (a scalar or a list of scalars); anything else is refused
//! while the request is read, with a reason, never guessed at: a nested object cannot be
//! minimised field by field, and refusing it before deciding answers the same malformed body
//! the same way whatever the decision would have been.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::gate::limits::{MAX_FIELDS, MAX_NAME_CHARS};

/// Most records in one request.
pub const MAX_RECORDS: usize = 10_000;

/// Reads `records`: at most [`MAX_RECORDS`], refused at the first one past the cap.
pub fn bounded_records<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Record>, D::Error> {
    d.deserialize_seq(RecordsVisitor)
}

struct RecordsVisitor;

impl<'de> Visitor<'de> for RecordsVisitor {
    type Value = Vec<Record>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of at most {MAX_RECORDS} records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Record>, A::Error> {
        let mut out = Vec::new();
        while let Some(r) = seq.next_element::<Record>()? {
            if out.len() == MAX_RECORDS {
                return Err(de::Error::custom(format!(
                    "more than {MAX_RECORDS} records in one request"
                )));
            }
            out.push(r);
        }
        Ok(out)
    }
}

/// A record as sent: its fields in order, with duplicate keys already refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Record(pub Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Record, D::Error> {
        d.deserialize_any(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of field id to value")
    }

    /// Linear in the record's size: keys are checked for repeats through a hash set, and a
    /// record may have at most [`MAX_FIELDS`] keys of at most [`MAX_NAME_CHARS`] characters.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut fields: Vec<(String, Value)> = Vec::new();
        let mut keys: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.len() == MAX_FIELDS {
                return Err(de::Error::custom(format!(
                    "a record has more than {MAX_FIELDS} keys"
                )));
            }
            if key.chars().count() > MAX_NAME_CHARS {
                return Err(de::Error::custom(format!(
                    "a record's key is longer than {MAX_NAME_CHARS} characters"
                )));
            }
            if !keys.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "the key '{}' appears twice in one record",
                    crate::agreement::decode::clip(&key)
                )));
            }
            let value: Value = map.next_value()?;
            if is_nested(&value) {
                return Err(de::Error::custom(format!(
                    "field '{key}' holds a nested object or list; send flat records of field \
                     id to value"
                )));
            }
            fields.push((key, value));
        }
        Ok(Record(fields))
    }
}

/// What to do with fields the flow does not permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExtraFields {
    /// Deny the whole request (the default).
    #[default]
    Reject,
    /// Drop them, and list them in the answer.
    Strip,
}

/// Keeps only the `permitted` fields of each record, in the order sent.
pub fn minimise(records: Vec<Record>, permitted: &BTreeSet<&str>) -> Vec<Map<String, Value>> {
    records
        .into_iter()
        .map(|r| {
            r.0.into_iter()
                .filter(|(k, _)| permitted.contains(k.as_str()))
                .collect()
        })
        .collect()
}

fn is_nested(value: &Value) -> bool {
    match value {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().any(|v| v.is_object() || v.is_array()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(json: &str) -> Result<Vec<Record>, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn duplicate_keys_and_non_objects_are_refused() {
        let e = records(r#"[{"a": 1, "a": 2}]"#).unwrap_err().to_string();
        assert!(e.contains("'a' appears twice"), "{e}");
        assert!(
            records(r#"[1]"#)
                .unwrap_err()
                .to_string()
                .contains("JSON object")
        );
        assert!(records(r#"[[]]"#).is_err());
    }

    #[test]
    fn minimising_keeps_only_permitted_fields_in_order() {
        let permitted = BTreeSet::from(["name", "postcode"]);
        let input = records(r#"[{"postcode": "NW1", "nhs_number": "x", "name": "A"}]"#).unwrap();
        let out = minimise(input, &permitted);
        let expected: Map<String, Value> =
            serde_json::from_str(r#"{"name":"A","postcode":"NW1"}"#).unwrap();
        assert_eq!(out, [expected], "only the permitted fields");
    }

    #[test]
    fn nested_values_are_refused_while_reading() {
        for nested in [
            r#"[{"address": {"line1": "1 High St"}}]"#,
            r#"[{"address": [{"line1": "1 High St"}]}]"#,
            r#"[{"address": [["1 High St"]]}]"#,
        ] {
            let e = records(nested).unwrap_err().to_string();
            assert!(
                e.contains("field 'address' holds a nested"),
                "{nested}: {e}"
            );
        }
        let flat = records(r#"[{"address": ["1 High St", "NW1"], "age": 7, "x": null}]"#);
        assert_eq!(flat.unwrap()[0].0.len(), 3);
    }
}
