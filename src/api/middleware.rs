//! What wraps every request: an id on every log line and in `x-request-id`; a body limit
//! enforced on the bytes actually read (poem's `SizeLimit` trusts Content-Length, and a chunked
//! body has none); and the error shape of [`super::error::normalise`].

use std::time::Instant;

use poem::error::ReadBodyError;
use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

use super::error::{ApiError, normalise};

/// Reads the whole body, at most `max` bytes, before any handler sees it.
pub async fn limit_body<E: Endpoint>(
    next: &E,
    mut req: Request,
    max: usize,
) -> poem::Result<Response> {
    let body = req.take_body();
    match body.into_bytes_limit(max).await {
        Ok(bytes) => req.set_body(bytes),
        Err(ReadBodyError::PayloadTooLarge) => {
            let msg = format!("the request body is larger than {max} bytes");
            return Err(ApiError::TooLarge(msg).into());
        }
        Err(e) => {
            return Err(ApiError::BadRequest(format!("cannot read the request body: {e}")).into());
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Gives the request an id, logs it with its outcome, and turns any error into the API's shape.
pub async fn trace<E: Endpoint>(next: &E, req: Request) -> poem::Result<Response> {
    let id = uuid::Uuid::now_v7().to_string();
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let started = Instant::now();
    let mut resp = async {
        let resp = match next.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => normalise(e),
        };
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
