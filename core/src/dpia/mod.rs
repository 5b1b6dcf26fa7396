//! The DPIA: the screening, the risks, the document and its data-flow diagram. Rendering it (to
//! HTML, Markdown or Word) is the service's (`accord::dpia::render`).

pub mod diagram;
pub mod document;
pub mod labels;
pub mod risk;
pub mod screening;

pub use document::{DpiaDocument, build};
pub use screening::{Criterion, Outcome, Screening, screen};

/// The DPIA of `agreement` as of `today`.
pub fn generate(agreement: &crate::agreement::Agreement, today: jiff::civil::Date) -> DpiaDocument {
    build(agreement, &screen(agreement), today)
}
