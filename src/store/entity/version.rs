//! One immutable version: a distinct content of an agreement id, with its lifecycle status
//! (`draft`, `active`, `superseded`; expiry is derived from the term and the clock).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agreement_id: String,
    pub number: i32,
    pub content_hash: String,
    pub declared_version: i32,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    pub status: String,
    pub origin: String,
    pub created_at: String,
    pub created_by: String,
    pub activated_at: Option<String>,
    pub superseded_at: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
