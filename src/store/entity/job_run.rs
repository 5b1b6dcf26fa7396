//! One claimed run of a scheduled job (see the job_runs migration): the row is the claim, and
//! the primary key (job, due_at) makes a second claim of the same due time impossible.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job: String,
    /// The scheduled time this run is for, as a store stamp.
    #[sea_orm(primary_key, auto_increment = false)]
    pub due_at: String,
    /// The instance that claimed (and ran) it.
    pub claimed_by: String,
    pub claimed_at: String,
    pub finished_at: Option<String>,
    /// `{"ok": …}` or `{"error": "…"}`, once finished.
    #[sea_orm(column_type = "Text", nullable)]
    pub outcome: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
