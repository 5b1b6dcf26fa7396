//! The everyday integration tests: everything that needs only the application, SQLite and the
//! PostgreSQL that scripts/test.sh starts. One binary, so the application is linked once, not
//! once per file; each file below is a module (`cargo test --test everyday handover::` runs one).
//! Two of them reach one outside tool each, in a single case: `dpia` prints a DPIA to PDF
//! in headless Chromium, and `handover` delivers reminders to aiosmtpd.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod access_drafting;
mod access_requests;
mod api_surface;
mod audit_api;
mod boundaries;
mod check_bad_input;
mod check_cli;
mod check_fixtures;
mod dpia;
mod dpia_api;
mod gate_api;
mod gate_durability;
mod handover;
mod jobs;
mod layout;
mod operations;
mod operator_cli;
mod pure_core;
mod registry_instances;
mod registry_lifecycle;
mod registry_reliability;
mod retention;
mod retention_instances;
mod scheduler;
mod schema;
mod security_headers;
mod templates;
mod transparency;
mod web_access;
