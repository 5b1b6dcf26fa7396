//! Each fixture under tests/fixtures/check/ marks the lines where findings must point, with a
//! trailing comment:
//!
//! ```yaml
//!   to: age-friends  # expect: error[self-flow] col 7
//!   end: 2026-03-31  # expect: error[term-order] col 8, warning[expired] col 8
//! ```
//!
//! Each mark is `severity[code]`, optionally followed by `col N`: the 1-based column, counted
//! in characters, of the node the finding points at (docs/diagnostics.md says which node for
//! each code). Checking the fixture must give exactly the marked set of (line, severity, code):
//! nothing missing, nothing extra. Where a line's marks for one (severity, code) give columns,
//! the findings of that code on that line must stand at exactly those columns; a line with two
//! findings of one code marks each (`error[x] col 14, error[x] col 15`). Every mark for one
//! (severity, code) on a line gives a column, or none does (then the column is not checked).
//! Every fixture gives its columns, worked out from the table in docs/diagnostics.md; give
//! them in new fixtures too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use accord::agreement::check_source;
use jiff::civil::date;

/// (line, severity, code)
type Finding = (u32, String, String);

/// The findings a fixture marks, and the columns marked for those that give one.
#[derive(Debug, Default)]
struct Marks {
    findings: BTreeSet<Finding>,
    columns: BTreeMap<Finding, BTreeSet<u32>>,
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// One mark: `severity[code]` or `severity[code] col N`.
fn mark(text: &str) -> (String, String, Option<u32>) {
    let bad = format!("a mark is severity[code] or severity[code] col N, not {text:?}");
    let (severity, rest) = text.split_once('[').expect(&bad);
    let (code, rest) = rest.split_once(']').expect(&bad);
    let column = match rest.trim() {
        "" => None,
        col => Some(
            col.strip_prefix("col ")
                .expect(&bad)
                .trim()
                .parse()
                .expect(&bad),
        ),
    };
    (severity.trim().to_owned(), code.to_owned(), column)
}

fn expected(source: &str) -> Marks {
    let mut out = Marks::default();
    let mut unplaced = BTreeSet::new();
    for (i, line) in source.lines().enumerate() {
        let Some((_, marks)) = line.split_once("# expect:") else {
            continue;
        };
        for text in marks.split(',') {
            let (severity, code, column) = mark(text.trim());
            let finding = (i as u32 + 1, severity, code);
            match column {
                Some(col) => {
                    out.columns.entry(finding.clone()).or_default().insert(col);
                }
                None => {
                    unplaced.insert(finding.clone());
                }
            }
            out.findings.insert(finding);
        }
    }
    if let Some(both) = unplaced.iter().find(|f| out.columns.contains_key(*f)) {
        panic!(
            "line {}: mark every column of {}[{}] or none",
            both.0, both.1, both.2
        );
    }
    out
}

/// Every finding, with the columns at which each (line, severity, code) was found.
fn actual(source: &str) -> BTreeMap<Finding, BTreeSet<u32>> {
    let checked = check_source(source.as_bytes(), date(2026, 11, 21));
    let mut out: BTreeMap<Finding, BTreeSet<u32>> = BTreeMap::new();
    for d in &checked.diagnostics {
        let finding = (d.pos.line, d.severity().to_string(), d.code.to_string());
        out.entry(finding).or_default().insert(d.pos.column);
    }
    out
}

/// What differs between a fixture's marks and its findings, or nothing.
fn differences(want: &Marks, got: &BTreeMap<Finding, BTreeSet<u32>>) -> Vec<String> {
    let got_findings: BTreeSet<Finding> = got.keys().cloned().collect();
    let mut out = Vec::new();
    let missing: Vec<_> = want.findings.difference(&got_findings).collect();
    let extra: Vec<_> = got_findings.difference(&want.findings).collect();
    if !missing.is_empty() || !extra.is_empty() {
        out.push(format!("missing {missing:?}, extra {extra:?}"));
    }
    for (finding, cols) in &want.columns {
        if let Some(found) = got.get(finding)
            && found != cols
        {
            let (line, severity, code) = finding;
            out.push(format!(
                "line {line} {severity}[{code}]: marked at column(s) {cols:?}, found at {found:?}"
            ));
        }
    }
    out
}

#[test]
fn every_failing_fixture_gives_exactly_its_marked_findings() {
    let files = fixtures("tests/fixtures/check");
    assert!(files.len() >= 40, "only {} fixtures", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let want = expected(&source);
        assert!(
            !want.findings.is_empty(),
            "{} marks no finding",
            file.display()
        );
        let differ = differences(&want, &actual(&source));
        if !differ.is_empty() {
            let name = file.file_name().unwrap().to_string_lossy();
            let all = check_source(source.as_bytes(), date(2026, 11, 21)).diagnostics;
            failures.push(format!("{name}: {}\n    {all:#?}", differ.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_diagnostic_code_has_a_failing_fixture() {
    let mut covered = BTreeSet::new();
    for file in fixtures("tests/fixtures/check") {
        let source = std::fs::read_to_string(file).unwrap();
        covered.extend(
            expected(&source)
                .findings
                .into_iter()
                .map(|(_, _, code)| code),
        );
    }
    let missing: Vec<_> = accord::agreement::Code::ALL
        .iter()
        .filter(|c| !covered.contains(c.as_str()))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

#[test]
fn every_diagnostic_code_has_a_fixture_that_marks_its_column() {
    let mut placed = BTreeSet::new();
    for file in fixtures("tests/fixtures/check") {
        let source = std::fs::read_to_string(file).unwrap();
        placed.extend(
            expected(&source)
                .columns
                .into_keys()
                .map(|(_, _, code)| code),
        );
    }
    let unplaced: Vec<_> = accord::agreement::Code::ALL
        .iter()
        .filter(|c| !placed.contains(c.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "codes whose column no fixture marks: {unplaced:?}"
    );
}

#[test]
fn a_marked_column_must_match_and_an_unmarked_one_is_not_checked() {
    let at = |cols: &[u32]| {
        let finding = (2, "error".to_owned(), "schema".to_owned());
        BTreeMap::from([(finding, cols.iter().copied().collect::<BTreeSet<u32>>())])
    };
    let right = expected("accord: 1\nid: x  # expect: error[schema] col 5\n");
    assert!(differences(&right, &at(&[5])).is_empty());
    let wrong = expected("accord: 1\nid: x  # expect: error[schema] col 1\n");
    assert_eq!(
        differences(&wrong, &at(&[5])),
        ["line 2 error[schema]: marked at column(s) {1}, found at {5}"]
    );
    // Two findings of one code on the line, one marked: the other is reported.
    assert_eq!(
        differences(&right, &at(&[5, 9])),
        ["line 2 error[schema]: marked at column(s) {5}, found at {5, 9}"]
    );
    let unmarked = expected("accord: 1\nid: x  # expect: error[schema]\n");
    assert!(differences(&unmarked, &at(&[5, 9])).is_empty());
    let elsewhere = expected("id: x  # expect: error[schema] col 5\n");
    assert_eq!(
        differences(&elsewhere, &at(&[5])),
        [r#"missing [(1, "error", "schema")], extra [(2, "error", "schema")]"#]
    );
}

#[test]
#[should_panic(expected = "line 1: mark every column of error[schema] or none")]
fn marks_of_one_code_on_a_line_give_every_column_or_none() {
    expected("id: x  # expect: error[schema] col 1, error[schema]\n");
}

#[test]
fn valid_fixtures_have_no_findings() {
    for file in fixtures("tests/fixtures/check/valid") {
        let source = std::fs::read(&file).unwrap();
        let checked = check_source(&source, date(2026, 11, 21));
        assert!(
            checked.diagnostics.is_empty(),
            "{}: {:#?}",
            file.display(),
            checked.diagnostics
        );
        assert!(checked.agreement.is_some());
    }
}
