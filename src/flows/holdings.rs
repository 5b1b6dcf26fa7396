//! Reading the holdings ledger: who holds what, about whom, until when — for rights requests
//! and retention.

use jiff::Timestamp;
use poem_openapi::Object;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::registry::queries::Paging;
use crate::store::entity::{holding, holding_subject};
use crate::store::time::stamp;

#[derive(Debug, Clone, Serialize, Object)]
pub struct HoldingInfo {
    pub id: Uuid,
    /// The gate decision (and audit record) that let the records through.
    pub decision_id: Uuid,
    pub agreement_id: String,
    pub agreement_version: i32,
    pub flow: String,
    pub from: String,
    pub holder: String,
    pub purpose: String,
    pub fields: Vec<String>,
    pub record_count: i32,
    pub subject_count: i32,
    pub received_at: String,
    /// When retention ends; absent while it runs from an open-ended agreement's end.
    #[oai(nullable)]
    pub delete_by: Option<String>,
    /// What the holder must do then: delete, anonymise or return.
    pub then: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct HoldingPage {
    pub items: Vec<HoldingInfo>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Clone, Default)]
pub struct HoldingFilter {
    pub agreement: Option<String>,
    pub holder: Option<String>,
    pub subject_ref: Option<String>,
    pub due_before: Option<Timestamp>,
}

/// The holdings ledger as the API and the console read it. The gate writes holdings (in the
/// transaction of each allowed send) and retention moves them on; this only reads.
#[derive(Clone)]
pub struct Holdings {
    db: DatabaseConnection,
}

impl Holdings {
    pub fn new(db: DatabaseConnection) -> Holdings {
        Holdings { db }
    }

    /// A page of the holdings matching `f`.
    pub async fn list(&self, f: &HoldingFilter, paging: Paging) -> Result<HoldingPage, DbErr> {
        list(&self.db, f, paging).await
    }

    /// One holding, if there is one with this id.
    pub async fn get(&self, id: Uuid) -> Result<Option<HoldingInfo>, DbErr> {
        get(&self.db, id).await
    }
}

async fn list(
    db: &DatabaseConnection,
    f: &HoldingFilter,
    paging: Paging,
) -> Result<HoldingPage, DbErr> {
    use holding::Column as C;
    let mut q = holding::Entity::find();
    if let Some(a) = &f.agreement {
        q = q.filter(C::AgreementId.eq(a.as_str()));
    }
    if let Some(h) = &f.holder {
        q = q.filter(C::Holder.eq(h.as_str()));
    }
    if let Some(before) = f.due_before {
        q = q.filter(C::DeleteBy.lt(stamp(before)));
    }
    if let Some(subject) = &f.subject_ref {
        let about = holding_subject::Entity::find()
            .select_only()
            .column(holding_subject::Column::HoldingId)
            .filter(holding_subject::Column::SubjectRef.eq(subject.as_str()))
            .into_query();
        q = q.filter(C::Id.in_subquery(about));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(C::ReceivedAt)
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    Ok(HoldingPage {
        items: rows.into_iter().map(info).collect(),
        total,
        page: paging.page,
        per_page: paging.per_page,
    })
}

async fn get(db: &DatabaseConnection, id: Uuid) -> Result<Option<HoldingInfo>, DbErr> {
    Ok(holding::Entity::find_by_id(id).one(db).await?.map(info))
}

fn info(h: holding::Model) -> HoldingInfo {
    HoldingInfo {
        id: h.id,
        decision_id: h.decision_id,
        agreement_id: h.agreement_id,
        agreement_version: h.version,
        flow: h.flow_id,
        from: h.from_party,
        holder: h.holder,
        purpose: h.purpose,
        fields: serde_json::from_str(&h.fields).unwrap_or_default(),
        record_count: h.record_count,
        subject_count: h.subject_count,
        received_at: h.received_at,
        delete_by: h.delete_by,
        then: h.then_action,
        state: h.state,
    }
}
