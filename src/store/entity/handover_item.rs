//! One item a contractor hands over (see `src/handover/`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "handover_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agreement_id: String,
    /// The contractor's party.
    pub party_id: String,
    /// Unique per agreement and contractor: the `handover[].id`, or a slug an officer chose.
    pub item_key: String,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    /// Who takes it over on the council's side.
    pub owner_name: String,
    pub owner_email: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub state: String,
    /// From the agreement (or an exit record), not added by an officer.
    pub declared: bool,
    /// The latest submission's number (0 before the first).
    pub latest: i32,
    pub created_at: String,
    pub updated_at: String,
    pub accepted_at: Option<String>,
    pub accepted_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
