//! A contractor's engagement under an agreement, ended early by an officer.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "engagement_ends")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agreement_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub party_id: String,
    /// `YYYY-MM-DD`: the day the engagement ended; the day before was its last.
    pub ended_on: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
