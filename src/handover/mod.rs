//! Contractor handover: what a contractor owes when its engagement ends, submitted, reviewed
//! and proven, so the knowledge stays when the contractor leaves.
//!
//! - `items.rs` (pure): the states (`open → submitted → accepted`, or `returned`), each kind's
//!   checklist, the items an agreement declares plus the exit records, and when reminders fall.
//! - `secrets.rs` (pure): text that looks like a secret, refused with its line.
//! - `files.rs` (pure): attachments' types (read from their bytes) and caps.
//! - `records.rs`: the use cases (read, submit, accept, return, add an item, complete, search).
//! - `enforce.rs`: the daily reminders and escalations, and access ended at `engagement_end`.
//! - `end_early.rs`: an officer ends an engagement early; access and deadlines follow at once.
//! - `search.rs`: full-text search over accepted items (SQLite FTS5, PostgreSQL full text).
//! - `pack.rs`: the knowledge pack as Markdown and as a printable page.

pub mod end_early;
pub mod enforce;
pub mod files;
pub mod pack;
pub mod records;
pub mod search;
pub mod secrets;

pub use accord_core::handover::items;

pub use records::{Handover, HandoverError};
