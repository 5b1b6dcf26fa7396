//! The HTTP API (poem + poem-openapi): routes, the OpenAPI document and Swagger UI, and the
//! middleware every request passes through. Handlers check the caller's role, call the service
//! layer, and map its errors in `error.rs`.

pub mod agreements;
pub mod audit;
pub mod auth;
pub mod docs;
pub mod error;
pub mod flows;
pub mod headers;
pub mod holdings;
pub mod json_body;
pub mod middleware;
pub mod parties;
pub mod query;
pub mod register;
pub mod retention;
pub mod spec;
pub mod text;
pub mod tokens;

use crate::settings::Settings;

use poem::{Endpoint, EndpointExt, Route, get, handler};
use poem_openapi::{OpenApiService, Tags};

use crate::dpia::{Format, Renderer};
use crate::flows::Gate;
use crate::flows::journal::Journal;
use crate::registry::Registry;
use crate::retention::Retention;

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
    /// Retention: legal holds, deletion requests and certificates, the calendar.
    Retention,
    /// API tokens.
    Tokens,
}

fn service(
    registry: &Registry,
    gate: Gate,
    dpia: std::sync::Arc<(Renderer, Renderer)>,
    retention: Retention,
    cache: std::sync::Arc<crate::auth::TokenCache>,
) -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    let apis = (
        tokens::TokensApi {
            registry: registry.clone(),
            cache,
        },
        retention::RetentionApi { retention },
        flows::FlowsApi { gate },
        holdings::HoldingsApi {
            registry: registry.clone(),
        },
        agreements::AgreementsApi {
            registry: registry.clone(),
            dpia,
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

/// The whole application, ready to serve, around the retention service the caller built (the
/// scheduler shares it). Starts the decision journal's writer, so call it inside the tokio
/// runtime. Fails if a template in the templates folder does not compile, or
/// the journal's thread cannot start.
pub fn app(
    registry: Registry,
    settings: Settings,
    retention: Retention,
) -> Result<impl Endpoint, String> {
    let dpia = std::sync::Arc::new((
        Renderer::load(Format::Html, &settings.templates).map_err(|e| e.to_string())?,
        Renderer::load(Format::Markdown, &settings.templates).map_err(|e| e.to_string())?,
    ));
    let journal = Journal::start(registry.db().clone())
        .map_err(|e| format!("cannot start the decision journal: {e}"))?;
    let gate = Gate::new(registry.clone(), journal);
    let cache = std::sync::Arc::new(crate::auth::TokenCache::default());
    let api = service(&registry, gate, dpia, retention, cache.clone());
    let get_only: &[&str] = &["get"];
    let served_beside = [
        ("/healthz", get_only),
        (SPEC_PATH, get_only),
        (docs::PAGE, get_only),
        (docs::SCRIPT, get_only),
        (docs::STYLE, get_only),
        (docs::START, get_only),
    ];
    let spec = spec::Spec::finish(&api.spec(), &served_beside)?;
    let docs = docs::Assets::from_swagger_html(&api.swagger_ui_html())?.routes();
    let document = spec.json;
    let methods = std::sync::Arc::new(spec.methods);
    let max_body = settings.max_body;
    Ok(Route::new()
        .at("/healthz", get(healthz))
        .nest("/api/v1", api)
        .at(
            SPEC_PATH,
            get(poem::endpoint::make_sync(move |_| {
                poem::Response::builder()
                    .content_type("application/json; charset=utf-8")
                    .body(document.clone())
            })),
        )
        .nest(docs::PAGE, docs)
        .data(registry)
        .data(cache)
        .around(move |ep, req| async move { middleware::limit_body(&ep, req, max_body).await })
        .around(|ep, req| async move { middleware::trace(&ep, req).await })
        .around(move |ep, req| {
            let methods = methods.clone();
            async move { headers::secure(&ep, req, &methods).await }
        }))
}

/// Where the OpenAPI document is served.
pub const SPEC_PATH: &str = "/api/v1/openapi.json";

#[handler]
fn healthz() -> &'static str {
    "ok"
}
