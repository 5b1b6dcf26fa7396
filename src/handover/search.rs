//! Full-text search over accepted handover knowledge: SQLite FTS5 or PostgreSQL full text, one
//! interface. An item enters the index in the transaction that accepts it, with its title and
//! the accepted submission's text, so what search finds is exactly what an officer accepted.
//!
//! The words of a query are taken as words (letters and digits, `text::search_words`), never as
//! the engines' query syntax, so no query can fail to parse or reach past the index; every word must match
//! (stemmed: "extracts" finds "extract"). Results are ranked (bm25 or `ts_rank`) among at most
//! [`CANDIDATES`] matches, and capped, so a search costs about the same at 100,000 items as at
//! 10,000 (docs/benchmarks.md).

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde::Serialize;
use uuid::Uuid;

use crate::store::entity::handover_item as item;
use crate::text::search_words as words;

/// Most results a search returns.
pub const MAX_RESULTS: u64 = 50;
/// Longest query, in characters.
pub const MAX_QUERY: usize = 500;

/// One result: the item, where it belongs, and a passage around the words found.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverSearchHit")]
pub struct Hit {
    pub item_id: Uuid,
    pub agreement_id: String,
    pub party_id: String,
    pub title: String,
    /// Plain text around the words found.
    pub passage: String,
}

/// How many matches are ranked: the newest this many (on PostgreSQL, the first this many the
/// index yields). Every match is ranked when there are fewer, which a query of two or three
/// specific words almost always has; a single common word ranks among these, so a search costs
/// the same however many items match.
pub const CANDIDATES: usize = 1000;

/// About 30 words of `body` around the first word that starts like a word of the query (the
/// engines stem, so "produced" finds "production"; the first five letters are compared).
pub fn passage(body: &str, words: &[String]) -> String {
    let tokens: Vec<&str> = body.split_whitespace().collect();
    let stems: Vec<String> = words.iter().map(|w| w.chars().take(5).collect()).collect();
    let at = tokens
        .iter()
        .position(|t| {
            let t: String = t
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase();
            stems.iter().any(|s| t.starts_with(s.as_str()))
        })
        .unwrap_or(0);
    let from = at.saturating_sub(10);
    let to = (at + 20).min(tokens.len());
    let mut out = tokens[from..to].join(" ");
    if from > 0 {
        out.insert_str(0, "… ");
    }
    if to < tokens.len() {
        out.push_str(" …");
    }
    out
}

/// Puts an accepted item's text in the index. Called once per item, in the transaction that
/// accepts it (acceptance is final), so it only inserts: nothing is looked up, and the cost does
/// not grow with the index (a delete by `item_id` would scan the FTS5 table).
pub async fn index(
    db: &impl ConnectionTrait,
    r: &item::Model,
    text: &str,
) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let insert = match backend {
        DbBackend::Postgres => {
            "INSERT INTO handover_search (item_id, agreement_id, party_id, title, body) VALUES ($1, $2, $3, $4, $5)"
        }
        _ => {
            "INSERT INTO handover_search (item_id, agreement_id, party_id, title, body) VALUES (?, ?, ?, ?, ?)"
        }
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        insert,
        [
            r.id.to_string().into(),
            r.agreement_id.clone().into(),
            r.party_id.clone().into(),
            r.title.clone().into(),
            text.to_owned().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The accepted items matching every word of `query`, best first; only `party`'s when given.
pub async fn search(
    db: &impl ConnectionTrait,
    query: &str,
    party: Option<&str>,
    limit: u64,
) -> Result<Vec<Hit>, sea_orm::DbErr> {
    let words = words(query);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let limit = limit.clamp(1, MAX_RESULTS) as i64;
    let backend = db.get_database_backend();
    let filter = |param: &str| {
        if party.is_some() {
            format!("AND party_id = {param}")
        } else {
            String::new()
        }
    };
    let stmt = match backend {
        DbBackend::Postgres => {
            // Each word quoted as a lexeme and joined by AND: words, never operators.
            let q = words
                .iter()
                .map(|w| format!("'{}'", w.replace('\'', "")))
                .collect::<Vec<_>>()
                .join(" & ");
            let sql = format!(
                "SELECT item_id, agreement_id, party_id, title, body FROM (
                   SELECT item_id, agreement_id, party_id, title, body, ts_rank(doc, q) AS r
                   FROM (SELECT h.*, q FROM handover_search h, to_tsquery('english', $1) q
                         WHERE doc @@ q {} LIMIT {CANDIDATES}) c) ranked
                 ORDER BY r DESC, item_id LIMIT $2",
                filter("$3")
            );
            let mut values: Vec<Value> = vec![q.into(), limit.into()];
            if let Some(p) = party {
                values.push(p.to_owned().into());
            }
            Statement::from_sql_and_values(backend, sql, values)
        }
        _ => {
            // Each word a quoted string: FTS5 reads no operator in it. The newest candidates
            // are read by rowid (FTS5 stops early), and only they are ranked.
            let q = words
                .iter()
                .map(|w| format!("\"{}\"", w.replace('"', "")))
                .collect::<Vec<_>>()
                .join(" ");
            let sql = format!(
                "SELECT h.item_id, h.agreement_id, h.party_id, h.title, h.body
                 FROM (SELECT rowid AS id, bm25(handover_search) AS r FROM handover_search
                       WHERE handover_search MATCH ?1 {} ORDER BY rowid DESC LIMIT {CANDIDATES}) c
                 JOIN handover_search h ON h.rowid = c.id
                 ORDER BY c.r, h.item_id LIMIT ?2",
                filter("?3")
            );
            let mut values: Vec<Value> = vec![q.into(), limit.into()];
            if let Some(p) = party {
                values.push(p.to_owned().into());
            }
            Statement::from_sql_and_values(backend, sql, values)
        }
    };
    let rows = db.query_all_raw(stmt).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("", "item_id")?;
        out.push(Hit {
            item_id: id
                .parse()
                .map_err(|e: uuid::Error| sea_orm::DbErr::Custom(e.to_string()))?,
            agreement_id: row.try_get("", "agreement_id")?,
            party_id: row.try_get("", "party_id")?,
            title: row.try_get("", "title")?,
            passage: passage(&row.try_get::<String>("", "body")?, &words),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passage_is_around_the_first_word_found() {
        let body = (1..=100)
            .map(|n| format!("w{n}"))
            .collect::<Vec<_>>()
            .join(" ")
            + " The attendance extract is Produced nightly.";
        let p = passage(&body, &words("produce"));
        assert!(
            p.starts_with("… w95 ") && p.ends_with("Produced nightly."),
            "{p}"
        );
        assert_eq!(passage("short text", &words("none")), "short text");
    }
}
