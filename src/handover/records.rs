//! The handover use cases: what each contractor owes, submissions, an officer's accept or
//! return, items an officer adds, and completing an engagement. Each change is one
//! transaction under the writers' lock: the item, its submission or review, its audit record,
//! the search entry and the mail it causes commit together.
//!
//! Who may: a **contractor** (role `contractor`, bound to its party) sees and submits only its
//! own party's items; **officers** (`admin`, `ig_officer`) add, accept, return and complete;
//! **readers** (officers and auditors) see everything. Anyone else is refused.

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
use crate::agreement::lifecycle::Status;
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

    /// The agreement's current version (in force, else the newest), and whether it is in force
    /// (active) today.
    async fn current(
        &self,
        agreement_id: &str,
    ) -> Result<(Arc<crate::agreement::ValidAgreement>, bool)> {
        let summary = self.registry.agreement(agreement_id).await?;
        let (_, a) = self.registry.agreement_enforced(agreement_id).await?;
        Ok((a, summary.status == Status::Active))
    }

    /// The items of the agreement's contractors that `who` may see, by contractor.
    pub async fn handover(&self, who: &Principal, agreement_id: &str) -> Result<HandoverView> {
        let readable = who.allow(HANDOVER_READERS).is_ok();
        if !readable {
            return Err(forbidden());
        }
        let (agreement, _) = match self.current(agreement_id).await {
            Ok(x) => x,
            // A contractor cannot probe for agreement ids.
            Err(HandoverError::Registry(RegistryError::NotFound(_)))
                if who.role == Role::Contractor =>
            {
                return Err(forbidden());
            }
            Err(e) => return Err(e),
        };
        if who.role == Role::Contractor {
            let mine = who.bound_party().ok();
            if !agreement
                .contractors
                .iter()
                .any(|c| Some(c.party.as_str()) == mine)
            {
                return Err(forbidden());
            }
        }
        let rows = handover_items::rows(&self.db, agreement_id).await?;
        let done: HashMap<String, engagement::Model> = engagement::Entity::find()
            .filter(engagement::Column::AgreementId.eq(agreement_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.party_id.clone(), e))
            .collect();
        let mut ended_early = self.registry.ended_early(agreement_id).await?;
        let mut by_party: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        for r in &rows {
            by_party
                .entry(r.party_id.clone())
                .or_default()
                .push(self.view(r));
        }
        let today = self.today();
        let mut engagements = Vec::new();
        for c in &agreement.contractors {
            let party = c.party.as_str();
            if !may_read(who, party) {
                continue;
            }
            let mut items = by_party.remove(party).unwrap_or_default();
            items.sort_by(|a, b| a.due.cmp(&b.due).then(a.key.cmp(&b.key)));
            let e = done.get(party);
            engagements.push(Engagement {
                party_id: party.to_owned(),
                party_name: agreement
                    .party(party)
                    .map_or_else(|| party.to_owned(), |p| p.name.clone()),
                engagement_end: c.engagement_end.to_string(),
                days_to_end: crate::mail::reminders::days_between(today, c.engagement_end),
                accepted: items.iter().filter(|i| i.state == State::Accepted).count(),
                overdue: items.iter().filter(|i| i.overdue).count(),
                total: items.len(),
                items,
                completed_at: e.and_then(|e| e.completed_at.clone()),
                completed_by: e.and_then(|e| e.completed_by.clone()),
                waiver: e.and_then(|e| e.waiver.clone()),
                access_ended_at: e.and_then(|e| e.access_ended_at.clone()),
                ended_early: ended_early.remove(party),
            });
        }
        Ok(HandoverView {
            agreement_id: agreement_id.to_owned(),
            title: agreement.title.clone(),
            engagements,
        })
    }

    /// The items `who` may see across every agreement in force: a contractor's own, or for
    /// readers every contractor's. What the contractor's task list and "my work" read.
    pub async fn my_items(&self, who: &Principal) -> Result<Vec<(String, Item)>> {
        if who.allow(HANDOVER_READERS).is_err() {
            return Err(forbidden());
        }
        let mut out = Vec::new();
        for (_, a) in self.registry.agreements_in_force().await? {
            if a.contractors.is_empty() {
                continue;
            }
            for r in handover_items::rows(&self.db, a.id.as_str()).await? {
                if may_read(who, &r.party_id) {
                    out.push((a.title.clone(), self.view(&r)));
                }
            }
        }
        out.sort_by(|a, b| a.1.due.cmp(&b.1.due).then(a.1.key.cmp(&b.1.key)));
        Ok(out)
    }

    async fn row(
        &self,
        db: &impl ConnectionTrait,
        agreement_id: &str,
        id: Uuid,
    ) -> Result<item::Model> {
        item::Entity::find_by_id(id)
            .filter(item::Column::AgreementId.eq(agreement_id))
            .one(db)
            .await?
            .ok_or_else(|| HandoverError::NotFound("no such handover item".into()))
    }

    /// The item `text` names in an agreement: its id, or its key when only one item there has
    /// that key among those the caller may read (a contractor reads only its own party's). An
    /// unknown key, or one several contractors' items share, is `NotFound` saying so.
    pub async fn item_id(&self, who: &Principal, agreement_id: &str, text: &str) -> Result<Uuid> {
        if let Ok(id) = Uuid::parse_str(text) {
            return Ok(id);
        }
        let mut find = item::Entity::find()
            .filter(item::Column::AgreementId.eq(agreement_id))
            .filter(item::Column::ItemKey.eq(text));
        if who.allow(READERS).is_err() {
            find = find.filter(item::Column::PartyId.eq(who.bound_party().unwrap_or_default()));
        }
        let found = find.limit(2).all(&self.db).await?;
        match found.as_slice() {
            [one] => Ok(one.id),
            [] => Err(HandoverError::NotFound(format!(
                "no handover item has the id or key '{}' in this agreement",
                crate::text::one_line(text)
            ))),
            _ => Err(HandoverError::NotFound(format!(
                "several contractors have an item with the key '{}': name the item by its id",
                crate::text::one_line(text)
            ))),
        }
    }

    /// One item with its submissions and reviews.
    pub async fn item(&self, who: &Principal, agreement_id: &str, id: Uuid) -> Result<ItemDetail> {
        let r = match self.row(&self.db, agreement_id, id).await {
            Ok(r) => r,
            Err(HandoverError::NotFound(_)) if who.allow(READERS).is_err() => {
                return Err(forbidden());
            }
            Err(e) => return Err(e),
        };
        if !may_read(who, &r.party_id) {
            return Err(forbidden());
        }
        let subs = submission::Entity::find()
            .filter(submission::Column::ItemId.eq(id))
            .order_by_desc(submission::Column::Number)
            .all(&self.db)
            .await?;
        let mut files = attachments_listed(&self.db, &[id]).await?;
        let submissions = subs
            .into_iter()
            .map(|s| Submission {
                number: s.number,
                credentials: serde_json::from_str(&s.credentials).unwrap_or_default(),
                attachments: files.remove(&s.id).unwrap_or_default(),
                body: s.body,
                submitted_at: s.submitted_at,
                submitted_by: s.submitted_by,
                sha256: s.sha256,
            })
            .collect();
        let reviews = review::Entity::find()
            .filter(review::Column::ItemId.eq(id))
            .order_by_desc(review::Column::At)
            .order_by_desc(review::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|v| Review {
                number: v.number,
                action: v.action,
                comments: v.comments,
                by: v.by,
                at: v.at,
            })
            .collect();
        let item = self.view(&r);
        let holdings = if matches!(*item.kind, Kind::DataReturn | Kind::DeletionCertificate) {
            Some(
                self.holdings(&self.db, &r.agreement_id, &r.party_id)
                    .await?,
            )
        } else {
            None
        };
        Ok(ItemDetail {
            item,
            submissions,
            reviews,
            holdings,
        })
    }

    /// An attachment's name, type and bytes.
    pub async fn attachment(
        &self,
        who: &Principal,
        agreement_id: &str,
        item_id: Uuid,
        id: Uuid,
    ) -> Result<(String, String, Vec<u8>)> {
        let r = match self.row(&self.db, agreement_id, item_id).await {
            Ok(r) => r,
            Err(HandoverError::NotFound(_)) if who.allow(READERS).is_err() => {
                return Err(forbidden());
            }
            Err(e) => return Err(e),
        };
        if !may_read(who, &r.party_id) {
            return Err(forbidden());
        }
        let f = attachment::Entity::find_by_id(id)
            .filter(attachment::Column::ItemId.eq(item_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| HandoverError::NotFound("no such attachment".into()))?;
        Ok((f.file_name, f.media_type, f.content))
    }

    pub(super) async fn holdings(
        &self,
        db: &impl ConnectionTrait,
        agreement_id: &str,
        party: &str,
    ) -> Result<HoldingsSummary> {
        let count = |state: &'static str| {
            holding::Entity::find()
                .filter(holding::Column::AgreementId.eq(agreement_id))
                .filter(holding::Column::Holder.eq(party))
                .filter(holding::Column::State.eq(state))
                .count(db)
        };
        Ok(HoldingsSummary {
            held: count("held").await?,
            deletion_requested: count("deletion_requested").await?,
            closed: count("deleted").await?
                + count("anonymised").await?
                + count("returned").await?,
        })
    }

    /// A contractor submits a version of one of its items.
    pub async fn submit(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        new: NewSubmission,
    ) -> Result<Item> {
        if who.role != Role::Contractor {
            return Err(HandoverError::NotAllowed(
                "only the contractor submits its handover".into(),
            ));
        }
        let body = new.body.trim().to_owned();
        if chars(&body) > MAX_BODY {
            return Err(HandoverError::BadInput(format!(
                "the text must be {MAX_BODY} characters or fewer"
            )));
        }
        if body.is_empty() {
            return Err(HandoverError::BadInput(
                "enter what you are handing over".into(),
            ));
        }
        if let Some(found) = secrets::find(&body) {
            return Err(HandoverError::Secret {
                field: "body",
                file: None,
                found,
            });
        }
        check_credentials(&new.credentials, self.today())?;
        if new.attachments.len() > MAX_ATTACHMENTS {
            return Err(Refused::TooMany.into());
        }
        let mut checked = Vec::with_capacity(new.attachments.len());
        for a in &new.attachments {
            let file = files::check(&a.name, &a.bytes)?;
            // Text is read with the same rules as typed text: a key in a .txt is a key.
            if let Some(text) = files::text(&file, &a.bytes)
                && let Some(found) = secrets::find(text)
            {
                return Err(HandoverError::Secret {
                    field: "files",
                    file: Some(file.name),
                    found,
                });
            }
            checked.push(file);
        }
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let r = self.row(&txn, agreement_id, id).await?;
        if who.bound_party() != Ok(r.party_id.as_str()) {
            return Err(forbidden());
        }
        let kind = Kind::parse(&r.kind).unwrap_or(Kind::Other);
        if kind.lists_credentials() && new.credentials.is_empty() {
            return Err(HandoverError::Credentials(vec![
                "list every account, key and credential you hold, who rotates each and when it was done".into(),
            ]));
        }
        if kind.lists_credentials()
            && let Some(unread) = checked.iter().find(|c| !files::is_text(c.media_type))
        {
            return Err(HandoverError::Unreadable(unread.name.clone()));
        }
        if !kind.lists_credentials() && !new.credentials.is_empty() {
            return Err(HandoverError::Credentials(vec![
                "credentials are listed only on an access-revocation item".into(),
            ]));
        }
        self.engagement_open(&txn, agreement_id, &r.party_id)
            .await?;
        let state = State::parse(&r.state).unwrap_or(State::Accepted);
        let next = items::next(state, Move::Submit).ok_or(HandoverError::WrongState {
            state,
            what: Move::Submit.verb(),
        })?;
        let now = self.clock.now();
        let number = r.latest + 1;
        let credentials = serde_json::to_string(&new.credentials).unwrap_or_else(|_| "[]".into());
        let mut hash = Sha256::new();
        hash.update(body.as_bytes());
        hash.update([0]);
        hash.update(credentials.as_bytes());
        for c in &checked {
            hash.update([0]);
            hash.update(c.sha256.as_bytes());
        }
        let sha256 = hex::encode(hash.finalize());
        let sub_id = Uuid::now_v7();
        submission::ActiveModel {
            id: Set(sub_id),
            item_id: Set(id),
            number: Set(number),
            body: Set(body),
            credentials: Set(credentials),
            submitted_at: Set(stamp(now)),
            submitted_by: Set(who.actor()),
            sha256: Set(sha256.clone()),
        }
        .insert(&txn)
        .await?;
        for (c, a) in checked.iter().zip(new.attachments) {
            attachment::ActiveModel {
                id: Set(Uuid::now_v7()),
                submission_id: Set(sub_id),
                item_id: Set(id),
                file_name: Set(c.name.clone()),
                media_type: Set(c.media_type.to_owned()),
                size: Set(c.size as i64),
                sha256: Set(c.sha256.clone()),
                content: Set(a.bytes),
            }
            .insert(&txn)
            .await?;
        }
        let r = self.moved(&txn, r, next, number, now, None).await?;
        let details = serde_json::json!({
            "item": r.item_key, "party": r.party_id, "number": number, "sha256": sha256,
            "attachments": checked.iter().map(|c| serde_json::json!({"name": c.name, "sha256": c.sha256})).collect::<Vec<_>>(),
        });
        let actor = who.actor();
        log.append(now, event(&actor, "handover.submitted", &r, details));
        self.mail(
            &txn,
            now,
            &r,
            MailKind::HandoverUpdate,
            Move::Submit.verb(),
            "",
            std::slice::from_ref(&r.owner_email),
        )
        .await?;
        log.commit(txn).await?;
        Ok(self.view(&r))
    }

    /// An officer accepts the latest submission. A deletion certificate is accepted only once
    /// the ledger holds nothing more for the contractor under the agreement.
    pub async fn accept(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        comments: &str,
    ) -> Result<Item> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let comments = comments.trim().to_owned();
        if chars(&comments) > MAX_TEXT {
            return Err(HandoverError::BadInput(format!(
                "comments must be {MAX_TEXT} characters or fewer"
            )));
        }
        self.review(who, agreement_id, id, Move::Accept, comments)
            .await
    }

    /// An officer returns the latest submission with comments saying what to change.
    pub async fn return_item(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        comments: &str,
    ) -> Result<Item> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let comments = text(comments, "what the contractor should change", MAX_TEXT)?;
        self.review(who, agreement_id, id, Move::Return, comments)
            .await
    }

    async fn review(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        m: Move,
        comments: String,
    ) -> Result<Item> {
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let r = self.row(&txn, agreement_id, id).await?;
        let state = State::parse(&r.state).unwrap_or(State::Accepted);
        let next = items::next(state, m).ok_or(HandoverError::WrongState {
            state,
            what: m.verb(),
        })?;
        if m == Move::Accept && r.kind == Kind::DeletionCertificate.as_str() {
            let h = self.holdings(&txn, &r.agreement_id, &r.party_id).await?;
            if h.held + h.deletion_requested > 0 {
                return Err(HandoverError::Conflict(format!(
                    "the ledger still lists {} holdings of {} under this agreement ({} held, {} \
                     waiting for deletion to be confirmed); close each through its deletion \
                     request before accepting the certificate",
                    h.held + h.deletion_requested,
                    r.party_id,
                    h.held,
                    h.deletion_requested
                )));
            }
        }
        let now = self.clock.now();
        review::ActiveModel {
            id: Set(Uuid::now_v7()),
            item_id: Set(id),
            number: Set(r.latest),
            action: Set(m.verb().to_owned()),
            comments: Set(comments.clone()),
            by: Set(who.actor()),
            at: Set(stamp(now)),
        }
        .insert(&txn)
        .await?;
        let accepted = (m == Move::Accept).then(|| who.actor());
        let latest = r.latest;
        let r = self.moved(&txn, r, next, latest, now, accepted).await?;
        if m == Move::Accept {
            let latest = submission::Entity::find()
                .filter(submission::Column::ItemId.eq(id))
                .filter(submission::Column::Number.eq(r.latest))
                .one(&txn)
                .await?;
            if let Some(s) = latest {
                search::index(&txn, &r, &searchable(&s)).await?;
            }
        }
        let details = serde_json::json!({
            "item": r.item_key, "party": r.party_id, "number": r.latest, "comments": comments,
        });
        let action = if m == Move::Accept {
            "handover.accepted"
        } else {
            "handover.returned"
        };
        let actor = who.actor();
        log.append(now, event(&actor, action, &r, details));
        let to = self.contractor_emails(&txn, &r).await?;
        self.mail(
            &txn,
            now,
            &r,
            MailKind::HandoverUpdate,
            m.verb(),
            &comments,
            &to,
        )
        .await?;
        log.commit(txn).await?;
        Ok(self.view(&r))
    }

    async fn moved(
        &self,
        txn: &DatabaseTransaction,
        r: item::Model,
        state: State,
        latest: i32,
        now: Timestamp,
        accepted_by: Option<String>,
    ) -> Result<item::Model> {
        let mut m = r.into_active_model();
        m.state = Set(state.as_str().to_owned());
        m.latest = Set(latest);
        m.updated_at = Set(stamp(now));
        if let Some(by) = accepted_by {
            m.accepted_at = Set(Some(stamp(now)));
            m.accepted_by = Set(Some(by));
        }
        Ok(m.update(txn).await?)
    }

    /// An officer adds an item for one of the agreement's contractors.
    pub async fn add_item(
        &self,
        who: &Principal,
        agreement_id: &str,
        new: NewItem,
    ) -> Result<Item> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let title = text(&new.title, "what is to be handed over", MAX_TEXT)?;
        let (agreement, _) = self.current(agreement_id).await?;
        let Some(_) = agreement
            .contractors
            .iter()
            .find(|c| c.party.as_str() == new.party_id)
        else {
            return Err(HandoverError::BadInput(format!(
                "'{}' is not a contractor of this agreement",
                new.party_id
            )));
        };
        let (owner_name, owner_email) = match new.owner {
            Some((n, e)) => {
                let n = text(&n, "the owner's name", MAX_CELL)?;
                let e = crate::people::normal_email(&e).map_err(|_| {
                    HandoverError::BadInput(
                        "enter the owner's email address, like name@example.org".into(),
                    )
                })?;
                (n, e)
            }
            None => (
                agreement.owner.name.clone(),
                agreement.owner.email.as_str().to_owned(),
            ),
        };
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let now = self.clock.now();
        handover_items::declare(&txn, &mut log, &agreement, &who.actor(), now).await?;
        self.engagement_open(&txn, agreement_id, &new.party_id)
            .await?;
        let taken: Vec<String> = item::Entity::find()
            .filter(item::Column::AgreementId.eq(agreement_id))
            .filter(item::Column::PartyId.eq(&new.party_id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|r| r.item_key)
            .collect();
        let key = crate::access::drafting::slug(&title, "item", &taken);
        let d = Declared {
            party: new.party_id.clone(),
            key,
            kind: new.kind,
            title,
            due: new.due,
        };
        let mut row = handover_items::new_row(&agreement, &d, &stamp(now));
        row.declared = Set(false);
        row.owner_name = Set(owner_name);
        row.owner_email = Set(owner_email);
        let r = row.insert(&txn).await?;
        let details = serde_json::json!({
            "item": r.item_key, "party": r.party_id, "kind": r.kind, "title": r.title, "due": r.due,
            "owner": r.owner_email,
        });
        let actor = who.actor();
        log.append(now, event(&actor, "handover.item_added", &r, details));
        log.commit(txn).await?;
        Ok(self.view(&r))
    }

    /// An officer marks the engagement complete. Refused while any item is not accepted,
    /// unless `waiver` gives the reason (recorded, with the items it waives).
    pub async fn complete(
        &self,
        who: &Principal,
        agreement_id: &str,
        party: &str,
        waiver: Option<&str>,
    ) -> Result<Engagement> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let waiver = match waiver.map(str::trim).filter(|w| !w.is_empty()) {
            Some(w) => Some(text(w, "the reason for the waiver", MAX_TEXT)?),
            None => None,
        };
        let (agreement, _) = self.current(agreement_id).await?;
        if !agreement
            .contractors
            .iter()
            .any(|c| c.party.as_str() == party)
        {
            return Err(HandoverError::NotFound(format!(
                "'{party}' is not a contractor of this agreement"
            )));
        }
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let now = self.clock.now();
        let rows = handover_items::declare(&txn, &mut log, &agreement, &who.actor(), now).await?;
        self.engagement_open(&txn, agreement_id, party).await?;
        let open: Vec<&item::Model> = rows
            .iter()
            .filter(|r| r.party_id == party && r.state != State::Accepted.as_str())
            .collect();
        if !open.is_empty() && waiver.is_none() {
            let names: Vec<&str> = open.iter().map(|r| r.item_key.as_str()).collect();
            return Err(HandoverError::Conflict(format!(
                "{} items are not accepted yet ({}); accept them, or give the reason for a waiver",
                open.len(),
                names.join(", ")
            )));
        }
        let now = self.clock.now();
        let waived: Vec<&str> = open.iter().map(|r| r.item_key.as_str()).collect();
        let waiver = if waived.is_empty() { None } else { waiver };
        let (at, by) = (Some(stamp(now)), Some(who.actor()));
        let kept = waiver.clone();
        save_engagement(&txn, agreement_id, party, |m| {
            m.completed_at = Set(at);
            m.completed_by = Set(by);
            m.waiver = Set(kept);
        })
        .await?;
        log.append(
            now,
            Event {
                actor: &who.actor(),
                action: "handover.completed",
                subject: format!("agreement:{agreement_id}"),
                details: serde_json::json!({ "party": party, "waiver": waiver, "waived": waived }),
            },
        );
        log.commit(txn).await?;
        let view = self.handover(who, agreement_id).await?;
        view.engagements
            .into_iter()
            .find(|e| e.party_id == party)
            .ok_or_else(|| HandoverError::NotFound("no such engagement".into()))
    }

    /// `Conflict` once the engagement is complete: nothing changes after.
    async fn engagement_open(
        &self,
        db: &impl ConnectionTrait,
        agreement_id: &str,
        party: &str,
    ) -> Result<()> {
        let e = engagement::Entity::find_by_id((agreement_id.to_owned(), party.to_owned()))
            .one(db)
            .await?;
        match e.and_then(|e| e.completed_at) {
            Some(at) => Err(HandoverError::Conflict(format!(
                "the engagement was marked complete on {at}; its handover no longer changes"
            ))),
            None => Ok(()),
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
        if let Ok((a, _)) = self.current(&r.agreement_id).await
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

    /// Searches what `who` may read: readers everything, a contractor its own party's.
    pub async fn search(
        &self,
        who: &Principal,
        query: &str,
        limit: u64,
    ) -> Result<Vec<search::Hit>> {
        let party = if who.role == Role::Contractor {
            Some(
                who.bound_party()
                    .map_err(|e| HandoverError::NotAllowed(e.to_string()))?,
            )
        } else {
            who.allow(READERS)
                .map_err(|d| HandoverError::NotAllowed(d.0))?;
            None
        };
        if query.chars().count() > search::MAX_QUERY {
            return Err(HandoverError::BadInput(format!(
                "the search must be {} characters or fewer",
                search::MAX_QUERY
            )));
        }
        Ok(search::search(&self.db, query, party, limit).await?)
    }
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

/// The access-revocation rows: at most [`MAX_CREDENTIALS`], each cell given and within
/// [`MAX_CELL`], no secret in either, done on a real date no later than `today`.
fn check_credentials(rows: &[Credential], today: Date) -> Result<()> {
    if rows.len() > MAX_CREDENTIALS {
        return Err(HandoverError::Credentials(vec![format!(
            "list at most {MAX_CREDENTIALS} credentials"
        )]));
    }
    // Every problem of every row at once, so the contractor mends them in one go. A secret is
    // refused apart, naming the row and never the text.
    let mut problems = Vec::new();
    for (i, c) in rows.iter().enumerate() {
        let n = i + 1;
        for (what, cell) in [
            ("the account", &c.account),
            ("who rotates it", &c.rotated_by),
        ] {
            let cell = cell.trim();
            if cell.is_empty() || chars(cell) > MAX_CELL {
                problems.push(format!(
                    "credential {n}: enter {what}, in at most {MAX_CELL} characters"
                ));
            } else if secrets::find(cell).is_some() {
                return Err(HandoverError::Secret {
                    field: "credentials",
                    file: None,
                    found: secrets::Found {
                        line: n,
                        what: "a secret (name the credential, never its value)",
                    },
                });
            }
        }
        match c.done_on.parse::<Date>() {
            Err(_) => problems.push(format!(
                "credential {n}: the date it was done must be a date, YYYY-MM-DD"
            )),
            Ok(done) if done > today => problems.push(format!(
                "credential {n}: the date it was done cannot be in the future"
            )),
            Ok(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HandoverError::Credentials(problems))
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
