//! A partner's access request (see `src/access/`); secrets of its links kept as hashes only.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reference: String,
    pub status: String,
    pub email: String,
    pub email_confirmed_at: Option<String>,
    pub confirm_hash: Option<String>,
    pub confirm_expires_at: Option<String>,
    pub resume_hash: Option<String>,
    /// When the private link stops working; `NULL` opens nothing (a link from before lifetimes).
    pub resume_expires_at: Option<String>,
    /// When the requester's personal details were erased (a closed request, after the period
    /// the privacy notice gives); `None` while kept.
    pub erased_at: Option<String>,
    /// The API token that made it, when a partner system did.
    pub owner: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub answers: String,
    pub organisation: Option<String>,
    pub agreement_id: Option<String>,
    pub party_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub status_since: String,
    pub requester_secs: i64,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub decided_role: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reasons: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub conditions: Option<String>,
    pub drafted_agreement: Option<String>,
    pub drafted_version: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
