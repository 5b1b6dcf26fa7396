//! The register: the Article 30 record of every agreement in force, a page at a time, with the
//! whole register as CSV.

use poem::web::{Data, Query};
use poem::{Body, Response, handler};
use serde::Deserialize;
use serde_json::json;

use super::Console;
use super::errors::WebResult;
use super::render::pages;
use super::session::Viewer;
use crate::auth::READERS;
use crate::registry::register::{csv_chunks, entry};

const PER_PAGE: usize = 20;

#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<usize>,
}

#[handler]
pub async fn page(
    console: Data<&Console>,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    viewer.allow(READERS)?;
    // The versions in force come from the gate's index in memory; only the page's entries
    // are made.
    let in_force = console.registry.agreements_in_force().await?;
    let pages_total = in_force.len().div_ceil(PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages_total);
    let shown: Vec<_> = in_force
        .iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|(number, a)| entry(a, *number))
        .collect();
    let data = json!({
        "entries": shown,
        "total": in_force.len(),
        "page": page,
        "pages": pages_total,
        "prev": (page > 1).then(|| format!("/register?page={}", page - 1)),
        "next": (page < pages_total).then(|| format!("/register?page={}", page + 1)),
    });
    Ok(pages().page(
        Some(&viewer),
        "register",
        "Register of processing (Article 30)",
        data,
    ))
}

/// The whole register as CSV, streamed as the API's is.
#[handler]
pub async fn csv(console: Data<&Console>, viewer: Viewer) -> WebResult<Response> {
    viewer.allow(READERS)?;
    let entries = console.registry.register_entries().await?;
    let chunks = csv_chunks(entries).map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = %e, "the register's CSV could not be written");
            std::io::Error::other(e)
        })
    });
    Ok(Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(
            poem::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"accord-register.csv\"",
        )
        .body(Body::from_bytes_stream(futures_util::stream::iter(chunks))))
}
