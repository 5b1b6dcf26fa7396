//! Retention over HTTP: legal holds, deletion requests and their confirmations and certificates,
//! the sweep on demand, and the calendar feed.

use crate::failure::Failure;
use crate::inputs::{self, ScopeProblem, SubjectRef};
use poem::{IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Form, Html, Json, PlainText};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry as Schemas};
use poem_openapi::types::{MaybeUndefined, Type};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::agreements::ReasonGiven;
use super::auth::{Allowed, Caller, Officers, READERS, Readers, principal_for};
use super::error::{ApiError, Errors, S400, S401, S403, S404, S409, S413, S415, internal};
use super::text::{NonBlank, ReasonText, reason};
use super::{ApiTags, deletion_pages};
use crate::retention::certificate::{Certificate, html};
use crate::retention::holds::{HoldKind, LegalHold};
use crate::retention::requests::DeletionRequestInfo;
use crate::retention::sweep::SweepReport;
use crate::retention::{Retention, RetentionError};

pub struct RetentionApi {
    pub retention: Retention,
    pub handover: crate::handover::Handover,
}

impl From<RetentionError> for ApiError {
    fn from(e: RetentionError) -> ApiError {
        ApiError::of(e.kind(), e.to_string())
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PlaceHold {
    pub kind: HoldKind,
    pub reason: ReasonText,
    pub scope: HoldScope,
}

/// What a hold keeps: every scope given must match (an agreement, a party on either end of the
/// flow, a data subject's reference); at least one is required, and none may be null.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct HoldScope {
    pub agreement: MaybeUndefined<NonBlank<{ SubjectRef::MAX }>>,
    pub party: MaybeUndefined<NonBlank<{ SubjectRef::MAX }>>,
    pub subject_ref: MaybeUndefined<NonBlank<{ SubjectRef::MAX }>>,
}

impl HoldScope {
    /// The scope as the service takes it; a null is a 400 (leave the key out instead).
    fn given(self) -> Result<inputs::HoldScope, ApiError> {
        fn one(
            name: &str,
            v: MaybeUndefined<NonBlank<{ SubjectRef::MAX }>>,
        ) -> Result<Option<String>, ApiError> {
            match v {
                MaybeUndefined::Undefined => Ok(None),
                MaybeUndefined::Null => Err(ApiError::BadRequest(format!(
                    "scope.{name} is null: name one, or leave it out"
                ))),
                MaybeUndefined::Value(v) => Ok(Some(v.0)),
            }
        }
        let agreement = one("agreement", self.agreement)?;
        let party = one("party", self.party)?;
        let subject_ref = one("subject_ref", self.subject_ref)?;
        inputs::HoldScope::parse(
            agreement.as_deref(),
            party.as_deref(),
            subject_ref.as_deref(),
        )
        .map_err(|problems| {
            let said: Vec<String> = problems
                .iter()
                .map(|p| match p {
                    ScopeProblem::Nothing => {
                        "a hold needs a scope: agreement, party or subject_ref".to_owned()
                    }
                    ScopeProblem::Part(part, problem) => {
                        format!("scope.{}: {}", part.key(), problem.message(part.what()))
                    }
                })
                .collect();
            ApiError::BadRequest(said.join("; "))
        })
    }
}

/// A one-time confirmation token from an emailed deletion request.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
pub struct TokenForm {
    pub token: String,
}

/// The format of a deletion certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum CertificateFormat {
    Json,
    Html,
}

/// A deletion certificate as JSON or as a page: one 200 with two media types, so the document
/// says which `format` answers with which.
pub enum CertificateResponse {
    Json(Box<Certificate>),
    Html(String),
}

const HTML: &str = "text/html; charset=utf-8";

impl IntoResponse for CertificateResponse {
    fn into_response(self) -> Response {
        match self {
            CertificateResponse::Json(c) => Json(c).into_response(),
            CertificateResponse::Html(page) => Response::builder().content_type(HTML).body(page),
        }
    }
}

impl ApiResponse for CertificateResponse {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The certificate: JSON (`format=json`, the default) or an HTML page \
                              (`format=html`).",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: Certificate::schema_ref(),
                    },
                    MetaMediaType {
                        content_type: HTML,
                        schema: String::schema_ref(),
                    },
                ],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Schemas) {
        Certificate::register(registry);
    }
}

/// What changing a hold or a request may answer with.
type ChangeErrors = Errors<(S400, S401, S403, S404, S409, S413, S415)>;
/// What a filtered list may answer with.
type ListErrors = Errors<(S400, S401, S403)>;
/// What reading one thing by id may answer with.
type ReadErrors = Errors<(S400, S401, S403, S404)>;

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
    async fn place(
        &self,
        caller: Allowed<Officers>,
        body: Json<PlaceHold>,
    ) -> Result<Json<LegalHold>, Errors<(S400, S401, S403, S404, S413, S415)>> {
        let who = &caller.0;
        let b = body.0;
        let scope = b.scope.given()?;
        let hold = self
            .retention
            .place_hold(b.kind, &reason(&b.reason)?, &scope, &who.actor())
            .await;
        Ok(Json(hold.map_err(ApiError::from)?))
    }

    #[oai(path = "/legal-holds", method = "get")]
    async fn holds(
        &self,
        _caller: Allowed<Readers>,
        active: Query<Option<bool>>,
    ) -> Result<Json<Vec<LegalHold>>, ListErrors> {
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
        caller: Allowed<Officers>,
        id: Path<Uuid>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<LegalHold>, ChangeErrors> {
        let who = &caller.0;
        let hold = self
            .retention
            .release_hold(id.0, &reason(&body.reason)?, &who.actor())
            .await;
        Ok(Json(hold.map_err(ApiError::from)?))
    }

    /// Run the retention sweep now (`dry_run=true`: only say what it would do).
    #[oai(path = "/sweep", method = "post")]
    async fn sweep(
        &self,
        _caller: Allowed<Officers>,
        dry_run: Query<Option<bool>>,
    ) -> Result<Json<SweepReport>, ListErrors> {
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
        _caller: Allowed<Readers>,
        status: Query<Option<String>>,
        holder: Query<Option<String>>,
        agreement: Query<Option<String>>,
        method: Query<Option<String>>,
    ) -> Result<Json<Vec<DeletionRequestInfo>>, ListErrors> {
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
    async fn request(
        &self,
        _caller: Allowed<Readers>,
        id: Path<Uuid>,
    ) -> Result<Json<DeletionRequestInfo>, ReadErrors> {
        Ok(Json(
            self.retention.request(id.0).await.map_err(ApiError::from)?,
        ))
    }

    /// Confirm a deletion request by hand (for holders asked manually). 409 if it is already
    /// confirmed, or while a legal hold covers data it names.
    #[oai(path = "/deletions/:id/confirm", method = "post")]
    async fn confirm(
        &self,
        caller: Allowed<Officers>,
        id: Path<Uuid>,
    ) -> Result<Json<DeletionRequestInfo>, Errors<(S400, S401, S403, S404, S409)>> {
        let who = &caller.0;
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
    async fn confirm_page(&self, token: Query<String>) -> Result<Html<String>, Errors<(S400,)>> {
        Ok(Html(
            deletion_pages::confirm(&token.0).map_err(|e| internal(&e))?,
        ))
    }

    /// Confirm with the one-time token from the emailed link (the token is the credential).
    /// 409 while a legal hold covers data the request names; the link works again once the
    /// hold is released.
    #[oai(path = "/deletions/confirm", method = "post")]
    async fn confirm_by_token(
        &self,
        form: Form<TokenForm>,
    ) -> Result<Html<String>, Errors<(S400, S404, S409, S413, S415)>> {
        let done = self
            .retention
            .confirm_token(&form.token)
            .await
            .map_err(ApiError::from)?;
        Ok(Html(
            deletion_pages::confirmed(done.id).map_err(|e| internal(&e))?,
        ))
    }

    /// The deletion certificate of a confirmed request, as JSON or (`format=html`) a page.
    #[oai(path = "/deletions/:id/certificate", method = "get")]
    async fn certificate(
        &self,
        _caller: Allowed<Readers>,
        id: Path<Uuid>,
        format: Query<Option<CertificateFormat>>,
    ) -> Result<CertificateResponse, Errors<(S400, S401, S403, S404, S409)>> {
        let cert = self
            .retention
            .certificate(id.0)
            .await
            .map_err(ApiError::from)?;
        match format.0.unwrap_or(CertificateFormat::Json) {
            CertificateFormat::Json => Ok(CertificateResponse::Json(Box::new(cert))),
            CertificateFormat::Html => Ok(CertificateResponse::Html(
                html(&cert).map_err(|e| internal(&e))?,
            )),
        }
    }

    /// Review dates, term ends, deletion due dates, and handover due dates and engagement ends,
    /// for a calendar. Outlook subscribes by URL
    /// and cannot send a header, so the bearer token may also come as `?token=` (Accord logs
    /// paths, never query strings; use a reader's token made for the feed, and revoke it there).
    #[oai(path = "/calendar.ics", method = "get")]
    async fn calendar(
        &self,
        req: &poem::Request,
        token: Query<Option<String>>,
    ) -> Result<IcsResponse, Errors<(S401, S403)>> {
        let from_header = super::auth::bearer(req).map(str::to_owned);
        let secret = from_header.or(token.0).ok_or(ApiError::Unauthorized)?;
        Caller(principal_for(req, &secret).await?).allow(READERS)?;
        let handover = self
            .handover
            .calendar_events()
            .await
            .map_err(ApiError::from)?;
        let text = self
            .retention
            .calendar_with(handover)
            .await
            .map_err(ApiError::from)?;
        Ok(IcsResponse::Ok(PlainText(text)))
    }
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
