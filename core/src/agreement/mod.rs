//! The agreement: its typed model, reading it from YAML with source positions, and checking it
//! against the rules of docs/agreement-format.md; and the rules that follow from it over time
//! (`lifecycle`: a version's status on a date; `retention`: when held data must be gone).
//! Pure: no I/O, no clock reads.
//!
//! Checking runs in three stages (docs/diagnostics.md): YAML → shape → rules. A later stage
//! runs only when the earlier ones found no error. An agreement that passes all three comes
//! out as a [`ValidAgreement`], the only form the rest of Accord accepts.

pub mod copy;
pub mod decode;
pub mod diagnostic;
pub mod engagement;
pub mod lifecycle;
pub mod model;
pub mod retention;
pub mod schema;
pub mod validate;
pub mod values;
pub mod vocab;
pub mod yaml;

use std::ops::Deref;

use jiff::civil::Date;

pub use diagnostic::{Code, Diagnostic, Severity};
pub use model::Agreement;
use yaml::Pos;

/// An agreement with no error findings (warnings allowed). Only [`check_source`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidAgreement(Agreement);

impl Deref for ValidAgreement {
    type Target = Agreement;

    fn deref(&self) -> &Agreement {
        &self.0
    }
}

impl ValidAgreement {
    pub fn into_inner(self) -> Agreement {
        self.0
    }
}

/// What checking one source found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every finding, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// The agreement, when there were no errors.
    pub agreement: Option<ValidAgreement>,
    /// The top-level `id` and where it stands, when the YAML could be read (even if other
    /// things were wrong), so duplicates across files can be found.
    pub id: Option<(String, Pos)>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks one agreement source. `today` (a Europe/London date) judges expiry and review.
pub fn check_source(bytes: &[u8], today: Date) -> Checked {
    let root = match yaml::parse(bytes) {
        Ok(Some(root)) if !root.is_null() => root,
        Ok(_) => {
            let msg = "the file is empty; an agreement starts with 'accord: 1' and an 'id'";
            return failed(Diagnostic::new(Code::Schema, Pos::START, msg));
        }
        Err(e) => {
            let d = Diagnostic::new(
                Code::YamlSyntax,
                e.pos,
                format!("invalid YAML: {}", e.message),
            );
            return failed(d);
        }
    };
    let id = root
        .get("id")
        .and_then(|e| Some((e.value.as_scalar()?.text.clone(), e.value.pos)));
    let mut diagnostics = match decode::decode_document::<Agreement>(&root) {
        Err(found) => found,
        Ok(agreement) => {
            let mut found = validate::validate(&agreement, &root, today);
            diagnostic::sort(&mut found);
            let agreement =
                (!found.iter().any(Diagnostic::is_error)).then_some(ValidAgreement(agreement));
            return Checked {
                diagnostics: found,
                agreement,
                id,
            };
        }
    };
    diagnostic::sort(&mut diagnostics);
    Checked {
        diagnostics,
        agreement: None,
        id,
    }
}

/// A source that stops at the YAML stage (empty, or not YAML): one finding, and no id.
fn failed(d: Diagnostic) -> Checked {
    Checked {
        diagnostics: vec![d],
        agreement: None,
        id: None,
    }
}
