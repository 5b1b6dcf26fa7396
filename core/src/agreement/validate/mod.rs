//! Stage 3 of checking: the rules of docs/agreement-format.md over a well-shaped agreement.
//! Pure: the date that "today" means is handed in.
//!
//! Rules see the typed [`Agreement`]; to say *where* a finding is, they name a path
//! (`path!["flows", i, "to"]`) that [`Findings`] resolves in the located YAML tree.

mod contractors;
mod ids;
mod lawful_basis;
mod parties;
pub mod placeholders;
mod references;
mod retention;
mod term;
mod transparency;

pub use retention::covers;

use jiff::civil::Date;

use super::diagnostic::{Code, Diagnostic};
use super::model::Agreement;
use super::yaml::{Node, Pos, Step};

/// Runs every rule; findings come back in no particular order.
pub fn validate(agreement: &Agreement, tree: &Node, today: Date) -> Vec<Diagnostic> {
    let mut f = Findings {
        tree,
        out: Vec::new(),
    };
    ids::check(agreement, &mut f);
    parties::check(agreement, today, &mut f);
    references::check(agreement, &mut f);
    lawful_basis::check(agreement, &mut f);
    retention::check(agreement, &mut f);
    term::check(agreement, today, &mut f);
    contractors::check(agreement, &mut f);
    transparency::check(agreement, &mut f);
    placeholders::check(tree, &mut f);
    f.out
}

/// Collects findings, turning paths into source positions.
pub(crate) struct Findings<'a> {
    tree: &'a Node,
    out: Vec<Diagnostic>,
}

impl Findings<'_> {
    /// A finding about the value at `path`.
    pub fn at(&mut self, code: Code, path: &[Step], message: String) {
        let pos = self.tree.at(path).map_or(Pos::START, |n| n.pos);
        self.out.push(Diagnostic::new(code, pos, message));
    }

    /// A finding about the key that ends `path` (for things about a whole list).
    pub fn at_key(&mut self, code: Code, path: &[Step], message: String) {
        let pos = self.tree.key_pos(path).unwrap_or(Pos::START);
        self.out.push(Diagnostic::new(code, pos, message));
    }
}
