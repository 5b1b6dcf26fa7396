//! The HTTP endpoint over the [`App`]: the JSON API under `/api/v1` (with its document and
//! Swagger UI) and the web console at `/`, behind the middleware every request passes through
//! (body limit and deadline, trace, security headers, pages for unknown paths outside the API,
//! the pages' policy letting a sign-out go on to the identity provider). The connections it is
//! served on, and their limits, are `connections.rs`'s.

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Route};

use crate::api::{self, headers, middleware};
use crate::app::App;
use crate::web;

/// The whole application, ready to serve. Fails if a page template does not compile or the
/// OpenAPI document cannot be finished.
pub fn endpoint(app: &App) -> Result<impl Endpoint + use<>, String> {
    let console = web::Console::new(app)?;
    let (route, methods) = api::routes(web::routes(Route::new()), app)?;
    let methods = Arc::new(methods);
    let (max_body, hsts) = (app.settings.max_body, app.settings.hsts);
    let body_timeout = app.settings.connections.body_timeout();
    let metrics = app.metrics.clone();
    let provider = app.settings.sso.as_ref().and_then(|s| s.origin());
    Ok(route
        .data(console)
        .data(app.clone())
        .around(|ep, req| async move { web::errors::unknown_paths_as_pages(&ep, req).await })
        .around(move |ep, req| {
            let provider = provider.clone();
            async move { web::signing_out_to(&ep, req, provider.as_deref()).await }
        })
        .around(move |ep, req| async move {
            middleware::limit_body(&ep, req, max_body, body_timeout).await
        })
        .around({
            let methods = methods.clone();
            move |ep, req| {
                let (metrics, methods) = (metrics.clone(), methods.clone());
                async move { middleware::trace(&ep, req, &metrics, &methods).await }
            }
        })
        .around(move |ep, req| {
            let methods = methods.clone();
            async move { headers::secure(&ep, req, &methods, hsts).await }
        }))
}
