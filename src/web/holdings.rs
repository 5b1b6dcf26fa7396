//! Holdings by subject reference: who holds what about a person, until when — the page an
//! officer uses to answer a subject access request.

use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::json;

use super::Console;
use super::errors::WebResult;
use super::render::pages;
use super::session::{Viewer, encode};
use super::sign_in::field_error;
use crate::auth::READERS;
use crate::flows::holdings::HoldingFilter;
use crate::inputs::SubjectRef;
use crate::registry::queries::Paging;

const PER_PAGE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct HoldingsQuery {
    subject: Option<String>,
    page: Option<u64>,
}

#[handler]
pub async fn page(
    console: Data<&Console>,
    viewer: Viewer,
    Query(q): Query<HoldingsQuery>,
) -> WebResult<Response> {
    viewer.allow(READERS)?;
    let subject = q.subject.as_deref().map(str::trim).unwrap_or_default();
    let mut data = json!({ "subject": subject, "searched": false, "errors": [] });
    if q.subject.is_some() {
        if let Err(p) = SubjectRef::parse(subject) {
            data["errors"] = json!([field_error("subject", &p.message("the subject reference"))]);
        } else {
            let page_no = q.page.unwrap_or(1).clamp(1, 1_000_000_000);
            let filter = HoldingFilter {
                subject_ref: Some(subject.to_owned()),
                ..Default::default()
            };
            let found = console
                .holdings
                .list(&filter, Paging::new(Some(page_no), Some(PER_PAGE)))
                .await?;
            let more = page_no * PER_PAGE < found.total;
            data["searched"] = json!(true);
            data["items"] = json!(found.items);
            data["total"] = json!(found.total);
            data["next"] = json!(more.then(|| format!(
                "/holdings?subject={}&page={}",
                encode(subject),
                page_no + 1
            )));
            data["hold_href"] = json!(format!("/holds/new?subject={}", encode(subject)));
        }
    }
    Ok(pages().page(Some(&viewer), "holdings", "Holdings about a person", data))
}
