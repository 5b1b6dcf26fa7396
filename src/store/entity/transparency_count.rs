//! What the public register counts, per agreement and month (`YYYY-MM`, Europe/London): gate
//! decisions allowed and refused, records confirmed deleted (see
//! migrations/src/m20261209_000012_transparency.rs).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transparency_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agreement_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    pub allowed: i64,
    pub refused: i64,
    pub deleted: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
