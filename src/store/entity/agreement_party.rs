//! A party of the version an agreement's list entry shows (its current version, else its
//! newest): what the list's party filter and a signatory's reading rule look up.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_parties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agreement_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub party_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
