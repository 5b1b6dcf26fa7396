//! Accord: data-sharing agreements as machines. See ARCHITECTURE.md for the map.

pub mod access;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod check;
pub mod cli;
pub mod clock;
pub mod connections;
pub mod dpia;
pub mod failure;
pub mod flows;
pub mod handover;
pub mod mail;
pub mod metrics;
pub mod openapi_types;
pub mod people;
pub mod registry;
pub mod reminders;
pub mod retention;
pub mod scheduler;
pub mod server;
pub mod settings;
pub mod store;
pub mod templates;
pub mod tls;
pub mod transparency;
pub mod web;

// The pure core, under the paths the rest of the service uses.
pub use accord_core::{agreement, dates, gate, inputs, template, text};
