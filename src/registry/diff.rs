//! Differences between two versions' sources, as a unified diff an officer can read.

use similar::TextDiff;

pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_changed_lines_with_context() {
        let d = super::unified("a\nb\nc\n", "a\nB\nc\n", "v1", "v2");
        assert!(d.starts_with("--- v1\n+++ v2\n"), "{d}");
        assert!(d.contains("-b\n+B\n"), "{d}");
    }
}
