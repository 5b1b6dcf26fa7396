//! A person who signs in to the web console (see migrations: `users`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub role: String,
    pub party_id: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub password_hash: Option<String>,
    pub created_at: String,
    pub password_set_at: Option<String>,
    pub disabled_at: Option<String>,
    /// `issuer|sub` of the provider account linked to this one (single sign-on).
    #[sea_orm(unique)]
    pub sso_subject: Option<String>,
    /// Signs in only through the provider, never with a password.
    pub sso_only: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
