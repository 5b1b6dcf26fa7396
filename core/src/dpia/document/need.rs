//! Step 1: the need for a DPIA, the screening's answers as printed.

use serde::Serialize;

use super::outcome_label;
use crate::agreement::Agreement;
use crate::dpia::screening::{Criterion, Outcome, Screening};

/// Step 1: the need for a DPIA.
#[derive(Debug, Clone, Serialize)]
pub struct Need {
    pub summary: String,
    pub benefits: Option<String>,
    pub outcome: Outcome,
    pub outcome_label: &'static str,
    pub why: Vec<String>,
    pub criteria_met: usize,
    pub criteria: Vec<Answer>,
    pub article35_3: Vec<Answer>,
    pub ico_list: Vec<Answer>,
}

/// A screening question as printed: Yes, No or Not recorded, with the reasons.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub id: &'static str,
    pub title: &'static str,
    pub answer: &'static str,
    /// `yes`, `no` or `unknown`, for styling.
    pub class: &'static str,
    pub reasons: Vec<String>,
}

pub(super) fn need(a: &Agreement, s: &Screening) -> Need {
    Need {
        summary: a.summary.clone(),
        benefits: a.benefits.clone(),
        outcome: s.outcome,
        outcome_label: outcome_label(s.outcome),
        why: s.why.clone(),
        criteria_met: s.fired_criteria().count(),
        criteria: answers(&s.criteria),
        article35_3: answers(&s.article35_3),
        ico_list: answers(&s.ico_list),
    }
}

fn answers(list: &[Criterion]) -> Vec<Answer> {
    list.iter()
        .map(|c| {
            let (answer, class) = match (c.recorded, c.fired) {
                (false, _) => ("Not recorded", "unknown"),
                (true, true) => ("Yes", "yes"),
                (true, false) => ("No", "no"),
            };
            Answer {
                id: c.id,
                title: c.title,
                answer,
                class,
                reasons: c.reasons.clone(),
            }
        })
        .collect()
}
