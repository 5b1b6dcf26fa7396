//! The registry of agreements: versions, signatures, the lifecycle, controls over agreements
//! and parties, and the Article 30 register. One method per use case; each change runs in one
//! transaction that also appends its audit record, so a change and its record commit together
//! or not at all.
//!
//! Result types derive poem-openapi's `Object` so the OpenAPI document describes exactly what
//! the service returns, without a copy of each type in the HTTP layer.

pub mod control;
pub mod diff;
pub mod engagements;
pub mod gate_index;
pub mod handover_items;
pub mod listing;
pub mod queries;
pub mod register;
pub mod signing;
pub mod stored;
pub mod templates;
pub mod versions;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};

use crate::agreement::Diagnostic;
use crate::clock::Clock;

#[derive(Clone)]
pub struct Registry {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    index: Arc<gate_index::IndexHandle>,
}

impl Registry {
    /// A registry over `db`. Call [`Registry::reload_index`] before deciding flows.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Registry {
            db,
            clock,
            index: Arc::default(),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the agreement has errors")]
    Invalid(Vec<Diagnostic>),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl crate::failure::Failure for RegistryError {
    fn kind(&self) -> crate::failure::Kind {
        use crate::failure::Kind;
        match self {
            RegistryError::NotFound(_) => Kind::NotFound,
            RegistryError::Conflict(_) => Kind::Conflict,
            RegistryError::BadRequest(_) => Kind::BadRequest,
            RegistryError::Forbidden(_) => Kind::Forbidden,
            RegistryError::Invalid(_) => Kind::Invalid,
            RegistryError::Db(_) => Kind::Internal,
        }
    }
}

pub type Result<T> = std::result::Result<T, RegistryError>;
