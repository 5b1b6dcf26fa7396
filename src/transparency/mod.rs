//! The public transparency register: what each published agreement permits, in plain English,
//! and proof that its rules are enforced (monthly counts of the gate's decisions and of
//! confirmed deletions, small numbers hidden). No sign-in; nothing about a person.
//!
//! - `public.rs` (pure): an agreement as residents read it, and counts as published.
//! - `counts.rs`: the monthly aggregates, added to in the transaction of each decision batch
//!   and each deletion confirmation.
//! - `register.rs`: the reads behind the pages, each an indexed query bounded by its page.

pub mod counts;
pub mod register;

pub use accord_core::transparency::public;
