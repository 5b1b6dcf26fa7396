//! DPIA generation: screening against the EDPB (WP248) criteria, Article 35(3) and the ICO's
//! list; a document model that follows the ICO's seven-step template; a data-flow diagram; and
//! rendering through handlebars templates.
//!
//! Everything but [`render`] is pure: the document is computed in Rust from the agreement, so
//! templates only lay it out and can be overridden without re-deriving anything.

pub mod render;

pub use accord_core::dpia::{
    Criterion, DpiaDocument, Outcome, Screening, build, diagram, document, generate, labels, risk,
    screen, screening,
};
pub use render::{Format, RenderError, Renderer};
