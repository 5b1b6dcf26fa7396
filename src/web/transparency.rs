//! The public transparency register: no sign-in, no cookies. A list of the published
//! agreements in force (a page at a time, in title order; all, or one organisation's, chosen
//! on the list, and those with words searched for in their titles), each agreement's page with
//! its monthly counts, the list and the counts as CSV, and an Atom feed of the agreements most
//! recently come into force (all, or one organisation's, and those with the words searched
//! for: a search's feed follows it). Every answer is cacheable:
//! `Cache-Control: public` and a strong `ETag` over its bytes, with `304 Not Modified` for a
//! cache that already has them (a search to correct is the exception: answered once, 400). An
//! id that is not published and in force gets the same 404 page whether it exists or not, and
//! so does an organisation that is a party to no published agreement in force.

use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Console;
use super::POLICY;
use super::errors::{WebError, WebResult};
use super::render::{html_response, pages};
use super::sign_in::field_error;
use crate::inputs::PartyId;
use crate::registry::register::neutralise;
use crate::text::search_words;
use crate::transparency::public::{Month, PublicAgreement};
use crate::transparency::register::{After, CSV_PER_PAGE, Choice, Listed, PER_PAGE};

/// How long a cache may reuse an answer before asking again (with its ETag).
const CACHE_CONTROL: &str = "public, max-age=300";

/// The longest title or id a page link may carry (the format's ids are at most 200
/// characters; titles are bounded by the 1 MiB file).
const MAX_AFTER: usize = 4096;

/// The longest search, in characters (the list's search box takes no more).
pub const MAX_SEARCH: usize = 200;

/// Which agreements a list shows: one organisation's (its party id), or every one (none, or
/// the empty choice the list's form sends for "every organisation").
#[derive(Deserialize, Default)]
pub struct OrganisationQuery {
    organisation: Option<String>,
}

impl OrganisationQuery {
    fn organisation(&self) -> WebResult<Option<&str>> {
        match self.organisation.as_deref() {
            None | Some("") => Ok(None),
            Some(id) if PartyId::parse(id).is_ok() => Ok(Some(id)),
            Some(_) => Err(not_a_link()),
        }
    }
}

/// The words searched for in titles, as typed.
#[derive(Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
}

/// A list's query: the organisation, the words searched for in titles, and where a page starts
/// (after the title and id of the last entry of the page before).
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(flatten)]
    of: OrganisationQuery,
    #[serde(flatten)]
    search: SearchQuery,
    after: Option<String>,
    after_id: Option<String>,
}

/// The feed's query: the organisation and the words searched for, as the list it follows.
#[derive(Deserialize, Default)]
pub struct FeedQuery {
    #[serde(flatten)]
    of: OrganisationQuery,
    #[serde(flatten)]
    search: SearchQuery,
}

/// What is wrong with a search, said beside its box.
enum SearchError {
    TooLong,
    NoWords,
}

impl SearchError {
    fn text(&self) -> String {
        match self {
            SearchError::TooLong => format!("Search for {MAX_SEARCH} characters or fewer"),
            SearchError::NoWords => {
                "Enter a word from an agreement’s title, such as food or hospital".to_owned()
            }
        }
    }
}

impl SearchQuery {
    /// The words to find in titles: none for no search (or a blank one).
    fn words(&self) -> Result<Vec<String>, SearchError> {
        let typed = self.q.as_deref().unwrap_or("");
        if typed.chars().count() > MAX_SEARCH {
            return Err(SearchError::TooLong);
        }
        let words = search_words(typed);
        if words.is_empty() && !typed.trim().is_empty() {
            return Err(SearchError::NoWords);
        }
        Ok(words)
    }

    /// The words, or the 400 that a CSV or feed answers a search that cannot be run with.
    fn words_or_bad_request(&self) -> WebResult<Vec<String>> {
        self.words()
            .map_err(|e| WebError::BadRequest(format!("{}.", e.text())))
    }
}

impl ListQuery {
    fn after(&self) -> WebResult<Option<After>> {
        match (&self.after, &self.after_id) {
            (None, None) => Ok(None),
            (Some(title), Some(id)) if title.len() <= MAX_AFTER && id.len() <= MAX_AFTER => {
                Ok(Some(After {
                    title: title.clone(),
                    id: id.clone(),
                }))
            }
            _ => Err(not_a_link()),
        }
    }
}

fn not_a_link() -> WebError {
    WebError::BadRequest(
        "this page link is not one the register makes; start again from the register".into(),
    )
}

/// The organisation a list is for, as the register lists it; for an id that is a party to no
/// published agreement in force, whether it exists or not, the one same 404.
async fn chosen(console: &Console, id: Option<&str>) -> WebResult<Option<Listed>> {
    match id {
        None => Ok(None),
        Some(id) => named(&console.transparency.organisations().await?, id).map(Some),
    }
}

/// Organisation `id` among those `listed`, else the 404 of [`chosen`].
fn named(listed: &[Listed], id: &str) -> WebResult<Listed> {
    listed.iter().find(|o| o.id == id).cloned().ok_or_else(|| {
        WebError::NotFound(
            "No published agreement names this organisation. Go back to the register to see \
             every organisation it lists."
                .into(),
        )
    })
}

/// `base` with the query a list's link carries: the organisation, the words searched for, then
/// where the page starts.
fn link(base: &str, choice: Choice, after: Option<&After>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(o) = choice.organisation {
        pairs.push(("organisation", o));
    }
    let words = choice.words.join(" ");
    if !words.is_empty() {
        pairs.push(("q", &words));
    }
    if let Some(a) = after {
        pairs.push(("after", &a.title));
        pairs.push(("after_id", &a.id));
    }
    match serde_urlencoded::to_string(pairs) {
        Ok(query) if !query.is_empty() => format!("{base}?{query}"),
        _ => base.to_owned(),
    }
}

#[handler]
pub async fn list(
    console: Data<&Console>,
    headers: &HeaderMap,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let after = q.after()?;
    let organisation = q.of.organisation()?;
    let listed = console.transparency.organisations().await?;
    let chosen = organisation.map(|id| named(&listed, id)).transpose()?;
    let (words, errors) = match q.search.words() {
        Ok(words) => (words, Vec::new()),
        Err(e) => (Vec::new(), vec![field_error("q", &e.text())]),
    };
    let choice = Choice {
        organisation,
        words: &words,
    };
    // A search that cannot be run lists nothing: the page says what to correct.
    let found = if errors.is_empty() {
        Some(
            console
                .transparency
                .page(after.as_ref(), PER_PAGE, choice)
                .await?,
        )
    } else {
        None
    };
    let entries: Vec<Value> = found.iter().flat_map(|f| &f.entries).map(entry).collect();
    let choices: Vec<Value> = listed
        .iter()
        .map(|o| {
            json!({
                "id": o.id,
                "name": o.name,
                "agreements": o.agreements,
                "selected": Some(o.id.as_str()) == organisation,
            })
        })
        .collect();
    let without_words = Choice {
        organisation,
        words: &[],
    };
    let data = json!({
        "entries": entries,
        "first": after.is_none(),
        "next": found.as_ref().and_then(|f| f.next.as_ref()).map(|n| link("/transparency", choice, Some(n))),
        "organisations": choices,
        "chosen": chosen.as_ref().map(|o| json!({ "id": o.id, "name": o.name })),
        "q": q.search.q.as_deref().unwrap_or(""),
        "max_search": MAX_SEARCH,
        "words": (!words.is_empty()).then(|| words.join(" ")),
        "clear": link("/transparency", without_words, None),
        "errors": errors,
        "csv": link("/transparency.csv", choice, None),
        "feed": link("/transparency/feed.atom", choice, None),
    });
    let title = match &chosen {
        Some(o) => format!("What {} shares, and why", o.name),
        None => "What your council shares, and why".to_owned(),
    };
    let corrected = errors.is_empty();
    Ok(
        match pages().html(None, "transparency_list", &title, data) {
            Ok(html) if corrected => cached(headers, "text/html; charset=utf-8", html),
            // A search to correct is answered once, for this request, never from a cache.
            Ok(html) => html_response(StatusCode::BAD_REQUEST, html),
            Err(failed) => *failed,
        },
    )
}

fn entry(a: &PublicAgreement) -> Value {
    json!({
        "id": a.id,
        "title": a.title,
        "organisations": a.organisations_in_words(),
        "summary": a.summary,
    })
}

#[handler]
pub async fn agreement(
    console: Data<&Console>,
    headers: &HeaderMap,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (a, months) = published(&console, &id).await?;
    let data = json!({ "agreement": a, "months": months });
    Ok(
        match pages().html(None, "transparency_agreement", &a.title, data) {
            Ok(html) => cached(headers, "text/html; charset=utf-8", html),
            Err(failed) => *failed,
        },
    )
}

/// Agreement `id` as published with its months; for every id that is not published and in
/// force, whether it exists or not, the one same 404.
async fn published(console: &Console, id: &str) -> WebResult<(PublicAgreement, Vec<Month>)> {
    console.transparency.agreement(id).await?.ok_or_else(|| {
        WebError::NotFound(
            "There is no agreement on the transparency register at this address. Go back to \
             the register to see every agreement it lists."
                .into(),
        )
    })
}

#[handler]
pub async fn counts_csv(
    console: Data<&Console>,
    headers: &HeaderMap,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (a, months) = published(&console, &id).await?;
    let rows = months.iter().map(|m| {
        vec![
            m.month.clone(),
            m.allowed.to_string(),
            m.refused.to_string(),
            m.deleted.to_string(),
        ]
    });
    let header = ["month", "allowed", "refused", "records deleted"];
    let body = csv_text(&header, rows)?;
    let mut resp = cached(headers, "text/csv; charset=utf-8", body);
    attach(&mut resp, &format!("{}-counts.csv", a.id));
    Ok(resp)
}

#[handler]
pub async fn list_csv(
    console: Data<&Console>,
    headers: &HeaderMap,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let after = q.after()?;
    let organisation = q.of.organisation()?;
    chosen(&console, organisation).await?;
    let words = q.search.words_or_bad_request()?;
    let choice = Choice {
        organisation,
        words: &words,
    };
    let found = console
        .transparency
        .page(after.as_ref(), CSV_PER_PAGE, choice)
        .await?;
    let base = &console.public_url;
    let rows = found.entries.iter().map(|a| {
        let names: Vec<&str> = a.organisations.iter().map(|o| o.name.as_str()).collect();
        let kinds: Vec<String> = a
            .kinds
            .iter()
            .map(|k| match k.class {
                Some(class) => format!("{} ({class})", k.name),
                None => k.name.to_owned(),
            })
            .collect();
        vec![
            a.id.clone(),
            a.title.clone(),
            names.join("; "),
            a.summary.clone(),
            crate::text::sentences(&a.purposes),
            kinds.join("; "),
            yes_no(a.special_category),
            yes_no(a.criminal_offence),
            a.lawful_basis.join("; "),
            a.retention.join(" "),
            a.next_review_date.clone().unwrap_or_default(),
            yes_no(a.high_risk),
            format!("{base}/transparency/{}", a.id),
        ]
    });
    let header = [
        "id",
        "title",
        "organisations",
        "why",
        "purposes",
        "kinds of information",
        "special category data",
        "criminal offence data",
        "lawful basis",
        "how long it is kept",
        "next review",
        "high risk remains",
        "page",
    ];
    let body = csv_text(&header, rows)?;
    let mut resp = cached(headers, "text/csv; charset=utf-8", body);
    match organisation {
        Some(o) => attach(&mut resp, &format!("transparency-register-{o}.csv")),
        None => attach(&mut resp, "transparency-register.csv"),
    }
    let next = found.next.as_ref();
    if let Some(next) = next.map(|n| link(&format!("{base}/transparency.csv"), choice, Some(n)))
        && let Ok(v) = format!("<{next}>; rel=\"next\"").parse()
    {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

#[handler]
pub async fn feed(
    console: Data<&Console>,
    headers: &HeaderMap,
    Query(q): Query<FeedQuery>,
) -> WebResult<Response> {
    let organisation = q.of.organisation()?;
    let chosen = chosen(&console, organisation).await?;
    let words = q.search.words_or_bad_request()?;
    let choice = Choice {
        organisation,
        words: &words,
    };
    let newest = console.transparency.newest(choice).await?;
    let base = &console.public_url;
    let updated = newest
        .iter()
        .filter_map(|p| p.in_force_since.clone())
        .max()
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let entries: Vec<Value> = newest
        .iter()
        .map(|p| {
            json!({
                "url": format!("{base}/transparency/{}", p.agreement.id),
                "title": p.agreement.title,
                "updated": p.in_force_since.clone().unwrap_or_else(|| updated.clone()),
                "summary": format!(
                    "{} Shared by {}.",
                    p.agreement.summary,
                    p.agreement.organisations_in_words()
                ),
            })
        })
        .collect();
    let data = json!({
        "url": link(&format!("{base}/transparency"), choice, None),
        "feed": link(&format!("{base}/transparency/feed.atom"), choice, None),
        "organisation": chosen.map(|o| o.name),
        "words": (!words.is_empty()).then(|| words.join(" ")),
        "updated": updated,
        "entries": entries,
    });
    Ok(match pages().document("transparency_feed", &data) {
        Ok(xml) => cached(headers, "application/atom+xml; charset=utf-8", xml),
        Err(failed) => *failed,
    })
}

/// CSV text with a byte-order mark (spreadsheets then read it as UTF-8), every cell
/// neutralised so that no spreadsheet runs it as a formula.
fn csv_text(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> WebResult<String> {
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let write = |w: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        w.write_record(header)?;
        for row in rows {
            w.write_record(row.iter().map(|c| neutralise(c)))?;
        }
        w.flush()?;
        Ok(())
    };
    write(&mut w).map_err(|e| WebError::Internal(e.to_string()))?;
    let bytes = w
        .into_inner()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| WebError::Internal(e.to_string()))
}

fn attach(resp: &mut Response, name: &str) {
    if let Ok(v) = format!("attachment; filename=\"{name}\"").parse() {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
}

/// The answer with what caches need: `Cache-Control: public`, and a strong ETag over the
/// bytes, answered `304 Not Modified` (no body) when the request already has them.
fn cached(request: &HeaderMap, content_type: &'static str, body: String) -> Response {
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!("\"{}\"", hex::encode(&digest[..16]));
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        });
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .header(header::ETAG, etag.as_str());
    let builder = if content_type.starts_with("text/html") {
        builder.header(header::CONTENT_SECURITY_POLICY, POLICY)
    } else {
        builder
    };
    if matches {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder
        .status(StatusCode::OK)
        .content_type(content_type)
        .body(body)
        .into_response()
}
