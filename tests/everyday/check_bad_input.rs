//! Hostile and broken input gets a clear `yaml-syntax` or `schema` finding, promptly, and never
//! a panic or a hang.

use crate::support;

use std::time::{Duration, Instant};

use accord::agreement::{Checked, Code, check_source};
use jiff::civil::date;
use support::{accord, samples, stderr, stdout, within};

const PROMPT: Duration = Duration::from_secs(5);

fn check(bytes: Vec<u8>) -> Checked {
    within(PROMPT, move || check_source(&bytes, date(2026, 11, 21)))
}

fn only(checked: &Checked) -> (Code, u32, u32, &str) {
    assert_eq!(checked.diagnostics.len(), 1, "{:#?}", checked.diagnostics);
    let d = &checked.diagnostics[0];
    (d.code, d.pos.line, d.pos.column, d.message.as_str())
}

#[test]
fn a_file_over_one_mebibyte_is_refused_unread() {
    let mut big = b"accord: 1\ndescription: \"".to_vec();
    big.resize(1024 * 1024 + 10, b'x');
    let checked = check(big);
    let (code, line, col, msg) = only(&checked);
    assert_eq!((code, line, col), (Code::YamlSyntax, 1, 1));
    assert!(msg.contains("1 MiB"), "{msg}");
}

#[test]
fn a_huge_sparse_file_is_read_only_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let started = Instant::now();
    let out = within(PROMPT, {
        let path = path.clone();
        move || accord(&["check", path.to_str().unwrap()])
    });
    assert!(started.elapsed() < PROMPT);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("huge.yaml:1:1: error[yaml-syntax]"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut src =
        String::from("accord: 1\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        src.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let checked = check(src.into_bytes());
    let (code, line, _, msg) = only(&checked);
    assert_eq!(code, Code::YamlSyntax);
    assert!(msg.contains("alias expansion out of bounds"), "{msg}");
    assert!(
        line >= 3,
        "points at the alias that overflows, got line {line}"
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    for src in [
        "[".repeat(200_000),
        "{a: ".repeat(50_000),
        "- ".repeat(50_000),
    ] {
        let checked = check(src.into_bytes());
        let (code, _, _, msg) = only(&checked);
        assert_eq!(code, Code::YamlSyntax);
        assert!(msg.contains("nested more than 64 deep"), "{msg}");
    }
}

/// The file of issue #27: 90,000 keys in one mapping (870 KB, under the size cap). Reading
/// stops at the key past the cap, with where it stands and where its mapping starts.
#[test]
fn ninety_thousand_keys_in_one_mapping_stop_at_the_key_past_the_cap() {
    let mut src = String::from("accord: 1\n");
    for i in 0..90_000 {
        src.push_str(&format!("k{i:05}: x\n"));
    }
    assert!(src.len() > 870_000 && src.len() < 1024 * 1024);
    let checked = check_source(src.as_bytes(), date(2026, 11, 21));
    let (code, line, col, msg) = only(&checked);
    // `accord` and 9,999 more keys make 10,000; the next, `k09999`, is one too many.
    assert_eq!((code, line, col), (Code::YamlSyntax, 10_001, 1));
    assert_eq!(
        msg,
        "invalid YAML: the mapping that starts at line 1 has more than 10000 keys; an \
         agreement needs far fewer"
    );
}

/// A key repeated 9,998 keys after its first, in a mapping at the cap: found at the repeat.
#[test]
fn a_key_repeated_far_from_its_first_is_found_at_the_repeat() {
    let mut src = String::from("accord: 1\nid: far\nextra:\n");
    for i in 0..9_999 {
        src.push_str(&format!("  key{i:05}: x\n"));
    }
    src.push_str("  key00000: again\n");
    let checked = check_source(src.as_bytes(), date(2026, 11, 21));
    let (code, line, col, msg) = only(&checked);
    assert_eq!((code, line, col), (Code::YamlSyntax, 10_003, 3));
    assert_eq!(
        msg,
        "invalid YAML: the key 'key00000' appears twice in one mapping (first at line 4)"
    );
}

#[test]
fn non_utf8_bytes_point_at_the_bad_byte() {
    let checked = check(b"accord: 1\nid: caf\xc3\x28\n".to_vec());
    let (code, line, col, msg) = only(&checked);
    assert_eq!((code, line, col), (Code::YamlSyntax, 2, 8));
    assert!(msg.contains("not UTF-8"), "{msg}");
}

#[test]
fn empty_and_blank_files_say_so() {
    for src in ["", "\n\n", "# only a comment\n", "---\n"] {
        let checked = check(src.as_bytes().to_vec());
        let (code, line, col, msg) = only(&checked);
        assert_eq!((code, line, col), (Code::Schema, 1, 1), "{src:?}");
        assert!(msg.contains("empty"), "{msg}");
    }
}

#[test]
fn a_document_that_is_not_a_mapping_says_what_it_is() {
    for (src, found) in [
        ("just text\n", "text"),
        ("- a\n- b\n", "a list"),
        ("42\n", "number"),
    ] {
        let checked = check(src.as_bytes().to_vec());
        let (code, _, _, msg) = only(&checked);
        assert_eq!(code, Code::Schema);
        assert!(msg.contains("mapping") && msg.contains(found), "{msg}");
    }
}

#[test]
fn broken_yaml_points_where_it_broke() {
    let checked = check(b"accord: 1\nid: x\ntitle: [unclosed\nversion: 1\n".to_vec());
    let (code, line, _, _) = only(&checked);
    assert_eq!(code, Code::YamlSyntax);
    assert!(line >= 3, "line {line}");
    let checked = check(b"accord: 1\n\tid: tabbed\n".to_vec());
    assert_eq!(only(&checked).0, Code::YamlSyntax);
}

#[test]
fn every_truncation_of_every_sample_is_handled() {
    for path in samples() {
        let bytes = std::fs::read(&path).unwrap();
        within(Duration::from_secs(60), move || {
            for cut in (0..bytes.len()).step_by(17) {
                let checked = check_source(&bytes[..cut], date(2026, 11, 21));
                assert!(cut == bytes.len() || checked.has_errors() || checked.agreement.is_some());
            }
        });
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    within(Duration::from_secs(30), move || {
        for _ in 0..2_000 {
            let len = (state % 300) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    b" :-[]{}&*!|>'\"#\nabc1\t,?"[(state % 23) as usize]
                })
                .collect();
            let checked = check_source(&bytes, date(2026, 11, 21));
            assert!(
                checked.has_errors(),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    });
}

#[test]
fn a_folder_of_ten_thousand_files_finishes_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(&samples()[0]).unwrap();
    let id_line = sample
        .lines()
        .find(|l| l.starts_with("id: "))
        .unwrap()
        .to_owned();
    for i in 0..10_000 {
        let text = sample.replacen(&id_line, &format!("id: agreement-{i}"), 1);
        std::fs::write(dir.path().join(format!("a{i:05}.yaml")), text).unwrap();
    }
    let started = Instant::now();
    let path = dir.path().to_str().unwrap().to_owned();
    let out = within(Duration::from_secs(120), move || {
        accord(&["check", &path, "--as-of", "2026-11-21"])
    });
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("checked 10000 files: 0 errors"),
        "{}",
        stderr(&out)
    );
    eprintln!("10,000 files checked in {took:?}");
}
