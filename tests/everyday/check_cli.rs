//! `accord check` as a user runs it: output formats, exit codes, folders, cross-file ids.

use crate::support;

use support::{accord, golden, repo, stderr, stdout};

#[test]
fn the_sample_agreements_are_valid() {
    let out = accord(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).lines().all(|l| !l.contains("error[")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn human_output_matches_the_golden_file() {
    let out = accord(&[
        "check",
        "tests/fixtures/check/many-findings.yaml",
        "tests/fixtures/check/many-schema.yaml",
        "tests/fixtures/check/schedule1-mismatch-none-fits.yaml",
        "--as-of",
        "2026-11-21",
    ]);
    assert_eq!(out.status.code(), Some(1));
    golden("check/human.txt", &stdout(&out));
    assert!(
        stderr(&out).contains("checked 3 files:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_output_matches_the_golden_file_and_parses() {
    let out = accord(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/check/many-findings.yaml",
        "--as-of",
        "2026-11-21",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    golden("check/many-findings.json", &text);
    let findings: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(findings.len(), 7);
    for f in &findings {
        let mut keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["code", "column", "file", "line", "message", "severity"]
        );
    }
    let first_keys: Vec<&str> = text
        .lines()
        .skip(2)
        .take(6)
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(
        first_keys,
        ["file", "line", "column", "severity", "code", "message"],
        "spec order"
    );
}

#[test]
fn warnings_alone_exit_zero() {
    let out = accord(&[
        "check",
        "tests/fixtures/check/unused-field.yaml",
        "--as-of",
        "2026-11-21",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("warning[unused-field]"));
}

#[test]
fn an_unreadable_path_exits_two_but_still_checks_the_rest() {
    let out = accord(&[
        "check",
        "no/such/dir",
        "tests/fixtures/check/self-flow.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no/such/dir: error: cannot read"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("error[self-flow]"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_arguments_exit_two() {
    assert_eq!(accord(&["check", "--format", "xml"]).status.code(), Some(2));
    assert_eq!(
        accord(&["check", "--as-of", "21/11/2026"]).status.code(),
        Some(2)
    );
    assert_eq!(accord(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn an_agreement_id_used_by_two_files_is_a_duplicate_in_the_later_file() {
    let dir = tempfile::tempdir().unwrap();
    let base =
        std::fs::read_to_string(repo().join("tests/fixtures/check/valid/base.yaml")).unwrap();
    std::fs::write(dir.path().join("a.yaml"), &base).unwrap();
    std::fs::write(dir.path().join("b.yml"), format!("# a copy\n{base}")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an agreement").unwrap();
    std::fs::create_dir(dir.path().join(".hidden")).unwrap();
    std::fs::write(dir.path().join(".hidden/c.yaml"), &base).unwrap();
    let out = accord(&[
        "check",
        dir.path().to_str().unwrap(),
        "--as-of",
        "2026-11-21",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let id_line = base.lines().position(|l| l.starts_with("id: ")).unwrap() + 2;
    assert!(
        lines[0].contains(&format!("b.yml:{id_line}:5: error[duplicate-id]")),
        "{text}"
    );
    assert!(lines[0].contains("a.yaml"), "names the other file: {text}");
    assert!(stderr(&out).contains("checked 2 files"), "{}", stderr(&out));
}

#[test]
fn as_of_moves_time_dependent_warnings() {
    let path = "tests/fixtures/check/valid/base.yaml";
    let now = accord(&["check", path, "--as-of", "2026-11-21"]);
    assert_eq!(stdout(&now), "");
    let later = accord(&["check", path, "--as-of", "2028-06-01"]);
    assert_eq!(later.status.code(), Some(0));
    let text = stdout(&later);
    assert!(text.contains("warning[expired]"), "{text}");
    assert!(text.contains("warning[review-overdue]"), "{text}");
    assert!(text.contains("warning[assurance-expired]"), "{text}");
}
