//! The HTTP API (poem + poem-openapi): routes, the OpenAPI document and Swagger UI, and the
//! middleware every request passes through. Handlers check the caller's role, call the service
//! layer, and map its errors in `error.rs`.

pub mod access_requests;
pub mod agreements;
pub mod audit;
pub mod auth;
pub mod deletion_pages;
pub mod docs;
pub mod document;
pub mod error;
pub mod flows;
pub mod handover;
pub mod headers;
pub mod holdings;
pub mod json_body;
pub mod middleware;
pub mod ops;
pub mod parties;
pub mod query;
pub mod register;
pub mod retention;
pub mod spec;
pub mod text;
pub mod tokens;

use poem::{Route, get};
use poem_openapi::{OpenApiService, Tags};

use crate::app::App;

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
    /// Partner access requests: made, reviewed, approved into a draft agreement.
    AccessRequests,
    /// Contractor handover: items, submissions, reviews, the knowledge pack and its search.
    Handover,
}

fn service(app: &App) -> OpenApiService<impl poem_openapi::OpenApi + use<>, ()> {
    let apis = (
        tokens::TokensApi {
            db: app.db.clone(),
            clock: app.clock.clone(),
            cache: app.tokens.clone(),
        },
        retention::RetentionApi {
            retention: app.retention.clone(),
            handover: app.handover.clone(),
        },
        flows::FlowsApi {
            gate: app.gate.clone(),
        },
        holdings::HoldingsApi {
            holdings: app.holdings.clone(),
        },
        agreements::AgreementsApi {
            registry: app.registry.clone(),
            clock: app.clock.clone(),
            dpia: app.dpia.clone(),
        },
        parties::PartiesApi {
            registry: app.registry.clone(),
        },
        register::RegisterApi {
            registry: app.registry.clone(),
        },
        audit::AuditApi {
            audit: app.audit.clone(),
        },
        access_requests::AccessRequestsApi {
            access: app.access.clone(),
        },
        handover::HandoverApi {
            handover: app.handover.clone(),
        },
    );
    OpenApiService::new(apis, "Accord", env!("CARGO_PKG_VERSION"))
        .description(
            "Data-sharing agreements: the gate, registry, lifecycle, register and audit log.",
        )
        .server("/api/v1")
}

/// The JSON API's routes and what they need beside them (the OpenAPI document, Swagger UI,
/// `/healthz`, `/readyz`, `/metrics`), to be mounted at `/` by [`crate::server::endpoint`], and the methods each documented
/// path takes (for `Allow` on a 405).
#[allow(clippy::too_many_arguments)]
pub fn routes(route: Route, app: &App) -> Result<(Route, spec::PathMethods), String> {
    let api = service(app);
    let get_only: &[&str] = &["get"];
    let served_beside = [
        ("/healthz", get_only),
        ("/readyz", get_only),
        ("/metrics", get_only),
        (SPEC_PATH, get_only),
        (docs::PAGE, get_only),
        (docs::SCRIPT, get_only),
        (docs::STYLE, get_only),
        (docs::START, get_only),
    ];
    let spec = spec::Spec::finish(&api.spec(), &served_beside)?;
    let docs = docs::Assets::from_swagger_html(&api.swagger_ui_html())?.routes();
    let document = spec.json;
    let route = route
        .at("/healthz", get(ops::healthz))
        .at("/readyz", get(ops::readyz))
        .at("/metrics", get(ops::metrics))
        .nest("/api/v1", api)
        .at(
            SPEC_PATH,
            get(poem::endpoint::make_sync(move |_| {
                poem::Response::builder()
                    .content_type("application/json; charset=utf-8")
                    .body(document.clone())
            })),
        )
        .nest(docs::PAGE, docs);
    Ok((route, spec.methods))
}

/// Where the OpenAPI document is served.
pub const SPEC_PATH: &str = "/api/v1/openapi.json";
