//! The HTTP API (poem + poem-openapi): routes, the OpenAPI document and Swagger UI, and the
//! middleware every request passes through. Handlers check the caller's role, call the service
//! layer, and map its errors in `error.rs`.

pub mod agreements;
pub mod audit;
pub mod auth;
pub mod error;
pub mod flows;
pub mod holdings;
pub mod middleware;
pub mod parties;
pub mod register;
pub mod text;

use poem::{Endpoint, EndpointExt, Route, get, handler};
use poem_openapi::{OpenApiService, Tags};

use crate::flows::Gate;
use crate::flows::journal::Journal;
use crate::registry::Registry;

/// Largest request body by default: an agreement may be 1 MiB, plus room for JSON framing.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024 + 64 * 1024;

#[derive(Tags)]
pub enum ApiTags {
    /// Agreements, versions, signatures and lifecycle.
    Agreements,
    /// Parties across agreements.
    Parties,
    /// The Article 30 register.
    Register,
    /// The tamper-evident audit log.
    Audit,
    /// The gate: decisions on data flows, and the holdings they create.
    Gate,
}

/// Settings the app is built with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_body: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

fn service(registry: &Registry, gate: Gate) -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    let apis = (
        flows::FlowsApi { gate },
        holdings::HoldingsApi {
            registry: registry.clone(),
        },
        agreements::AgreementsApi {
            registry: registry.clone(),
        },
        parties::PartiesApi {
            registry: registry.clone(),
        },
        register::RegisterApi {
            registry: registry.clone(),
        },
        audit::AuditApi {
            registry: registry.clone(),
        },
    );
    OpenApiService::new(apis, "Accord", env!("CARGO_PKG_VERSION"))
        .description(
            "Data-sharing agreements: the gate, registry, lifecycle, register and audit log.",
        )
        .server("/api/v1")
}

/// The whole application, ready to serve. Starts the decision journal's writer, so call it
/// inside the tokio runtime.
pub fn app(registry: Registry, settings: Settings) -> impl Endpoint {
    let gate = Gate::new(registry.clone(), Journal::start(registry.db().clone()));
    let api = service(&registry, gate);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let max_body = settings.max_body;
    Route::new()
        .at("/healthz", get(healthz))
        .nest("/api/v1", api)
        .at("/api/v1/openapi.json", spec)
        .nest("/api/docs", docs)
        .data(registry)
        .data(std::sync::Arc::new(crate::auth::TokenCache::default()))
        .around(move |ep, req| async move { middleware::limit_body(&ep, req, max_body).await })
        .around(|ep, req| async move { middleware::trace(&ep, req).await })
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}
