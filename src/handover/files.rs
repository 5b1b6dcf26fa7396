//! Attachments to a handover submission: which types are taken, how big, and whether the bytes
//! are what the name and type say. Pure.
//!
//! A submission carries at most [`MAX_ATTACHMENTS`] files of at most [`MAX_ATTACHMENT_BYTES`]
//! each. A file's type is read from its first bytes, not trusted from the caller: PDF, PNG and
//! JPEG by their signatures; plain text, Markdown and CSV as UTF-8 with no NUL byte. Anything
//! else (an executable, an archive, a Word file) is refused: the knowledge pack must open in a
//! browser on any council laptop.

use sha2::{Digest, Sha256};

/// Largest attachment, in bytes (512 KiB).
pub const MAX_ATTACHMENT_BYTES: usize = 512 * 1024;
/// Most attachments on one submission.
pub const MAX_ATTACHMENTS: usize = 4;
/// Longest file name, in characters.
pub const MAX_FILE_NAME: usize = 200;

/// The types an attachment may have, with the file name endings each may carry.
pub const TYPES: [(&str, &[&str]); 6] = [
    ("application/pdf", &["pdf"]),
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("text/plain", &["txt", "log"]),
    ("text/markdown", &["md", "markdown"]),
    ("text/csv", &["csv"]),
];

/// Why an attachment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "{name} is {size} bytes; an attachment may be at most {MAX_ATTACHMENT_BYTES} bytes (512 KiB)"
    )]
    TooBig { name: String, size: usize },
    #[error("a submission may carry at most {MAX_ATTACHMENTS} attachments")]
    TooMany,
    #[error(
        "{name}: attachments may be PDF, PNG, JPEG, plain text, Markdown or CSV, and the \
         file's content must be of the type its name says"
    )]
    Type { name: String },
    #[error("an attachment's name must be 1 to {MAX_FILE_NAME} characters, without a path")]
    Name,
}

/// An attachment that passed: its cleaned name, its type (as read from the bytes), its size and
/// SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub media_type: &'static str,
    pub size: usize,
    pub sha256: String,
}

/// Checks one attachment's name and bytes.
pub fn check(name: &str, bytes: &[u8]) -> Result<Checked, Refused> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_FILE_NAME
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name.starts_with('.')
    {
        return Err(Refused::Name);
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(Refused::TooBig {
            name: name.to_owned(),
            size: bytes.len(),
        });
    }
    let ending = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let refused = || Refused::Type {
        name: name.to_owned(),
    };
    let media_type = TYPES
        .iter()
        .find(|(_, endings)| endings.contains(&ending.as_str()))
        .map(|(t, _)| *t)
        .ok_or_else(refused)?;
    if !content_is(media_type, bytes) {
        return Err(refused());
    }
    Ok(Checked {
        name: name.to_owned(),
        media_type,
        size: bytes.len(),
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// Whether attachments of `media_type` are text (plain, Markdown, CSV), which can be read.
pub fn is_text(media_type: &str) -> bool {
    media_type.starts_with("text/")
}

/// A checked attachment's text, when it is text (its bytes are UTF-8: checking made sure).
pub fn text<'a>(file: &Checked, bytes: &'a [u8]) -> Option<&'a str> {
    if is_text(file.media_type) {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

/// The `Content-Disposition` of a download: an attachment, its name kept to letters, digits,
/// `.`, `-` and `_` (anything else becomes `_`), so no header can be broken by a name.
pub fn disposition(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attachment; filename=\"{safe}\"")
}

fn content_is(media_type: &str, bytes: &[u8]) -> bool {
    match media_type {
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(b"\xff\xd8\xff"),
        _ => std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_read_from_the_bytes() {
        let pdf = check("runbook.pdf", b"%PDF-1.7\n...").unwrap();
        assert_eq!(pdf.media_type, "application/pdf");
        assert_eq!(pdf.sha256.len(), 64);
        assert_eq!(
            check("notes.MD", b"# Notes").unwrap().media_type,
            "text/markdown"
        );
        assert_eq!(
            check("a.png", b"\x89PNG\r\n\x1a\nxx").unwrap().media_type,
            "image/png"
        );
        assert!(matches!(
            check("runbook.pdf", b"MZ\x90\x00"),
            Err(Refused::Type { .. })
        ));
        assert!(matches!(
            check("tool.exe", b"MZ"),
            Err(Refused::Type { .. })
        ));
        assert!(matches!(
            check("notes.txt", b"a\0b"),
            Err(Refused::Type { .. })
        ));
        assert!(matches!(check("notes", b"text"), Err(Refused::Type { .. })));
    }

    #[test]
    fn names_and_sizes_are_capped() {
        assert_eq!(check("../etc/passwd.txt", b"x"), Err(Refused::Name));
        assert_eq!(check(".hidden.txt", b"x"), Err(Refused::Name));
        assert_eq!(check(" ", b"x"), Err(Refused::Name));
        let big = vec![b'a'; MAX_ATTACHMENT_BYTES + 1];
        assert!(matches!(
            check("big.txt", &big),
            Err(Refused::TooBig { .. })
        ));
        assert!(check("max.txt", &big[1..]).is_ok());
    }
}
