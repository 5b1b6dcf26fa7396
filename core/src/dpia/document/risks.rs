//! Steps 5 and 6: the risk register scored with the ICO matrix, the measures and what risk
//! remains, and the Article 36 notice when a residual risk stays high.

use serde::Serialize;

use super::Level;
use crate::agreement::Agreement;
use crate::agreement::model::{Measure, Risk};
use crate::agreement::vocab::RiskLevel;
use crate::dpia::{labels, risk};

/// One row of the ICO matrix, for printing the rule applied.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub severity: &'static str,
    pub cells: Vec<Level>,
}

/// Steps 5 and 6 for one risk.
#[derive(Debug, Clone, Serialize)]
pub struct RiskView {
    pub id: String,
    pub description: Option<String>,
    pub likelihood: &'static str,
    pub severity: &'static str,
    pub overall: Level,
    pub measures: Vec<MeasureView>,
    pub residual: Level,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureView {
    pub description: Option<String>,
    pub effect: &'static str,
    pub residual: Level,
    pub approved: &'static str,
}

pub(super) fn risk_matrix() -> Vec<MatrixRow> {
    risk::matrix()
        .into_iter()
        .map(|row| MatrixRow {
            severity: labels::severity(row.severity),
            cells: row.cells.into_iter().map(Level::of).collect(),
        })
        .collect()
}

pub(super) fn risk_view(r: &Risk) -> RiskView {
    RiskView {
        id: r.id.to_string(),
        description: r.description.clone(),
        likelihood: labels::likelihood(r.likelihood),
        severity: labels::severity(r.severity),
        overall: Level::of(risk::score(r.likelihood, r.severity)),
        measures: r.measures.iter().map(measure_view).collect(),
        residual: Level::of(risk::residual(r)),
    }
}

fn measure_view(m: &Measure) -> MeasureView {
    MeasureView {
        description: m.description.clone(),
        effect: labels::effect(m.effect),
        residual: Level::of(m.residual),
        approved: labels::yes_no(m.approved),
    }
}

/// The Article 36 notice, when any risk's residual stays high.
pub(super) fn ico_consultation(a: &Agreement) -> Option<String> {
    let high: Vec<&str> = a
        .dpia
        .iter()
        .flat_map(|d| &d.risks)
        .filter(|r| risk::residual(r) == RiskLevel::High)
        .map(|r| r.id.as_str())
        .collect();
    (!high.is_empty()).then(|| {
        format!(
            "Residual risk stays high for {}. The ICO must be consulted before the processing \
             starts (UK GDPR Article 36). The ICO gives written advice within eight weeks, \
             which it can extend by six.",
            labels::and_list(&high)
        )
    })
}
