//! The integration tests are two binaries, `everyday` and `external` (Cargo.toml, with
//! `autotests = false`): a test file that neither binary declares as a module would never be
//! compiled, so it would pass by never running. This fails instead.

use std::path::Path;

fn rust_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_test_file_is_a_module_of_one_of_the_two_binaries() {
    let tests = crate::support::repo().join("tests");
    let loose = rust_files(&tests);
    assert!(
        loose.is_empty(),
        "tests/{loose:?}.rs would not be built (autotests = false): make each a module of \
         tests/everyday/main.rs or tests/external/main.rs"
    );
    for binary in ["everyday", "external"] {
        let dir = tests.join(binary);
        let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
        for name in rust_files(&dir).into_iter().filter(|n| n != "main") {
            assert!(
                main.lines().any(|l| l.trim() == format!("mod {name};")),
                "tests/{binary}/{name}.rs is not declared in tests/{binary}/main.rs, so it is \
                 never built"
            );
        }
    }
}
