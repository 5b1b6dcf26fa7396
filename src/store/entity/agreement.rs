//! An agreement id known to the registry, the officer's control over it (`open`,
//! `suspended`, `terminated`), and what the agreement list shows of it (kept current by every
//! registry change; see migrations/src/m20261204_000007_agreement_listing.rs).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub control: String,
    pub control_reason: Option<String>,
    pub control_changed_at: Option<String>,
    pub control_changed_by: Option<String>,
    pub created_at: String,
    /// The title of the version shown: the one in force, else the newest.
    pub title: String,
    pub shown_version: Option<i32>,
    /// The stored status (`draft`, `active`, `superseded`) of the version shown.
    pub shown_stored: String,
    /// The last day of the version shown's term (ISO 8601), if it has one.
    pub shown_term_end: Option<String>,
    pub shown_review_due: Option<String>,
    /// The version in force (activated, not superseded), if any.
    pub current_version: Option<i32>,
    pub latest_version: i32,
    /// How many versions; 0 only on a row stored before the listing existed.
    pub version_count: i32,
    /// The version in force allows the public transparency register to show it.
    pub published: bool,
    /// When the version in force came into force (stored time format).
    pub in_force_since: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
