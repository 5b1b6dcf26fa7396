//! The transparency register's public view of an agreement: what a resident may read.

pub mod public;
