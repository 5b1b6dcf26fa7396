//! The gate: may this flow happen now? A pure decision over an [`Index`] compiled from the
//! registry's state, so a check costs microseconds and needs no database: the service rebuilds
//! the index whenever the lifecycle changes and swaps it in atomically, then calls [`decide`]
//! with the request and today's Europe/London date.
//!
//! Deny by default: an answer is `allow` only when every rule passes and every requested field
//! is permitted. A deny lists every failing rule, in the order of the reason codes in
//! docs/api.md, so the same request always reads the same way in the audit log.

pub mod decide;
pub mod index;
pub mod limits;
pub mod records;
pub mod wire;

pub use decide::decide;
pub use index::{Index, Indexed, IndexedAgreement, VersionInForce};
pub use wire::{CheckRequest, Decision, Outcome, Reason, ReasonCode, Retention, SendRequest};
