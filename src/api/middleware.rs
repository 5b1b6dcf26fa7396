//! What wraps every request: an id on every log line and in `x-request-id`; a body limit
//! enforced on the bytes actually read (poem's `SizeLimit` trusts Content-Length, and a chunked
//! body has none), and a deadline for the body to arrive; and the error shape of
//! [`super::error::normalise`].

use std::time::{Duration, Instant};

use poem::PathPattern;
use poem::error::ReadBodyError;
use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

use super::error::{ApiError, normalise};
use super::spec::PathMethods;
use crate::metrics::Metrics;

/// The most a request to `path` may send: `max`, but a handover submission's allowance where
/// its four attachments of 512 KiB arrive (as base64 JSON in the API, a multipart form in the
/// console), so the documented allowance always fits.
pub fn body_limit(path: &str, max: usize) -> usize {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let submission = matches!(
        segments.as_slice(),
        [
            "api",
            "v1",
            "agreements",
            _,
            "handover",
            "items",
            _,
            "submissions"
        ] | ["agreements", _, "handover", _, "submit"]
    );
    if submission {
        max.max(crate::handover::records::MAX_SUBMISSION_BODY)
    } else {
        max
    }
}

/// Reads the whole body, at most `max` bytes within `deadline`, before any handler sees it, so
/// a handler only ever sees a body that arrived in full. A body over the limit is answered 413,
/// and one still arriving at the deadline 408 (a slow client would hold its connection for as
/// long as it liked), each with `Connection: close`: the rest of the body is never read, so the
/// connection cannot carry another request, and a client told nothing would send its next
/// request into a socket the server is closing (and see it fail with no answer).
pub async fn limit_body<E: Endpoint>(
    next: &E,
    mut req: Request,
    max: usize,
    deadline: Duration,
) -> poem::Result<Response> {
    let max = body_limit(req.uri().path(), max);
    let body = req.take_body();
    let refused = match tokio::time::timeout(deadline, body.into_bytes_limit(max)).await {
        Ok(Ok(bytes)) => {
            req.set_body(bytes);
            return next.call(req).await.map(IntoResponse::into_response);
        }
        Ok(Err(ReadBodyError::PayloadTooLarge)) => {
            ApiError::TooLarge(format!("the request body is larger than {max} bytes"))
        }
        Ok(Err(e)) => {
            return Err(ApiError::BadRequest(format!("cannot read the request body: {e}")).into());
        }
        Err(_) => ApiError::TimedOut(format!(
            "the request body did not arrive within {} s",
            deadline.as_secs()
        )),
    };
    let mut resp = normalise(refused.into());
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    Ok(resp)
}

/// Gives the request an id, logs it with its outcome, counts it in `metrics` by the route it
/// matched (as the OpenAPI document writes it, else the console's pattern; `unmatched` if
/// none), and turns any error into the API's shape.
pub async fn trace<E: Endpoint>(
    next: &E,
    req: Request,
    metrics: &Metrics,
    documented: &PathMethods,
) -> poem::Result<Response> {
    let id = uuid::Uuid::now_v7().to_string();
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let started = Instant::now();
    let mut resp = async {
        let (pattern, resp) = match next.call(req).await {
            Ok(r) => {
                let r = r.into_response();
                (r.data::<PathPattern>().cloned(), r)
            }
            Err(e) => (e.data::<PathPattern>().cloned(), normalise(e)),
        };
        let route = pattern
            .as_ref()
            .map_or("unmatched", |p| documented.template(&path).unwrap_or(&p.0));
        metrics.answered(method.as_str(), route, resp.status().as_u16());
        tracing::info!(
            status = resp.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        resp
    }
    .instrument(span)
    .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    Ok(resp)
}
