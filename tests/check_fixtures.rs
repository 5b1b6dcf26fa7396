//! Each fixture under tests/fixtures/check/ marks the lines where findings must point, with a
//! trailing `# expect: severity[code]` comment. Checking the fixture must give exactly that
//! set of (line, severity, code): nothing missing, nothing extra.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use accord::agreement::check_source;
use jiff::civil::date;

type Finding = (u32, String, String);

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

fn expected(source: &str) -> BTreeSet<Finding> {
    let mut out = BTreeSet::new();
    for (i, line) in source.lines().enumerate() {
        let Some((_, marks)) = line.split_once("# expect:") else {
            continue;
        };
        for mark in marks.split(',') {
            let mark = mark.trim();
            let (severity, rest) = mark.split_once('[').expect("severity[code]");
            let code = rest.strip_suffix(']').expect("severity[code]");
            out.insert((i as u32 + 1, severity.to_owned(), code.to_owned()));
        }
    }
    out
}

fn actual(source: &str) -> BTreeSet<Finding> {
    let checked = check_source(source.as_bytes(), date(2026, 11, 21));
    checked
        .diagnostics
        .iter()
        .map(|d| (d.pos.line, d.severity().to_string(), d.code.to_string()))
        .collect()
}

#[test]
fn every_failing_fixture_gives_exactly_its_marked_findings() {
    let files = fixtures("tests/fixtures/check");
    assert!(files.len() >= 40, "only {} fixtures", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let want = expected(&source);
        assert!(!want.is_empty(), "{} marks no finding", file.display());
        let got = actual(&source);
        if want != got {
            let name = file.file_name().unwrap().to_string_lossy();
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            let all = check_source(source.as_bytes(), date(2026, 11, 21)).diagnostics;
            failures.push(format!(
                "{name}: missing {missing:?}, extra {extra:?}\n    {all:#?}"
            ));
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
        covered.extend(expected(&source).into_iter().map(|(_, _, code)| code));
    }
    let missing: Vec<_> = accord::agreement::Code::ALL
        .iter()
        .filter(|c| !covered.contains(c.as_str()))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
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
