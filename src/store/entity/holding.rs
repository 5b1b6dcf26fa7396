//! A holding: records the gate let through, now held by `holder`, due for deletion at
//! `delete_by` (`None`: retention runs from the agreement's end, which is open).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holdings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub decision_id: Uuid,
    pub agreement_id: String,
    pub version: i32,
    pub flow_id: String,
    pub from_party: String,
    pub holder: String,
    pub purpose: String,
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    pub record_count: i32,
    pub subject_count: i32,
    pub received_at: String,
    pub delete_by: Option<String>,
    pub then_action: String,
    pub state: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
