//! What operators' tools call, beside the API: `/healthz` (the process answers), `/readyz`
//! (the database answers and has every migration; a load balancer sends traffic only then),
//! and `/metrics` (Prometheus text, for a `monitor` or `admin` token; [`crate::metrics`]).

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};

use super::auth::{Caller, bearer, principal_for};
use super::error::ApiError;
use crate::app::App;
use crate::auth::MONITORS;
use crate::metrics::{CONTENT_TYPE, Gauges};

#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// 200 `ready`, or 503 saying why not: the database does not answer, or migrations are
/// pending (named). The database's own error goes to the log only.
#[handler]
pub async fn readyz(app: Data<&App>) -> Response {
    let (status, text) = match crate::store::pending_migrations(&app.db).await {
        Ok(pending) if pending.is_empty() => (StatusCode::OK, "ready".to_owned()),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "not ready: {} migration(s) pending: {} (run accord db migrate)",
                pending.len(),
                pending.join(", ")
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "readiness: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer".to_owned(),
            )
        }
    };
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

/// The metrics, for a bearer token of a role in [`MONITORS`]; 401 without one, 403 for any
/// other role. The gauges are read from the database now.
#[handler]
pub async fn metrics(req: &Request, app: Data<&App>) -> Result<Response, ApiError> {
    let secret = bearer(req).ok_or(ApiError::Unauthorized)?;
    Caller(principal_for(req, secret).await?).allow(MONITORS)?;
    let gauges = gauges(&app).await.map_err(|e| super::error::internal(&e))?;
    Ok(Response::builder()
        .content_type(CONTENT_TYPE)
        .body(app.metrics.render(&gauges)))
}

async fn gauges(app: &App) -> Result<Gauges, Box<dyn std::error::Error>> {
    let agreements = app.registry.count_by_status().await?;
    let (outbox_depth, oldest) = crate::mail::outbox::waiting(&app.db).await?;
    let now = app.clock.now();
    let oldest = oldest
        .and_then(|t| crate::store::time::parse(&t))
        .map_or(0, |t| now.duration_since(t).as_secs().max(0) as u64);
    Ok(Gauges {
        agreements: agreements
            .into_iter()
            .map(|(s, n)| (s.as_str(), n))
            .collect(),
        outbox_depth,
        outbox_oldest_seconds: oldest,
        handover_overdue: app.handover.overdue().await?,
    })
}
