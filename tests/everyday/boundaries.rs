//! Boundaries between the service's layers that the compiler does not keep: read from the
//! sources, as `pure_core.rs` reads the core's. ARCHITECTURE.md states each as an invariant.

use std::path::Path;

fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
    out
}

/// The console's pages reach the database only through the use cases (the registry, people,
/// the audit log, the holdings ledger, …): no page holds a connection or names the store. The
/// one mention allowed is the conversion of a database error into the page's error.
#[test]
fn pages_reach_no_database_handle() {
    let web = crate::support::repo().join("src/web");
    let files = sources(&web);
    assert!(files.len() > 20, "read only {} files", files.len());
    let mut found = Vec::new();
    for (path, text) in &files {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("//") || line.starts_with("impl From<sea_orm::DbErr>") {
                continue;
            }
            for bad in [
                "DatabaseConnection",
                "crate::store",
                "sea_orm::",
                ".db()",
                "console.db",
            ] {
                if line.contains(bad) && !line.contains("sea_orm::DbErr) -> WebError") {
                    found.push(format!("{path}:{}: {line}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "pages reach the database:\n{}",
        found.join("\n")
    );
}
