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
    QuerySelect, Statement,
};
use uuid::Uuid;

use super::engagements::{all_ends, applied, ends_of};
use super::stored::parse_stored;
use super::{Registry, RegistryError, Result};
use crate::agreement::ValidAgreement;
use crate::agreement::engagement::EarlyEnd;
use crate::agreement::lifecycle::{Control, Stored};
use crate::audit::Writer;
use crate::gate::{Index, Indexed, IndexedAgreement, VersionInForce};
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

    /// How many changes the registry has committed, as the database says now (shared by every
    /// instance): what a view computed from the registry can be kept against.
    pub async fn generation(&self) -> Result<i64> {
        generation(&self.db).await
    }

    /// Brings list entries stored by an older Accord up to date, then rebuilds the index
    /// from the database and swaps it in. What `serve` runs once the registry is open.
    pub async fn reload_index(&self) -> Result<()> {
        self.backfill_listing().await?;
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
    /// Reads the source only of versions never parsed here, and compiles only agreements
    /// whose control or version in force changed: the rest keep their compiled entry.
    async fn rebuild(&self, built_from: &mut Option<i64>, generation: i64) -> Result<()> {
        let controls: Vec<(String, String)> = agreement::Entity::find()
            .select_only()
            .columns([agreement::Column::Id, agreement::Column::Control])
            .into_tuple()
            .all(&self.db)
            .await?;
        let versions: Vec<(Uuid, String, i32, String)> = version::Entity::find()
            .select_only()
            .columns([
                version::Column::Id,
                version::Column::AgreementId,
                version::Column::Number,
                version::Column::Status,
            ])
            .order_by_asc(version::Column::Number)
            .into_tuple()
            .all(&self.db)
            .await?;
        let suspended = self.suspended_parties(&self.db).await?;
        let ends = all_ends(&self.db).await?;
        let mut in_force: HashMap<String, (Uuid, i32, Stored)> = HashMap::new();
        for (id, agreement_id, number, status) in versions {
            let stored = Stored::parse(&status);
            let replaces = in_force
                .get(&agreement_id)
                .is_none_or(|held| held.2 != Stored::Active);
            if replaces {
                in_force.insert(agreement_id, (id, number, stored));
            }
        }
        let mut ids: HashMap<String, Uuid> = HashMap::with_capacity(in_force.len());
        let listed: Vec<Indexed> = controls
            .into_iter()
            .map(|(id, control)| {
                let amendments = ends.get(&id).map_or(0, |e| e.len() as u32);
                let version = in_force.remove(&id).map(|(vid, number, stored)| {
                    ids.insert(id.clone(), vid);
                    (number, stored, amendments)
                });
                Indexed {
                    control: Control::parse(&control),
                    id,
                    version,
                }
            })
            .collect();
        let missing: Vec<Uuid> = ids
            .values()
            .copied()
            .filter(|vid| self.cached(*vid).is_none())
            .collect();
        for chunk in missing.chunks(500) {
            let rows = version::Entity::find()
                .filter(version::Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?;
            for row in rows {
                self.parsed(&row)?;
            }
        }
        let index = self.gate_index().rebuilt(listed, suspended, |a| {
            let Some(&vid) = ids.get(&a.id) else {
                return Ok(None);
            };
            let agreement = self
                .cached(vid)
                .ok_or_else(|| RegistryError::NotFound(format!("version {vid} vanished")))?;
            let agreement = applied(agreement, ends.get(&a.id).map_or(&[], Vec::as_slice));
            Ok::<_, RegistryError>(in_force_of(a, agreement))
        })?;
        self.swap(index);
        *built_from = Some(generation);
        Ok(())
    }

    fn swap(&self, index: Index) {
        *self
            .index
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
    }

    async fn suspended_parties(&self, db: &impl ConnectionTrait) -> Result<Vec<String>> {
        Ok(party_suspension::Entity::find()
            .select_only()
            .column(party_suspension::Column::PartyId)
            .filter(party_suspension::Column::LiftedAt.is_null())
            .into_tuple()
            .all(db)
            .await?)
    }

    /// Commits a registry change: refreshes the list entry of every agreement it touched and
    /// adds one to the registry's generation, both in the change's own transaction (so other
    /// instances see the change and the new number together, or neither), writes its audit
    /// records, commits, and updates this instance's index for what was touched. Every
    /// registry change ends here; `txn` must hold the writers' lock (`log` was begun on it).
    pub(super) async fn commit_change(
        &self,
        txn: DatabaseTransaction,
        log: Writer,
        touched: Touched<'_>,
    ) -> Result<()> {
        if let Touched::Agreements(ids) | Touched::Import(ids) = touched {
            for id in ids {
                self.refresh_listing(&txn, id).await?;
            }
        }
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
        let made = generation(&txn).await?;
        log.commit(txn).await?;
        match touched {
            // The importer rebuilds once, after its last batch.
            Touched::Import(_) => Ok(()),
            _ => self.follow(touched, made).await,
        }
    }

    /// Updates this instance's index after its own change, which made generation `made`: only
    /// what the change touched is read and compiled, when the index was built from the
    /// generation just before it. If other changes came between, it rebuilds, as a follower
    /// does; if a rebuild already saw this change, nothing is left to do.
    async fn follow(&self, touched: Touched<'_>, made: i64) -> Result<()> {
        let mut built_from = self.index.built_from.lock().await;
        match *built_from {
            Some(b) if b >= made => return Ok(()),
            Some(b) if b == made - 1 => {}
            _ => return self.rebuild(&mut built_from, made).await,
        }
        let started = std::time::Instant::now();
        let current = self.gate_index();
        let next = match touched {
            Touched::Parties => current.with_suspended(self.suspended_parties(&self.db).await?),
            Touched::Agreements(ids) | Touched::Import(ids) => {
                // Each step copies the map of shared entries once; the entries themselves are
                // shared, and only the touched agreements are compiled.
                let mut next: Option<Index> = None;
                for id in ids {
                    let one = self.indexed(id).await?;
                    next = Some(next.as_ref().unwrap_or(&current).with_agreement(one));
                }
                next.unwrap_or_else(|| (*current).clone())
            }
        };
        self.swap(next);
        *built_from = Some(made);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        tracing::debug!(micros, agreements = current.len(), "gate index updated");
        Ok(())
    }

    /// One agreement as the index holds it, read now: its control, and its active version,
    /// else its newest (so a deny can still say what else is wrong).
    async fn indexed(&self, id: &str) -> Result<IndexedAgreement> {
        let control = agreement::Entity::find_by_id(id)
            .select_only()
            .column(agreement::Column::Control)
            .into_tuple::<String>()
            .one(&self.db)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("no agreement '{id}'")))?;
        let newest_first = || {
            version::Entity::find()
                .filter(version::Column::AgreementId.eq(id))
                .order_by_desc(version::Column::Number)
        };
        let active = newest_first()
            .filter(version::Column::Status.eq(Stored::Active.as_str()))
            .one(&self.db)
            .await?;
        let shown = match active {
            Some(v) => Some(v),
            None => newest_first().one(&self.db).await?,
        };
        let ends = ends_of(&self.db, id).await?;
        Ok(IndexedAgreement {
            id: id.to_owned(),
            control: Control::parse(&control),
            version: shown.map(|v| self.in_force(v, &ends)).transpose()?,
        })
    }

    /// A version as the index holds it: with the engagements ended early applied.
    fn in_force(&self, v: version::Model, ends: &[EarlyEnd]) -> Result<VersionInForce> {
        let agreement = applied(self.parsed(&v)?, ends);
        Ok(VersionInForce {
            number: v.number,
            stored: Stored::parse(&v.status),
            amendments: ends.len() as u32,
            agreement,
        })
    }

    /// A version already parsed, by id.
    fn cached(&self, id: Uuid) -> Option<Arc<ValidAgreement>> {
        let cache = self.index.parsed.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&id).cloned()
    }

    /// Remembers a version's typed agreement, parsed by whoever stored it.
    pub(super) fn remember(&self, id: Uuid, agreement: Arc<ValidAgreement>) {
        let mut cache = self.index.parsed.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(id, agreement);
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

/// What a registry change touched, so this instance updates only that in its index.
#[derive(Debug, Clone, Copy)]
pub(super) enum Touched<'a> {
    /// These agreements: their versions, signatures or control.
    Agreements(&'a [String]),
    /// A batch of imports: the listings of these agreements are refreshed, and the whole
    /// index is rebuilt once the import is done.
    Import(&'a [String]),
    /// The suspended parties.
    Parties,
}

/// The version in force of `a`, which has one (compiling is asked only for those).
fn in_force_of(a: &Indexed, agreement: Arc<ValidAgreement>) -> Option<VersionInForce> {
    a.version
        .map(|(number, stored, amendments)| VersionInForce {
            number,
            stored,
            amendments,
            agreement,
        })
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
