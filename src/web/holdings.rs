//! Holdings by subject reference: who holds what about a person, until when — the page an
//! officer uses to answer a subject access request.

use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};

use super::Console;
use super::errors::WebResult;
use super::render::pages;
use super::session::{Viewer, encode};
use super::sign_in::{FieldError, field_error};
use super::typed::Page;
use crate::auth::READERS;
use crate::flows::holdings::{HoldingFilter, HoldingInfo};
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
    let mut page = HoldingsPage {
        subject: subject.to_owned(),
        searched: false,
        errors: Vec::new(),
        items: Vec::new(),
        total: 0,
        next: None,
        hold_href: String::new(),
    };
    if q.subject.is_some() {
        if let Err(p) = SubjectRef::parse(subject) {
            page.errors = vec![field_error("subject", &p.message("the subject reference"))];
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
            page.searched = true;
            page.items = found.items;
            page.total = found.total;
            page.next =
                more.then(|| format!("/holdings?subject={}&page={}", encode(subject), page_no + 1));
            page.hold_href = format!("/holds/new?subject={}", encode(subject));
        }
    }
    let title = "Holdings about a person";
    Ok(pages().show(StatusCode::OK, Some(&viewer), title, &page))
}

/// What the register of holdings holds about one data subject, found by their reference.
#[derive(Serialize)]
pub struct HoldingsPage {
    /// The subject reference searched for, as typed.
    pub subject: String,
    /// Whether a search was made (else the form alone).
    pub searched: bool,
    pub errors: Vec<FieldError>,
    pub items: Vec<HoldingInfo>,
    pub total: u64,
    pub next: Option<String>,
    /// Placing a legal hold on this subject.
    pub hold_href: String,
}

impl Page for HoldingsPage {
    const TEMPLATE: &'static str = "holdings";

    fn example() -> HoldingsPage {
        HoldingsPage {
            subject: "R-77".into(),
            searched: true,
            errors: vec![field_error("subject", "Enter the subject reference")],
            items: vec![HoldingInfo {
                id: uuid::Uuid::nil(),
                decision_id: uuid::Uuid::nil(),
                agreement_id: "camden-foodbank-referrals".into(),
                agreement_version: 1,
                flow: "referral".into(),
                from: "camden".into(),
                holder: "foodbank".into(),
                purpose: "food-parcels".into(),
                fields: vec!["full-name".into()],
                record_count: 1,
                subject_count: 1,
                received_at: "2026-11-21T12:00:00Z".into(),
                delete_by: Some("2027-02-19T12:00:00Z".into()),
                then: "delete".into(),
                state: "held".into(),
            }],
            total: 1,
            next: Some("/holdings?subject=R-77&page=2".into()),
            hold_href: "/holds/new?subject=R-77".into(),
        }
    }
}
