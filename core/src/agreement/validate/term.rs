//! Rules about the agreement's term: its order, its end, and its review date.

use jiff::civil::Date;

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::Agreement;
use crate::path;

pub fn check(a: &Agreement, today: Date, f: &mut Findings) {
    let term = &a.term;
    if let Some(end) = term.end {
        if end <= term.start {
            let msg = format!("term.end {end} is not after term.start {}", term.start);
            f.at(Code::TermOrder, &path!["term", "end"], msg);
        }
        if end < today {
            let msg = format!(
                "the agreement's term ended on {end}; sharing under it must stop (renew it with \
                 a new version, or terminate it)"
            );
            f.at(Code::Expired, &path!["term", "end"], msg);
        }
    }
    if let Some(due) = term.next_review()
        && due < today
    {
        let reviewed = term.last_reviewed.unwrap_or(term.start);
        let msg = format!(
            "review was due on {due} ({} after {reviewed}); review the agreement and update \
             term.last_reviewed",
            term.review_every
        );
        let at = if term.last_reviewed.is_some() {
            path!["term", "last_reviewed"]
        } else {
            path!["term", "review_every"]
        };
        f.at(Code::ReviewOverdue, &at, msg);
    }
}
