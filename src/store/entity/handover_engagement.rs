//! A contractor's engagement under an agreement: completed (perhaps with a waiver), and when
//! its access was ended.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "handover_engagements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agreement_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub party_id: String,
    pub completed_at: Option<String>,
    pub completed_by: Option<String>,
    /// The officer's reason for completing with items still open.
    #[sea_orm(column_type = "Text", nullable)]
    pub waiver: Option<String>,
    pub access_ended_at: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
