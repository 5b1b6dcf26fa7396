//! Partner access requests: a request for data, made through a public form or the API,
//! reviewed by officers, and drafted into an agreement when approved.
//!
//! - `form.rs` (pure): the form's steps and questions, the answers as typed, every rule an
//!   answer must meet;
//! - `states.rs` (pure): the request's states and the moves each allows;
//! - `drafting.rs` (pure): a complete request and what it was addressed to become agreement
//!   YAML;
//! - `requests.rs`: the use cases (start, confirm the e-mail address, save a step, submit,
//!   review, messages, decide), each one transaction with its audit records and mail.

pub mod requests;

pub use accord_core::access::{drafting, form, states};
