//! A web console session: only the SHA-256 of the cookie's random id is stored.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub user_id: Uuid,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub ended_at: Option<String>,
    /// Opened by single sign-on: signing out ends the provider's session too.
    pub via_sso: bool,
    /// The provider's session (the ID token's `sid`) that opened it, when it named one: what
    /// a back-channel logout ends.
    pub sso_sid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
