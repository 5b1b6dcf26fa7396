//! Accord's pure core: the agreement model and its checks, the gate's decision, the DPIA, retention
//! dates, the forms' questions and drafting, the transparency register's public view, and the
//! sanitising of shared templates. Pure functions over typed data.
//!
//! The crate boundary keeps it pure: this crate's `Cargo.toml` names no web framework, database,
//! async runtime or HTTP client, so no module here can reach one. What the compiler cannot see
//! (the file system, the environment, the clock, all in `std`) `tests/everyday/pure_core.rs`
//! looks for. The service (`accord`, the crate above this one) re-exports these modules under the
//! same paths, so `accord::agreement` is `accord_core::agreement`.

pub mod access;
pub mod agreement;
pub mod dates;
pub mod dpia;
pub mod gate;
pub mod handover;
pub mod inputs;
pub mod retention;
pub mod template;
pub mod text;
pub mod transparency;
