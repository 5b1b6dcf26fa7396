//! A message in the mail outbox, queued in the transaction of the change that caused it and
//! delivered by `mail::deliver`: pending while `sent_at` and `failed_at` are both empty.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub to_addr: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub text_body: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub html_body: Option<String>,
    /// `review-due`, `term-ending`, `assurance-expiring`, `escalation`, `deletion-request`.
    pub kind: String,
    #[sea_orm(unique)]
    pub dedupe_key: Option<String>,
    pub created_at: String,
    /// Delivery attempts begun (counted when a pass claims the message).
    pub attempts: i32,
    /// When the message may next be tried; while a pass holds it, the end of its lease.
    pub next_attempt_at: String,
    pub sent_at: Option<String>,
    /// Set when the server refused the message for good; it is not tried again.
    pub failed_at: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
