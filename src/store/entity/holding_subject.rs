//! One data subject (by the sender's opaque reference) in a holding.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holding_subjects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub holding_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject_ref: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
