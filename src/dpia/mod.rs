//! DPIA generation: screening against the EDPB (WP248) criteria, Article 35(3) and the ICO's
//! list; a document model that follows the ICO's seven-step template; a data-flow diagram; and
//! rendering through handlebars templates.
//!
//! Everything but [`render`] is pure: the document is computed in Rust from the agreement, so
//! templates only lay it out and can be overridden without re-deriving anything.

pub mod diagram;
pub mod document;
pub mod labels;
pub mod render;
pub mod risk;
pub mod screening;

pub use document::{DpiaDocument, build};
pub use render::{Format, RenderError, Renderer};
pub use screening::{Criterion, Outcome, Screening, screen};

/// The DPIA of `agreement` as of `today`: screened, then assembled into the ICO template's
/// seven steps. The one way every caller (API, console, command line) gets a DPIA.
pub fn generate(agreement: &crate::agreement::Agreement, today: jiff::civil::Date) -> DpiaDocument {
    build(agreement, &screen(agreement), today)
}
