//! An iCalendar (RFC 5545) feed for Outlook and friends: review dates and term ends of the
//! agreements in force, and the days deletions fall due (one event per agreement, holder and
//! day, not per holding), and the handover's due dates and engagement ends. All-day events, in
//! Europe/London dates.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{Result, Retention};
use crate::clock::london_date;
use crate::store::entity::holding;
use crate::store::time::parse;

/// One all-day event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalEvent {
    /// Stable across feeds, so calendars update rather than duplicate.
    pub uid: String,
    pub date: Date,
    pub summary: String,
    pub description: String,
}

/// The feed as text, CRLF line endings, lines folded at 75 octets.
pub fn ics(events: &[CalEvent], now: Timestamp) -> String {
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Accord//Data-sharing agreements//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "X-WR-CALNAME:Accord".to_owned(),
    ];
    for e in events {
        let next = e.date.tomorrow().unwrap_or(e.date);
        lines.extend([
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", escape(&e.uid)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{}", e.date.strftime("%Y%m%d")),
            format!("DTEND;VALUE=DATE:{}", next.strftime("%Y%m%d")),
            format!("SUMMARY:{}", escape(&e.summary)),
            format!("DESCRIPTION:{}", escape(&e.description)),
            "END:VEVENT".to_owned(),
        ]);
    }
    lines.push("END:VCALENDAR".to_owned());
    lines.iter().map(|l| fold(l)).collect::<Vec<_>>().join("")
}

/// RFC 5545 §3.3.11 text escaping.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 5545 §3.1: lines of at most 75 octets, continued with CRLF and a space; never splits a
/// character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

impl Retention {
    pub async fn calendar(&self) -> Result<String> {
        self.calendar_with(Vec::new()).await
    }

    /// The feed with `extra` events beside the retention's own (the handover's due dates).
    pub async fn calendar_with(&self, extra: Vec<CalEvent>) -> Result<String> {
        let mut events = Vec::new();
        for (n, a) in self.registry.agreements_in_force().await? {
            let id = &a.id;
            if let Some(due) = a.term.next_review() {
                events.push(CalEvent {
                    uid: format!("review-{id}-{n}@accord"),
                    date: due,
                    summary: format!("Review due: {}", a.title),
                    description: format!(
                        "Agreement {} (version {n}) is due for review; owner {}.",
                        id, a.owner.name
                    ),
                });
            }
            if let Some(end) = a.term.end {
                events.push(CalEvent {
                    uid: format!("term-end-{id}-{n}@accord"),
                    date: end,
                    summary: format!("Term ends: {}", a.title),
                    description: format!(
                        "Agreement {} (version {n}) ends; renew or terminate it.",
                        id
                    ),
                });
            }
        }
        events.extend(self.deletion_days().await?);
        events.extend(extra);
        Ok(ics(&events, self.clock.now()))
    }

    async fn deletion_days(&self) -> Result<Vec<CalEvent>> {
        let rows = holding::Entity::find()
            .filter(holding::Column::State.eq("held"))
            .all(&self.db)
            .await?;
        let mut days: BTreeMap<(String, String, Date), i64> = BTreeMap::new();
        for h in rows {
            let Some(due) = h.delete_by.as_deref().and_then(parse) else {
                continue;
            };
            *days
                .entry((h.agreement_id, h.holder, london_date(due)))
                .or_default() += i64::from(h.record_count);
        }
        Ok(days
            .into_iter()
            .map(|((agreement, holder, date), records)| CalEvent {
                uid: format!("deletion-{agreement}-{holder}-{date}@accord"),
                date,
                summary: format!("Deletion due: {holder} ({agreement})"),
                description: format!("{records} records held by {holder} under {agreement} reach the end of retention."),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_escaped_and_folded() {
        let e = CalEvent {
            uid: "x@accord".into(),
            date: jiff::civil::date(2027, 4, 1),
            summary: "Review due: Food, fuel; and more".into(),
            description: "é".repeat(60),
        };
        let text = ics(&[e], "2026-11-21T09:00:00Z".parse().unwrap());
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.contains("SUMMARY:Review due: Food\\, fuel\\; and more\r\n"));
        assert!(text.contains("DTSTART;VALUE=DATE:20270401\r\nDTEND;VALUE=DATE:20270402\r\n"));
        assert!(text.lines().all(|l| l.len() <= 76), "folded at 75 octets");
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
