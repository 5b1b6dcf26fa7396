//! Accord: data-sharing agreements as machines. See ARCHITECTURE.md for the map.

pub mod access;
pub mod agreement;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod check;
pub mod cli;
pub mod clock;
pub mod dpia;
pub mod flows;
pub mod gate;
pub mod handover;
pub mod mail;
pub mod metrics;
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
pub mod web;
