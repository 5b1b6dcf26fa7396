//! An agreement's source copied as a new agreement: a new id and title, version 1 and no
//! signatures, and everything else as it was, comments included, so that saving the copy can
//! never add a version to the original. Pure.

use super::yaml::{NodeKind, parse};

/// `source` with its top-level `id`, `title` and `version` replaced and its `signatures`
/// removed; `None` when `source` is not a YAML mapping. Each replaced entry spans from its key
/// to the next top-level key, less the comments and blank lines just before that key (they
/// belong to what follows).
pub fn as_new(source: &str, id: &str, title: &str) -> Option<String> {
    let tree = parse(source.as_bytes()).ok()??;
    let NodeKind::Map(entries) = &tree.kind else {
        return None;
    };
    let lines: Vec<&str> = source.lines().collect();
    let starts: Vec<(usize, &str)> = entries
        .iter()
        .map(|e| (e.key_pos.line as usize - 1, e.key.as_str()))
        .collect();
    let quoted = |text: &str| {
        serde_yaml::to_string(text)
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_else(|_| format!("{text:?}"))
    };
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut seen = [false; 3];
    let mut next = 0;
    for (i, &(start, key)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(lines.len(), |&(s, _)| s);
        // Lines before this key (the file's header, or what trails the previous entry).
        out.extend(lines[next..start].iter().map(|l| (*l).to_owned()));
        let mut body_end = end;
        while body_end > start + 1 && {
            let l = lines[body_end - 1].trim_start();
            l.is_empty() || l.starts_with('#')
        } {
            body_end -= 1;
        }
        match key {
            "id" => {
                out.push(format!("id: {id}"));
                seen[0] = true;
            }
            "title" => {
                out.push(format!("title: {}", quoted(title)));
                seen[1] = true;
            }
            "version" => {
                out.push("version: 1".to_owned());
                seen[2] = true;
            }
            "signatures" => {}
            _ => out.extend(lines[start..body_end].iter().map(|l| (*l).to_owned())),
        }
        next = body_end;
    }
    out.extend(lines[next..].iter().map(|l| (*l).to_owned()));
    if !seen[0] {
        out.push(format!("id: {id}"));
    }
    if !seen[1] {
        out.push(format!("title: {}", quoted(title)));
    }
    Some(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;

    #[test]
    fn a_copy_is_a_new_agreement_with_everything_else_kept() {
        let root =
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("agreements");
        let today = jiff::civil::date(2027, 1, 10);
        for entry in std::fs::read_dir(root).unwrap() {
            let original = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let copy = as_new(&original, "copied-agreement", "A copy: \"quoted\" & kept").unwrap();
            let was = check_source(original.as_bytes(), today).agreement.unwrap();
            let now = check_source(copy.as_bytes(), today);
            let errors: Vec<_> = now.diagnostics.iter().filter(|d| d.is_error()).collect();
            assert!(errors.is_empty(), "{errors:?}\n{copy}");
            let now = now.agreement.unwrap();
            assert_eq!(now.id.as_str(), "copied-agreement");
            assert_eq!(now.title, "A copy: \"quoted\" & kept");
            assert_eq!(now.version.get(), 1);
            assert!(now.signatures.is_empty());
            assert_eq!(now.parties, was.parties);
            assert_eq!(now.flows, was.flows);
            let comments = |s: &str| {
                s.lines()
                    .filter(|l| l.trim_start().starts_with('#'))
                    .count()
            };
            assert!(comments(&copy) >= comments(&original) - 1, "comments kept");
        }
    }

    #[test]
    fn a_source_that_is_not_a_mapping_gives_nothing() {
        assert_eq!(as_new("- a\n- b\n", "x", "y"), None);
        assert_eq!(as_new("just words\n", "x", "y"), None);
        assert_eq!(as_new("[unclosed\n", "x", "y"), None);
    }
}
