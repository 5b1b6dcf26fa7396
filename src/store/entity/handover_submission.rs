//! One version of a handover item, as the contractor submitted it; never changed.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "handover_submissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub item_id: Uuid,
    /// From 1, per item.
    pub number: i32,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// The access-revocation rows, as JSON (`[]` for other kinds).
    #[sea_orm(column_type = "Text")]
    pub credentials: String,
    pub submitted_at: String,
    pub submitted_by: String,
    pub sha256: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
