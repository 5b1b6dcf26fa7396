//! Retention over HTTP: legal holds, deletion requests and their confirmations and certificates,
//! the sweep on demand, and the calendar feed.

use poem::Result;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Form, Html, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::agreements::ReasonGiven;
use super::auth::{Caller, OFFICERS, READERS, principal_for};
use super::error::{ApiError, internal};
use super::text::Text;
use crate::retention::certificate::{Certificate, html};
use crate::retention::holds::{HoldKind, LegalHold, Scope};
use crate::retention::requests::DeletionRequestInfo;
use crate::retention::sweep::SweepReport;
use crate::retention::{Retention, RetentionError};

pub struct RetentionApi {
    pub retention: Retention,
}

impl From<RetentionError> for ApiError {
    fn from(e: RetentionError) -> ApiError {
        match e {
            RetentionError::NotFound(m) => ApiError::NotFound(m),
            RetentionError::Conflict(m) => ApiError::Conflict(m),
            RetentionError::BadRequest(m) => ApiError::BadRequest(m),
            RetentionError::Internal(m) => internal(&m),
            RetentionError::Db(e) => internal(&e),
        }
    }
}

#[derive(Debug, Object)]
pub struct PlaceHold {
    pub kind: HoldKind,
    pub reason: Text,
    pub scope: Scope,
}

/// A one-time confirmation token from an emailed deletion request.
#[derive(Debug, Object, serde::Deserialize)]
pub struct TokenForm {
    pub token: String,
}

#[derive(ApiResponse)]
pub enum CertificateResponse {
    #[oai(status = 200)]
    Json(Json<Box<Certificate>>),
    #[oai(status = 200, content_type = "text/html; charset=utf-8")]
    Html(PlainText<String>),
}

#[derive(ApiResponse)]
pub enum IcsResponse {
    /// iCalendar (RFC 5545): review dates, term ends, deletion due dates.
    #[oai(status = 200, content_type = "text/calendar; charset=utf-8")]
    Ok(PlainText<String>),
}

#[OpenApi(tag = "ApiTags::Retention")]
impl RetentionApi {
    /// Place a legal hold (`litigation`, `inquiry`, `foi`, `sar`, `audit`, `other`): no holding in
    /// its scope is deleted until it is released. The scope's agreement and party must exist
    /// (404 otherwise); a blank value is a 400.
    #[oai(path = "/legal-holds", method = "post")]
    async fn place(&self, caller: Caller, body: Json<PlaceHold>) -> Result<Json<LegalHold>> {
        let who = caller.allow(OFFICERS)?;
        let b = body.0;
        let hold = self
            .retention
            .place_hold(b.kind, &b.reason, b.scope, &who.actor())
            .await;
        Ok(Json(hold.map_err(ApiError::from)?))
    }

    #[oai(path = "/legal-holds", method = "get")]
    async fn holds(
        &self,
        caller: Caller,
        active: Query<Option<bool>>,
    ) -> Result<Json<Vec<LegalHold>>> {
        caller.allow(READERS)?;
        Ok(Json(
            self.retention
                .holds(active.0.unwrap_or(false))
                .await
                .map_err(ApiError::from)?,
        ))
    }

    #[oai(path = "/legal-holds/:id/release", method = "post")]
    async fn release(
        &self,
        caller: Caller,
        id: Path<Uuid>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<LegalHold>> {
        let who = caller.allow(OFFICERS)?;
        let hold = self
            .retention
            .release_hold(id.0, &body.reason, &who.actor())
            .await;
        Ok(Json(hold.map_err(ApiError::from)?))
    }

    /// Run the retention sweep now (`dry_run=true`: only say what it would do).
    #[oai(path = "/sweep", method = "post")]
    async fn sweep(
        &self,
        caller: Caller,
        dry_run: Query<Option<bool>>,
    ) -> Result<Json<SweepReport>> {
        caller.allow(OFFICERS)?;
        Ok(Json(
            self.retention
                .sweep(dry_run.0.unwrap_or(false))
                .await
                .map_err(ApiError::from)?,
        ))
    }

    /// Deletion requests, newest first: the owner's task list (`method=manual&status=requested`).
    #[oai(path = "/deletions", method = "get")]
    async fn requests(
        &self,
        caller: Caller,
        status: Query<Option<String>>,
        holder: Query<Option<String>>,
        agreement: Query<Option<String>>,
        method: Query<Option<String>>,
    ) -> Result<Json<Vec<DeletionRequestInfo>>> {
        caller.allow(READERS)?;
        let found = self
            .retention
            .requests(
                status.as_deref(),
                holder.as_deref(),
                agreement.as_deref(),
                method.as_deref(),
            )
            .await;
        Ok(Json(found.map_err(ApiError::from)?))
    }

    #[oai(path = "/deletions/:id", method = "get")]
    async fn request(&self, caller: Caller, id: Path<Uuid>) -> Result<Json<DeletionRequestInfo>> {
        caller.allow(READERS)?;
        Ok(Json(
            self.retention.request(id.0).await.map_err(ApiError::from)?,
        ))
    }

    /// Confirm a deletion request by hand (for holders asked manually). 409 if it is already
    /// confirmed, or while a legal hold covers data it names.
    #[oai(path = "/deletions/:id/confirm", method = "post")]
    async fn confirm(&self, caller: Caller, id: Path<Uuid>) -> Result<Json<DeletionRequestInfo>> {
        let who = caller.allow(OFFICERS)?;
        Ok(Json(
            self.retention
                .confirm(id.0, &who.actor())
                .await
                .map_err(ApiError::from)?,
        ))
    }

    /// The page an emailed link opens: it confirms only when its button is pressed, since mail
    /// scanners follow links.
    #[oai(path = "/deletions/confirm", method = "get")]
    async fn confirm_page(&self, token: Query<String>) -> Html<String> {
        Html(confirm_page(&token.0))
    }

    /// Confirm with the one-time token from the emailed link (the token is the credential).
    /// 409 while a legal hold covers data the request names; the link works again once the
    /// hold is released.
    #[oai(path = "/deletions/confirm", method = "post")]
    async fn confirm_by_token(&self, form: Form<TokenForm>) -> Result<Html<String>> {
        let done = self
            .retention
            .confirm_token(&form.token)
            .await
            .map_err(ApiError::from)?;
        Ok(Html(format!(
            "<!doctype html><meta charset=utf-8><title>Confirmed</title><p>Thank you. Deletion request {} is confirmed.</p>",
            done.id
        )))
    }

    /// The deletion certificate of a confirmed request, as JSON or (`format=html`) a page.
    #[oai(path = "/deletions/:id/certificate", method = "get")]
    async fn certificate(
        &self,
        caller: Caller,
        id: Path<Uuid>,
        format: Query<Option<String>>,
    ) -> Result<CertificateResponse> {
        caller.allow(READERS)?;
        let cert = self
            .retention
            .certificate(id.0)
            .await
            .map_err(ApiError::from)?;
        match format.0.as_deref() {
            None | Some("json") => Ok(CertificateResponse::Json(Json(Box::new(cert)))),
            Some("html") => Ok(CertificateResponse::Html(PlainText(
                html(&cert).map_err(|e| internal(&e))?,
            ))),
            Some(other) => {
                Err(ApiError::BadRequest(format!("format '{other}' is not json or html")).into())
            }
        }
    }

    /// Review dates, term ends and deletion due dates, for a calendar. Outlook subscribes by URL
    /// and cannot send a header, so the bearer token may also come as `?token=` (Accord logs
    /// paths, never query strings; use a reader's token made for the feed, and revoke it there).
    #[oai(path = "/calendar.ics", method = "get")]
    async fn calendar(
        &self,
        req: &poem::Request,
        token: Query<Option<String>>,
    ) -> Result<IcsResponse> {
        let from_header = req
            .header("authorization")
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::to_owned);
        let secret = from_header.or(token.0).ok_or(ApiError::Unauthorized)?;
        Caller(principal_for(req, &secret).await?).allow(READERS)?;
        let text = self.retention.calendar().await.map_err(ApiError::from)?;
        Ok(IcsResponse::Ok(PlainText(text)))
    }
}

fn confirm_page(token: &str) -> String {
    let token: String = token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    format!(
        "<!doctype html><meta charset=utf-8><title>Confirm deletion</title>\
         <p>Press the button to confirm that the data named in the request has been dealt with.</p>\
         <form method=post action=\"/api/v1/deletions/confirm\">\
         <input type=hidden name=token value=\"{token}\"><button>Confirm deletion</button></form>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_faults_answer_as_internal_errors_without_their_cause() {
        let fault = RetentionError::Internal("cannot draw random bytes: entropy source".into());
        let answer = ApiError::from(fault);
        assert!(matches!(answer, ApiError::Internal(_)), "{answer:?}");
        assert!(!answer.to_string().contains("entropy"), "{answer}");
        let refused = ApiError::from(RetentionError::BadRequest("a reason is required".into()));
        assert!(matches!(refused, ApiError::BadRequest(_)), "{refused:?}");
    }
}
