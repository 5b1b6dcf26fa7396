//! The access-request use cases. Each change is one transaction: the request's row, its audit
//! record and the mail it causes commit together (approval adds the drafted version to the
//! registry in the same transaction).
//!
//! Who acts: a **requester** (the person holding the private link, or the API token that made
//! the request) or an **officer** (`admin`, `ig_officer`). Readers (and auditors) may look.

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

    /// The request a private link opens. An unknown or unconfirmed link is [`AccessError::BadLink`].
    pub async fn by_link(&self, token: &str) -> Result<AccessRequest> {
        Ok(self.view(&self.row_by_link(token).await?))
    }

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

    /// One request, for someone who may see it: readers, or the token that made it.
    pub async fn get(&self, who: &Principal, id: Uuid) -> Result<AccessRequest> {
        let r = self.find(id).await?;
        may_see(who, &r)?;
        Ok(self.view(&r))
    }

    async fn find(&self, id: Uuid) -> Result<row::Model> {
        row::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AccessError::NotFound)
    }

    /// The approved requests that drafted versions of `agreement_id` (the link back from the
    /// agreement to its requests), oldest first; at most 100.
    pub async fn drafted_into(&self, agreement_id: &str) -> Result<Vec<AccessRequest>> {
        let rows = row::Entity::find()
            .filter(row::Column::DraftedAgreement.eq(agreement_id))
            .order_by_asc(row::Column::Id)
            .limit(100)
            .all(&self.db)
            .await?;
        Ok(rows.iter().map(|r| self.view(r)).collect())
    }

    /// A request's thread, oldest first.
    pub async fn messages(&self, id: Uuid) -> Result<Vec<AccessMessage>> {
        let rows = msg::Entity::find()
            .filter(msg::Column::RequestId.eq(id))
            .order_by_asc(msg::Column::Id)
            .limit(1000)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| AccessMessage {
                id: m.id,
                at: m.at,
                author: m.author,
                from_officer: m.from_officer,
                body: m.body,
            })
            .collect())
    }

    /// The officers' queue: one indexed query and a count, paged by key, newest last.
    pub async fn queue(&self, who: &Principal, f: &QueueFilter) -> Result<QueuePage> {
        who.allow(crate::auth::READERS)
            .map_err(|d| AccessError::NotAllowed(d.to_string()))?;
        let mut cond = Condition::all();
        cond = match f.status {
            Some(s) => cond.add(row::Column::Status.eq(s.as_str())),
            None => cond.add(row::Column::Status.is_in([
                Status::Submitted.as_str(),
                Status::InReview.as_str(),
                Status::InfoRequested.as_str(),
            ])),
        };
        if let Some(p) = &f.party {
            cond = cond.add(row::Column::PartyId.eq(p.as_str()));
        }
        let total = row::Entity::find()
            .filter(cond.clone())
            .count(&self.db)
            .await?;
        if let Some(after) = f.after {
            cond = cond.add(row::Column::Id.gt(after));
        }
        let limit = f.limit.clamp(1, MAX_PAGE);
        let rows = row::Entity::find()
            .filter(cond)
            .order_by_asc(row::Column::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > limit;
        let items: Vec<AccessRequest> = rows
            .iter()
            .take(limit as usize)
            .map(|r| self.view(r))
            .collect();
        let next_after = more.then(|| items.last().map(|r| r.id)).flatten();
        Ok(QueuePage {
            items,
            total,
            next_after,
        })
    }

    /// What the form may offer: the published agreements in force, and the organisations
    /// party to them that take requests (not processors, which act for another); when an
    /// agreement is addressed, its fields and data subjects. Nothing else is named.
    pub async fn choices(&self, answers: &Answers) -> Result<Choices> {
        let in_force = self.registry.agreements_in_force().await?;
        let in_force: Vec<_> = in_force.iter().filter(|(_, a)| a.published()).collect();
        let mut c = Choices::default();
        let mut parties: Vec<(String, String)> = Vec::new();
        for (_, a) in &in_force {
            c.targets.push((
                format!("agreement:{}", a.id),
                format!("Agreement: {}", a.title),
            ));
            for p in a.parties.iter().filter(|p| takes_requests(p)) {
                if !parties.iter().any(|(id, _)| id == p.id.as_str()) {
                    parties.push((p.id.to_string(), p.name.clone()));
                }
            }
        }
        parties.sort_by(|x, y| x.1.cmp(&y.1));
        c.targets.extend(
            parties
                .into_iter()
                .map(|(id, name)| (format!("party:{id}"), format!("Organisation: {name}"))),
        );
        if let Some(id) = answers.text("target").strip_prefix("agreement:")
            && let Some((_, a)) = in_force.iter().find(|(_, a)| a.id.as_str() == id)
        {
            c = c.with_agreement(a);
        }
        Ok(c)
    }

    /// What the request is addressed to, from the registry as it is now.
    async fn addressed(&self, answers: &Answers) -> Result<Target> {
        let target = answers.text("target");
        let in_force = self.registry.agreements_in_force().await?;
        let in_force: Vec<_> = in_force.iter().filter(|(_, a)| a.published()).collect();
        if let Some(id) = target.strip_prefix("agreement:")
            && let Some((_, a)) = in_force.iter().find(|(_, a)| a.id.as_str() == id)
        {
            return Ok(Target::Agreement(Box::new((***a).clone())));
        }
        if let Some(id) = target.strip_prefix("party:") {
            for (_, a) in &in_force {
                if let Some(p) = a
                    .parties
                    .iter()
                    .find(|p| p.id.as_str() == id && takes_requests(p))
                {
                    return Ok(Target::Party(Box::new(p.clone())));
                }
            }
        }
        Err(AccessError::BadInput(
            "the agreement or organisation this request is addressed to is no longer in force"
                .into(),
        ))
    }

    /// The draft approval would make now, with its findings and DPIA screening.
    pub async fn preview(&self, id: Uuid) -> Result<Preview> {
        let r = self.find(id).await?;
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let draft = self.draft(&r, &answers, None).await?;
        let checked =
            crate::check::check_blocking(draft.yaml.clone().into_bytes(), self.clock.today()).await;
        let findings: Vec<String> = checked
            .diagnostics
            .iter()
            .map(|d| format!("line {}: {} {}", d.pos.line, d.severity(), d.message))
            .collect();
        let errors = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        let (screening, dpia_required) = match &checked.agreement {
            Some(a) => {
                let s = crate::dpia::screening::screen(a);
                (
                    s.fired_criteria().map(|c| c.title.to_owned()).collect(),
                    s.outcome == crate::dpia::screening::Outcome::Required,
                )
            }
            None => (Vec::new(), false),
        };
        Ok(Preview {
            agreement_id: draft.agreement_id,
            party_id: draft.party_id,
            clash: draft.clash,
            yaml: draft.yaml,
            findings,
            errors,
            screening,
            dpia_required,
        })
    }

    async fn draft(
        &self,
        r: &row::Model,
        answers: &Answers,
        as_party: Option<&str>,
    ) -> Result<drafting::Draft> {
        let target = self.addressed(answers).await?;
        let choices = self.choices(answers).await?;
        let taken = self.party_ids_in_use().await?;
        if let Some(id) = as_party
            && !self.registry.party_exists(id).await?
        {
            return Err(AccessError::BadInput(format!(
                "no agreement has a party '{id}' to map the requester to"
            )));
        }
        let addressed = match &target {
            Target::Agreement(a) => Addressed::Agreement(a),
            Target::Party(p) => Addressed::Organisation(p),
        };
        let d = Drafting {
            addressed,
            reference: &r.reference,
            today: self.clock.today(),
            choices: &choices,
            taken: &taken,
            as_party,
        };
        let mut drafted =
            drafting::draft(answers, &d).map_err(|e| AccessError::BadInput(e.to_string()))?;
        if matches!(target, Target::Party(_)) {
            // A new agreement needs an id nobody has used.
            let base = drafted.agreement_id.clone();
            let mut n = 2;
            while self.registry.agreement(&drafted.agreement_id).await.is_ok() {
                let id = format!("{base}-{n}");
                drafted.yaml = drafted.yaml.replacen(
                    &format!("\nid: {}\n", drafted.agreement_id),
                    &format!("\nid: {id}\n"),
                    1,
                );
                drafted.agreement_id = id;
                n += 1;
            }
        }
        Ok(drafted)
    }

    /// Every party id in use: named by any agreement, or bound to an account or a token.
    async fn party_ids_in_use(&self) -> Result<Vec<String>> {
        let mut ids = self.registry.party_ids().await?;
        let accounts: Vec<Option<String>> = user::Entity::find()
            .select_only()
            .column(user::Column::PartyId)
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?;
        let tokens: Vec<Option<String>> = api_token::Entity::find()
            .select_only()
            .column(api_token::Column::PartyId)
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?;
        ids.extend(accounts.into_iter().chain(tokens).flatten());
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    // ---- the requester ----------------------------------------------------------------

    /// Starts a request for `email` (from `address`): a draft, and a one-time link to confirm
    /// the address, sent through the outbox. Throttled per address and per e-mail. The answer
    /// is the same whether or not the e-mail has requests already, so nothing is revealed.
    pub async fn start(&self, email: &str, address: &str) -> Result<()> {
        let email = people::normal_email(email)
            .map_err(|_| AccessError::Problems(vec![email_problem()]))?;
        let now = self.now();
        let keys = start_keys(address, &email);
        self.admit(now, &keys).await?;
        let token = random_secret()?;
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        throttle::note(&txn, now, &keys).await?;
        let r = self
            .insert(&txn, now, &email, Some(&token), None, Answers::default())
            .await?;
        log.append(
            now,
            Event {
                actor: "requester",
                action: "access.started",
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference, "email": email }),
            },
        );
        let mail = AccessMail {
            service: self.service.organisation.clone(),
            link: self.link(&format!("/request-access/confirm/{token}")),
            ..Default::default()
        };
        self.send(&txn, now, &email, Kind::AccessConfirm, &mail, None)
            .await?;
        log.commit(txn).await?;
        Ok(())
    }

    /// `Err(Throttled)` once the asker or the mailbox has started its share of requests in
    /// the window: the same limits for the public form and the API.
    async fn admit(&self, now: Timestamp, [by, mailbox]: &[String; 2]) -> Result<()> {
        if throttle::count_recent(&self.db, now, by).await? >= STARTS_PER_ADDRESS
            || throttle::count_recent(&self.db, now, mailbox).await? >= STARTS_PER_EMAIL
        {
            return Err(AccessError::Throttled);
        }
        Ok(())
    }

    async fn insert(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        email: &str,
        confirm_token: Option<&str>,
        owner: Option<Uuid>,
        answers: Answers,
    ) -> Result<row::Model> {
        let mut reference = new_reference()?;
        while row::Entity::find()
            .filter(row::Column::Reference.eq(&reference))
            .count(txn)
            .await?
            > 0
        {
            reference = new_reference()?;
        }
        let at = stamp(now);
        let (organisation, agreement_id, party_id) = addressed_columns(&answers);
        let model = row::ActiveModel {
            id: Set(Uuid::now_v7()),
            reference: Set(reference),
            status: Set(Status::Draft.as_str().to_owned()),
            email: Set(email.to_owned()),
            email_confirmed_at: Set(None),
            confirm_hash: Set(confirm_token.map(hash_secret)),
            confirm_expires_at: Set(
                confirm_token.map(|_| stamp(people::after(now, CONFIRM_LIFETIME)))
            ),
            resume_hash: Set(None),
            resume_expires_at: Set(None),
            erased_at: Set(None),
            owner: Set(owner),
            answers: Set(serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into())),
            organisation: Set(organisation),
            agreement_id: Set(agreement_id),
            party_id: Set(party_id),
            created_at: Set(at.clone()),
            updated_at: Set(at.clone()),
            submitted_at: Set(None),
            status_since: Set(at),
            requester_secs: Set(0),
            decided_at: Set(None),
            decided_by: Set(None),
            decided_role: Set(None),
            decision_reasons: Set(None),
            conditions: Set(None),
            drafted_agreement: Set(None),
            drafted_version: Set(None),
        };
        Ok(model.insert(txn).await?)
    }

    /// Uses a confirmation link (once): the e-mail address is confirmed, and the private link
    /// is made, sent by mail, and returned so the requester can go straight on.
    pub async fn confirm(&self, token: &str) -> Result<(AccessRequest, String)> {
        if token.len() != 64 {
            return Err(AccessError::BadLink);
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let Some(r) = row::Entity::find()
            .filter(row::Column::ConfirmHash.eq(hash_secret(token)))
            .one(&txn)
            .await?
        else {
            return Err(AccessError::BadLink);
        };
        let expired = r
            .confirm_expires_at
            .as_deref()
            .and_then(parse)
            .is_none_or(|t| t <= now);
        if expired {
            return Err(AccessError::BadLink);
        }
        let mut m = r.clone().into_active_model();
        m.confirm_hash = Set(None);
        m.confirm_expires_at = Set(None);
        m.email_confirmed_at = Set(Some(stamp(now)));
        let (r, resume) = self
            .send_private_link(&txn, &mut log, now, m, "access.email_confirmed")
            .await?;
        log.commit(txn).await?;
        Ok((self.view(&r), resume))
    }

    /// Gives `m`'s request a new private link, saves it, audits `action` and mails the link to
    /// the requester: what confirming an address and renewing a link both do.
    async fn send_private_link(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        now: Timestamp,
        mut m: row::ActiveModel,
        action: &str,
    ) -> Result<(row::Model, String)> {
        let resume = self.new_private_link(&mut m, now)?;
        m.updated_at = Set(stamp(now));
        let r = m.update(txn).await?;
        log.append(
            now,
            Event {
                actor: "requester",
                action,
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference }),
            },
        );
        let mail = AccessMail {
            reference: r.reference.clone(),
            link: self.link(&format!("/request-access/r/{resume}")),
            ..Default::default()
        };
        self.send(txn, now, &r.email, Kind::AccessLink, &mail, None)
            .await?;
        Ok((r, resume))
    }

    /// A new private link for a request: its hash and lifetime set on `m` (the old link stops
    /// working), and the link to mail.
    fn new_private_link(&self, m: &mut row::ActiveModel, now: Timestamp) -> Result<String> {
        let resume = random_secret()?;
        m.resume_hash = Set(Some(hash_secret(&resume)));
        m.resume_expires_at = Set(Some(stamp(now + self.link_lifetime())));
        Ok(resume)
    }

    /// Sends `email` a new private link for each of its requests not yet decided or
    /// withdrawn whose address was confirmed (the old link stops working). Throttled as a
    /// start is, and the answer is the same whether or not there are any, so nothing is
    /// revealed about the address.
    pub async fn renew(&self, email: &str, address: &str) -> Result<()> {
        let email = people::normal_email(email)
            .map_err(|_| AccessError::Problems(vec![email_problem()]))?;
        let now = self.now();
        let keys = start_keys(address, &email);
        self.admit(now, &keys).await?;
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        throttle::note(&txn, now, &keys).await?;
        let open = row::Entity::find()
            .filter(row::Column::Email.eq(email.as_str()))
            .filter(row::Column::EmailConfirmedAt.is_not_null())
            .all(&txn)
            .await?;
        for r in open.into_iter().filter(|r| !status_of(r).is_final()) {
            self.send_private_link(
                &txn,
                &mut log,
                now,
                r.into_active_model(),
                "access.link_renewed",
            )
            .await?;
        }
        log.commit(txn).await?;
        Ok(())
    }

    /// Erases the requester's personal details from every request closed (approved, rejected
    /// or withdrawn) more than the kept period ago, as the privacy notice promises: the e-mail
    /// address, the people's names, roles and addresses among the answers, and the thread's
    /// messages; its links stop working. The reference, the organisation and the dates stay,
    /// for the record and the figures. One transaction, audited with how many (no details).
    pub async fn erase_closed(&self) -> Result<u64> {
        let now = self.now();
        let before =
            now - jiff::SignedDuration::from_hours(24 * i64::from(self.service.keep_closed_days));
        let closed = [Status::Approved, Status::Rejected, Status::Withdrawn].map(Status::as_str);
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let due = row::Entity::find()
            .filter(row::Column::Status.is_in(closed))
            .filter(row::Column::StatusSince.lt(stamp(before)))
            .filter(row::Column::ErasedAt.is_null())
            .all(&txn)
            .await?;
        for r in &due {
            let mut answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
            for key in PERSONAL_ANSWERS {
                answers.0.remove(key);
            }
            let mut m = r.clone().into_active_model();
            m.email = Set(String::new());
            m.answers = Set(serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into()));
            m.confirm_hash = Set(None);
            m.confirm_expires_at = Set(None);
            m.resume_hash = Set(None);
            m.resume_expires_at = Set(None);
            m.erased_at = Set(Some(stamp(now)));
            m.update(&txn).await?;
            msg::Entity::update_many()
                .col_expr(
                    msg::Column::Body,
                    sea_orm::sea_query::Expr::value("(erased)"),
                )
                .filter(msg::Column::RequestId.eq(r.id))
                .exec(&txn)
                .await?;
        }
        let erased = due.len() as u64;
        if erased > 0 {
            log.append(
                now,
                Event {
                    actor: "scheduler",
                    action: "access.erased",
                    subject: "access_requests".to_owned(),
                    details: serde_json::json!({
                        "requests": erased,
                        "closed_before": stamp(before),
                        "kept_days": self.service.keep_closed_days,
                    }),
                },
            );
        }
        log.commit(txn).await?;
        Ok(erased)
    }

    /// Saves one step's answers from a posted form, if they pass; else every problem, and
    /// nothing saved. Only while the request is a draft or waiting for the requester.
    pub async fn save_step(
        &self,
        token: &str,
        step: Step,
        posted: &[(String, String)],
    ) -> Result<AccessRequest> {
        let r = self.row_by_link(token).await?;
        let status = status_of(&r);
        if !status.with_requester() {
            return Err(AccessError::WrongState {
                status,
                what: "changed",
            });
        }
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let answers = answers.with_step(step, posted);
        let choices = self.choices(&answers).await?;
        let problems = form::check_step(step, &answers, &choices, self.clock.today());
        if !problems.is_empty() {
            return Err(AccessError::Problems(problems));
        }
        let (organisation, agreement_id, party_id) = addressed_columns(&answers);
        let mut m = r.into_active_model();
        m.answers = Set(serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into()));
        m.organisation = Set(organisation);
        m.agreement_id = Set(agreement_id);
        m.party_id = Set(party_id);
        m.updated_at = Set(stamp(self.now()));
        let r = m.update(&self.db).await?;
        Ok(self.view(&r))
    }

    /// Every step's problems (the task list), for the request's current answers.
    pub async fn progress(&self, req: &AccessRequest) -> Result<Vec<(Step, Vec<Problem>)>> {
        let choices = self.choices(&req.answers).await?;
        Ok(form::check_all(&req.answers, &choices, self.clock.today()))
    }

    /// Makes a request through the API, with all its answers at once: every problem of
    /// every step, or a draft owned by the calling token (it acts as the requester). The
    /// e-mail address gets its confirmation link, so the person can also use the pages.
    pub async fn create(
        &self,
        who: &Principal,
        email: &str,
        answers: Answers,
    ) -> Result<AccessRequest> {
        who.allow(crate::auth::REQUESTERS)
            .map_err(|d| AccessError::NotAllowed(d.to_string()))?;
        let email = people::normal_email(email)
            .map_err(|_| AccessError::Problems(vec![email_problem()]))?;
        let choices = self.choices(&answers).await?;
        let problems: Vec<Problem> = form::check_all(&answers, &choices, self.clock.today())
            .into_iter()
            .flat_map(|(_, p)| p)
            .collect();
        if !problems.is_empty() {
            return Err(AccessError::Problems(problems));
        }
        let now = self.now();
        let keys = start_keys(&format!("token:{}", who.id), &email);
        self.admit(now, &keys).await?;
        let token = random_secret()?;
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        throttle::note(&txn, now, &keys).await?;
        let r = self
            .insert(&txn, now, &email, Some(&token), Some(who.id), answers)
            .await?;
        log.append(
            now,
            Event {
                actor: &who.actor(),
                action: "access.started",
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference, "email": email, "through": "api" }),
            },
        );
        let mail = AccessMail {
            service: self.service.organisation.clone(),
            link: self.link(&format!("/request-access/confirm/{token}")),
            ..Default::default()
        };
        self.send(&txn, now, &email, Kind::AccessConfirm, &mail, None)
            .await?;
        log.commit(txn).await?;
        Ok(self.view(&r))
    }

    // ---- moves ------------------------------------------------------------------------

    /// Submits a complete draft. A second submit is refused (409), so one request results.
    pub async fn submit(&self, actor: Actor<'_>, id_or_link: Either<'_>) -> Result<AccessRequest> {
        let r = self.resolve(&actor, id_or_link).await?;
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let choices = self.choices(&answers).await?;
        let progress = form::check_all(&answers, &choices, self.clock.today());
        if progress.iter().any(|(_, p)| !p.is_empty()) {
            return Err(AccessError::Incomplete(
                progress
                    .into_iter()
                    .filter(|(_, p)| !p.is_empty())
                    .collect(),
            ));
        }
        let now = self.now();
        self.move_to(
            r,
            Move::Submit,
            &actor,
            now,
            |m, _| {
                m.submitted_at = Set(Some(stamp(now)));
            },
            None,
        )
        .await
    }

    /// The requester answers the officer's question: a message, and the request goes back to
    /// review.
    pub async fn answer(
        &self,
        actor: Actor<'_>,
        id_or_link: Either<'_>,
        body: &str,
    ) -> Result<AccessRequest> {
        let body = text(body, "your answer", true)?;
        let r = self.resolve(&actor, id_or_link).await?;
        self.move_to(r, Move::Answer, &actor, self.now(), |_, _| {}, Some(body))
            .await
    }

    /// The requester withdraws the request.
    pub async fn withdraw(
        &self,
        actor: Actor<'_>,
        id_or_link: Either<'_>,
    ) -> Result<AccessRequest> {
        let r = self.resolve(&actor, id_or_link).await?;
        self.move_to(r, Move::Withdraw, &actor, self.now(), |_, _| {}, None)
            .await
    }

    /// An officer picks the request up.
    pub async fn start_review(&self, who: &Principal, id: Uuid) -> Result<AccessRequest> {
        officer(who)?;
        let r = self.find(id).await?;
        self.move_to(
            r,
            Move::StartReview,
            &Actor::Principal(who),
            self.now(),
            |_, _| {},
            None,
        )
        .await
    }

    /// An officer asks the requester a question (a message; the request waits for them).
    pub async fn ask(&self, who: &Principal, id: Uuid, question: &str) -> Result<AccessRequest> {
        officer(who)?;
        let question = text(question, "your question", true)?;
        let r = self.find(id).await?;
        self.move_to(
            r,
            Move::AskRequester,
            &Actor::Principal(who),
            self.now(),
            |_, _| {},
            Some(question),
        )
        .await
    }

    /// A message in the thread without a move: from an officer, or the requester.
    pub async fn post_message(
        &self,
        actor: Actor<'_>,
        id_or_link: Either<'_>,
        body: &str,
    ) -> Result<AccessMessage> {
        let body = text(body, "a message", true)?;
        let r = self.resolve(&actor, id_or_link).await?;
        if status_of(&r).is_final() {
            return Err(AccessError::WrongState {
                status: status_of(&r),
                what: "written to",
            });
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let m = self.add_message(&txn, now, &r, &actor, &body).await?;
        log.append(
            now,
            Event {
                actor: &actor_name(&actor),
                action: "access.message",
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference, "from_officer": m.from_officer }),
            },
        );
        let mail = self.mail_for(&r, "a new message", &body);
        if m.from_officer {
            self.send(
                &txn,
                now,
                &r.email,
                Kind::AccessUpdate,
                &AccessMail {
                    link: String::new(),
                    ..mail
                },
                None,
            )
            .await?;
        } else {
            self.notify_officers(&txn, now, &r, Kind::AccessUpdate, &mail)
                .await?;
        }
        log.commit(txn).await?;
        Ok(m)
    }

    /// Rejects the request, with reasons.
    pub async fn reject(&self, who: &Principal, id: Uuid, reasons: &str) -> Result<AccessRequest> {
        officer(who)?;
        let reasons = text(reasons, "the reasons", true)?;
        let r = self.find(id).await?;
        let now = self.now();
        let by = who.name.clone();
        let role = who.role.to_string();
        self.move_to(
            r,
            Move::Reject,
            &Actor::Principal(who),
            now,
            |m, _| {
                m.decided_at = Set(Some(stamp(now)));
                m.decided_by = Set(Some(by));
                m.decided_role = Set(Some(role));
                m.decision_reasons = Set(Some(reasons));
            },
            None,
        )
        .await
    }

    /// Approves the request, with reasons and any conditions: drafts the agreement into the
    /// registry (in the same transaction), and, for the requester's organisation, makes a
    /// signatory account for the requester (unless one exists) whose set-password link goes in
    /// the decision's message.
    pub async fn approve(
        &self,
        who: &Principal,
        id: Uuid,
        reasons: &str,
        conditions: &str,
        as_party: Option<&str>,
    ) -> Result<AccessRequest> {
        officer(who)?;
        let reasons = text(reasons, "the reasons", true)?;
        let conditions = text(conditions, "the conditions", false)?;
        let r = self.find(id).await?;
        let status = status_of(&r);
        if states::next(status, Move::Approve).is_none() {
            return Err(AccessError::WrongState {
                status,
                what: "approved",
            });
        }
        if r.email_confirmed_at.is_none() {
            return Err(AccessError::Unconfirmed);
        }
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let drafted = self.draft(&r, &answers, as_party).await?;
        let checked =
            crate::check::check_blocking(drafted.yaml.clone().into_bytes(), self.clock.today())
                .await;
        if checked.agreement.is_none() {
            return Err(AccessError::DraftInvalid(checked.diagnostics));
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        // Re-read under the writers' lock: a racing decision loses here.
        let r = row::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AccessError::NotFound)?;
        let status = status_of(&r);
        if states::next(status, Move::Approve).is_none() {
            return Err(AccessError::WrongState {
                status,
                what: "approved",
            });
        }
        let account_link = self
            .signatory_account(&txn, &mut log, now, &r, &drafted.party_id, who)
            .await?;
        let mut m = r.clone().into_active_model();
        m.status = Set(Status::Approved.as_str().to_owned());
        m.status_since = Set(stamp(now));
        m.updated_at = Set(stamp(now));
        m.decided_at = Set(Some(stamp(now)));
        m.decided_by = Set(Some(who.name.clone()));
        m.decided_role = Set(Some(who.role.to_string()));
        m.decision_reasons = Set(Some(reasons.clone()));
        m.conditions = Set((!conditions.is_empty()).then(|| conditions.clone()));
        m.drafted_agreement = Set(Some(drafted.agreement_id.clone()));
        let updated = m.update(&txn).await?;
        log.append(
            now,
            Event {
                actor: &who.actor(),
                action: "access.approved",
                subject: subject(&r),
                details: serde_json::json!({
                    "reference": r.reference, "reasons": reasons, "conditions": conditions,
                    "agreement": drafted.agreement_id, "role": who.role.to_string(),
                    "party": drafted.party_id, "mapped_to_existing_party": as_party.is_some(),
                }),
            },
        );
        let mut mail = self.mail_for(
            &r,
            if conditions.is_empty() {
                "approved"
            } else {
                "approved with conditions"
            },
            &reasons,
        );
        mail.conditions = conditions.clone();
        mail.decided_by = format!("{} ({})", who.name, who.role);
        mail.link = account_link.unwrap_or_default();
        // An agreement id is a slug: safe in a path as it is.
        mail.agreement_link = self.link(&format!("/agreements/{}", drafted.agreement_id));
        self.send(&txn, now, &r.email, Kind::AccessDecision, &mail, None)
            .await?;
        let info = self
            .registry
            .add_version_in(txn, log, &drafted.yaml, &who.actor())
            .await
            .map_err(|e| match e {
                RegistryError::Invalid(d) => AccessError::DraftInvalid(d),
                other => AccessError::Registry(other),
            })?;
        // The version's number is known only once stored; record it (a second, small write).
        let mut m = updated.into_active_model();
        m.drafted_version = Set(Some(info.number));
        let updated = m.update(&self.db).await?;
        Ok(self.view(&updated))
    }

    /// A signatory account for the requester at their organisation's new party, with a
    /// set-password link, unless they have an account already.
    async fn signatory_account(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        now: Timestamp,
        r: &row::Model,
        party: &str,
        who: &Principal,
    ) -> Result<Option<String>> {
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let exists = user::Entity::find()
            .filter(user::Column::Email.eq(r.email.as_str()))
            .count(txn)
            .await?
            > 0;
        if exists {
            return Ok(None);
        }
        let name = match answers.text("requester_name") {
            "" => r.email.as_str(),
            n => n,
        };
        let (_, link) = people::accounts::create_in(
            txn,
            log,
            now,
            people::NewUser {
                email: &r.email,
                name,
                role: Role::Signatory,
                party: Some(party),
            },
            &who.actor(),
        )
        .await?;
        Ok(Some(self.link(&format!("/set-password/{link}"))))
    }

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
