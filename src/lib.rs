//! Accord: data-sharing agreements as machines. See ARCHITECTURE.md for the map.

pub mod agreement;
pub mod check;
pub mod cli;
pub mod clock;
