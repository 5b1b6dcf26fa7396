//! `/api/v1/access-requests`: partner access requests for systems that would rather not use the
//! form. A request made here is owned by the calling token, which then acts as the requester
//! (submit, answer, withdraw, messages); officers review and decide; readers look.

use std::collections::BTreeMap;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::auth::{Allowed, Caller, Officers, Readers, Requesters};
use super::error::{ApiError, Errors, S400, S401, S403, S404, S409, S413, S415, S422A, S429};
use super::text::NonBlank;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};

use crate::access::form::{self, Answer, Answers, Kind, Step};
use crate::access::requests::{
    Access, AccessMessage, AccessRequest, Actor, Either, MAX_PAGE, QueueFilter,
};

/// Most answers one request carries (the form has fewer questions than this).
pub const MAX_ANSWERS: usize = 100;

type MoveErrors = Errors<(S400, S401, S403, S404, S409, S413, S415)>;

pub struct AccessRequestsApi {
    pub access: Access,
}

/// A new request: the requester's e-mail address and every answer.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewAccessRequest {
    /// Where the confirmation link, the acknowledgement, questions and the decision are sent:
    /// one `@`, something before it, and a domain with a dot, with no space or control
    /// character (the rule the service checks; the schema states it so no other is sent).
    #[oai(validator(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*$"
    ))]
    pub email: String,
    /// The form's answers by question name (docs/api.md lists them).
    pub answers: AnswersBody,
}

/// The answers of a request, by question name: a string, or for a multiple-choice question a
/// list of strings. Documented with every question as a property (no others), so the
/// document says exactly what is read.
#[derive(Debug)]
pub struct AnswersBody(pub BTreeMap<String, serde_json::Value>);

const ANSWERS_SCHEMA: &str = "AccessAnswers";

impl poem_openapi::types::Type for AnswersBody {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        ANSWERS_SCHEMA.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(ANSWERS_SCHEMA.into())
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        registry.create_schema::<Self, _>(ANSWERS_SCHEMA.into(), |_| {
            let properties = Step::ALL
                .iter()
                .flat_map(|s| s.questions().iter())
                .map(|q| {
                    let text = |max: usize| MetaSchema {
                        max_length: Some(max),
                        ..MetaSchema::new("string")
                    };
                    let schema = match q.kind {
                        Kind::Many(_) => MetaSchema {
                            items: Some(Box::new(MetaSchemaRef::Inline(Box::new(text(
                                form::SHORT,
                            ))))),
                            max_items: Some(form::MAX_CHOICES),
                            ..MetaSchema::new("array")
                        },
                        Kind::Paragraph => text(form::LONG),
                        _ => text(form::SHORT),
                    };
                    (q.name, MetaSchemaRef::Inline(Box::new(schema)))
                })
                .collect();
            MetaSchema {
                description: Some(
                    "Each question's answer: a string (at most 200 characters; 4,000 for a \
                     paragraph), or a list of strings for a multiple-choice question.",
                ),
                properties,
                ..MetaSchema::new("object")
            }
        });
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl poem_openapi::types::ToJSON for AnswersBody {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::Object(
            self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ))
    }
}

impl poem_openapi::types::ParseFromJSON for AnswersBody {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            Some(serde_json::Value::Object(m)) => Ok(AnswersBody(m.into_iter().collect())),
            _ => Err(poem_openapi::types::ParseError::custom(
                "answers: an object of question names to answers is expected",
            )),
        }
    }
}

/// A message, a question or an answer.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MessageBody {
    pub message: NonBlank<4000>,
}

/// An approval: its reasons, and any conditions.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ApproveBody {
    pub reasons: NonBlank<4000>,
    /// Conditions the approval carries; absent or empty for none.
    #[oai(validator(max_length = 4000), nullable)]
    pub conditions: Option<String>,
    /// The existing party the requester is, when the officer knows the requester's
    /// organisation is one that an agreement already names (the request's preview shows
    /// a clash of names); absent for a new party with an id nobody uses. 400 if no agreement
    /// names it.
    #[oai(
        validator(pattern = "^[a-z0-9][a-z0-9-]*$", max_length = 200),
        nullable
    )]
    pub as_party: Option<String>,
}

/// A rejection's reasons.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RejectBody {
    pub reasons: NonBlank<4000>,
}

/// A page of the queue.
#[derive(Debug, Object)]
pub struct AccessRequestPage {
    pub items: Vec<AccessRequest>,
    /// How many requests match the filters.
    pub total: u64,
    /// Pass as `after` for the next page; null on the last.
    #[oai(nullable)]
    pub next_after: Option<Uuid>,
}

#[derive(ApiResponse)]
pub enum Created {
    /// The request, as a draft owned by the calling token.
    #[oai(status = 201)]
    Created(Json<AccessRequest>),
}

/// The answers as the form keeps them, or a 400 naming what does not fit.
fn answers_from(AnswersBody(raw): AnswersBody) -> Result<Answers, ApiError> {
    if raw.len() > MAX_ANSWERS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_ANSWERS} answers"
        )));
    }
    let known: Vec<&str> = Step::ALL
        .iter()
        .flat_map(|s| s.questions().iter().map(|q| q.name))
        .collect();
    let mut posted = Vec::new();
    for (name, value) in raw {
        if !known.contains(&name.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "'{}' is not a question of the form",
                name.chars().take(80).collect::<String>()
            )));
        }
        match value {
            serde_json::Value::String(s) => posted.push((name, s)),
            serde_json::Value::Array(items) if items.len() <= 200 => {
                for item in items {
                    match item {
                        serde_json::Value::String(s) => posted.push((name.clone(), s)),
                        _ => {
                            return Err(ApiError::BadRequest(format!(
                                "answers.{name}: a list of strings is expected"
                            )));
                        }
                    }
                }
            }
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "answers.{name}: a string, or a list of at most 200 strings, is expected"
                )));
            }
        }
    }
    let mut answers = Answers::default();
    for step in Step::ALL {
        answers = answers.with_step(step, &posted);
    }
    // A multiple-choice question sent as one string is one choice.
    for q in Step::ALL.iter().flat_map(|s| s.questions()) {
        if let (crate::access::form::Kind::Many(_), Some(Answer::One(v))) =
            (q.kind, answers.0.get(q.name).cloned())
        {
            answers.0.insert(q.name.to_owned(), Answer::Many(vec![v]));
        }
    }
    Ok(answers)
}

#[OpenApi(prefix_path = "/access-requests", tag = "ApiTags::AccessRequests")]
impl AccessRequestsApi {
    /// Make an access request with every answer at once (any token but a `monitor`'s: 403).
    /// Every problem with the
    /// answers is a 422 listing them by question. The e-mail address is sent a confirmation
    /// link, which gives the person the request's private link in the web form too. The
    /// public form's limits apply (429): 10 requests per token and 3 per mailbox
    /// (`name+tag@domain` counts as `name@domain`) in 15 minutes.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        caller: Allowed<Requesters>,
        body: Json<NewAccessRequest>,
    ) -> Result<Created, Errors<(S400, S401, S403, S413, S415, S422A, S429)>> {
        let answers = answers_from(body.0.answers)?;
        let made = self
            .access
            .create(&caller.0, &body.0.email, answers)
            .await
            .map_err(ApiError::from)?;
        Ok(Created::Created(Json(made)))
    }

    /// The officers' queue (readers): by default every request with the officers or the
    /// requester and not decided; oldest first, paged by key.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        caller: Allowed<Readers>,
        status: Query<Option<crate::openapi_types::AccessRequestStatus>>,
        /// Addressed to this organisation (its party id).
        party: Query<Option<String>>,
        after: Query<Option<Uuid>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
    ) -> Result<Json<AccessRequestPage>, Errors<(S400, S401, S403)>> {
        let filter = QueueFilter {
            status: status.0.map(Into::into),
            party: party.0.filter(|p| !p.is_empty()),
            after: after.0,
            limit: limit.0.unwrap_or(50).min(MAX_PAGE),
        };
        let page = self
            .access
            .queue(&caller.0, &filter)
            .await
            .map_err(ApiError::from)?;
        Ok(Json(AccessRequestPage {
            items: page.items,
            total: page.total,
            next_after: page.next_after,
        }))
    }

    /// One request (readers, or the token that made it).
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        caller: Caller,
        id: Path<Uuid>,
    ) -> Result<Json<AccessRequest>, Errors<(S400, S401, S404)>> {
        let found = self.access.get(&caller.0, id.0).await;
        Ok(Json(found.map_err(ApiError::from)?))
    }

    /// The request's thread, oldest first (readers, or the token that made it).
    #[oai(path = "/:id/messages", method = "get")]
    async fn messages(
        &self,
        caller: Caller,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<AccessMessage>>, Errors<(S400, S401, S404)>> {
        self.access
            .get(&caller.0, id.0)
            .await
            .map_err(ApiError::from)?;
        let found = self.access.messages(id.0).await;
        Ok(Json(found.map_err(ApiError::from)?))
    }

    /// Add a message to the thread (the requester's token, or an officer); 409 once decided.
    #[oai(path = "/:id/messages", method = "post")]
    async fn post_message(
        &self,
        caller: Caller,
        id: Path<Uuid>,
        body: Json<MessageBody>,
    ) -> Result<Json<AccessMessage>, MoveErrors> {
        let done = self
            .access
            .post_message(
                Actor::Principal(&caller.0),
                Either::Id(id.0),
                &body.0.message.0,
            )
            .await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    /// Submit a complete draft (the requester's token); 422 lists what is missing, 409 if it
    /// is not a draft (a second submit).
    #[oai(path = "/:id/submit", method = "post")]
    async fn submit(
        &self,
        caller: Caller,
        id: Path<Uuid>,
    ) -> Result<Json<AccessRequest>, Errors<(S400, S401, S403, S404, S409, S422A)>> {
        let done = self
            .access
            .submit(Actor::Principal(&caller.0), Either::Id(id.0))
            .await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    /// Take a submitted request into review (officers).
    #[oai(path = "/:id/review", method = "post")]
    async fn review(
        &self,
        caller: Allowed<Officers>,
        id: Path<Uuid>,
    ) -> Result<Json<AccessRequest>, Errors<(S400, S401, S403, S404, S409)>> {
        let done = self.access.start_review(&caller.0, id.0).await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    /// Ask the requester a question (officers): the request waits for their answer.
    #[oai(path = "/:id/ask", method = "post")]
    async fn ask(
        &self,
        caller: Allowed<Officers>,
        id: Path<Uuid>,
        body: Json<MessageBody>,
    ) -> Result<Json<AccessRequest>, MoveErrors> {
        let done = self.access.ask(&caller.0, id.0, &body.0.message.0).await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    /// Answer the officer's question (the requester's token): back to review.
    #[oai(path = "/:id/answer", method = "post")]
    async fn answer(
        &self,
        caller: Caller,
        id: Path<Uuid>,
        body: Json<MessageBody>,
    ) -> Result<Json<AccessRequest>, MoveErrors> {
        let done = self
            .access
            .answer(
                Actor::Principal(&caller.0),
                Either::Id(id.0),
                &body.0.message.0,
            )
            .await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    /// Approve (officers): drafts the agreement into the registry as a new draft version, and
    /// makes a signatory account for the requester's organisation. 409 if the state does not
    /// allow it or the draft would have errors.
    #[oai(path = "/:id/approve", method = "post")]
    async fn approve(
        &self,
        caller: Allowed<Officers>,
        id: Path<Uuid>,
        body: Json<ApproveBody>,
    ) -> Result<Json<AccessRequest>, MoveErrors> {
        let conditions = body.0.conditions.unwrap_or_default();
        let done = self
            .access
            .approve(
                &caller.0,
                id.0,
                &body.0.reasons.0,
                &conditions,
                body.0.as_party.as_deref(),
            )
            .await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    /// Reject (officers), with reasons.
    #[oai(path = "/:id/reject", method = "post")]
    async fn reject(
        &self,
        caller: Allowed<Officers>,
        id: Path<Uuid>,
        body: Json<RejectBody>,
    ) -> Result<Json<AccessRequest>, MoveErrors> {
        let done = self.access.reject(&caller.0, id.0, &body.0.reasons.0).await;
        Ok(Json(done.map_err(ApiError::from)?))
    }

    /// Withdraw (the requester's token, or an officer), before a decision.
    #[oai(path = "/:id/withdraw", method = "post")]
    async fn withdraw(
        &self,
        caller: Caller,
        id: Path<Uuid>,
    ) -> Result<Json<AccessRequest>, Errors<(S400, S401, S403, S404, S409)>> {
        let done = self
            .access
            .withdraw(Actor::Principal(&caller.0), Either::Id(id.0))
            .await;
        Ok(Json(done.map_err(ApiError::from)?))
    }
}
