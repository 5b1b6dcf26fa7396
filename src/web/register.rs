//! The register: the Article 30 record of every agreement in force, a page at a time, with the
//! whole register as CSV.

use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Body, Response, handler};
use serde::{Deserialize, Serialize};

use super::Console;
use super::errors::WebResult;
use super::render::pages;
use super::session::Viewer;
use super::typed::Page;
use crate::auth::READERS;
use crate::registry::register::{RegisterEntry, csv_chunks, entry};

const PER_PAGE: usize = 20;

/// A page of the register: each agreement in force as its Article 30 record.
#[derive(Serialize)]
pub struct RegisterPage {
    pub entries: Vec<RegisterEntry>,
    /// How many agreements are in force.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Page for RegisterPage {
    const TEMPLATE: &'static str = "register";

    fn example() -> RegisterPage {
        let sample = include_str!("../../agreements/camden-foodbank-referrals.yaml");
        let today = jiff::civil::date(2026, 11, 21);
        let checked = crate::agreement::check_source(sample.as_bytes(), today);
        let agreement = checked.agreement.expect("the sample is valid");
        RegisterPage {
            entries: vec![entry(&agreement, 1)],
            total: 21,
            page: 2,
            pages: 3,
            prev: Some("/register?page=1".into()),
            next: Some("/register?page=3".into()),
        }
    }
}

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
    let register = RegisterPage {
        entries: shown,
        total: in_force.len(),
        page,
        pages: pages_total,
        prev: (page > 1).then(|| format!("/register?page={}", page - 1)),
        next: (page < pages_total).then(|| format!("/register?page={}", page + 1)),
    };
    let title = "Register of processing (Article 30)";
    Ok(pages().show(StatusCode::OK, Some(&viewer), title, &register))
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
