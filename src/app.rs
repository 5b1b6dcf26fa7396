//! The application, put together once: the use cases' services built from the settings, the
//! JSON API under `/api/v1` (with its document and Swagger UI) and the web console at `/`, and
//! the middleware every request passes through. `serve` and the tests both start this.

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Route};

use crate::access::requests::Access;
use crate::api::{self, headers, middleware};
use crate::auth::TokenCache;
use crate::dpia::{Format, Renderer};
use crate::flows::Gate;
use crate::flows::journal::Journal;
use crate::registry::Registry;
use crate::retention::Retention;
use crate::settings::Settings;
use crate::web;

/// The whole application, ready to serve, around the retention service the caller built (the
/// scheduler shares it). Starts the decision journal's writer, so call it inside the tokio
/// runtime. Fails if a template does not compile, or the journal's thread cannot start.
pub fn build(
    registry: Registry,
    settings: Settings,
    retention: Retention,
) -> Result<impl Endpoint, String> {
    let dpia = Arc::new((
        Renderer::load(Format::Html, &settings.templates).map_err(|e| e.to_string())?,
        Renderer::load(Format::Markdown, &settings.templates).map_err(|e| e.to_string())?,
    ));
    let journal = Journal::start(registry.db().clone())
        .map_err(|e| format!("cannot start the decision journal: {e}"))?;
    let gate = Gate::new(registry.clone(), journal);
    let cache = Arc::new(TokenCache::default());
    let access = Access::new(
        registry.clone(),
        settings.mail_templates()?,
        &settings.public_url,
    );
    let console = web::Console::new(
        registry.clone(),
        retention.clone(),
        access.clone(),
        dpia.clone(),
        &settings.public_url,
    )?;
    let (route, methods) = api::routes(
        web::routes(Route::new()),
        access,
        &registry,
        gate,
        dpia,
        retention,
        cache.clone(),
    )?;
    let methods = Arc::new(methods);
    let max_body = settings.max_body;
    Ok(route
        .data(console)
        .data(registry)
        .data(cache)
        .around(|ep, req| async move { web::errors::unknown_paths_as_pages(&ep, req).await })
        .around(move |ep, req| async move { middleware::limit_body(&ep, req, max_body).await })
        .around(|ep, req| async move { middleware::trace(&ep, req).await })
        .around(move |ep, req| {
            let methods = methods.clone();
            async move { headers::secure(&ep, req, &methods).await }
        }))
}
