//! Small text helpers any layer may use; pure.

/// Text on one line: runs of whitespace (newlines included) become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` with its first letter a capital, as a sentence starts (messages are lower case).
pub fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An error and its sources, `: `-separated, a source whose text is already there left out.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// Most words of a search that are used.
pub const MAX_SEARCH_WORDS: usize = 16;

/// Words a question is made of that say nothing about what to find ("how is the …").
const STOP_WORDS: [&str; 36] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "in", "is", "it", "of", "on", "or", "our", "the", "this", "that", "to", "was", "we",
    "what", "when", "where", "which", "who", "why", "with", "you",
];

/// The words of a search: runs of letters and digits, lower-cased, without stop words, at
/// most [`MAX_SEARCH_WORDS`]. Nothing else survives, so no search engine's or `LIKE`'s own
/// syntax (quotes, operators, `%`, `_`) can reach a query.
pub fn search_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .take(MAX_SEARCH_WORDS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_only_words() {
        assert_eq!(
            search_words("How is the attendance extract produced?"),
            ["attendance", "extract", "produced"]
        );
        assert_eq!(
            search_words("\"x\" OR b* NEAR(c) 'd' & !e 50% a_b"),
            ["x", "b", "near", "c", "d", "e", "50", "b"]
        );
        assert!(search_words("*** () % _").is_empty());
        assert_eq!(search_words(&"w ".repeat(100)).len(), MAX_SEARCH_WORDS);
        assert_eq!(search_words("Ysbyty GWYNEDD"), ["ysbyty", "gwynedd"]);
    }
}
