//! The pure core stays pure: no module of it may import the runtime, the database, HTTP, the
//! file system, or read the clock. This reads the sources as text (the import lines and the
//! calls that would do I/O), so a change that breaks the rule fails here, not in review.
//! ARCHITECTURE.md lists the same modules under "The core is pure".

use std::path::{Path, PathBuf};

/// Every pure module: whole folders, and single files inside edge folders.
const PURE: &[&str] = &[
    "src/agreement",
    "src/gate",
    "src/access/form.rs",
    "src/access/states.rs",
    "src/access/drafting.rs",
    "src/dpia/screening.rs",
    "src/dpia/risk.rs",
    "src/dpia/document",
    "src/dpia/diagram.rs",
    "src/dpia/labels.rs",
    "src/retention/plan.rs",
    "src/mail/reminders.rs",
    "src/handover/items.rs",
    "src/handover/secrets.rs",
    "src/handover/files.rs",
    "src/people/logout_token.rs",
    "src/text.rs",
    "src/inputs.rs",
    "src/failure.rs",
    "src/template",
];

/// What a pure module must not name: the async runtime, the database and its drivers, HTTP
/// clients and servers, the file system, the process environment, and the clock.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sea_orm",
    "sqlx",
    "rusqlite",
    "reqwest",
    "poem::",
    "lettre",
    "std::fs",
    "std::env",
    "std::net",
    "std::process",
    "SystemTime",
    "Instant::now",
    "Timestamp::now",
    "Zoned::now",
    "SystemClock",
    "crate::store",
    "crate::registry",
    "crate::retention::",
    "crate::flows",
    "crate::audit",
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

#[test]
fn pure_modules_do_no_io_and_read_no_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for p in PURE {
        let path = root.join(p);
        assert!(path.exists(), "{p} is listed as pure but does not exist");
        rust_files(&path, &mut files);
    }
    assert!(files.len() > 30, "only {} files found", files.len());
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests inside a module may use what they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            for bad in FORBIDDEN {
                if line.contains(bad) {
                    let rel = file.strip_prefix(root).unwrap().display();
                    found.push(format!("{rel}:{}: {bad}: {line}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "pure modules reach outside the core:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_forbidden_import() {
    // The rule is only as good as its matching: these lines must be caught.
    for line in [
        "use sea_orm::EntityTrait;",
        "let now = jiff::Timestamp::now();",
        "let text = std::fs::read_to_string(p)?;",
        "use crate::registry::Registry;",
    ] {
        assert!(FORBIDDEN.iter().any(|bad| line.contains(bad)), "{line}");
    }
}
