//! The access-request use cases. Each change is one transaction: the request's row, its audit
//! record and the mail it causes commit together (approval adds the drafted version to the
//! registry in the same transaction).
//!
//! Who acts: a **requester** (the person holding the private link, or the API token that made
//! the request) or an **officer** (`admin`, `ig_officer`). Readers (and auditors) may look.
//!
//! One file a use case: [`links`] (confirm an address, the private link, erasure), [`answers`]
//! (save, submit), [`review`] (the queue, questions and answers, withdrawal), [`decide`]
//! (preview, approve, reject). This file holds the types, the errors, and what they share:
//! reading a request, moving it between states, its messages and its mail.

use std::sync::Arc;

use jiff::Timestamp;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::drafting::{self, Addressed, Drafting};
use super::form::{self, Answers, Choices, Problem, Step};
use super::states::{self, Move, Status};
use crate::agreement::diagnostic::{Diagnostic, Severity};
use crate::agreement::model::{Agreement, Party};
use crate::audit::{Event, Writer};
use crate::auth::{Principal, Role};
use crate::clock::Clock;
use crate::mail::compose::{AccessMail, Templates};
use crate::mail::outbox::{NewMessage, enqueue};
use crate::mail::{Kind, MailError};
use crate::people::{self, PeopleError, hash_secret, random_secret, throttle};
use crate::registry::{Registry, RegistryError};
use crate::store::entity::{access_request as row, access_request_message as msg, api_token, user};
use crate::store::time::{parse, stamp};

mod answers;
mod decide;
mod links;
mod review;

/// How long an e-mail confirmation link works.
pub const CONFIRM_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);
/// How long a private link works by default (`ACCORD_REQUEST_LINK_DAYS`); a requester asks
/// for a new one by e-mail.
pub const DEFAULT_LINK_DAYS: u16 = 90;
/// How long a closed request keeps the requester's personal details by default
/// (`ACCORD_KEEP_CLOSED_REQUESTS_DAYS`).
pub const DEFAULT_KEEP_CLOSED_DAYS: u16 = 365;
/// Who runs the service, until the operator says (`ACCORD_ORGANISATION_NAME`).
pub const DEFAULT_ORGANISATION: &str = "the organisation that runs this Accord service";

/// Who runs the public service, and how long what requesters give lasts: the settings the
/// request form, its e-mails and its privacy notice keep to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Service {
    /// The organisation, by name: the controller of requesters' personal details.
    pub organisation: String,
    /// How to reach its data protection officer, if the operator has said.
    pub privacy_contact: Option<String>,
    /// Days a private link works from when it is sent.
    pub link_days: u16,
    /// Days a closed request keeps the requester's personal details.
    pub keep_closed_days: u16,
}

impl Default for Service {
    fn default() -> Service {
        Service {
            organisation: DEFAULT_ORGANISATION.to_owned(),
            privacy_contact: None,
            link_days: DEFAULT_LINK_DAYS,
            keep_closed_days: DEFAULT_KEEP_CLOSED_DAYS,
        }
    }
}

/// The answers that are a person's details (the requester's and contacts'), which erasing a
/// closed request removes; the organisation's own details stay, for the record.
const PERSONAL_ANSWERS: [&str; 7] = [
    "requester_name",
    "requester_role",
    "requester_email",
    "dpo_name",
    "dpo_email",
    "rights_email",
    "deletion_email",
];
/// Requests started from one address within the throttle window before more are refused.
pub const STARTS_PER_ADDRESS: u64 = 10;
/// Requests started for one e-mail address within the throttle window.
pub const STARTS_PER_EMAIL: u64 = 3;

/// The mailbox an address delivers to, for the limits: `name+tag@domain` is `name@domain`,
/// so tags cannot multiply what one person's mailbox is sent. (`email` is normalised.)
fn mailbox(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let name = local.split_once('+').map_or(local, |(name, _)| name);
            format!("{name}@{domain}")
        }
        None => email.to_owned(),
    }
}

/// Whether an organisation can be asked for data: any party but a processor, which acts only
/// for the controller that engages it.
fn takes_requests(p: &Party) -> bool {
    p.role != crate::agreement::vocab::PartyRole::Processor
}

/// The throttle's keys for a start: who asks (`by`, an address or a token) and the mailbox.
fn start_keys(by: &str, email: &str) -> [String; 2] {
    [
        format!("access-address:{by}"),
        format!("access-email:{}", mailbox(email)),
    ]
}
/// Longest message in a request's thread, and longest reasons or conditions, in characters.
pub const MAX_MESSAGE: usize = 4000;
/// Most requests one page of the queue shows.
pub const MAX_PAGE: u64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("no such access request")]
    NotFound,
    #[error("this link is not valid: it may have been used already, or have expired")]
    BadLink,
    #[error("{0}")]
    NotAllowed(String),
    #[error("the request is {status}: it cannot be {what}")]
    WrongState { status: Status, what: &'static str },
    #[error("some answers need changing")]
    Problems(Vec<Problem>),
    #[error("the request is not complete")]
    Incomplete(Vec<(Step, Vec<Problem>)>),
    #[error("{0}")]
    BadInput(String),
    #[error("too many requests from here; try again in 15 minutes")]
    Throttled,
    #[error(
        "the requester has not confirmed their e-mail address yet: they must use the link \
         sent to it before the request can be approved"
    )]
    Unconfirmed,
    #[error("the drafted agreement has errors")]
    DraftInvalid(Vec<Diagnostic>),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    People(#[from] PeopleError),
    #[error("cannot compose the message: {0}")]
    Mail(#[from] MailError),
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl crate::failure::Failure for AccessError {
    fn kind(&self) -> crate::failure::Kind {
        use crate::failure::Kind;
        match self {
            AccessError::NotFound | AccessError::BadLink => Kind::NotFound,
            AccessError::NotAllowed(_) => Kind::Forbidden,
            AccessError::WrongState { .. } | AccessError::Unconfirmed => Kind::Conflict,
            AccessError::Problems(_) | AccessError::Incomplete(_) => Kind::Invalid,
            AccessError::BadInput(_) => Kind::BadRequest,
            AccessError::Throttled => Kind::TooMany,
            // The officer's request was fine; the draft it would make is not.
            AccessError::DraftInvalid(_) => Kind::Conflict,
            AccessError::Registry(r) => r.kind(),
            AccessError::People(p) => p.kind(),
            AccessError::Mail(_) | AccessError::Db(_) => Kind::Internal,
        }
    }
}

pub type Result<T> = std::result::Result<T, AccessError>;

/// Who is acting on a request.
pub enum Actor<'a> {
    /// The holder of the request's private link.
    Link,
    /// A signed-in person or a token.
    Principal(&'a Principal),
}

/// A request as the pages and the API show it.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
pub struct AccessRequest {
    pub id: Uuid,
    /// The reference quoted in every message: `AR-` and eight letters or digits.
    pub reference: String,
    pub status: crate::openapi_types::AccessRequestStatus,
    pub status_label: String,
    /// The requester's e-mail address.
    pub email: String,
    pub email_confirmed: bool,
    /// The requesting organisation, once the first step is saved.
    #[oai(nullable)]
    pub organisation: Option<String>,
    /// `agreement:ID` or `party:ID`, once chosen.
    #[oai(nullable)]
    pub addressed_to: Option<String>,
    #[oai(nullable)]
    pub agreement_id: Option<String>,
    #[oai(nullable)]
    pub party_id: Option<String>,
    /// The answers as typed, by question.
    #[oai(skip)]
    #[serde(skip)]
    pub answers: Answers,
    /// The answers as JSON: question name to a string or a list of strings.
    pub answers_json: serde_json::Value,
    pub created_at: String,
    #[oai(nullable)]
    pub submitted_at: Option<String>,
    /// Whole days since the request last came to the officers (0 while it is with the
    /// requester or decided).
    pub days_waiting: i64,
    /// Whole days it has spent with the requester (drafting excluded), in all.
    pub days_with_requester: i64,
    #[oai(nullable)]
    pub decided_at: Option<String>,
    /// Who decided, and their role, as the ICO form records.
    #[oai(nullable)]
    pub decided_by: Option<String>,
    #[oai(nullable)]
    pub decided_role: Option<String>,
    #[oai(nullable)]
    pub decision_reasons: Option<String>,
    /// Conditions of an approval.
    #[oai(nullable)]
    pub conditions: Option<String>,
    /// The draft agreement approval made, and its version.
    #[oai(nullable)]
    pub drafted_agreement: Option<String>,
    #[oai(nullable)]
    pub drafted_version: Option<i32>,
}

/// One message of a request's thread.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
pub struct AccessMessage {
    pub id: Uuid,
    pub at: String,
    pub author: String,
    pub from_officer: bool,
    pub body: String,
}

/// What the officers' queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// One status; `None` is every request that is with the officers or the requester and
    /// not yet decided (drafts excluded).
    pub status: Option<Status>,
    /// Addressed to this party (or to an agreement it is party to).
    pub party: Option<String>,
    /// Requests after this id (the previous page's last).
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// A page of the queue: the requests, the count matching, and the key of the next page.
pub struct QueuePage {
    pub items: Vec<AccessRequest>,
    pub total: u64,
    pub next_after: Option<Uuid>,
}

/// What approving would mean: the drafted agreement, `accord check`'s findings on it, and its
/// DPIA screening.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub agreement_id: String,
    /// The requester's party id in the draft.
    pub party_id: String,
    /// The id the organisation's name gives when another party uses it already: the
    /// requester gets `party_id` instead, unless the officer says they are that party.
    pub clash: Option<String>,
    pub yaml: String,
    pub findings: Vec<String>,
    pub errors: usize,
    /// The DPIA screening's criteria met, in words, and whether a full DPIA is needed.
    pub screening: Vec<String>,
    pub dpia_required: bool,
}

/// The access-request service: one per process, cheap to clone.
#[derive(Clone)]
pub struct Access {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    registry: Registry,
    templates: Arc<Templates>,
    public_url: String,
    service: Service,
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A message, reasons or conditions: trimmed, not blank (unless optional), capped.
fn text(value: &str, what: &str, required: bool) -> Result<String> {
    let t = value.trim();
    if required && t.is_empty() {
        return Err(AccessError::BadInput(format!("enter {what}")));
    }
    if chars(t) > MAX_MESSAGE {
        return Err(AccessError::BadInput(format!(
            "{what} must be {MAX_MESSAGE} characters or fewer"
        )));
    }
    Ok(t.to_owned())
}

/// `AR-` and eight characters from an alphabet without look-alikes.
fn new_reference() -> Result<String> {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| PeopleError::Random(e.to_string()))?;
    let code: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    Ok(format!("AR-{code}"))
}

fn whole_days(secs: i64) -> i64 {
    secs.max(0) / 86_400
}

impl Access {
    pub fn new(
        registry: Registry,
        templates: Arc<Templates>,
        public_url: &str,
        service: Service,
    ) -> Access {
        Access {
            db: registry.db().clone(),
            clock: registry.clock().clone(),
            registry,
            templates,
            public_url: public_url.trim_end_matches('/').to_owned(),
            service,
        }
    }

    /// Who runs the service, and how long requesters' details last.
    pub fn service(&self) -> &Service {
        &self.service
    }

    fn link_lifetime(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_hours(24 * i64::from(self.service.link_days))
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn view(&self, r: &row::Model) -> AccessRequest {
        let now = self.now();
        let status = Status::parse(&r.status).unwrap_or(Status::Withdrawn);
        let since = parse(&r.status_since).unwrap_or(now);
        let open_secs = (now - since).get_seconds();
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let addressed = answers.text("target");
        AccessRequest {
            id: r.id,
            reference: r.reference.clone(),
            status: status.into(),
            status_label: status.label().to_owned(),
            email: r.email.clone(),
            email_confirmed: r.email_confirmed_at.is_some(),
            organisation: r.organisation.clone(),
            addressed_to: (!addressed.is_empty()).then(|| addressed.to_owned()),
            agreement_id: r.agreement_id.clone(),
            party_id: r.party_id.clone(),
            answers_json: serde_json::to_value(&answers).unwrap_or_default(),
            answers,
            created_at: r.created_at.clone(),
            submitted_at: r.submitted_at.clone(),
            days_waiting: if matches!(status, Status::Submitted | Status::InReview) {
                whole_days(open_secs)
            } else {
                0
            },
            days_with_requester: whole_days(
                r.requester_secs
                    + if status == Status::InfoRequested {
                        open_secs
                    } else {
                        0
                    },
            ),
            decided_at: r.decided_at.clone(),
            decided_by: r.decided_by.clone(),
            decided_role: r.decided_role.clone(),
            decision_reasons: r.decision_reasons.clone(),
            conditions: r.conditions.clone(),
            drafted_agreement: r.drafted_agreement.clone(),
            drafted_version: r.drafted_version,
        }
    }

    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    // ---- reading ----------------------------------------------------------------------

    async fn row_by_link(&self, token: &str) -> Result<row::Model> {
        if token.len() != 64 {
            return Err(AccessError::BadLink);
        }
        let r = row::Entity::find()
            .filter(row::Column::ResumeHash.eq(hash_secret(token)))
            .one(&self.db)
            .await?
            .ok_or(AccessError::BadLink)?;
        let live = r
            .resume_expires_at
            .as_deref()
            .and_then(parse)
            .is_some_and(|t| t > self.now());
        if live {
            Ok(r)
        } else {
            Err(AccessError::BadLink)
        }
    }

    async fn find(&self, id: Uuid) -> Result<row::Model> {
        row::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AccessError::NotFound)
    }

    // ---- the requester ----------------------------------------------------------------

    // ---- moves ------------------------------------------------------------------------

    /// Moves `r` by `mv`, with its audit record and mail, in one transaction; `change` adds to
    /// the row's update; `message` is added to the thread.
    async fn move_to(
        &self,
        r: row::Model,
        mv: Move,
        actor: &Actor<'_>,
        now: Timestamp,
        change: impl FnOnce(&mut row::ActiveModel, &row::Model),
        message: Option<String>,
    ) -> Result<AccessRequest> {
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        // Re-read under the writers' lock, so two racing moves cannot both pass.
        let r = row::Entity::find_by_id(r.id)
            .one(&txn)
            .await?
            .ok_or(AccessError::NotFound)?;
        let from = status_of(&r);
        let Some(to) = states::next(from, mv) else {
            return Err(AccessError::WrongState {
                status: from,
                what: match mv {
                    Move::Submit => "submitted",
                    Move::StartReview => "taken into review",
                    Move::AskRequester => "sent a question",
                    Move::Answer => "answered",
                    Move::Approve => "approved",
                    Move::Reject => "rejected",
                    Move::Withdraw => "withdrawn",
                },
            });
        };
        let since = parse(&r.status_since).unwrap_or(now);
        let mut m = r.clone().into_active_model();
        if from == Status::InfoRequested {
            m.requester_secs = Set(r.requester_secs + (now - since).get_seconds().max(0));
        }
        m.status = Set(to.as_str().to_owned());
        m.status_since = Set(stamp(now));
        m.updated_at = Set(stamp(now));
        change(&mut m, &r);
        // A question goes with a fresh private link, so the requester can answer from it.
        let link = match mv {
            Move::AskRequester if r.email_confirmed_at.is_some() => {
                Some(self.new_private_link(&mut m, now)?)
            }
            _ => None,
        };
        let updated = m.update(&txn).await?;
        if let Some(body) = &message {
            self.add_message(&txn, now, &r, actor, body).await?;
        }
        log.append(
            now,
            Event {
                actor: &actor_name(actor),
                action: &format!("access.{}", mv.as_str()),
                subject: subject(&r),
                details: serde_json::json!({
                    "reference": r.reference, "from": from.as_str(), "to": to.as_str(),
                    "reasons": updated.decision_reasons,
                }),
            },
        );
        match mv {
            Move::Submit => {
                let mail = self.mail_for(&updated, "submitted", "");
                self.send(&txn, now, &r.email, Kind::AccessReceived, &mail, None)
                    .await?;
                self.notify_officers(&txn, now, &updated, Kind::AccessNew, &mail)
                    .await?;
            }
            Move::AskRequester => {
                let mut mail =
                    self.mail_for(&updated, "a question", message.as_deref().unwrap_or(""));
                if let Some(resume) = &link {
                    mail.link = self.link(&format!("/request-access/r/{resume}"));
                }
                self.send(&txn, now, &r.email, Kind::AccessQuestion, &mail, None)
                    .await?;
            }
            Move::Answer => {
                let mail = self.mail_for(
                    &updated,
                    "the requester answered",
                    message.as_deref().unwrap_or(""),
                );
                self.notify_officers(&txn, now, &updated, Kind::AccessUpdate, &mail)
                    .await?;
            }
            Move::Withdraw if from != Status::Draft => {
                let mail = self.mail_for(&updated, "withdrawn by the requester", "");
                self.notify_officers(&txn, now, &updated, Kind::AccessUpdate, &mail)
                    .await?;
            }
            Move::Reject => {
                let mut mail = self.mail_for(
                    &updated,
                    "rejected",
                    updated.decision_reasons.as_deref().unwrap_or(""),
                );
                mail.decided_by = format!(
                    "{} ({})",
                    updated.decided_by.clone().unwrap_or_default(),
                    updated.decided_role.clone().unwrap_or_default()
                );
                mail.link = String::new();
                self.send(&txn, now, &r.email, Kind::AccessDecision, &mail, None)
                    .await?;
            }
            _ => {}
        }
        log.commit(txn).await?;
        Ok(self.view(&updated))
    }

    async fn add_message(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        r: &row::Model,
        actor: &Actor<'_>,
        body: &str,
    ) -> Result<AccessMessage> {
        let (author, from_officer) = match actor {
            Actor::Link => (requester_name(r), false),
            Actor::Principal(p) if p.id == r.owner.unwrap_or_default() => {
                (requester_name(r), false)
            }
            Actor::Principal(p) => (format!("{} ({})", p.name, p.role), true),
        };
        let m = msg::ActiveModel {
            id: Set(Uuid::now_v7()),
            request_id: Set(r.id),
            at: Set(stamp(now)),
            author: Set(author),
            from_officer: Set(from_officer),
            body: Set(body.to_owned()),
        }
        .insert(txn)
        .await?;
        Ok(AccessMessage {
            id: m.id,
            at: m.at,
            author: m.author,
            from_officer: m.from_officer,
            body: m.body,
        })
    }

    /// Queues the one-time link that confirms `email` and starts a request, in `txn`.
    async fn send_confirm_link(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        email: &str,
        token: &str,
    ) -> Result<()> {
        let mail = AccessMail {
            service: self.service.organisation.clone(),
            link: self.link(&format!("/request-access/confirm/{token}")),
            ..Default::default()
        };
        self.send(txn, now, email, Kind::AccessConfirm, &mail, None)
            .await
    }

    fn mail_for(&self, r: &row::Model, what: &str, message: &str) -> AccessMail {
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        AccessMail {
            reference: r.reference.clone(),
            organisation: r.organisation.clone().unwrap_or_else(|| r.email.clone()),
            addressed: answers.text("target").to_owned(),
            service: self.service.organisation.clone(),
            what: what.to_owned(),
            message: message.to_owned(),
            conditions: String::new(),
            decided_by: String::new(),
            link: self.link(&format!("/access-requests/{}", r.id)),
            agreement_link: String::new(),
        }
    }

    async fn send(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        to: &str,
        kind: Kind,
        mail: &AccessMail,
        key: Option<String>,
    ) -> Result<()> {
        let composed = self.templates.access(kind, mail)?;
        enqueue(
            txn,
            now,
            &NewMessage::new(to, kind, composed).dedupe_key(key),
        )
        .await?;
        Ok(())
    }

    /// Mails every IG officer with an account (not disabled).
    async fn notify_officers(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        r: &row::Model,
        kind: Kind,
        mail: &AccessMail,
    ) -> Result<()> {
        let officers = user::Entity::find()
            .filter(user::Column::Role.eq(Role::IgOfficer.to_string()))
            .filter(user::Column::DisabledAt.is_null())
            .order_by_asc(user::Column::Email)
            .limit(200)
            .all(txn)
            .await?;
        let mut mail = mail.clone();
        mail.link = self.link(&format!("/access-requests/{}", r.id));
        for o in officers {
            self.send(txn, now, &o.email, kind, &mail, None).await?;
        }
        Ok(())
    }

    /// The row an actor may act on as the requester: the link's own request, or one the
    /// calling token made (officers act on any by id).
    async fn resolve(&self, actor: &Actor<'_>, id_or_link: Either<'_>) -> Result<row::Model> {
        match (actor, id_or_link) {
            (Actor::Link, Either::Link(token)) => self.row_by_link(token).await,
            (Actor::Principal(p), Either::Id(id)) => {
                let r = self.find(id).await?;
                let owns = r.owner == Some(p.id);
                if owns || p.allow(crate::auth::OFFICERS).is_ok() {
                    Ok(r)
                } else if p.allow(crate::auth::READERS).is_ok() {
                    Err(AccessError::NotAllowed(
                        "only the requester or an officer may do this".into(),
                    ))
                } else {
                    Err(AccessError::NotFound)
                }
            }
            _ => Err(AccessError::BadLink),
        }
    }
}

/// A request named by its private link or by its id.
#[derive(Clone, Copy)]
pub enum Either<'a> {
    Link(&'a str),
    Id(Uuid),
}

enum Target {
    Agreement(Box<Agreement>),
    Party(Box<Party>),
}

fn status_of(r: &row::Model) -> Status {
    // A damaged status fails closed: withdrawn takes no move.
    Status::parse(&r.status).unwrap_or(Status::Withdrawn)
}

fn subject(r: &row::Model) -> String {
    format!("access_request:{}", r.id)
}

fn email_problem() -> Problem {
    Problem {
        field: "email",
        message: "Enter an e-mail address in the correct format, like name@example.org".into(),
    }
}

fn requester_name(r: &row::Model) -> String {
    let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
    match answers.text("requester_name") {
        "" => "The requester".to_owned(),
        n => format!("{n} (requester)"),
    }
}

fn actor_name(actor: &Actor<'_>) -> String {
    match actor {
        Actor::Link => "requester".to_owned(),
        Actor::Principal(p) => p.actor(),
    }
}

fn officer(who: &Principal) -> Result<()> {
    who.allow(crate::auth::OFFICERS)
        .map(|_| ())
        .map_err(|d| AccessError::NotAllowed(d.to_string()))
}

/// Who may see a request: readers, and the token that made it.
fn may_see(who: &Principal, r: &row::Model) -> Result<()> {
    if r.owner == Some(who.id) || who.allow(crate::auth::READERS).is_ok() {
        Ok(())
    } else {
        Err(AccessError::NotFound)
    }
}

/// The indexed columns the answers decide: organisation, and what is addressed.
fn addressed_columns(a: &Answers) -> (Option<String>, Option<String>, Option<String>) {
    let org = Some(a.text("org_name").to_owned()).filter(|s| !s.is_empty());
    let target = a.text("target");
    let agreement = target.strip_prefix("agreement:").map(str::to_owned);
    let party = target.strip_prefix("party:").map(str::to_owned);
    (org, agreement, party)
}
