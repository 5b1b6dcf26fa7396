//! Home: the signed-in person's work, each item a count (an indexed query) linking to its list.

use poem::web::Data;
use poem::{Response, handler};
use serde_json::json;

use super::Console;
use super::errors::WebResult;
use super::render::pages;
use super::session::Viewer;
use crate::agreement::lifecycle::Status;
use crate::auth::{HANDOVER_READERS, READERS, ReadScope};
use crate::registry::queries::{DUE_SOON_DAYS, Due, ListFilter, Paging};

#[handler]
pub async fn page(console: Data<&Console>, viewer: Viewer) -> WebResult<Response> {
    let who = viewer.principal();
    let mut items = Vec::new();
    let scope = who.read_scope().ok();
    let party = match scope {
        Some(ReadScope::Party(p)) => Some(p),
        _ => None,
    };
    if scope.is_some() {
        let (filter, href) = match party {
            Some(p) => (
                ListFilter {
                    awaiting: Some(p),
                    ..Default::default()
                },
                format!("/agreements?awaiting={}", super::session::encode(p)),
            ),
            None => (
                ListFilter {
                    status: Some(Status::Draft),
                    ..Default::default()
                },
                "/agreements?status=draft".to_owned(),
            ),
        };
        let awaiting = count(&console, &filter).await?;
        let label = if party.is_some() {
            "Agreements waiting for your party's signature"
        } else {
            "Draft agreements waiting for signatures"
        };
        items.push(json!({ "label": label, "count": awaiting, "href": href }));
        for (due, label, key) in [
            (Due::Review, "Reviews due", "review"),
            (Due::TermEnd, "Terms ending", "term_end"),
        ] {
            let n = count(
                &console,
                &ListFilter {
                    due: Some(due),
                    party,
                    ..Default::default()
                },
            )
            .await?;
            let mut href = format!("/agreements?due={key}");
            if let Some(p) = party {
                href.push_str(&format!("&party={}", super::session::encode(p)));
            }
            let label = format!("{label} in the next {DUE_SOON_DAYS} days");
            items.push(json!({ "label": label, "count": n, "href": href }));
        }
    }
    if who.allow(READERS).is_ok() {
        let one = Paging::new(Some(1), Some(1));
        let retention = &console.retention;
        let (_, escalated) = retention
            .requests_page(Some("escalated"), None, one)
            .await?;
        items.push(json!({
            "label": "Deletion requests escalated", "count": escalated,
            "href": "/deletions?status=escalated",
        }));
        let (_, manual) = retention
            .requests_page(Some("requested"), Some("manual"), one)
            .await?;
        items.push(json!({
            "label": "Deletion requests waiting for manual confirmation", "count": manual,
            "href": "/deletions?status=requested&method=manual",
        }));
        let holds = retention.holds_in_force_count().await?;
        items.push(json!({ "label": "Legal holds in force", "count": holds, "href": "/holds" }));
    }
    if who.allow(HANDOVER_READERS).is_ok() {
        let handover = console.handover.my_items(who).await?;
        let count = |f: &dyn Fn(&crate::handover::records::Item) -> bool| {
            handover.iter().filter(|(_, i)| f(i)).count()
        };
        use crate::handover::items::State;
        if who.role == crate::auth::Role::Contractor {
            let open = count(&|i| matches!(*i.state, State::Open | State::Returned));
            items.push(
                json!({ "label": "Handover items to submit", "count": open, "href": "/handover" }),
            );
        } else {
            let waiting = count(&|i| i.state == State::Submitted);
            items.push(json!({ "label": "Handover items waiting for review", "count": waiting, "href": "/handover" }));
        }
        let overdue = count(&|i| i.overdue);
        items.push(
            json!({ "label": "Handover items overdue", "count": overdue, "href": "/handover" }),
        );
    }
    let data = json!({ "items": items });
    Ok(pages().page(Some(&viewer), "home", "Your work", data))
}

/// How many agreements `filter` keeps: the list's count query, with a page of one.
async fn count(console: &Console, filter: &ListFilter<'_>) -> WebResult<u64> {
    let one = Paging::new(Some(1), Some(1));
    Ok(console.registry.agreements(filter, None, one).await?.total)
}
