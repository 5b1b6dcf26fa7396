//! The knowledge pack: every accepted item of an agreement's handover in one printable document
//! (Markdown, and HTML made from it): contents, each item with its history and who accepted it,
//! the access-revocation table, the deletion certificates, and what was not handed over.
//!
//! The HTML is made by pulldown-cmark from the Markdown, with every piece of raw HTML shown as
//! text, links only to `http`, `https` and `mailto`, and images shown as their text: a
//! contractor's Markdown cannot run script, load anything or restyle the page.

use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::items::{Kind, State};
use super::records::{
    AttachmentInfo, Credential, Handover, IDS_PER_QUERY, Result, attachments_listed,
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
        let mut out = format!(
            "# Handover knowledge pack: {}\n\nAgreement {}. Made by Accord on {}. Only accepted items are reproduced; each shows the version accepted, its history and who accepted it.\n\n",
            md(&view.title),
            code(agreement_id),
            self.today()
        );
        out.push_str("## Contents\n\n");
        for e in &view.engagements {
            out.push_str(&format!(
                "- {} ({})\n",
                md(&e.party_name),
                code(&e.party_id)
            ));
            for i in e.items.iter().filter(|i| i.state == State::Accepted) {
                out.push_str(&format!("  - {}: {}\n", i.kind_label, md(&i.title)));
            }
        }
        out.push('\n');
        for e in &view.engagements {
            out.push_str(&format!(
                "## {} ({})\n\nEngagement ends {}. {} of {} items accepted.{}{}\n\n",
                md(&e.party_name),
                code(&e.party_id),
                e.engagement_end,
                e.accepted,
                e.total,
                e.completed_at
                    .as_ref()
                    .map(|at| format!(
                        " Completed {} by {}.",
                        md(at),
                        md(e.completed_by.as_deref().unwrap_or(""))
                    ))
                    .unwrap_or_default(),
                e.waiver
                    .as_ref()
                    .map(|w| format!(" Waiver: {}.", md(w)))
                    .unwrap_or_default(),
            ));
            let mut credentials: Vec<Credential> = Vec::new();
            for i in e.items.iter().filter(|i| i.state == State::Accepted) {
                let subs = held.submissions.get(&i.id).map_or(&[][..], Vec::as_slice);
                let Some(accepted) = subs.iter().find(|s| s.number == i.latest) else {
                    continue;
                };
                out.push_str(&format!(
                    "### {}: {}\n\nItem {}, due {}, taken over by {} ({}). Version {} accepted {} by {}.\n\n",
                    i.kind_label,
                    md(&i.title),
                    code(&i.key),
                    i.due,
                    md(&i.owner_name),
                    md(&i.owner_email),
                    accepted.number,
                    md(i.accepted_at.as_deref().unwrap_or("")),
                    md(i.accepted_by.as_deref().unwrap_or("")),
                ));
                out.push_str(headings_below_items(accepted.body.trim()).trim_end());
                out.push_str("\n\n");
                let files = held.files.get(&accepted.id).map_or(&[][..], Vec::as_slice);
                if !files.is_empty() {
                    out.push_str("Attachments:\n\n");
                    for f in files {
                        out.push_str(&format!(
                            "- {} ({}, {} bytes, SHA-256 `{}`)\n",
                            md(&f.file_name),
                            md(&f.media_type),
                            f.size,
                            f.sha256
                        ));
                    }
                    out.push('\n');
                }
                if i.kind == Kind::AccessRevocation {
                    credentials.extend(
                        serde_json::from_str::<Vec<Credential>>(&accepted.credentials)
                            .unwrap_or_default(),
                    );
                }
                let reviews = held.reviews.get(&i.id).map_or(&[][..], Vec::as_slice);
                out.push_str("History:\n\n");
                for s in subs {
                    out.push_str(&format!(
                        "- {}: version {} submitted by {} (SHA-256 `{}`)\n",
                        md(&s.submitted_at),
                        s.number,
                        md(&s.submitted_by),
                        s.sha256
                    ));
                    for r in reviews.iter().filter(|r| r.number == s.number) {
                        let comments = if r.comments.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", md(&r.comments))
                        };
                        out.push_str(&format!(
                            "- {}: {} by {}{}\n",
                            md(&r.at),
                            md(&r.action),
                            md(&r.by),
                            comments
                        ));
                    }
                }
                out.push('\n');
            }
            out.push_str("#### Access revoked\n\n");
            if credentials.is_empty() {
                out.push_str("No access-revocation item accepted yet.\n\n");
            } else {
                out.push_str("| Account, key or credential | Rotated or removed by | Done on |\n| --- | --- | --- |\n");
                for c in &credentials {
                    out.push_str(&format!(
                        "| {} | {} | {} |\n",
                        md(&c.account),
                        md(&c.rotated_by),
                        md(&c.done_on)
                    ));
                }
                out.push('\n');
            }
            out.push_str("#### Deletion certificates\n\n");
            let confirmed: Vec<_> = confirmed
                .iter()
                .filter(|d| d.holder == e.party_id)
                .collect();
            if confirmed.is_empty() {
                out.push_str("No deletion confirmed for this contractor under this agreement.\n\n");
            } else {
                for d in confirmed {
                    out.push_str(&format!(
                        "- Request `{}` ({}): confirmed {} by {}. Certificate: {}/api/v1/deletions/{}/certificate?format=html\n",
                        d.id,
                        md(&d.action),
                        md(d.confirmed_at.as_deref().unwrap_or("")),
                        md(d.confirmed_by.as_deref().unwrap_or("")),
                        self.public_url,
                        d.id
                    ));
                }
                out.push('\n');
            }
            let missing: Vec<_> = e
                .items
                .iter()
                .filter(|i| i.state != State::Accepted)
                .collect();
            if !missing.is_empty() {
                out.push_str("#### Not handed over\n\n");
                for i in missing {
                    out.push_str(&format!(
                        "- {}: {} (due {}, {})\n",
                        i.kind_label,
                        md(&i.title),
                        i.due,
                        i.state_label
                    ));
                }
                out.push('\n');
            }
        }
        Ok(Pack {
            title: view.title,
            markdown: out,
        })
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
