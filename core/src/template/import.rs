//! A template becomes a draft for this council: the new id, version 1, the dates resolved from
//! the start date, and the agreement checked. What is still to fill comes back as
//! `unfilled-placeholder` findings of the draft, which the officer works through.
//!
//! The template is untrusted bytes: it is read by the project's budgeted reader
//! (`agreement::yaml`: at most 1 MiB, nesting 64, alias expansion 10,000 nodes), never by
//! serde. Every problem is reported with its place in the template, errors the draft's check
//! finds in the template's agreement included; a template with any problem makes no draft.

use std::collections::HashMap;

use jiff::civil::Date;
use serde_yaml::{Mapping, Number, Value};

use super::offsets::resolve;
use super::{FORMAT, KEYS, LEFT_OUT, SOURCE_KEYS, is_date_path, s};
use crate::agreement::diagnostic::suggestion;
use crate::agreement::values::Slug;
use crate::agreement::yaml::{self, Entry, MAX_BYTES, Node, NodeKind, Pos, Resolved};
use crate::agreement::{Checked, Code, check_source};

/// A problem with a template, at its place in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    /// `template` for the template's own shape; else the code the draft's check gave.
    pub code: &'static str,
    pub message: String,
}

impl Problem {
    fn new(pos: Pos, message: impl Into<String>) -> Problem {
        Problem {
            pos,
            code: "template",
            message: message.into(),
        }
    }
}

/// A draft made from a template: its YAML, and what checking it found (no errors; warnings,
/// the placeholders still to fill among them, at their places in `yaml`).
#[derive(Debug, Clone)]
pub struct Draft {
    pub yaml: String,
    pub checked: Checked,
}

impl Draft {
    /// How many values still hold a placeholder.
    pub fn unfilled(&self) -> usize {
        self.checked
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::UnfilledPlaceholder)
            .count()
    }
}

/// The draft of agreement `id` from template `bytes`, its dates counted from `start`, checked
/// as of `today`; or every problem found, in the template's reading order.
pub fn import(bytes: &[u8], id: &Slug, start: Date, today: Date) -> Result<Draft, Vec<Problem>> {
    if bytes.len() > MAX_BYTES {
        let msg = format!(
            "the template is {} bytes; a template may be at most {MAX_BYTES} bytes (1 MiB)",
            bytes.len()
        );
        return Err(vec![Problem::new(Pos::START, msg)]);
    }
    let root = match yaml::parse(bytes) {
        Ok(Some(root)) if root.entries().is_some() => root,
        Ok(_) => {
            let msg = "this is not an agreement template: a template is a mapping that \
                       starts with 'accord_template: 1'";
            return Err(vec![Problem::new(Pos::START, msg)]);
        }
        Err(e) => {
            let msg = format!("the template is not valid YAML: {}", e.message);
            return Err(vec![Problem::new(e.pos, msg)]);
        }
    };
    let mut problems = Vec::new();
    let body = read_top(&root, &mut problems);
    let Some(body) = body else {
        return Err(problems);
    };
    let mut draft = Mapping::new();
    draft.insert(s("accord"), Value::from(1));
    draft.insert(s("id"), s(id.as_str()));
    draft.insert(s("version"), Value::from(1));
    for e in body.entries().unwrap_or_default() {
        if LEFT_OUT.contains(&e.key.as_str()) {
            let msg = format!(
                "a template's agreement has no '{}': the id is given on import, the draft is \
                 version 1, and nobody has signed it; remove it",
                e.key
            );
            problems.push(Problem::new(e.key_pos, msg));
            continue;
        }
        let mut path = vec![Some(e.key.as_str())];
        let value = to_value(&e.value, &mut path, start, &mut problems);
        draft.insert(s(&e.key), value);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let text = serde_yaml::to_string(&Value::Mapping(draft)).map_err(|e| {
        vec![Problem::new(
            Pos::START,
            format!("cannot write the draft: {e}"),
        )]
    })?;
    let yaml = format!("{}{text}", header(&root, start));
    let checked = check_source(yaml.as_bytes(), today);
    if checked.has_errors() {
        return Err(in_template(&yaml, &checked, body));
    }
    Ok(Draft { yaml, checked })
}

/// Reads the template's top level: its keys, format, `source:` and `roles:`; returns its
/// `agreement:` when that is a mapping.
fn read_top<'a>(root: &'a Node, problems: &mut Vec<Problem>) -> Option<&'a Node> {
    unknown_keys(root, &KEYS, "an agreement template", problems);
    match root.get("accord_template") {
        None => problems.push(Problem::new(
            Pos::START,
            "this is not an agreement template: it has no 'accord_template: 1'",
        )),
        Some(e) => {
            let format = e.value.as_scalar().map(|s| s.resolve());
            if format != Some(Resolved::Int(i64::from(FORMAT))) {
                let msg = "'accord_template' must be 1: this engine reads agreement template \
                           format 1";
                problems.push(Problem::new(e.value.pos, msg));
            }
        }
    }
    if let Some(e) = root.get("source") {
        match e.value.entries() {
            Some(_) => unknown_keys(&e.value, &SOURCE_KEYS, "a template's source", problems),
            None if e.value.is_null() => {}
            None => problems.push(Problem::new(
                e.value.pos,
                "'source' must be a mapping saying where the template came from",
            )),
        }
    }
    if let Some(e) = root.get("roles") {
        match e.value.entries() {
            Some(entries) => {
                for r in entries.iter().filter(|r| Slug::parse(&r.key).is_none()) {
                    let msg = format!(
                        "role '{}' is not an id: use lower-case letters, digits and hyphens",
                        crate::agreement::decode::clip(&r.key)
                    );
                    problems.push(Problem::new(r.key_pos, msg));
                }
            }
            None if e.value.is_null() => {}
            None => problems.push(Problem::new(
                e.value.pos,
                "'roles' must be a mapping of each role to what it is",
            )),
        }
    }
    let body = match root.get("agreement") {
        None => {
            let msg = "the template has no 'agreement': the agreement to borrow goes there";
            problems.push(Problem::new(Pos::START, msg));
            None
        }
        Some(e) if e.value.entries().is_none() => {
            let msg = "'agreement' must be a mapping: the agreement to borrow, without its id";
            problems.push(Problem::new(e.value.pos, msg));
            None
        }
        Some(e) => Some(&e.value),
    };
    body.filter(|_| problems.is_empty())
}

/// A problem for each key of mapping `node` that is not one of `known`, with a suggestion.
fn unknown_keys(node: &Node, known: &[&str], what: &str, problems: &mut Vec<Problem>) {
    for e in node.entries().unwrap_or_default() {
        if !known.contains(&e.key.as_str()) {
            let msg = format!(
                "'{}' is not a key of {what} (it has {}){}",
                crate::agreement::decode::clip(&e.key),
                known.join(", "),
                suggestion(&e.key, known.iter().copied())
            );
            problems.push(Problem::new(e.key_pos, msg));
        }
    }
}

/// The draft's comment: where it came from (the source id only when it is an id, so the
/// template's text never reaches a comment) and what to do next.
fn header(root: &Node, start: Date) -> String {
    let from = root
        .get("source")
        .and_then(|e| e.value.get("agreement"))
        .and_then(|e| e.value.as_scalar())
        .and_then(|sc| Slug::parse(&sc.text))
        .map_or(String::new(), |id| format!(" of agreement '{id}'"));
    format!(
        "# Drafted from the Accord template{from}, its dates counted from {start}.\n\
         # Fill in every value that accord check names as unfilled-placeholder; a version with\n\
         # a placeholder left is never activated.\n"
    )
}

/// A template node as a YAML value, its dates resolved from `start` (problems recorded).
/// Plain scalars keep the type the YAML 1.2 core schema gives them, so the draft's check says
/// what it would have said of the same text in an agreement. Recursion is bounded by the
/// reader's depth cap.
fn to_value<'a>(
    node: &'a Node,
    path: &mut Vec<Option<&'a str>>,
    start: Date,
    problems: &mut Vec<Problem>,
) -> Value {
    match &node.kind {
        NodeKind::Scalar(sc) if is_date_path(path) && !node.is_null() => {
            match resolve(start, &sc.text) {
                Ok(day) => s(&day.to_string()),
                Err(why) => {
                    problems.push(Problem::new(node.pos, why));
                    s(&sc.text)
                }
            }
        }
        NodeKind::Scalar(sc) => match sc.resolve() {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(Number::from(i)),
            Resolved::Float => sc
                .text
                .parse::<f64>()
                .map_or_else(|_| s(&sc.text), |f| Value::Number(Number::from(f))),
            Resolved::Text(t) => s(t),
        },
        NodeKind::Seq(items) => Value::Sequence(
            items
                .iter()
                .map(|item| {
                    path.push(None);
                    let v = to_value(item, path, start, problems);
                    path.pop();
                    v
                })
                .collect(),
        ),
        NodeKind::Map(entries) => {
            let mut m = Mapping::new();
            for e in entries {
                path.push(Some(e.key.as_str()));
                m.insert(s(&e.key), to_value(&e.value, path, start, problems));
                path.pop();
            }
            Value::Mapping(m)
        }
    }
}

/// The draft's errors as problems at their places in the template's `agreement:` (the draft
/// has the template's structure, so each place is found by walking both trees together).
fn in_template(yaml: &str, checked: &Checked, body: &Node) -> Vec<Problem> {
    let places = match yaml::parse(yaml.as_bytes()) {
        Ok(Some(draft)) => places(&draft, body),
        _ => HashMap::new(),
    };
    checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| Problem {
            pos: places.get(&d.pos).copied().unwrap_or(body.pos),
            code: d.code.as_str(),
            message: d.message.clone(),
        })
        .collect()
}

/// Each place in the draft (its nodes and keys) and the same place in the template's body.
fn places(draft: &Node, body: &Node) -> HashMap<Pos, Pos> {
    let mut map = HashMap::new();
    let mut stack = vec![(draft, body)];
    while let Some((d, t)) = stack.pop() {
        map.entry(d.pos).or_insert(t.pos);
        match (&d.kind, &t.kind) {
            (NodeKind::Seq(ds), NodeKind::Seq(ts)) => stack.extend(ds.iter().zip(ts)),
            (NodeKind::Map(ds), NodeKind::Map(ts)) => {
                // Keys are unique in a mapping, so each is found in one lookup, not a search.
                let by_key: HashMap<&str, &Entry> =
                    ts.iter().map(|te| (te.key.as_str(), te)).collect();
                for de in ds {
                    if let Some(te) = by_key.get(de.key.as_str()) {
                        map.entry(de.key_pos).or_insert(te.key_pos);
                        stack.push((&de.value, &te.value));
                    }
                }
            }
            _ => {}
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::template::export::{Source, export};

    const FOODBANK: &str = include_str!("../../../agreements/camden-foodbank-referrals.yaml");

    fn foodbank_template() -> String {
        let today = date(2026, 12, 1);
        let a = check_source(FOODBANK.as_bytes(), today).agreement.unwrap();
        let source = Source {
            registry_version: None,
            sha256: None,
            exported_on: None,
        };
        export(&a, &source).unwrap()
    }

    fn id(text: &str) -> Slug {
        Slug::parse(text).unwrap()
    }

    fn problems(template: &str) -> Vec<Problem> {
        import(
            template.as_bytes(),
            &id("new-one"),
            date(2027, 4, 1),
            date(2027, 4, 1),
        )
        .unwrap_err()
    }

    #[test]
    fn the_original_start_gives_back_the_original_dates() {
        let draft = import(
            foodbank_template().as_bytes(),
            &id("westminster-food"),
            date(2026, 4, 1),
            date(2026, 12, 1),
        )
        .unwrap();
        let a = check_source(draft.yaml.as_bytes(), date(2026, 12, 1))
            .agreement
            .unwrap();
        let original = check_source(FOODBANK.as_bytes(), date(2026, 12, 1))
            .agreement
            .unwrap();
        assert_eq!(a.id.as_str(), "westminster-food");
        assert_eq!(a.version.get(), 1);
        assert_eq!(a.term, original.term);
        assert_eq!(a.parties[0].assurance, original.parties[0].assurance);
        assert_eq!(a.parties[1].assurance, original.parties[1].assurance);
        assert!(a.signatures.is_empty());
        assert_eq!(a.flows[0].fields, original.flows[0].fields);
        let unfilled = draft.unfilled();
        assert!(unfilled >= 20, "{unfilled} placeholders");
        assert!(draft.yaml.starts_with(
            "# Drafted from the Accord template of agreement 'camden-foodbank-referrals'"
        ));
    }

    #[test]
    fn another_start_moves_every_date() {
        let draft = import(
            foodbank_template().as_bytes(),
            &id("westminster-food"),
            date(2027, 1, 31),
            date(2027, 2, 1),
        )
        .unwrap();
        let a = draft.checked.agreement.unwrap();
        assert_eq!(a.term.start, date(2027, 1, 31));
        assert_eq!(a.term.end, Some(date(2029, 1, 30)));
        assert_eq!(a.term.last_reviewed, Some(date(2027, 1, 31)));
    }

    #[test]
    fn what_is_not_a_template_is_refused_at_its_place() {
        let p = problems("accord: 1\nid: x\n");
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(
            p[0].message
                .contains("'accord' is not a key of an agreement template")
        );
        assert_eq!(p[0].pos, Pos { line: 1, column: 1 });
        assert!(
            p.iter()
                .any(|p| p.message.contains("no 'accord_template: 1'"))
        );
        assert!(p.iter().any(|p| p.message.contains("no 'agreement'")));

        let p = problems("accord_template: 2\nagreement: {}\n");
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].pos,
            Pos {
                line: 1,
                column: 18
            }
        );
        assert!(p[0].message.contains("must be 1"));

        let p = problems("accord_template: 1\nagreemnt: {}\n");
        assert!(p[0].message.contains("did you mean 'agreement'?"), "{p:?}");

        let p = problems("[a, b]");
        assert!(p[0].message.contains("not an agreement template"));

        let p = problems("accord_template: 1\nagreement: {\n");
        assert!(p[0].message.contains("not valid YAML"), "{p:?}");

        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
        let p = problems(bomb);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("not valid YAML"), "{p:?}");

        let big = format!("accord_template: 1\n#{}\n", "x".repeat(MAX_BYTES));
        let p = problems(&big);
        assert!(p[0].message.contains("at most 1048576 bytes"), "{p:?}");
    }

    #[test]
    fn a_bad_offset_or_an_id_in_the_agreement_is_refused_at_its_place() {
        let template = foodbank_template()
            .replace("end: start+P1Y11M30D", "end: 2028-03-31")
            .replace("\nagreement:\n", "\nagreement:\n  id: sneaky\n");
        let p = problems(&template);
        assert_eq!(p.len(), 2, "{p:?}");
        let line_of = |needle: &str| {
            template
                .lines()
                .position(|l| l.contains(needle))
                .map(|i| i as u32 + 1)
                .unwrap()
        };
        assert_eq!(p[0].pos.line, line_of("id: sneaky"));
        assert!(p[0].message.contains("has no 'id'"));
        assert_eq!(p[1].pos.line, line_of("end: 2028-03-31"));
        assert!(p[1].message.contains("is not a date offset"));
    }

    #[test]
    fn errors_in_the_borrowed_agreement_are_reported_where_the_template_has_them() {
        let template =
            foodbank_template().replace("keep_for: P6M", "keep_for: P6M\n    colour: red");
        let p = problems(&template);
        assert_eq!(p.len(), 1, "{p:?}");
        let line = template
            .lines()
            .position(|l| l.contains("colour: red"))
            .unwrap() as u32
            + 1;
        assert_eq!((p[0].pos.line, p[0].code), (line, "schema"));
        assert!(p[0].message.contains("colour"), "{p:?}");
    }
}
