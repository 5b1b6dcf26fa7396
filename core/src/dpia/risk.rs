//! Scoring risks as the ICO does.
//!
//! The ICO's sample DPIA template (Step 5, "Identify and assess risks") asks for each risk's
//! likelihood of harm (remote, possible or probable), its severity of harm (minimal,
//! significant or severe) and the overall risk (low, medium or high); the agreement format uses
//! exactly those words. The ICO's guidance "How do we do a DPIA?" (section "How do we identify
//! and assess risks?") combines the two with a structured 3×3 matrix, whose likelihood axis
//! reads remote / reasonable possibility / more likely than not and whose severity axis reads
//! minimal impact / some impact / serious harm:
//!
//! | severity \ likelihood | remote | possible | probable |
//! | --- | --- | --- | --- |
//! | severe                | medium | high     | high     |
//! | significant           | low    | medium   | high     |
//! | minimal               | low    | low      | medium   |
//!
//! It is symmetric, and it follows the guidance's own words: high risk "could result from either
//! a high probability of some harm, or a lower possibility of serious harm" (the (probable,
//! significant) and (possible, severe) cells), and harm "must be more than remote" to be high
//! (so no remote cell is high).
//!
//! Step 6 of the template records, per measure, its effect, the residual risk and whether it
//! was approved. The risk that remains is judged from approved measures only (a measure nobody
//! approved reduces nothing), and is the lowest residual among them: approved measures are all
//! applied, and applying one more can never raise the risk, so what is left is at most what the
//! strongest one leaves. With no approved measure, the overall score stands.

use serde::Serialize;

use crate::agreement::model::Risk;
use crate::agreement::vocab::{Likelihood, RiskLevel, Severity};

/// The ICO matrix: the overall risk of a likelihood and a severity of harm.
pub fn score(likelihood: Likelihood, severity: Severity) -> RiskLevel {
    use Likelihood::*;
    use Severity::*;
    match (likelihood, severity) {
        (Remote, Minimal) | (Remote, Significant) | (Possible, Minimal) => RiskLevel::Low,
        (Remote, Severe) | (Possible, Significant) | (Probable, Minimal) => RiskLevel::Medium,
        (Possible, Severe) | (Probable, Significant) | (Probable, Severe) => RiskLevel::High,
    }
}

/// The risk left after the approved measures; the overall score when none is approved.
pub fn residual(risk: &Risk) -> RiskLevel {
    risk.measures
        .iter()
        .filter(|m| m.approved)
        .map(|m| m.residual)
        .min()
        .unwrap_or_else(|| score(risk.likelihood, risk.severity))
}

/// One row of the matrix for display: a severity and the score under each likelihood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    pub severity: Severity,
    pub cells: Vec<RiskLevel>,
}

/// The whole matrix, most severe first, likelihoods in [`Likelihood::ALL`] order, so a
/// document can print the rule it applied.
pub fn matrix() -> Vec<MatrixRow> {
    Severity::ALL
        .iter()
        .rev()
        .map(|&severity| MatrixRow {
            severity,
            cells: Likelihood::ALL
                .iter()
                .map(|&l| score(l, severity))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::model::Measure;
    use crate::agreement::values::Slug;
    use crate::agreement::vocab::MeasureEffect;

    #[test]
    fn the_ico_matrix() {
        use Likelihood::*;
        use RiskLevel::*;
        use Severity::*;
        let expect = [
            (Remote, Minimal, Low),
            (Remote, Significant, Low),
            (Remote, Severe, Medium),
            (Possible, Minimal, Low),
            (Possible, Significant, Medium),
            (Possible, Severe, High),
            (Probable, Minimal, Medium),
            (Probable, Significant, High),
            (Probable, Severe, High),
        ];
        for (l, s, want) in expect {
            assert_eq!(score(l, s), want, "{l} x {s}");
        }
    }

    #[test]
    fn the_matrix_is_symmetric_and_printed_most_severe_first() {
        let m = matrix();
        assert_eq!(m[0].severity, Severity::Severe);
        let grid: Vec<Vec<RiskLevel>> = m.iter().rev().map(|r| r.cells.clone()).collect();
        for (i, row) in grid.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                assert_eq!(*cell, grid[j][i]);
            }
        }
    }

    fn measure(residual: RiskLevel, approved: bool) -> Measure {
        Measure {
            description: None,
            effect: MeasureEffect::Reduced,
            residual,
            approved,
        }
    }

    fn risk(measures: Vec<Measure>) -> Risk {
        Risk {
            id: Slug::parse("r").unwrap(),
            description: None,
            likelihood: Likelihood::Probable,
            severity: Severity::Severe,
            measures,
        }
    }

    #[test]
    fn residual_comes_from_approved_measures_only() {
        assert_eq!(residual(&risk(vec![])), RiskLevel::High);
        let unapproved = risk(vec![measure(RiskLevel::Low, false)]);
        assert_eq!(residual(&unapproved), RiskLevel::High);
        let mixed = risk(vec![
            measure(RiskLevel::Medium, true),
            measure(RiskLevel::Low, true),
            measure(RiskLevel::High, true),
        ]);
        assert_eq!(residual(&mixed), RiskLevel::Low);
        let still_high = risk(vec![
            measure(RiskLevel::High, true),
            measure(RiskLevel::Low, false),
        ]);
        assert_eq!(residual(&still_high), RiskLevel::High);
    }
}
