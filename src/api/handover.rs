//! `/agreements/{id}/handover` and `/handover/search`: a contractor's handover over HTTP. A
//! contractor token reads and submits its own party's items; officers add, accept, return and
//! complete; readers read and search.

use base64::Engine;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::auth::{Allowed, Caller, Contractors, Officers};
use super::document::{Document, DocumentKind};
use super::error::{
    ApiError, Errors, S400, S401, S403, S404, S409, S413, S413H, S415, S415H, S422H,
};
use super::text::{NonBlank, ReasonText, reason};
use crate::auth::Principal;

use crate::handover::pack;
use crate::handover::records::{
    Credential, Engagement, HandoverView, Item, ItemDetail, NewAttachment, NewItem, NewSubmission,
};
use crate::handover::search::{Hit, MAX_RESULTS};
use crate::handover::{Handover, HandoverError};

pub struct HandoverApi {
    pub handover: Handover,
}

/// An item an officer adds for a contractor.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewItemBody {
    /// The contractor's party id (one named under the agreement's `contractors`).
    pub party: NonBlank<200>,
    pub kind: crate::openapi_types::HandoverItemKind,
    /// What is to be handed over.
    pub title: NonBlank<4000>,
    /// `YYYY-MM-DD`.
    #[oai(validator(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub due: String,
    /// Who takes it over; the agreement's owner when left out.
    pub owner_name: MaybeUndefined<NonBlank<200>>,
    pub owner_email: MaybeUndefined<NonBlank<320>>,
}

/// A file to attach, its bytes in standard base64.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AttachmentBody {
    /// The file's name; its ending names its type (`.pdf`, `.png`, `.jpg`, `.txt`, `.md`,
    /// `.csv`), and its bytes must be of that type.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub file_name: String,
    /// The bytes, base64 (at most 512 KiB once decoded; a longer body is refused by the
    /// server's body limit, 413).
    #[oai(validator(max_length = 1500000))]
    pub content_base64: String,
}

/// One version of an item, as the contractor submits it.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SubmissionBody {
    /// Markdown: what is handed over, following the item's checklist. Never a secret.
    #[oai(validator(min_length = 1, max_length = 65536))]
    pub body: String,
    /// Every account, key and credential held, who rotates each and when: required on an
    /// `access_revocation` item, refused on any other.
    #[oai(default, validator(max_items = 200))]
    pub credentials: Vec<Credential>,
    #[oai(default, validator(max_items = 4))]
    pub attachments: Vec<AttachmentBody>,
}

/// An officer's accept: comments are optional.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReviewBody {
    #[oai(default, validator(max_length = 4000))]
    pub comments: String,
}

/// An officer's return: what the contractor should change.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReturnBody {
    pub comments: NonBlank<4000>,
}

/// Marking an engagement complete.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CompleteBody {
    /// Why the engagement is complete though items are not accepted; required then.
    pub waiver: MaybeUndefined<NonBlank<4000>>,
}

/// Ending an engagement early.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct EndEarlyBody {
    /// Why the engagement ends now; recorded in the audit log and shown on the handover page.
    pub reason: ReasonText,
}

#[derive(ApiResponse)]
pub enum Added {
    /// The item, open.
    #[oai(status = 201)]
    Created(Json<Item>),
}

#[derive(ApiResponse)]
pub enum Submitted {
    /// The item, now submitted (the submission is its `latest`).
    #[oai(status = 201)]
    Created(Json<Item>),
}

/// The format of the knowledge pack.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum PackFormat {
    Html,
    Md,
}

/// The knowledge pack as a printable page or as Markdown.
pub struct Pack;

impl DocumentKind for Pack {
    const DESCRIPTION: &'static str = "The knowledge pack: a printable page (`format=html`, the default) or Markdown (`format=md`).";
}

#[derive(ApiResponse)]
pub enum AttachmentResponse {
    /// The file's bytes, with its type.
    #[oai(status = 200)]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Disposition")] String,
    ),
}

fn err(e: HandoverError) -> ApiError {
    e.into()
}

impl HandoverApi {
    /// The item an `{item}` in a path names: its id, or its key.
    async fn item_id(
        &self,
        caller: &Principal,
        agreement_id: &str,
        item: &str,
    ) -> Result<Uuid, ApiError> {
        self.handover
            .item_id(caller, agreement_id, item)
            .await
            .map_err(err)
    }
}

#[OpenApi(prefix_path = "/", tag = "ApiTags::Handover")]
impl HandoverApi {
    /// Each contractor's handover under the agreement: items with state, due date and owner,
    /// progress, and the engagement's end. A contractor sees only its own.
    #[oai(path = "/agreements/:id/handover", method = "get")]
    async fn handover(
        &self,
        caller: Caller,
        id: Path<String>,
    ) -> Result<Json<HandoverView>, Errors<(S400, S401, S403, S404)>> {
        Ok(Json(
            self.handover.handover(&caller.0, &id).await.map_err(err)?,
        ))
    }

    /// Add an item for one of the agreement's contractors (officers).
    #[oai(path = "/agreements/:id/handover/items", method = "post")]
    async fn add(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        body: Json<NewItemBody>,
    ) -> Result<Added, Errors<(S400, S401, S403, S404, S409, S413, S415)>> {
        let b = body.0;
        let due: jiff::civil::Date = b
            .due
            .parse()
            .map_err(|_| ApiError::BadRequest("due must be a date, YYYY-MM-DD".into()))?;
        let owner = match (b.owner_name, b.owner_email) {
            (MaybeUndefined::Value(n), MaybeUndefined::Value(e)) => Some((n.0, e.0)),
            (MaybeUndefined::Undefined, MaybeUndefined::Undefined) => None,
            _ => {
                return Err(ApiError::BadRequest(
                    "give both owner_name and owner_email, or neither".into(),
                )
                .into());
            }
        };
        let item = self
            .handover
            .add_item(
                &caller.0,
                &id,
                NewItem {
                    party_id: b.party.0,
                    kind: b.kind.into(),
                    title: b.title.0,
                    due,
                    owner,
                },
            )
            .await
            .map_err(err)?;
        Ok(Added::Created(Json(item)))
    }

    /// One item with every submission (newest first), every review, and for data return and
    /// deletion certificate items what the ledger still holds.
    #[oai(path = "/agreements/:id/handover/items/:item", method = "get")]
    async fn item(
        &self,
        caller: Caller,
        id: Path<String>,
        /// The item's id, or its key (the agreement's `handover[].id`, or the key an officer
        /// gave it) when only one contractor of the agreement has an item with that key.
        #[oai(validator(max_length = 200))]
        item: Path<String>,
    ) -> Result<Json<ItemDetail>, Errors<(S400, S401, S403, S404)>> {
        let item = self.item_id(&caller.0, &id, &item).await?;
        Ok(Json(
            self.handover
                .item(&caller.0, &id, item)
                .await
                .map_err(err)?,
        ))
    }

    /// Submit a version of an item (the contractor bound to its party). Text that looks like a
    /// secret is refused (422) and nothing is stored; so is an attachment over the cap (413) or
    /// of a refused type (415).
    #[oai(
        path = "/agreements/:id/handover/items/:item/submissions",
        method = "post"
    )]
    async fn submit(
        &self,
        caller: Allowed<Contractors>,
        id: Path<String>,
        /// The item's id, or its key (the agreement's `handover[].id`, or the key an officer
        /// gave it) when only one contractor of the agreement has an item with that key.
        #[oai(validator(max_length = 200))]
        item: Path<String>,
        body: Json<SubmissionBody>,
    ) -> Result<Submitted, Errors<(S400, S401, S403, S404, S409, S413H, S415H, S422H)>> {
        if caller.0.role != crate::auth::Role::Contractor {
            return Err(
                ApiError::Forbidden("only the contractor submits its handover".into()).into(),
            );
        }
        let item = self.item_id(&caller.0, &id, &item).await?;
        let b = body.0;
        let mut attachments = Vec::with_capacity(b.attachments.len());
        for a in b.attachments {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a.content_base64.as_bytes())
                .map_err(|_| {
                    ApiError::BadRequest(format!("{}: content_base64 is not base64", a.file_name))
                })?;
            attachments.push(NewAttachment {
                name: a.file_name,
                bytes,
            });
        }
        let item = self
            .handover
            .submit(
                &caller.0,
                &id,
                item,
                NewSubmission {
                    body: b.body,
                    credentials: b.credentials,
                    attachments,
                },
            )
            .await
            .map_err(err)?;
        Ok(Submitted::Created(Json(item)))
    }

    /// One attachment's bytes.
    #[oai(
        path = "/agreements/:id/handover/items/:item/attachments/:file",
        method = "get"
    )]
    async fn attachment(
        &self,
        caller: Caller,
        id: Path<String>,
        /// The item's id, or its key (the agreement's `handover[].id`, or the key an officer
        /// gave it) when only one contractor of the agreement has an item with that key.
        #[oai(validator(max_length = 200))]
        item: Path<String>,
        file: Path<Uuid>,
    ) -> Result<AttachmentResponse, Errors<(S400, S401, S403, S404)>> {
        let item = self.item_id(&caller.0, &id, &item).await?;
        let (name, media_type, bytes) = self
            .handover
            .attachment(&caller.0, &id, item, file.0)
            .await
            .map_err(err)?;
        Ok(AttachmentResponse::Ok(
            Binary(bytes),
            media_type,
            crate::handover::files::disposition(&name),
        ))
    }

    /// Accept the latest submission (officers). A deletion certificate is accepted only once
    /// the ledger holds nothing more for the contractor under the agreement (409 otherwise).
    #[oai(path = "/agreements/:id/handover/items/:item/accept", method = "post")]
    async fn accept(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        /// The item's id, or its key (the agreement's `handover[].id`, or the key an officer
        /// gave it) when only one contractor of the agreement has an item with that key.
        #[oai(validator(max_length = 200))]
        item: Path<String>,
        body: Json<ReviewBody>,
    ) -> Result<Json<Item>, Errors<(S400, S401, S403, S404, S409, S413, S415)>> {
        let item = self.item_id(&caller.0, &id, &item).await?;
        Ok(Json(
            self.handover
                .accept(&caller.0, &id, item, &body.0.comments)
                .await
                .map_err(err)?,
        ))
    }

    /// Return the latest submission with comments saying what to change (officers).
    #[oai(path = "/agreements/:id/handover/items/:item/return", method = "post")]
    async fn return_item(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        /// The item's id, or its key (the agreement's `handover[].id`, or the key an officer
        /// gave it) when only one contractor of the agreement has an item with that key.
        #[oai(validator(max_length = 200))]
        item: Path<String>,
        body: Json<ReturnBody>,
    ) -> Result<Json<Item>, Errors<(S400, S401, S403, S404, S409, S413, S415)>> {
        let item = self.item_id(&caller.0, &id, &item).await?;
        Ok(Json(
            self.handover
                .return_item(&caller.0, &id, item, &body.0.comments.0)
                .await
                .map_err(err)?,
        ))
    }

    /// Mark a contractor's engagement complete (officers): refused (409) while any item is not
    /// accepted, unless a waiver gives the reason.
    #[oai(
        path = "/agreements/:id/handover/engagements/:party/complete",
        method = "post"
    )]
    async fn complete(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        party: Path<String>,
        body: Json<CompleteBody>,
    ) -> Result<Json<Engagement>, Errors<(S400, S401, S403, S404, S409, S413, S415)>> {
        let waiver = match &body.0.waiver {
            MaybeUndefined::Value(w) => Some(w.0.as_str()),
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => {
                return Err(
                    ApiError::BadRequest("waiver may not be null; leave it out".into()).into(),
                );
            }
        };
        Ok(Json(
            self.handover
                .complete(&caller.0, &id, &party, waiver)
                .await
                .map_err(err)?,
        ))
    }

    /// End a contractor's engagement today, before its `engagement_end` (officers), without a
    /// new version: the gate refuses the contractor's flows at once, its tokens are revoked and
    /// its accounts disabled (unless it has an engagement running under another agreement in
    /// force), its holdings under the agreement fall due for deletion now, and its handover
    /// items fall due by the engagement's last day, yesterday. Audited. A later version must
    /// give that day or earlier as the engagement's end. Refused (409) unless the agreement is
    /// in force and the engagement still running.
    #[oai(
        path = "/agreements/:id/handover/engagements/:party/end",
        method = "post"
    )]
    async fn end_early(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        party: Path<String>,
        body: Json<EndEarlyBody>,
    ) -> Result<Json<Engagement>, Errors<(S400, S401, S403, S404, S409, S413, S415)>> {
        Ok(Json(
            self.handover
                .end_early(&caller.0, &id, &party, &reason(&body.0.reason)?)
                .await
                .map_err(err)?,
        ))
    }

    /// The knowledge pack: every accepted item with its history, the access-revocation table
    /// and the deletion certificates, as a printable page or Markdown.
    #[oai(path = "/agreements/:id/handover/pack", method = "get")]
    async fn pack(
        &self,
        caller: Caller,
        id: Path<String>,
        format: Query<Option<PackFormat>>,
    ) -> Result<Document<Pack>, Errors<(S400, S401, S403, S404)>> {
        let p = self.handover.pack(&caller.0, &id).await.map_err(err)?;
        Ok(match format.0.unwrap_or(PackFormat::Html) {
            PackFormat::Html => Document::html(pack::page(&p)),
            PackFormat::Md => Document::markdown(p.markdown),
        })
    }

    /// Search accepted handover knowledge: every word must match (stemmed; words like "how"
    /// and "the" are left out), best first. Readers search everything; a contractor its own
    /// party's.
    #[oai(path = "/handover/search", method = "get")]
    async fn search(
        &self,
        caller: Caller,
        #[oai(validator(max_length = 500))] q: Query<String>,
        #[oai(validator(minimum(value = "1"), maximum(value = "50")))] limit: Query<Option<u64>>,
    ) -> Result<Json<Vec<Hit>>, Errors<(S400, S401, S403)>> {
        let hits = self
            .handover
            .search(&caller.0, &q.0, limit.0.unwrap_or(20).min(MAX_RESULTS))
            .await
            .map_err(err)?;
        Ok(Json(hits))
    }
}
