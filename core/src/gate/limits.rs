//! What one question to the gate may ask: every size has a cap, so a request costs at most
//! linear work in its size and its audit record stays small whatever was asked. The caps are
//! read while the JSON is read (serde stops at the first item past a cap, before reading the
//! rest), and the OpenAPI document states the same numbers (`maxItems`, `maxLength`).

use std::fmt;

use serde::Deserializer;
use serde::de::{self, SeqAccess, Visitor};

/// Most field ids in one question, and most keys in one record sent through the gate.
pub const MAX_FIELDS: usize = 10_000;
/// Longest id (agreement, party, purpose, flow or field) the gate reads, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Most `field-not-permitted` reasons listed one by one in a decision; past it, one more
/// reason counts the rest (every denied field is still in `denied_fields`).
pub const MAX_FIELD_REASONS: usize = 20;

/// An id: 1 to [`MAX_NAME_CHARS`] characters.
pub fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s: String = serde::Deserialize::deserialize(d)?;
    checked_name(s).map_err(de::Error::custom)
}

/// An optional id: absent, `null`, or as [`name`].
pub fn optional_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    s.map(checked_name).transpose().map_err(de::Error::custom)
}

/// A list of at most [`MAX_FIELDS`] ids, refused at the first one past the cap.
pub fn names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_seq(Names)
}

fn checked_name(s: String) -> Result<String, String> {
    let chars = s.chars().count();
    if chars == 0 {
        Err("an id must not be empty".to_owned())
    } else if chars > MAX_NAME_CHARS {
        Err(format!(
            "an id of {chars} characters; ids are at most {MAX_NAME_CHARS}"
        ))
    } else {
        Ok(s)
    }
}

struct Names;

impl<'de> Visitor<'de> for Names {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of at most {MAX_FIELDS} field ids")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_FIELDS));
        while let Some(s) = seq.next_element::<String>()? {
            if out.len() == MAX_FIELDS {
                return Err(de::Error::custom(format!(
                    "more than {MAX_FIELDS} fields in one request"
                )));
            }
            // A field id may be empty (it names no declared field, so it is denied); only its
            // length is capped.
            if s.chars().count() > MAX_NAME_CHARS {
                return Err(de::Error::custom(format!(
                    "a field id of more than {MAX_NAME_CHARS} characters; ids are at most \
                     {MAX_NAME_CHARS}"
                )));
            }
            out.push(s);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Q {
        #[serde(deserialize_with = "names")]
        fields: Vec<String>,
        #[serde(deserialize_with = "name")]
        id: String,
    }

    fn read(fields: usize, id: &str) -> Result<Q, String> {
        let list: Vec<String> = (0..fields).map(|i| format!("f{i}")).collect();
        let json = serde_json::json!({ "fields": list, "id": id });
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    #[test]
    fn lists_are_capped_at_max_fields() {
        assert_eq!(read(MAX_FIELDS, "a").unwrap().fields.len(), MAX_FIELDS);
        let e = read(MAX_FIELDS + 1, "a").unwrap_err();
        assert!(e.contains("more than 10000 fields"), "{e}");
    }

    #[test]
    fn ids_are_one_to_max_name_chars() {
        let longest = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(read(1, &longest).unwrap().id, longest);
        let e = read(1, &"a".repeat(MAX_NAME_CHARS + 1)).unwrap_err();
        assert!(e.contains("ids are at most 200"), "{e}");
        assert!(read(1, "").unwrap_err().contains("must not be empty"));
    }
}
