//! A sign-off of one version by one party (`senior_officer` signs; `dpo` records review),
//! given in the engine or declared in the file.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signatures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub version_id: Uuid,
    pub party_id: String,
    pub role: String,
    pub name: String,
    pub signed_on: String,
    pub source: String,
    pub recorded_at: String,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
