//! Small text helpers any layer may use; pure.

/// Text on one line: runs of whitespace (newlines included) become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a search word is looked for as, inside titles' words: its root, the part it shares
/// with its Snowball (Porter 2) English stem less a final "i" the stemmer wrote for "y", so
/// "licensing" is looked for as "licens" and finds "Unlicensed", and "families" as "famil",
/// finding "Family". A root shorter than four letters stays the
/// word. (`word` is one of [`search_words`]: lower case.)
pub fn word_root(word: &str) -> String {
    static STEMMER: std::sync::LazyLock<rust_stemmers::Stemmer> = std::sync::LazyLock::new(|| {
        rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
    });
    let stem = STEMMER.stem(word);
    let mut shared: String = word
        .chars()
        .zip(stem.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    // The stemmer writes a final "y" as "i" ("famili"): either may follow the root.
    if shared.ends_with('i') && stem.ends_with('i') {
        shared.pop();
    }
    if shared.chars().count() >= 4 {
        shared
    } else {
        word.to_owned()
    }
}

/// `n` with its thousands separated by commas, as GOV.UK writes numbers: "2,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A count in words: "1 request", "2 requests" (`one` and `many` are the words after it).
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Items as sentences on one line: each made one line and ended with a full stop unless it
/// ends with other punctuation, joined by spaces ("To feed residents. To confirm need.").
pub fn sentences<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|i| one_line(i.as_ref()))
        .filter(|i| !i.is_empty())
        .map(|i| {
            if i.ends_with(['.', '!', '?']) {
                i
            } else {
                format!("{i}.")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
    #[test]
    fn thousands_are_separated_by_commas() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (2000, "2,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(super::thousands(n), text);
        }
    }

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

    #[test]
    fn a_word_is_looked_for_by_its_root() {
        for (word, root) in [
            ("licensing", "licens"),
            ("families", "famil"),
            ("family", "famil"),
            ("referrals", "referr"),
            ("hmo", "hmo"),
            ("food", "food"),
            ("ysbyty", "ysbyt"),
        ] {
            assert_eq!(word_root(word), root, "{word}");
            assert!(word.starts_with(&word_root(word)));
        }
        assert!("unlicensed".contains(&word_root("licensing")));
    }

    #[test]
    fn counts_and_sentences_read_as_english() {
        assert_eq!(
            count(1u64, "request matches", "requests match"),
            "1 request matches"
        );
        assert_eq!(
            count(0u64, "request matches", "requests match"),
            "0 requests match"
        );
        assert_eq!(
            sentences(&["To feed residents.", "To confirm need", "", "Why?\nBecause"]),
            "To feed residents. To confirm need. Why? Because."
        );
    }
}
