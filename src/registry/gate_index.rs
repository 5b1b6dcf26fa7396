//! The gate's view of the registry: the version in force of every agreement, the officer's
//! controls and the suspended parties, compiled into a [`gate::Index`] and swapped in whole
//! after every change this instance commits (so a suspension holds from the moment its call
//! returns). Other instances sharing the database notice changes through the registry's
//! generation, a counter every registry change adds one to in its own transaction
//! (`Registry::commit_change`); see [`Registry::refresh_if_changed`]. It is a counter, not
//! the latest time a change stamped, because stamps repeat (the same microsecond, clocks apart,
//! a fixed clock) and a repeated stamp would hide a suspension. Gate decisions do not move it,
//! so a busy gate does not cause rebuilds.
//!
//! Rebuilds run one at a time, under a lock held from reading the generation to the swap: two
//! changes committed together each rebuild, and the one that read later always swaps later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Statement,
};
use uuid::Uuid;

use super::lifecycle::{Control, Stored};
use super::versions::parse_stored;
use super::{Registry, Result};
use crate::agreement::ValidAgreement;
use crate::audit::Writer;
use crate::gate::{Index, IndexedAgreement, VersionInForce};
use crate::store::entity::{agreement, party_suspension, version};

/// The current index, the registry generation it was built from, and the parsed versions it
/// was built from (versions never change, so each is parsed once).
#[derive(Default)]
pub struct IndexHandle {
    current: RwLock<Arc<Index>>,
    /// The generation the current index was built from (`None` before the first build). Its
    /// lock is held from reading the generation to the swap, so rebuilds run one at a time and
    /// each reads after the one before it swapped: an older build never replaces a newer one.
    built_from: tokio::sync::Mutex<Option<i64>>,
    parsed: Mutex<HashMap<Uuid, Arc<ValidAgreement>>>,
}

impl Registry {
    /// The index decisions read now. Cheap: an `Arc` clone.
    pub fn gate_index(&self) -> Arc<Index> {
        self.index
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Rebuilds the index from the database and swaps it in.
    pub async fn reload_index(&self) -> Result<()> {
        let mut built_from = self.index.built_from.lock().await;
        let now = generation(&self.db).await?;
        self.rebuild(&mut built_from, now).await
    }

    /// Rebuilds the index if the registry changed since it was built (by this instance or
    /// another sharing the database). Returns whether it rebuilt.
    pub async fn refresh_if_changed(&self) -> Result<bool> {
        let mut built_from = self.index.built_from.lock().await;
        let now = generation(&self.db).await?;
        if *built_from == Some(now) {
            return Ok(false);
        }
        self.rebuild(&mut built_from, now).await?;
        Ok(true)
    }

    /// Builds the index from the database and swaps it in. `built_from` is the guard of
    /// `IndexHandle::built_from` and `generation` was read under it, before anything else.
    async fn rebuild(&self, built_from: &mut Option<i64>, generation: i64) -> Result<()> {
        let controls = agreement::Entity::find().all(&self.db).await?;
        let versions = version::Entity::find()
            .order_by_asc(version::Column::Number)
            .all(&self.db)
            .await?;
        let suspended: Vec<String> = party_suspension::Entity::find()
            .filter(party_suspension::Column::LiftedAt.is_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| s.party_id)
            .collect();
        let mut in_force: HashMap<String, version::Model> = HashMap::new();
        for v in versions {
            let replaces = in_force
                .get(&v.agreement_id)
                .is_none_or(|held| Stored::parse(&held.status) != Stored::Active);
            if replaces {
                in_force.insert(v.agreement_id.clone(), v);
            }
        }
        let mut entries = Vec::with_capacity(controls.len());
        for a in controls {
            let version = match in_force.remove(&a.id) {
                Some(v) => Some(self.in_force(v)?),
                None => None,
            };
            entries.push(IndexedAgreement {
                id: a.id,
                control: Control::parse(&a.control),
                version,
            });
        }
        let index = Arc::new(Index::build(entries, suspended));
        *self
            .index
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = index;
        *built_from = Some(generation);
        Ok(())
    }

    /// Commits a registry change: adds one to the registry's generation in the change's own
    /// transaction (so other instances see the change and the new number together, or
    /// neither), writes its audit records, commits, and rebuilds this instance's index. Every
    /// registry change ends here; `txn` must hold the writers' lock (`log` was begun on it).
    pub(super) async fn commit_change(&self, txn: DatabaseTransaction, log: Writer) -> Result<()> {
        let backend = txn.get_database_backend();
        let bumped = txn
            .execute_raw(Statement::from_string(
                backend,
                "UPDATE registry_generation SET generation = generation + 1 WHERE id = 1",
            ))
            .await?;
        if bumped.rows_affected() != 1 {
            return Err(DbErr::RecordNotUpdated.into());
        }
        log.commit(txn).await?;
        self.reload_index().await
    }

    fn in_force(&self, v: version::Model) -> Result<VersionInForce> {
        let agreement = self.parsed(&v)?;
        Ok(VersionInForce {
            number: v.number,
            stored: Stored::parse(&v.status),
            agreement,
        })
    }

    /// A stored version as a typed agreement. Versions never change, so each is parsed once
    /// and shared by every reader (queries, signing, the register, the gate).
    pub(crate) fn parsed(&self, v: &version::Model) -> Result<Arc<ValidAgreement>> {
        let cache = &self.index.parsed;
        if let Some(a) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&v.id) {
            return Ok(a.clone());
        }
        let parsed = Arc::new(parse_stored(v)?);
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(v.id, parsed.clone());
        Ok(parsed)
    }
}

/// The registry's generation now: how many changes the registry has committed.
async fn generation(db: &impl ConnectionTrait) -> Result<i64> {
    let sql = "SELECT generation FROM registry_generation WHERE id = 1";
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("registry_generation".into()))?;
    Ok(row.try_get::<i64>("", "generation")?)
}
