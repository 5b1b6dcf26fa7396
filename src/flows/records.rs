//! The records sent through the gate, read strictly and minimised (pure). A record is a flat
//! JSON object of field id to value; anything else is refused with a reason, never guessed at.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Most records in one request.
pub const MAX_RECORDS: usize = 10_000;

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

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut fields: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!(
                    "the key '{key}' appears twice in one record"
                )));
            }
            let value: Value = map.next_value()?;
            fields.push((key, value));
        }
        Ok(Record(fields))
    }
}

/// What to do with fields the flow does not permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum OnExtraFields {
    /// Deny the whole request (the default).
    #[default]
    Reject,
    /// Drop them, and list them in the answer.
    Strip,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A record is not acceptable at all (nested values): 400.
    Malformed(String),
    /// Records carry fields the flow does not permit, and the caller asked to reject.
    Extra(BTreeSet<String>),
}

/// The minimised records, and the field names removed from them.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimised {
    pub records: Vec<Map<String, Value>>,
    pub stripped: BTreeSet<String>,
}

/// Keeps only `permitted` fields of each record. Values must be scalars or lists of scalars: a
/// nested object cannot be minimised field by field, so it is refused rather than passed whole.
pub fn minimise(
    records: Vec<Record>,
    permitted: &BTreeSet<&str>,
    on_extra: OnExtraFields,
) -> Result<Minimised, Problem> {
    let mut extra = BTreeSet::new();
    for (i, r) in records.iter().enumerate() {
        for (key, value) in &r.0 {
            if is_nested(value) {
                let msg = format!(
                    "record {i}: field '{key}' holds a nested object; send flat records of field id to value"
                );
                return Err(Problem::Malformed(msg));
            }
            if !permitted.contains(key.as_str()) {
                extra.insert(key.clone());
            }
        }
    }
    if !extra.is_empty() && on_extra == OnExtraFields::Reject {
        return Err(Problem::Extra(extra));
    }
    let records = records
        .into_iter()
        .map(|r| {
            r.0.into_iter()
                .filter(|(k, _)| permitted.contains(k.as_str()))
                .collect()
        })
        .collect();
    Ok(Minimised {
        records,
        stripped: extra,
    })
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
    fn strip_keeps_only_permitted_fields_in_order() {
        let permitted = BTreeSet::from(["name", "postcode"]);
        let input = records(r#"[{"postcode": "NW1", "nhs_number": "x", "name": "A"}]"#).unwrap();
        let out = minimise(input, &permitted, OnExtraFields::Strip).unwrap();
        let expected: Map<String, Value> =
            serde_json::from_str(r#"{"name":"A","postcode":"NW1"}"#).unwrap();
        assert_eq!(out.records[0], expected, "only the permitted fields");
        assert_eq!(out.stripped, BTreeSet::from(["nhs_number".to_owned()]));
    }

    #[test]
    fn reject_names_the_extra_fields() {
        let permitted = BTreeSet::from(["name"]);
        let input = records(r#"[{"name": "A", "dob": "1990-01-01"}]"#).unwrap();
        let err = minimise(input, &permitted, OnExtraFields::Reject).unwrap_err();
        assert_eq!(err, Problem::Extra(BTreeSet::from(["dob".to_owned()])));
    }

    #[test]
    fn nested_values_are_refused() {
        let permitted = BTreeSet::from(["address"]);
        let input = records(r#"[{"address": {"line1": "1 High St"}}]"#).unwrap();
        assert!(matches!(
            minimise(input, &permitted, OnExtraFields::Strip),
            Err(Problem::Malformed(_))
        ));
        let ok = records(r#"[{"address": ["1 High St", "NW1"]}]"#).unwrap();
        assert!(minimise(ok, &permitted, OnExtraFields::Strip).is_ok());
    }
}
