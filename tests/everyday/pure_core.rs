//! The pure core stays pure: no module of it may import the runtime, the database, HTTP, the
//! file system, or read the clock. This reads the sources as text (the import lines and the
//! calls that would do I/O), so a change that breaks the rule fails here, not in review.
//! ARCHITECTURE.md lists the same modules under "The core is pure".

use std::path::{Path, PathBuf};

/// Every pure module: the core crate whole, and single files of the service that are pure too.
const PURE: &[&str] = &[
    "core/src",
    "src/mail/reminders.rs",
    "src/handover/secrets.rs",
    "src/handover/files.rs",
    "src/people/logout_token.rs",
    "src/failure.rs",
];

/// What the core crate's `Cargo.toml` must not depend on: a web framework, the database, the
/// async runtime, an HTTP client, mail. Without them, the compiler keeps the core pure.
const NOT_IN_CORE: &[&str] = &[
    "poem",
    "poem-openapi",
    "hyper",
    "sea-orm",
    "sqlx",
    "rusqlite",
    "tokio",
    "reqwest",
    "lettre",
    "handlebars",
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
fn the_core_crate_depends_on_no_web_database_or_runtime_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("core/Cargo.toml")).unwrap();
    let manifest: toml::Table = manifest.parse().unwrap();
    let mut names = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(deps) = manifest.get(section).and_then(|d| d.as_table()) {
            names.extend(deps.keys().cloned());
        }
    }
    assert!(
        names.iter().any(|n| n == "serde"),
        "read no dependencies: {names:?}"
    );
    let found: Vec<&String> = names
        .iter()
        .filter(|n| NOT_IN_CORE.contains(&n.as_str()))
        .collect();
    assert!(found.is_empty(), "the core crate depends on {found:?}");
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
