//! A YAML document as a tree whose every node knows where it stands in the source.
//!
//! serde_yaml gives values without positions and stops at the first error; an IG officer needs
//! every finding at its line and column. So we read yaml-rust2's event stream ourselves and
//! build this tree, iteratively (no recursion, so hostile nesting cannot overflow the stack) and
//! within fixed budgets for size, depth, keys per mapping and alias expansion. A repeated key
//! is found through a hash map of its mapping's keys (a small mapping is just searched), so
//! reading costs linear work in the size of the source.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest file we read: agreements are a few kilobytes, so anything bigger is a mistake.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Deepest nesting of lists and mappings; the format needs six.
pub const MAX_DEPTH: usize = 64;
/// Most nodes that alias expansion may add, so a "billion laughs" file stays small.
pub const MAX_ALIAS_NODES: usize = 10_000;
/// Most keys in one mapping. The largest mapping of the format has about twenty keys, and every
/// mapping whose keys are free (a template's `roles`) stays far below this.
pub const MAX_KEYS: usize = 10_000;
/// Keys of a mapping that are searched one by one for a repeat; past them, a hash map of its
/// keys answers (so a mapping costs linear work, and a small one allocates nothing more).
const KEYS_SEARCHED: usize = 16;

/// A place in the source: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    /// yaml-rust2 counts lines from 1 but columns from 0.
    fn from_marker(m: &Marker) -> Pos {
        Pos {
            line: m.line().max(1) as u32,
            column: m.col() as u32 + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Plain scalars are typed by the YAML 1.2 core schema; quoted and block ones are text.
    pub plain: bool,
}

/// What a plain scalar means under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Text(&'a str),
}

impl Scalar {
    pub fn resolve(&self) -> Resolved<'_> {
        if !self.plain {
            return Resolved::Text(&self.text);
        }
        match self.text.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
            "true" | "True" | "TRUE" => Resolved::Bool(true),
            "false" | "False" | "FALSE" => Resolved::Bool(false),
            t => match parse_core_int(t) {
                Some(i) => Resolved::Int(i),
                None if is_core_float(t) => Resolved::Float,
                None => Resolved::Text(t),
            },
        }
    }
}

fn parse_core_int(t: &str) -> Option<i64> {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok();
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    t.strip_prefix("0o")
        .and_then(|oct| i64::from_str_radix(oct, 8).ok())
}

fn is_core_float(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let special = [".inf", "+.inf", "-.inf", ".nan"];
    if special.contains(&lower.as_str()) {
        return true;
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let digits = mantissa.bytes().filter(|b| b.is_ascii_digit()).count();
    let dots = mantissa.bytes().filter(|&b| b == b'.').count();
    let mantissa_ok =
        digits > 0 && dots <= 1 && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok && (dots == 1 || exponent.is_some())
}

impl Node {
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        self.as_scalar()
            .is_some_and(|s| s.resolve() == Resolved::Null)
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(e) => Some(e),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// The node at `path` below this one. An index into a scalar resolves to the scalar
    /// itself, because the format lets one value stand for a one-item list.
    pub fn at(&self, path: &[Step]) -> Option<&Node> {
        let mut node = self;
        for step in path {
            node = match (step, &node.kind) {
                (Step::Key(k), NodeKind::Map(_)) => &node.get(k)?.value,
                (Step::Index(i), NodeKind::Seq(items)) => items.get(*i)?,
                (Step::Index(0), NodeKind::Scalar(_)) => node,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Where the key that ends `path` stands (the node itself when the path ends in an index).
    pub fn key_pos(&self, path: &[Step]) -> Option<Pos> {
        match path.split_last() {
            Some((Step::Key(k), parent)) => Some(self.at(parent)?.get(k)?.key_pos),
            _ => Some(self.at(path)?.pos),
        }
    }

    /// Text of the `id` entry of a mapping, for messages that name the thing they are about.
    pub fn id_text(&self) -> Option<&str> {
        Some(self.get("id")?.value.as_scalar()?.text.as_str())
    }
}

/// One step of a path into the tree: a mapping key or a list index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Key(&'static str),
    Index(usize),
}

impl From<&'static str> for Step {
    fn from(k: &'static str) -> Step {
        Step::Key(k)
    }
}

impl From<usize> for Step {
    fn from(i: usize) -> Step {
        Step::Index(i)
    }
}

/// Builds a path: `path!["flows", i, "to"]`.
#[macro_export]
macro_rules! path {
    ($($step:expr),* $(,)?) => { [$($crate::agreement::yaml::Step::from($step)),*] };
}

/// Why a source could not be read as one YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl SyntaxError {
    fn new(pos: Pos, message: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            message: message.into(),
        }
    }
}

/// Reads bytes as one YAML document. `Ok(None)` is a document with no content at all.
pub fn parse(bytes: &[u8]) -> Result<Option<Node>, SyntaxError> {
    if bytes.len() > MAX_BYTES {
        let msg = format!(
            "the file is {} bytes; agreements may be at most {} bytes (1 MiB)",
            bytes.len(),
            MAX_BYTES
        );
        return Err(SyntaxError::new(Pos::START, msg));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Builder::default().run(&mut Parser::new_from_str(text))
}

fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> SyntaxError {
    let good = &bytes[..e.valid_up_to()];
    let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
    let pos = Pos {
        line: line as u32,
        column: column as u32,
    };
    let msg = format!(
        "the file is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
        e.valid_up_to()
    );
    SyntaxError::new(pos, msg)
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Pos)>,
        /// The line of each key of `entries[..index.len()]`, once the mapping is past
        /// [`KEYS_SEARCHED`] keys (SipHash with a random key: hostile keys cannot all collide).
        index: HashMap<String, u32>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn run<I: Iterator<Item = char>>(
        mut self,
        parser: &mut Parser<I>,
    ) -> Result<Option<Node>, SyntaxError> {
        loop {
            let (event, mark) = parser.next_token().map_err(scan_error)?;
            let pos = Pos::from_marker(&mark);
            match event {
                Event::StreamEnd => return Ok(self.root),
                Event::DocumentStart => {
                    self.documents += 1;
                    if self.documents > 1 {
                        let msg = "the file holds more than one YAML document; \
                                   write one agreement per file";
                        return Err(SyntaxError::new(pos, msg));
                    }
                }
                event => self.on_node_event(event, pos)?,
            }
        }
    }

    fn on_node_event(&mut self, event: Event, pos: Pos) -> Result<(), SyntaxError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let plain = plain_after_tag(style, tag.as_ref(), pos)?;
                let node = Node {
                    pos,
                    kind: NodeKind::Scalar(Scalar { text, plain }),
                };
                self.remember(anchor, &node);
                self.push(node)
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "seq", pos)?;
                self.open(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                })
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "map", pos)?;
                self.open(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    index: HashMap::new(),
                })
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => self.alias(id, pos),
            _ => Ok(()),
        }
    }

    fn open(&mut self, frame: Frame) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            let pos = match &frame {
                Frame::Seq { pos, .. } | Frame::Map { pos, .. } => *pos,
            };
            let msg = format!("lists and mappings are nested more than {MAX_DEPTH} deep");
            return Err(SyntaxError::new(pos, msg));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self) -> Result<(), SyntaxError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq { pos, anchor, items }) => (
                Node {
                    pos,
                    kind: NodeKind::Seq(items),
                },
                anchor,
            ),
            Some(Frame::Map {
                pos,
                anchor,
                entries,
                ..
            }) => (
                Node {
                    // yaml-rust2 marks a block mapping at its first key's ':'; a mapping starts
                    // at its first character: the first key, or the '{' of a flow mapping.
                    pos: entries.first().map_or(pos, |e| e.key_pos.min(pos)),
                    kind: NodeKind::Map(entries),
                },
                anchor,
            ),
            None => return Err(SyntaxError::new(Pos::START, "unbalanced YAML structure")),
        };
        self.remember(anchor, &node);
        self.push(node)
    }

    fn alias(&mut self, id: usize, pos: Pos) -> Result<(), SyntaxError> {
        let Some(target) = self.anchors.get(&id) else {
            return Err(SyntaxError::new(pos, "an alias names an unknown anchor"));
        };
        self.alias_nodes += count_nodes(target, MAX_ALIAS_NODES + 1);
        if self.alias_nodes > MAX_ALIAS_NODES {
            let msg = format!(
                "alias expansion out of bounds: aliases would add more than \
                 {MAX_ALIAS_NODES} nodes"
            );
            return Err(SyntaxError::new(pos, msg));
        }
        let mut node = target.clone();
        node.pos = pos;
        self.push(node)
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn push(&mut self, node: Node) -> Result<(), SyntaxError> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                pos,
                entries,
                key,
                index,
                ..
            }) => match key.take() {
                Some((key, key_pos)) => {
                    entries.push(Entry {
                        key,
                        key_pos,
                        value: node,
                    });
                    Ok(())
                }
                None => {
                    let (text, at) = map_key(node)?;
                    if let Some(first) = first_line(entries, index, &text) {
                        let msg = format!(
                            "the key '{text}' appears twice in one mapping (first at line {first})"
                        );
                        return Err(SyntaxError::new(at, msg));
                    }
                    if entries.len() >= MAX_KEYS {
                        let start = entries.first().map_or(*pos, |e| e.key_pos.min(*pos));
                        let msg = format!(
                            "the mapping that starts at line {} has more than {MAX_KEYS} keys; \
                             an agreement needs far fewer",
                            start.line
                        );
                        return Err(SyntaxError::new(at, msg));
                    }
                    *key = Some((text, at));
                    Ok(())
                }
            },
        }
    }
}

/// The line of `key` among a mapping's `entries`, if it is there: searched in a small mapping,
/// looked up in `index` (brought up to date first) in a bigger one.
fn first_line(entries: &[Entry], index: &mut HashMap<String, u32>, key: &str) -> Option<u32> {
    if entries.len() <= KEYS_SEARCHED {
        return entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.key_pos.line);
    }
    for e in &entries[index.len()..] {
        index.insert(e.key.clone(), e.key_pos.line);
    }
    index.get(key).copied()
}

fn scan_error(e: yaml_rust2::ScanError) -> SyntaxError {
    let pos = Pos::from_marker(e.marker());
    if e.info().contains("recursion limit") {
        let msg = format!("lists and mappings are nested more than {MAX_DEPTH} deep");
        return SyntaxError::new(pos, msg);
    }
    SyntaxError::new(pos, e.info())
}

fn map_key(node: Node) -> Result<(String, Pos), SyntaxError> {
    match node.kind {
        NodeKind::Scalar(s) => Ok((s.text, node.pos)),
        _ => Err(SyntaxError::new(
            node.pos,
            "a mapping key must be a plain word, not a list or mapping",
        )),
    }
}

/// Counts nodes in a subtree, stopping early once `limit` is reached.
fn count_nodes(node: &Node, limit: usize) -> usize {
    let mut count = 0;
    let mut pending = vec![node];
    while let Some(n) = pending.pop() {
        count += 1;
        if count >= limit {
            return count;
        }
        match &n.kind {
            NodeKind::Scalar(_) => {}
            NodeKind::Seq(items) => pending.extend(items),
            NodeKind::Map(entries) => pending.extend(entries.iter().map(|e| &e.value)),
        }
    }
    count
}

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

fn core_tag(tag: &Tag) -> Option<&str> {
    let full = format!("{}{}", tag.handle, tag.suffix);
    let name = if tag.handle == "!!" {
        tag.suffix.as_str()
    } else {
        full.strip_prefix(CORE_TAG_PREFIX)?;
        &tag.suffix
    };
    ["str", "int", "bool", "null", "float", "map", "seq"]
        .into_iter()
        .find(|&t| t == name)
}

/// A `!!str` tag makes a plain scalar text; other core tags keep the usual resolution.
fn plain_after_tag(style: TScalarStyle, tag: Option<&Tag>, pos: Pos) -> Result<bool, SyntaxError> {
    let plain = style == TScalarStyle::Plain;
    match tag {
        None => Ok(plain),
        Some(tag) => match core_tag(tag) {
            Some("str") => Ok(false),
            Some("int" | "bool" | "null" | "float") => Ok(plain),
            _ => Err(unsupported_tag(tag, pos)),
        },
    }
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str, pos: Pos) -> Result<(), SyntaxError> {
    match tag {
        Some(t) if core_tag(t) != Some(expected) => Err(unsupported_tag(t, pos)),
        _ => Ok(()),
    }
}

fn unsupported_tag(tag: &Tag, pos: Pos) -> SyntaxError {
    let msg = format!(
        "the tag '{}{}' is not supported in agreements",
        tag.handle, tag.suffix
    );
    SyntaxError::new(pos, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(src: &str) -> Node {
        parse(src.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let doc = root("a: 1\nlist:\n  - x\n  - { k: v }\n");
        assert_eq!(doc.get("a").unwrap().key_pos, Pos { line: 1, column: 1 });
        assert_eq!(doc.get("a").unwrap().value.pos, Pos { line: 1, column: 4 });
        let item = doc.at(&path!["list", 1, "k"]).unwrap();
        assert_eq!(
            item.pos,
            Pos {
                line: 4,
                column: 10
            }
        );
        assert_eq!(
            doc.key_pos(&path!["list", 1, "k"]),
            Some(Pos { line: 4, column: 7 })
        );
    }

    #[test]
    fn a_mapping_stands_at_its_first_character() {
        let doc = root(
            "top: 1
block:
  first: 1
  second: 2
items:
  - id: x
    n: 1
  - {  k: v }
",
        );
        assert_eq!(doc.pos, Pos { line: 1, column: 1 });
        let at = |p: &[Step]| doc.at(p).unwrap().pos;
        assert_eq!(at(&path!["block"]), Pos { line: 3, column: 3 });
        assert_eq!(at(&path!["items", 0]), Pos { line: 6, column: 5 });
        assert_eq!(at(&path!["items", 1]), Pos { line: 8, column: 5 });
    }

    #[test]
    fn core_schema_resolution() {
        let s = |t: &str| Scalar {
            text: t.into(),
            plain: true,
        };
        assert_eq!(s("12").resolve(), Resolved::Int(12));
        assert_eq!(s("-3").resolve(), Resolved::Int(-3));
        assert_eq!(s("1.5").resolve(), Resolved::Float);
        assert_eq!(s("1e3").resolve(), Resolved::Float);
        assert_eq!(s("true").resolve(), Resolved::Bool(true));
        assert_eq!(s("~").resolve(), Resolved::Null);
        assert_eq!(s("yes").resolve(), Resolved::Text("yes"));
        assert_eq!(s("2026-04-01").resolve(), Resolved::Text("2026-04-01"));
        assert_eq!(s("Z1234567").resolve(), Resolved::Text("Z1234567"));
        assert_eq!(s("1.2.3").resolve(), Resolved::Text("1.2.3"));
        let quoted = Scalar {
            text: "12".into(),
            plain: false,
        };
        assert_eq!(quoted.resolve(), Resolved::Text("12"));
    }

    #[test]
    fn duplicate_keys_are_syntax_errors() {
        let err = parse(b"a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos.line, 3);
        assert!(err.message.contains("'a' appears twice"), "{}", err.message);
    }

    /// `n` keys `k1`..`kn` in one block mapping under `top:`, one to a line from line 2.
    fn keys(n: usize) -> String {
        let mut src = String::from("top:\n");
        for i in 1..=n {
            src.push_str(&format!("  k{i}: {i}\n"));
        }
        src
    }

    #[test]
    fn a_repeat_far_from_its_first_is_found_at_the_repeat() {
        let mut src = keys(MAX_KEYS - 1);
        src.push_str("  k1: again\n");
        let err = parse(src.as_bytes()).unwrap_err();
        let line = MAX_KEYS as u32 + 1;
        assert_eq!(err.pos, Pos { line, column: 3 });
        assert_eq!(
            err.message,
            "the key 'k1' appears twice in one mapping (first at line 2)"
        );
        // The same keys in two mappings are no repeat.
        assert!(parse(b"a: {k: 1, j: 2}\nb: {j: 1, k: 2}\n").is_ok());
    }

    #[test]
    fn keys_per_mapping_are_capped() {
        let at_cap = root(&keys(MAX_KEYS));
        assert_eq!(
            at_cap.get("top").unwrap().value.entries().unwrap().len(),
            MAX_KEYS
        );
        let err = parse(keys(MAX_KEYS + 1).as_bytes()).unwrap_err();
        let line = MAX_KEYS as u32 + 2;
        assert_eq!(err.pos, Pos { line, column: 3 });
        assert_eq!(
            err.message,
            format!(
                "the mapping that starts at line 2 has more than {MAX_KEYS} keys; an agreement \
                 needs far fewer"
            )
        );
        // A flow mapping points at its key too.
        let flow: Vec<String> = (0..=MAX_KEYS).map(|i| format!("k{i}: 1")).collect();
        let err = parse(format!("x: {{{}}}\n", flow.join(", ")).as_bytes()).unwrap_err();
        let column = 5 + flow[..MAX_KEYS]
            .iter()
            .map(|k| k.len() as u32 + 2)
            .sum::<u32>();
        assert_eq!(err.pos, Pos { line: 1, column });
        assert!(err.message.contains("starts at line 1"), "{}", err.message);
    }

    #[test]
    fn aliases_expand_within_budget() {
        let doc = root("a: &x {k: v}\nb: *x\n");
        assert_eq!(
            doc.at(&path!["b", "k"]).unwrap().as_scalar().unwrap().text,
            "v"
        );
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            src.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let err = parse(src.as_bytes()).unwrap_err();
        assert!(err.message.contains("alias expansion out of bounds"));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let src = "[".repeat(100_000);
        let err = parse(src.as_bytes()).unwrap_err();
        assert!(err.message.contains("nested more than"), "{}", err.message);
        let mut block = String::new();
        for depth in 0..200 {
            block.push_str(&" ".repeat(depth));
            block.push_str("k:\n");
        }
        let err = parse(block.as_bytes()).unwrap_err();
        assert!(err.message.contains("nested more than"), "{}", err.message);
    }

    #[test]
    fn empty_and_comment_only_sources_have_no_root() {
        assert_eq!(parse(b"").unwrap(), None);
        assert_eq!(parse(b"# nothing here\n").unwrap(), None);
    }

    #[test]
    fn second_document_is_refused() {
        let err = parse(b"a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("more than one YAML document"));
    }

    #[test]
    fn non_utf8_points_at_the_bad_byte() {
        let err = parse(b"a: 1\nb: caf\xe9\n").unwrap_err();
        assert_eq!(err.pos, Pos { line: 2, column: 7 });
        assert!(err.message.contains("not UTF-8"));
    }

    #[test]
    fn oversized_sources_are_refused_before_parsing() {
        let big = vec![b'#'; MAX_BYTES + 1];
        assert!(parse(&big).unwrap_err().message.contains("at most"));
    }

    #[test]
    fn foreign_tags_are_refused_and_str_tag_makes_text() {
        assert!(parse(b"a: !python/object x\n").is_err());
        let doc = root("a: !!str 12\n");
        let s = doc.get("a").unwrap().value.as_scalar().unwrap();
        assert_eq!(s.resolve(), Resolved::Text("12"));
    }
}
