//! The knowledge pack: every accepted item of an agreement's handover in one printable document
//! (Markdown, and HTML made from it): contents, each item with its history and who accepted it,
//! the access-revocation table, the deletion certificates, and what was not handed over.
//!
//! The HTML is made by pulldown-cmark from the Markdown, with every piece of raw HTML shown as
//! text, links only to `http`, `https` and `mailto`, and images shown as their text: a
//! contractor's Markdown cannot run script, load anything or restyle the page.

use std::collections::HashMap;
use std::sync::LazyLock;

use handlebars::Handlebars;
use serde::Serialize;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::items::{Kind, State};
use super::records::{
    AttachmentInfo, Credential, Engagement, Handover, HandoverError, IDS_PER_QUERY, Result,
    attachments_listed,
};
use crate::auth::Principal;
use crate::store::entity::{
    deletion_request, handover_review as review, handover_submission as submission,
};

/// The pack of one agreement, as Markdown.
pub struct Pack {
    pub title: String,
    pub markdown: String,
}

/// Text safe inside a Markdown line: no structure of its own.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
    {
        if "\\`*_{}[]()<>#+-.!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a Markdown code span, shown exactly: fenced by more backticks than any run in it,
/// never escaped (a backslash in a code span is a backslash).
fn code(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A contractor's Markdown with every heading moved below the pack's item headings (`###`): a
/// `#` becomes `####`, and nothing goes past `######`. Headings are found by the parser, so a
/// `#` line in a code block is left alone; an underlined heading becomes a `#` one.
fn headings_below_items(markdown: &str) -> String {
    const SHIFT: usize = 3;
    let mut out = String::with_capacity(markdown.len() + 64);
    let mut copied = 0;
    for (event, range) in Parser::new_ext(markdown, Options::empty()).into_offset_iter() {
        let Event::Start(Tag::Heading { level, .. }) = event else {
            continue;
        };
        if range.start < copied {
            continue;
        }
        let source = &markdown[range.clone()];
        let first = source.lines().next().unwrap_or("");
        let atx = first.trim_start().starts_with('#');
        let text = if atx {
            first.trim_start().trim_start_matches('#').trim()
        } else {
            first.trim()
        };
        let text = if atx {
            // A closing run of `#` is not part of the heading's text.
            text.trim_end_matches('#').trim_end()
        } else {
            text
        };
        let depth = (level as usize + SHIFT).min(6);
        out.push_str(&markdown[copied..range.start]);
        out.push_str(&"#".repeat(depth));
        out.push(' ');
        out.push_str(text);
        let end = if atx {
            range.start + first.len()
        } else {
            range.end
        };
        copied = end.min(markdown.len());
        if !atx && source.ends_with('\n') {
            // The underline's line end, which the replaced text no longer carries.
            out.push('\n');
        }
    }
    out.push_str(&markdown[copied..]);
    out
}

/// What the pack shows of its accepted items, read in a few queries however many there are
/// (three for each thousand) rather than three an item.
struct Held {
    /// By item, in version order.
    submissions: HashMap<Uuid, Vec<submission::Model>>,
    /// By item, oldest first.
    reviews: HashMap<Uuid, Vec<review::Model>>,
    /// By submission.
    files: HashMap<Uuid, Vec<AttachmentInfo>>,
}

impl Held {
    async fn read(db: &DatabaseConnection, items: &[Uuid]) -> Result<Held> {
        let mut held = Held {
            submissions: HashMap::new(),
            reviews: HashMap::new(),
            files: attachments_listed(db, items).await?,
        };
        for chunk in items.chunks(IDS_PER_QUERY) {
            let ids = || chunk.iter().copied();
            for s in submission::Entity::find()
                .filter(submission::Column::ItemId.is_in(ids()))
                .order_by_asc(submission::Column::Number)
                .all(db)
                .await?
            {
                held.submissions.entry(s.item_id).or_default().push(s);
            }
            for r in review::Entity::find()
                .filter(review::Column::ItemId.is_in(ids()))
                .order_by_asc(review::Column::At)
                .order_by_asc(review::Column::Id)
                .all(db)
                .await?
            {
                held.reviews.entry(r.item_id).or_default().push(r);
            }
        }
        Ok(held)
    }
}

/// The pack's template: the document's words and structure. Its data is [`PackView`], every
/// text already escaped for Markdown (or set as a code span), so the template escapes nothing.
const TEMPLATE: &str = include_str!("../../templates/handover/pack.md.hbs");

static RENDERER: LazyLock<std::result::Result<Handlebars<'static>, String>> = LazyLock::new(|| {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    crate::templates::strict_conditionals(&mut registry);
    registry.register_escape_fn(handlebars::no_escape);
    registry
        .register_template_string("pack", TEMPLATE)
        .map_err(|e| format!("the knowledge pack's template: {e}"))?;
    Ok(registry)
});

/// What the pack shows, in the template's terms.
#[derive(Serialize)]
struct PackView {
    title: String,
    agreement: String,
    made_on: String,
    public_url: String,
    engagements: Vec<EngagementView>,
}

#[derive(Serialize)]
struct EngagementView {
    party_name: String,
    party_id: String,
    engagement_end: String,
    accepted: usize,
    total: usize,
    completed: Option<Done>,
    waiver: Option<String>,
    /// The accepted items, as the contents list them.
    contents: Vec<Line>,
    items: Vec<ItemView>,
    credentials: Vec<CredentialView>,
    certificates: Vec<CertificateView>,
    missing: Vec<Missing>,
}

#[derive(Serialize)]
struct Done {
    at: String,
    by: String,
}

#[derive(Serialize)]
struct Line {
    kind_label: String,
    title: String,
}

#[derive(Serialize)]
struct ItemView {
    kind_label: String,
    title: String,
    key: String,
    due: String,
    owner_name: String,
    owner_email: String,
    version: i32,
    accepted_at: String,
    accepted_by: String,
    /// The contractor's Markdown, its headings moved below the item's.
    body: String,
    attachments: Vec<AttachmentView>,
    history: Vec<HistoryLine>,
}

#[derive(Serialize)]
struct AttachmentView {
    name: String,
    media_type: String,
    size: i64,
    sha256: String,
}

/// One line of an item's history: a version submitted, or a review of it.
#[derive(Serialize)]
struct HistoryLine {
    at: String,
    submitted: Option<Submitted>,
    reviewed: Option<Reviewed>,
}

#[derive(Serialize)]
struct Submitted {
    version: i32,
    by: String,
    sha256: String,
}

#[derive(Serialize)]
struct Reviewed {
    action: String,
    by: String,
    comments: String,
}

#[derive(Serialize)]
struct CredentialView {
    account: String,
    rotated_by: String,
    done_on: String,
}

#[derive(Serialize)]
struct CertificateView {
    id: Uuid,
    action: String,
    at: String,
    by: String,
}

#[derive(Serialize)]
struct Missing {
    kind_label: String,
    title: String,
    due: String,
    state_label: String,
}

impl Handover {
    /// The knowledge pack of `agreement_id`, with what `who` may read of it.
    pub async fn pack(&self, who: &Principal, agreement_id: &str) -> Result<Pack> {
        let view = self.handover(who, agreement_id).await?;
        let accepted: Vec<Uuid> = view
            .engagements
            .iter()
            .flat_map(|e| &e.items)
            .filter(|i| i.state == State::Accepted)
            .map(|i| i.id)
            .collect();
        let held = Held::read(&self.db, &accepted).await?;
        let confirmed = deletion_request::Entity::find()
            .filter(deletion_request::Column::AgreementId.eq(agreement_id))
            .filter(deletion_request::Column::ConfirmedAt.is_not_null())
            .order_by_asc(deletion_request::Column::ConfirmedAt)
            .all(&self.db)
            .await?;
        let engagements = view
            .engagements
            .iter()
            .map(|e| engagement_view(e, &held, &confirmed))
            .collect();
        let data = PackView {
            title: md(&view.title),
            agreement: code(agreement_id),
            made_on: self.today().to_string(),
            public_url: self.public_url.clone(),
            engagements,
        };
        let renderer = RENDERER
            .as_ref()
            .map_err(|e| HandoverError::Internal(e.clone()))?;
        let markdown = renderer
            .render("pack", &data)
            .map_err(|e| HandoverError::Internal(format!("the knowledge pack: {e}")))?;
        Ok(Pack {
            title: view.title,
            markdown,
        })
    }
}

/// One contractor's part of the pack.
fn engagement_view(
    e: &Engagement,
    held: &Held,
    confirmed: &[deletion_request::Model],
) -> EngagementView {
    let accepted_items = || e.items.iter().filter(|i| i.state == State::Accepted);
    let mut credentials = Vec::new();
    let mut items = Vec::new();
    for i in accepted_items() {
        let subs = held.submissions.get(&i.id).map_or(&[][..], Vec::as_slice);
        let Some(accepted) = subs.iter().find(|s| s.number == i.latest) else {
            continue;
        };
        if i.kind == Kind::AccessRevocation {
            credentials.extend(
                serde_json::from_str::<Vec<Credential>>(&accepted.credentials)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| CredentialView {
                        account: md(&c.account),
                        rotated_by: md(&c.rotated_by),
                        done_on: md(&c.done_on),
                    }),
            );
        }
        let files = held.files.get(&accepted.id).map_or(&[][..], Vec::as_slice);
        let reviews = held.reviews.get(&i.id).map_or(&[][..], Vec::as_slice);
        let mut history = Vec::new();
        for s in subs {
            history.push(HistoryLine {
                at: md(&s.submitted_at),
                submitted: Some(Submitted {
                    version: s.number,
                    by: md(&s.submitted_by),
                    sha256: s.sha256.clone(),
                }),
                reviewed: None,
            });
            history.extend(
                reviews
                    .iter()
                    .filter(|r| r.number == s.number)
                    .map(|r| HistoryLine {
                        at: md(&r.at),
                        submitted: None,
                        reviewed: Some(Reviewed {
                            action: md(&r.action),
                            by: md(&r.by),
                            comments: md(&r.comments),
                        }),
                    }),
            );
        }
        items.push(ItemView {
            kind_label: i.kind_label.clone(),
            title: md(&i.title),
            key: code(&i.key),
            due: i.due.clone(),
            owner_name: md(&i.owner_name),
            owner_email: md(&i.owner_email),
            version: accepted.number,
            accepted_at: md(i.accepted_at.as_deref().unwrap_or("")),
            accepted_by: md(i.accepted_by.as_deref().unwrap_or("")),
            body: headings_below_items(accepted.body.trim())
                .trim_end()
                .to_owned(),
            attachments: files
                .iter()
                .map(|f| AttachmentView {
                    name: md(&f.file_name),
                    media_type: md(&f.media_type),
                    size: f.size,
                    sha256: f.sha256.clone(),
                })
                .collect(),
            history,
        });
    }
    EngagementView {
        party_name: md(&e.party_name),
        party_id: code(&e.party_id),
        engagement_end: e.engagement_end.clone(),
        accepted: e.accepted,
        total: e.total,
        completed: e.completed_at.as_ref().map(|at| Done {
            at: md(at),
            by: md(e.completed_by.as_deref().unwrap_or("")),
        }),
        waiver: e.waiver.as_deref().map(md),
        contents: accepted_items()
            .map(|i| Line {
                kind_label: i.kind_label.clone(),
                title: md(&i.title),
            })
            .collect(),
        items,
        credentials,
        certificates: confirmed
            .iter()
            .filter(|d| d.holder == e.party_id)
            .map(|d| CertificateView {
                id: d.id,
                action: md(&d.action),
                at: md(d.confirmed_at.as_deref().unwrap_or("")),
                by: md(d.confirmed_by.as_deref().unwrap_or("")),
            })
            .collect(),
        missing: e
            .items
            .iter()
            .filter(|i| i.state != State::Accepted)
            .map(|i| Missing {
                kind_label: i.kind_label.clone(),
                title: md(&i.title),
                due: i.due.clone(),
                state_label: i.state_label.clone(),
            })
            .collect(),
    }
}

/// A pack (or any submission's Markdown) as HTML: raw HTML shown as text, links only to
/// `http`, `https` and `mailto`, images as their text.
pub fn to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    let mut in_image = 0usize;
    let events = Parser::new_ext(markdown, options).filter_map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Some(Event::Text(t)),
        Event::Start(Tag::Image { .. }) => {
            in_image += 1;
            None
        }
        Event::End(TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            None
        }
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let safe = ["http://", "https://", "mailto:"]
                .iter()
                .any(|s| dest_url.to_ascii_lowercase().starts_with(s));
            let dest_url = if safe {
                dest_url
            } else {
                CowStr::Borrowed("#")
            };
            Some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// The pack as a printable page: one inline stylesheet (allowed by its hash), no script.
pub fn page(pack: &Pack) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n<title>Handover knowledge pack</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n",
        to_html(&pack.markdown)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;line-height:1.5;margin:2rem auto;max-width:52rem;padding:0 1rem;color:#0b0c0c}table{border-collapse:collapse}th,td{border:1px solid #b1b4b6;padding:.3rem .5rem;text-align:left}code{font-size:.9em}h2{page-break-before:always}h2:first-of-type{page-break-before:auto}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_in_markdown_is_text_and_links_are_safe() {
        let out = to_html(
            "Hi <script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://a.example) ![t](https://evil.example/p.png)\n\n<img src=x onerror=alert(1)>",
        );
        assert!(!out.contains("<script"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(out.contains("href=\"#\""), "{out}");
        assert!(out.contains("href=\"https://a.example\""), "{out}");
        assert!(!out.contains("evil.example"), "{out}");
    }

    #[test]
    fn ids_in_code_spans_show_as_they_are() {
        assert_eq!(code("matching-runbook"), "`matching-runbook`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        let out = to_html(&format!("Item {}.", code("matching-runbook")));
        assert!(out.contains("<code>matching-runbook</code>"), "{out}");
        assert!(!out.contains('\\'), "{out}");
    }

    #[test]
    fn a_contractors_headings_go_below_the_items() {
        let body = "# Runbook\n\nText.\n\n## Steps ##\n\n```\n# not a heading\n```\n\nSetext\n======\n\n###### Deep\n";
        let shifted = headings_below_items(body);
        assert_eq!(
            shifted,
            "#### Runbook\n\nText.\n\n##### Steps\n\n```\n# not a heading\n```\n\n#### Setext\n\n###### Deep\n"
        );
        let html = to_html(&shifted);
        assert!(
            !html.contains("<h1") && !html.contains("<h2") && !html.contains("<h3"),
            "{html}"
        );
        assert!(
            html.contains("<h4>Runbook</h4>") && html.contains("<h5>Steps</h5>"),
            "{html}"
        );
        assert_eq!(headings_below_items("No heading."), "No heading.");
    }

    #[test]
    fn text_in_a_line_has_no_structure() {
        assert_eq!(md("# [a](b) *c*"), "\\# \\[a\\]\\(b\\) \\*c\\*");
        let out = to_html(&format!("- {}", md("<b>x</b>\n# y")));
        assert!(out.contains("&lt;b&gt;x&lt;/b&gt; # y"), "{out}");
    }
}
