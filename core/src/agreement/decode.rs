//! Decoding the located YAML tree into typed values, collecting every finding rather than
//! stopping at the first (serde's derive stops at the first, and knows no positions).
//!
//! Each model type implements [`Decode`] next to its definition, so the keys a struct accepts
//! are written down once, where the struct is. A decode that reported an error may return a
//! partial value; [`decode_document`] never lets such a value out.

use std::fmt::Write as _;
use std::num::NonZeroU32;

use jiff::civil::Date;

use super::diagnostic::{Code, Diagnostic, suggestion};
use super::values::{Email, FieldId, IsoDuration, Ref, Slug, parse_date};
use super::yaml::{Entry, Node, NodeKind, Resolved, Step};

pub trait Decode: Sized {
    /// What a value of this type looks like, for messages: "text", "a date (YYYY-MM-DD)".
    const EXPECTED: &'static str;

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self>;
}

/// Collects findings and remembers where in the document decoding is, for messages.
#[derive(Default)]
pub struct Decoder {
    diagnostics: Vec<Diagnostic>,
    path: Vec<Step>,
}

impl Decoder {
    pub fn report(&mut self, code: Code, node_pos: super::yaml::Pos, message: String) {
        self.diagnostics
            .push(Diagnostic::new(code, node_pos, message));
    }

    /// The current location as `flows[1].to`, or "the agreement" at the top.
    pub fn here(&self) -> String {
        let mut s = String::new();
        for part in &self.path {
            match part {
                Step::Key(k) if s.is_empty() => s.push_str(k),
                Step::Key(k) => write!(s, ".{k}").unwrap_or(()),
                Step::Index(i) => write!(s, "[{i}]").unwrap_or(()),
            }
        }
        if s.is_empty() {
            "the agreement".to_owned()
        } else {
            format!("'{s}'")
        }
    }

    fn with<T>(&mut self, part: Step, f: impl FnOnce(&mut Self) -> T) -> T {
        self.path.push(part);
        let out = f(self);
        self.path.pop();
        out
    }

    /// Reports a value of the wrong kind, saying what was expected and what was found.
    fn wrong_type(&mut self, node: &Node, expected: &str) {
        let found = describe(node);
        let msg = format!("{} should be {expected}, but is {found}", self.here());
        self.report(Code::Schema, node.pos, msg);
    }

    /// The text of a scalar that YAML reads as a string; anything else is reported.
    pub fn text<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n str> {
        match node.as_scalar().map(|s| s.resolve()) {
            Some(Resolved::Text(t)) => Some(t),
            _ => {
                self.wrong_type(node, expected);
                None
            }
        }
    }

    pub fn mapping<'n>(&mut self, node: &'n Node, what: &'static str) -> Option<Fields<'n>> {
        match &node.kind {
            NodeKind::Map(entries) => Some(Fields {
                node,
                entries,
                known: Vec::new(),
                what,
            }),
            _ => {
                self.wrong_type(node, "a mapping of keys to values");
                None
            }
        }
    }
}

fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Seq(_) => "a list".to_owned(),
        NodeKind::Map(_) => "a mapping".to_owned(),
        NodeKind::Scalar(s) => match s.resolve() {
            Resolved::Null => "empty".to_owned(),
            Resolved::Bool(b) => format!("{b} (a yes/no value; quote it to make it text)"),
            Resolved::Int(_) | Resolved::Float => {
                format!("the number {} (quote it to make it text)", s.text)
            }
            Resolved::Text(t) => format!("the text '{}'", clip(t)),
        },
    }
}

/// Shortens user text quoted in a message, so a huge value cannot flood the output.
pub fn clip(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// The keys of one mapping, read one by one; [`Fields::finish`] reports the keys nobody read.
pub struct Fields<'n> {
    node: &'n Node,
    entries: &'n [Entry],
    known: Vec<&'static str>,
    what: &'static str,
}

impl<'n> Fields<'n> {
    fn entry(&mut self, key: &'static str) -> Option<&'n Entry> {
        self.known.push(key);
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn required<T: Decode>(&mut self, d: &mut Decoder, key: &'static str) -> Option<T> {
        match self.entry(key) {
            None => {
                let msg = format!(
                    "{} is missing the required key '{key}'",
                    self.describe_owner(d)
                );
                d.report(Code::Schema, self.node.pos, msg);
                None
            }
            Some(e) if e.value.is_null() => {
                let msg = format!("'{key}' needs a value ({})", T::EXPECTED);
                d.report(Code::Schema, e.key_pos, msg);
                None
            }
            Some(e) => d.with(Step::Key(key), |d| T::decode(&e.value, d)),
        }
    }

    /// An optional key: `None` when absent or empty (or when its value was reported).
    pub fn optional<T: Decode>(&mut self, d: &mut Decoder, key: &'static str) -> Option<T> {
        let e = self.entry(key)?;
        if e.value.is_null() {
            return None;
        }
        d.with(Step::Key(key), |d| T::decode(&e.value, d))
    }

    /// A list that may be left out, meaning empty.
    pub fn list<T: Decode>(&mut self, d: &mut Decoder, key: &'static str) -> Vec<T> {
        self.optional(d, key).unwrap_or_default()
    }

    /// A yes/no flag that defaults to no.
    pub fn flag(&mut self, d: &mut Decoder, key: &'static str) -> bool {
        self.optional(d, key).unwrap_or(false)
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.key == key && !e.value.is_null())
    }

    /// Reports every key that no `required`/`optional` call asked for.
    pub fn finish(self, d: &mut Decoder) {
        // Named once: finding the owner's id searches the mapping, which may be all unknown keys.
        let mut owner = None;
        for e in self.entries {
            if self.known.contains(&e.key.as_str()) {
                continue;
            }
            let owner = owner.get_or_insert_with(|| self.describe_owner(d));
            let hint = suggestion(&e.key, self.known.iter().copied());
            let msg = format!("unknown key '{}' in {owner}{hint}", clip(&e.key));
            d.report(Code::Schema, e.key_pos, msg);
        }
    }

    fn describe_owner(&self, d: &Decoder) -> String {
        if d.path.is_empty() {
            return "the agreement".to_owned();
        }
        match self.node.id_text() {
            Some(id) => format!("{} '{}'", self.what, clip(id)),
            None => d.here(),
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    const EXPECTED: &'static str = "a list";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let NodeKind::Seq(items) = &node.kind else {
            d.wrong_type(node, "a list");
            return None;
        };
        let decoded = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| d.with(Step::Index(i), |d| T::decode(item, d)))
            .collect();
        Some(decoded)
    }
}

/// One value or a list of them (the format allows `schedule1: p2_...` or a list of codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T: Decode> Decode for OneOrMany<T> {
    const EXPECTED: &'static str = "one value or a list";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Seq(_) => Vec::decode(node, d).map(OneOrMany),
            _ => T::decode(node, d).map(|v| OneOrMany(vec![v])),
        }
    }
}

impl Decode for String {
    const EXPECTED: &'static str = "text";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        d.text(node, Self::EXPECTED).map(str::to_owned)
    }
}

impl Decode for bool {
    const EXPECTED: &'static str = "true or false";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        match node.as_scalar().map(|s| s.resolve()) {
            Some(Resolved::Bool(b)) => Some(b),
            _ => {
                d.wrong_type(node, Self::EXPECTED);
                None
            }
        }
    }
}

impl Decode for NonZeroU32 {
    const EXPECTED: &'static str = "a whole number of at least 1";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let n = match node.as_scalar().map(|s| s.resolve()) {
            Some(Resolved::Int(i)) => u32::try_from(i).ok().and_then(NonZeroU32::new),
            _ => None,
        };
        if n.is_none() {
            d.wrong_type(node, Self::EXPECTED);
        }
        n
    }
}

impl Decode for Slug {
    const EXPECTED: &'static str = "an id (lower-case letters, digits and hyphens)";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let text = d.text(node, Self::EXPECTED)?;
        let slug = Slug::parse(text);
        if slug.is_none() {
            let msg = format!(
                "{} is '{}', which is not a valid id: use lower-case letters, digits and \
                 hyphens, starting with a letter or digit (e.g. '{}')",
                d.here(),
                clip(text),
                slugify(text)
            );
            d.report(Code::InvalidId, node.pos, msg);
        }
        slug
    }
}

impl Decode for FieldId {
    const EXPECTED: &'static str = "a field id (lower-case letters, digits, '-' and '_')";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let text = d.text(node, Self::EXPECTED)?;
        let id = FieldId::parse(text);
        if id.is_none() {
            let msg = format!(
                "{} is '{}', which is not a valid field id: use lower-case letters, digits, \
                 hyphens and underscores",
                d.here(),
                clip(text)
            );
            d.report(Code::InvalidId, node.pos, msg);
        }
        id
    }
}

/// A suggestion for a valid id made from invalid text.
fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "my-id".to_owned()
    } else {
        clip(trimmed)
    }
}

impl Decode for Ref {
    const EXPECTED: &'static str = "the id of something declared in this agreement";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        d.text(node, Self::EXPECTED).map(Ref::new)
    }
}

impl Decode for Email {
    const EXPECTED: &'static str = "an email address";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let text = d.text(node, Self::EXPECTED)?;
        let email = Email::parse(text);
        if email.is_none() {
            let msg = format!(
                "{} is '{}', which is not an email address",
                d.here(),
                clip(text)
            );
            d.report(Code::Schema, node.pos, msg);
        }
        email
    }
}

impl Decode for IsoDuration {
    const EXPECTED: &'static str = "an ISO 8601 duration such as P90D";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let text = d.text(node, Self::EXPECTED)?;
        match IsoDuration::parse(text) {
            Ok(duration) => Some(duration),
            Err(why) => {
                let msg = format!("{} is '{}', which {why}", d.here(), clip(text));
                d.report(Code::InvalidDuration, node.pos, msg);
                None
            }
        }
    }
}

impl Decode for Date {
    const EXPECTED: &'static str = "a date (YYYY-MM-DD)";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let text = d.text(node, Self::EXPECTED)?;
        let date = parse_date(text);
        if date.is_none() {
            let msg = format!(
                "{} is '{}', which is not a calendar date written YYYY-MM-DD",
                d.here(),
                clip(text)
            );
            d.report(Code::Schema, node.pos, msg);
        }
        date
    }
}

/// Decodes a whole document; the value comes out only when nothing was wrong with its shape.
pub fn decode_document<T: Decode>(root: &Node) -> Result<T, Vec<Diagnostic>> {
    let mut d = Decoder::default();
    let value = T::decode(root, &mut d);
    match value {
        Some(v) if !d.diagnostics.iter().any(Diagnostic::is_error) => Ok(v),
        _ => Err(d.diagnostics),
    }
}

#[cfg(test)]
mod tests {
    use crate::agreement::check_source;

    #[test]
    fn messages_name_the_path_to_the_value_with_keys_and_indexes() {
        let source = include_str!("../../../tests/fixtures/check/valid/kitchen-sink.yaml");
        assert_eq!(source.matches("frequency: daily").count(), 1);
        let broken = source.replace("frequency: daily", "frequency: 3");
        let checked = check_source(broken.as_bytes(), jiff::civil::date(2026, 11, 21));
        let messages: Vec<&str> = checked
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "'flows[1].frequency' should be a frequency, but is the number 3 (quote it to make it text)"
            ]
        );
    }
}
