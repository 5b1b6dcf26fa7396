//! A request to one holder to delete (anonymise, return) what it holds under one agreement,
//! made by one sweep; `requested` until confirmed (`deleted`) or given up on (`escalated`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deletion_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sweep_id: Uuid,
    pub agreement_id: String,
    pub version: i32,
    pub holder: String,
    pub method: String,
    pub action: String,
    pub status: String,
    pub token_hash: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
