//! What the agreement list reads, kept on each agreement's row: the version shown (the one in
//! force, else the newest), its title, stored status and term end, the newest number, how many
//! versions, whether the version in force is published on the transparency register and
//! since when, and the shown version's parties in `agreement_parties`. A list page is then one
//! indexed query, whatever the registry's size. Every registry change that touches an
//! agreement refreshes its row here, in the change's own transaction, so the list and the
//! registry never disagree; rows stored by an older Accord (`version_count = 0`) are filled in
//! by [`Registry::backfill_listing`] when the registry loads.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::{Registry, RegistryError, Result};
use crate::agreement::lifecycle::Stored;
use crate::store::entity::{agreement, agreement_party, version};

/// A version as the listing needs it: no source text.
#[derive(Debug, Clone)]
struct Light {
    id: Uuid,
    number: i32,
    status: String,
    activated_at: Option<String>,
}

impl Registry {
    /// Brings agreement `id`'s list entry up to date with its versions, through `db` (the
    /// transaction of the change that touched it).
    pub(super) async fn refresh_listing(&self, db: &impl ConnectionTrait, id: &str) -> Result<()> {
        let versions: Vec<Light> = version::Entity::find()
            .select_only()
            .columns([
                version::Column::Id,
                version::Column::Number,
                version::Column::Status,
                version::Column::ActivatedAt,
            ])
            .filter(version::Column::AgreementId.eq(id))
            .order_by_asc(version::Column::Number)
            .into_tuple::<(Uuid, i32, String, Option<String>)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, number, status, activated_at)| Light {
                id,
                number,
                status,
                activated_at,
            })
            .collect();
        let Some(latest) = versions.last() else {
            return Err(RegistryError::NotFound(format!(
                "agreement '{id}' has no versions"
            )));
        };
        let current = versions
            .iter()
            .rev()
            .find(|v| Stored::parse(&v.status) == Stored::Active);
        let shown = current.unwrap_or(latest);
        let row = version::Entity::find_by_id(shown.id)
            .one(db)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("agreement '{id}' lost a version")))?;
        let parsed = self.parsed(&row)?;
        let update = agreement::ActiveModel {
            id: Set(id.to_owned()),
            title: Set(parsed.title.clone()),
            shown_version: Set(Some(shown.number)),
            shown_stored: Set(Stored::parse(&shown.status).as_str().to_owned()),
            shown_term_end: Set(parsed.term.end.map(|d| d.to_string())),
            shown_review_due: Set(parsed.term.next_review().map(|d| d.to_string())),
            current_version: Set(current.map(|v| v.number)),
            latest_version: Set(latest.number),
            version_count: Set(versions.len() as i32),
            published: Set(current.is_some() && parsed.published()),
            in_force_since: Set(current.and_then(|v| v.activated_at.clone())),
            ..Default::default()
        };
        agreement::Entity::update(update).exec(db).await?;
        agreement_party::Entity::delete_many()
            .filter(agreement_party::Column::AgreementId.eq(id))
            .exec(db)
            .await?;
        let parties = parsed.parties.iter().map(|p| agreement_party::ActiveModel {
            agreement_id: Set(id.to_owned()),
            party_id: Set(p.id.to_string()),
        });
        agreement_party::Entity::insert_many(parties)
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    /// Fills in the list entries of agreements stored before the listing existed. Each is
    /// refreshed in its own transaction; none changes what the registry holds.
    pub async fn backfill_listing(&self) -> Result<usize> {
        let stale: Vec<String> = agreement::Entity::find()
            .select_only()
            .column(agreement::Column::Id)
            .filter(agreement::Column::VersionCount.eq(0))
            .into_tuple::<String>()
            .all(&self.db)
            .await?;
        for id in &stale {
            let txn = self.db.begin().await?;
            self.refresh_listing(&txn, id).await?;
            txn.commit().await?;
        }
        Ok(stale.len())
    }
}
