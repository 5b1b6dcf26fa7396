//! The handover use cases: what each contractor owes, submissions, an officer's accept or
//! return, items an officer adds, and completing an engagement. Each change is one
//! transaction under the writers' lock: the item, its submission or review, its audit record,
//! the search entry and the mail it causes commit together.
//!
//! Who may: a **contractor** (role `contractor`, bound to its party) sees and submits only its
//! own party's items; **officers** (`admin`, `ig_officer`) add, accept, return and complete;
//! **readers** (officers and auditors) see everything. Anyone else is refused.
//!
//! One file a use case: [`read`] (what each reader may see, search), [`submit`], [`reviewing`]
//! (accept, return), [`officers`] (add an item, complete an engagement). This file holds the types, the
//! errors, and what they share: an item's view, its mail, its audit record.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::files::{self, MAX_ATTACHMENTS, Refused};
use super::items::{self, Declared, Kind, Move, State};
use super::search;
use super::secrets;
use crate::agreement::model::Agreement;
use crate::audit::{Event, Writer};
use crate::auth::{HANDOVER_READERS, OFFICERS, Principal, READERS, Role};
use crate::clock::Clock;
use crate::mail::compose::{HandoverMail, Templates};
use crate::mail::outbox::{NewMessage, enqueue};
use crate::mail::{Kind as MailKind, MailError, recipients};
use crate::registry::engagements::EndedEarly;
use crate::registry::{Registry, RegistryError, handover_items};
use crate::store::entity::{
    handover_attachment as attachment, handover_engagement as engagement, handover_item as item,
    handover_review as review, handover_submission as submission, holding, user,
};
use crate::store::time::stamp;

mod officers;
mod read;
mod reviewing;
mod submit;

/// Longest submission text, in characters.
pub const MAX_BODY: usize = 64 * 1024;
/// Longest title, comment or reason, in characters.
pub const MAX_TEXT: usize = 4000;
/// Most credentials one access-revocation submission lists.
pub const MAX_CREDENTIALS: usize = 200;
/// Longest entry in a credential's row, in characters.
pub const MAX_CELL: usize = 200;
/// The largest request that carries a whole submission: the attachments at their allowance as
/// base64 (4 bytes for every 3), and the text and credentials at their caps with every
/// character JSON-escaped (6 bytes each), with room for the framing.
pub const MAX_SUBMISSION_BODY: usize =
    files::MAX_ATTACHMENTS * files::MAX_ATTACHMENT_BYTES.div_ceil(3) * 4
        + MAX_BODY * 6
        + MAX_CREDENTIALS * 3 * MAX_CELL * 6
        + 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("the item is {}: it cannot be {what}", state.as_str())]
    WrongState { state: State, what: &'static str },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadInput(String),
    /// The access-revocation rows are missing, malformed, or not asked for: every problem.
    #[error("{}", .0.join("; "))]
    Credentials(Vec<String>),
    /// A submission's text, a credential's row or a text attachment looks like a secret.
    #[error("{field}: {}", secret_message(file.as_deref(), found))]
    Secret {
        field: &'static str,
        /// The attachment it is in, if it is in one.
        file: Option<String>,
        found: secrets::Found,
    },
    /// An attachment of a kind that cannot be read for secrets, on the item that lists
    /// credentials.
    #[error(
        "{0}: the access-revocation item takes only text, Markdown or CSV attachments, which \
         can be checked for secrets; describe the credentials in the table instead"
    )]
    Unreadable(String),
    #[error(transparent)]
    Attachment(#[from] Refused),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("cannot compose the message: {0}")]
    Mail(#[from] MailError),
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A fault of the server (the knowledge pack's template will not render): logged, answered
    /// as an internal error.
    #[error("{0}")]
    Internal(String),
}

impl crate::failure::Failure for HandoverError {
    fn kind(&self) -> crate::failure::Kind {
        use crate::failure::Kind;
        match self {
            HandoverError::NotFound(_) => Kind::NotFound,
            HandoverError::NotAllowed(_) => Kind::Forbidden,
            HandoverError::WrongState { .. } | HandoverError::Conflict(_) => Kind::Conflict,
            HandoverError::BadInput(_) | HandoverError::Credentials(_) => Kind::BadRequest,
            HandoverError::Secret { .. } => Kind::Invalid,
            HandoverError::Unreadable(_) => Kind::Unsupported,
            HandoverError::Attachment(Refused::TooBig { .. } | Refused::TooMany) => Kind::TooLarge,
            HandoverError::Attachment(Refused::Type { .. }) => Kind::Unsupported,
            HandoverError::Attachment(Refused::Name) => Kind::BadRequest,
            HandoverError::Registry(r) => r.kind(),
            HandoverError::Mail(_) | HandoverError::Db(_) | HandoverError::Internal(_) => {
                Kind::Internal
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, HandoverError>;

/// Where a secret was found and what it looked like: `runbook.txt, line 3 looks like …`.
pub fn secret_message(file: Option<&str>, found: &secrets::Found) -> String {
    match file {
        Some(f) => format!("{f}, {found}"),
        None => found.to_string(),
    }
}

/// One item as the pages and the API show it.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverItem")]
pub struct Item {
    pub id: Uuid,
    pub agreement_id: String,
    /// The contractor's party.
    pub party_id: String,
    /// Unique per agreement and contractor.
    pub key: String,
    pub kind: crate::openapi_types::HandoverItemKind,
    pub kind_label: String,
    pub title: String,
    /// Who takes it over on the council's side.
    pub owner_name: String,
    pub owner_email: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// Days until the due date; negative when overdue.
    pub days_left: i64,
    pub overdue: bool,
    pub state: crate::openapi_types::HandoverItemState,
    pub state_label: String,
    /// From the agreement or the exit records (else an officer added it).
    pub declared: bool,
    /// The latest submission's number (0 before the first).
    pub latest: i32,
    #[oai(nullable)]
    pub accepted_at: Option<String>,
    #[oai(nullable)]
    pub accepted_by: Option<String>,
    /// What a submission of this kind must cover.
    pub checklist: Vec<String>,
}

/// A contractor's engagement under an agreement, with its items.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverEngagement")]
pub struct Engagement {
    pub party_id: String,
    pub party_name: String,
    /// `YYYY-MM-DD`: the gate refuses the contractor's flows after it.
    pub engagement_end: String,
    /// Days until the engagement ends; negative once it has.
    pub days_to_end: i64,
    pub items: Vec<Item>,
    pub accepted: usize,
    pub total: usize,
    pub overdue: usize,
    #[oai(nullable)]
    pub completed_at: Option<String>,
    #[oai(nullable)]
    pub completed_by: Option<String>,
    /// Why it was completed with items still open.
    #[oai(nullable)]
    pub waiver: Option<String>,
    /// When Accord ended the contractor's tokens and accounts.
    #[oai(nullable)]
    pub access_ended_at: Option<String>,
    /// Set when an officer ended the engagement early; `engagement_end` is then its last day.
    #[oai(nullable)]
    pub ended_early: Option<EndedEarly>,
}

/// An agreement's handover: one engagement per contractor the caller may see.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "Handover")]
pub struct HandoverView {
    pub agreement_id: String,
    pub title: String,
    pub engagements: Vec<Engagement>,
}

/// One account, key or credential the contractor held, and how it was ended. Never the
/// secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "HandoverCredential", deny_unknown_fields)]
pub struct Credential {
    /// What it is: "SFTP account metis-extract on sftp.newham.example".
    #[oai(validator(min_length = 1, max_length = 200))]
    pub account: String,
    /// Who rotates or removes it.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub rotated_by: String,
    /// When it was done, `YYYY-MM-DD`.
    #[oai(validator(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub done_on: String,
}

/// A file to attach, as received.
pub struct NewAttachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What a contractor submits for an item.
pub struct NewSubmission {
    /// Markdown.
    pub body: String,
    /// Required for `access_revocation`; empty for every other kind.
    pub credentials: Vec<Credential>,
    pub attachments: Vec<NewAttachment>,
}

/// An attachment as listed (its bytes are fetched apart).
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverAttachment")]
pub struct AttachmentInfo {
    pub id: Uuid,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

/// How many ids one query names at most: under every supported database's limit on bound
/// parameters (SQLite's is 32,766; PostgreSQL's 65,535).
pub(super) const IDS_PER_QUERY: usize = 1000;

/// The attachments of `items` as listed, by submission, in name order: their bytes are not
/// read (each may be up to `MAX_ATTACHMENT_BYTES`).
pub(super) async fn attachments_listed(
    db: &impl ConnectionTrait,
    items: &[Uuid],
) -> Result<HashMap<Uuid, Vec<AttachmentInfo>>> {
    type Row = (Uuid, Uuid, String, String, i64, String);
    let mut out: HashMap<Uuid, Vec<AttachmentInfo>> = HashMap::new();
    for chunk in items.chunks(IDS_PER_QUERY) {
        let rows: Vec<Row> = attachment::Entity::find()
            .select_only()
            .columns([
                attachment::Column::SubmissionId,
                attachment::Column::Id,
                attachment::Column::FileName,
                attachment::Column::MediaType,
                attachment::Column::Size,
                attachment::Column::Sha256,
            ])
            .filter(attachment::Column::ItemId.is_in(chunk.iter().copied()))
            .order_by_asc(attachment::Column::FileName)
            .order_by_asc(attachment::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        for (submission, id, file_name, media_type, size, sha256) in rows {
            out.entry(submission).or_default().push(AttachmentInfo {
                id,
                file_name,
                media_type,
                size,
                sha256,
            });
        }
    }
    Ok(out)
}

/// One submitted version of an item.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverSubmission")]
pub struct Submission {
    pub number: i32,
    /// Markdown, as submitted.
    pub body: String,
    pub credentials: Vec<Credential>,
    pub attachments: Vec<AttachmentInfo>,
    pub submitted_at: String,
    pub submitted_by: String,
    /// SHA-256 over the text, the credentials and each attachment's hash.
    pub sha256: String,
}

/// An officer's accept or return.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverReview")]
pub struct Review {
    /// The submission reviewed.
    pub number: i32,
    /// `accepted` or `returned`.
    pub action: String,
    pub comments: String,
    pub by: String,
    pub at: String,
}

/// What the ledger holds for the contractor under the agreement (for data return and
/// deletion certificate items).
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverHoldings")]
pub struct HoldingsSummary {
    /// Holdings still held.
    pub held: u64,
    /// Holdings whose deletion was requested and not yet confirmed.
    pub deletion_requested: u64,
    /// Holdings deleted (or returned), with a certificate.
    pub closed: u64,
}

/// An item with its history.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
#[oai(rename = "HandoverItemDetail")]
pub struct ItemDetail {
    pub item: Item,
    /// Newest first.
    pub submissions: Vec<Submission>,
    /// Newest first.
    pub reviews: Vec<Review>,
    /// For `data_return` and `deletion_certificate` items.
    #[oai(nullable)]
    pub holdings: Option<HoldingsSummary>,
}

/// An item an officer adds.
pub struct NewItem {
    pub party_id: String,
    pub kind: Kind,
    pub title: String,
    pub due: Date,
    /// Defaults to the agreement's owner.
    pub owner: Option<(String, String)>,
}

/// The handover service: one per process, cheap to clone.
#[derive(Clone)]
pub struct Handover {
    pub(super) db: DatabaseConnection,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) registry: Registry,
    pub(super) templates: Arc<Templates>,
    pub(super) public_url: String,
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn text(value: &str, what: &str, max: usize) -> Result<String> {
    let t = value.trim();
    if t.is_empty() {
        return Err(HandoverError::BadInput(format!("enter {what}")));
    }
    if chars(t) > max {
        return Err(HandoverError::BadInput(format!(
            "{what} must be {max} characters or fewer"
        )));
    }
    Ok(t.to_owned())
}

/// Who may read an item of `party`: readers, or the contractor bound to it.
fn may_read(who: &Principal, party: &str) -> bool {
    who.may_read_handover_of(party)
}

fn forbidden() -> HandoverError {
    HandoverError::NotAllowed("not your party's handover".into())
}

impl Handover {
    pub fn new(registry: Registry, templates: Arc<Templates>, public_url: &str) -> Handover {
        Handover {
            db: registry.db().clone(),
            clock: registry.clock().clone(),
            registry,
            templates,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn today(&self) -> Date {
        self.clock.today()
    }

    pub(super) fn view(&self, r: &item::Model) -> Item {
        let today = self.today();
        let kind = Kind::parse(&r.kind).unwrap_or(Kind::Other);
        // A damaged state reads as open: it never counts as handed over.
        let state = State::parse(&r.state).unwrap_or(State::Open);
        let due: Option<Date> = r.due.parse().ok();
        let days_left = due.map_or(0, |d| crate::mail::reminders::days_between(today, d));
        Item {
            id: r.id,
            agreement_id: r.agreement_id.clone(),
            party_id: r.party_id.clone(),
            key: r.item_key.clone(),
            kind: kind.into(),
            kind_label: kind.label().to_owned(),
            title: r.title.clone(),
            owner_name: r.owner_name.clone(),
            owner_email: r.owner_email.clone(),
            due: r.due.clone(),
            days_left,
            overdue: state != State::Accepted && days_left < 0,
            state: state.into(),
            state_label: state.label().to_owned(),
            declared: r.declared,
            latest: r.latest,
            accepted_at: r.accepted_at.clone(),
            accepted_by: r.accepted_by.clone(),
            checklist: kind.checklist().iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Who hears from the contractor's side: its accounts in Accord, and its DPO.
    pub(super) async fn contractor_emails(
        &self,
        db: &impl ConnectionTrait,
        r: &item::Model,
    ) -> Result<Vec<String>> {
        let mut out: Vec<String> = user::Entity::find()
            .filter(user::Column::PartyId.eq(&r.party_id))
            .filter(user::Column::Role.eq(Role::Contractor.as_str()))
            .filter(user::Column::DisabledAt.is_null())
            .all(db)
            .await?
            .into_iter()
            .map(|u| u.email)
            .collect();
        if let Ok(a) = self.current(&r.agreement_id).await
            && let Some(dpo) = a.party(&r.party_id).and_then(|p| p.dpo.as_ref())
        {
            out.push(dpo.email.as_str().to_owned());
        }
        Ok(out)
    }

    /// What every message about item `r` says of it (the kind's own fields left empty).
    pub(super) fn item_mail(&self, r: &item::Model) -> HandoverMail {
        HandoverMail {
            agreement_id: r.agreement_id.clone(),
            party: r.party_id.clone(),
            item: r.title.clone(),
            kind: Kind::parse(&r.kind)
                .unwrap_or(Kind::Other)
                .label()
                .to_owned(),
            due: r.due.clone(),
            owner: format!("{} <{}>", r.owner_name, r.owner_email),
            link: format!(
                "{}/agreements/{}/handover/{}",
                self.public_url, r.agreement_id, r.id
            ),
            ..Default::default()
        }
    }

    /// Queues one message about an item to each of `to` (once each, by address).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn mail(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        r: &item::Model,
        kind: MailKind,
        what: &str,
        comments: &str,
        to: &[String],
    ) -> Result<usize> {
        let mail = HandoverMail {
            what: what.to_owned(),
            comments: comments.to_owned(),
            ..self.item_mail(r)
        };
        let composed = self.templates.handover(kind, &mail)?;
        self.send(txn, now, kind, &composed, to, None).await
    }

    pub(super) async fn send(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        kind: MailKind,
        composed: &crate::mail::Composed,
        to: &[String],
        key: Option<&str>,
    ) -> Result<usize> {
        let mut seen: Vec<String> = Vec::new();
        let mut fresh = 0;
        for address in to {
            let lower = address.to_ascii_lowercase();
            if seen.contains(&lower) {
                continue;
            }
            let message = NewMessage::new(address, kind, composed.clone())
                .dedupe_key(key.map(|k| format!("{k}:{lower}")));
            seen.push(lower);
            if enqueue(txn, now, &message).await? {
                fresh += 1;
            }
        }
        Ok(fresh)
    }

    /// The DPOs and owner of the agreement (who an overdue item is escalated to).
    pub(super) fn escalation_emails(agreement: &Agreement, r: &item::Model) -> Vec<String> {
        let mut to: Vec<String> = recipients(agreement)
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        to.push(r.owner_email.clone());
        to
    }
}

/// The engagement's row with `change` made: updated when it exists, else inserted.
pub(super) async fn save_engagement(
    txn: &DatabaseTransaction,
    agreement_id: &str,
    party: &str,
    change: impl FnOnce(&mut engagement::ActiveModel),
) -> Result<()> {
    let key = (agreement_id.to_owned(), party.to_owned());
    match engagement::Entity::find_by_id(key).one(txn).await? {
        Some(e) => {
            let mut m = e.into_active_model();
            change(&mut m);
            m.update(txn).await?;
        }
        None => {
            let mut m = engagement::ActiveModel {
                agreement_id: Set(agreement_id.to_owned()),
                party_id: Set(party.to_owned()),
                completed_at: Set(None),
                completed_by: Set(None),
                waiver: Set(None),
                access_ended_at: Set(None),
            };
            change(&mut m);
            m.insert(txn).await?;
        }
    }
    Ok(())
}

/// The text search finds for an accepted submission: its Markdown, its credentials (names and
/// who rotated each) and its attachments' names.
fn searchable(s: &submission::Model) -> String {
    let credentials: Vec<Credential> = serde_json::from_str(&s.credentials).unwrap_or_default();
    let mut text = s.body.clone();
    for c in credentials {
        text.push_str(&format!(
            "\n{} — {} — {}",
            c.account, c.rotated_by, c.done_on
        ));
    }
    text
}

fn event<'a>(
    actor: &'a str,
    action: &'a str,
    r: &item::Model,
    details: serde_json::Value,
) -> Event<'a> {
    Event {
        actor,
        action,
        subject: format!("handover:{}:{}", r.agreement_id, r.id),
        details,
    }
}
