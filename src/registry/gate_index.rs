//! The gate's view of the registry: the version in force of every agreement, the officer's
//! controls and the suspended parties, compiled into a [`gate::Index`] and swapped in whole
//! after every change this instance commits (so a suspension holds from the moment its call
//! returns). Other instances sharing the database notice changes through a fingerprint of the
//! tables the index is built from, see [`Registry::refresh_if_changed`]; gate decisions do not
//! move it, so a busy gate does not cause rebuilds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};
use uuid::Uuid;

use super::lifecycle::{Control, Stored};
use super::versions::parse_stored;
use super::{Registry, Result};
use crate::agreement::ValidAgreement;
use crate::gate::{Index, IndexedAgreement, VersionInForce};
use crate::store::entity::{agreement, party_suspension, version};

/// The current index, and the parsed versions it was built from (versions never change, so
/// each is parsed once).
#[derive(Default)]
pub struct IndexHandle {
    current: RwLock<Arc<Index>>,
    built_from: Mutex<String>,
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
        let fingerprint = self.fingerprint().await?;
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
        *self
            .index
            .built_from
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = fingerprint;
        Ok(())
    }

    /// Rebuilds the index if the registry changed since it was built (by this instance or
    /// another sharing the database). Returns whether it rebuilt.
    pub async fn refresh_if_changed(&self) -> Result<bool> {
        let now = self.fingerprint().await?;
        let built = self
            .index
            .built_from
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if now == built {
            return Ok(false);
        }
        self.reload_index().await?;
        Ok(true)
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

    /// Changes whenever anything the index is built from changes: rows are only added to these
    /// tables, and every change of state stamps a time.
    async fn fingerprint(&self) -> Result<String> {
        const SQL: &str = "SELECT \
            (SELECT COUNT(*) FROM agreements) AS a, \
            (SELECT MAX(control_changed_at) FROM agreements) AS b, \
            (SELECT COUNT(*) FROM agreement_versions) AS c, \
            (SELECT MAX(activated_at) FROM agreement_versions) AS d, \
            (SELECT MAX(superseded_at) FROM agreement_versions) AS e, \
            (SELECT COUNT(*) FROM party_suspensions) AS f, \
            (SELECT MAX(lifted_at) FROM party_suspensions) AS g";
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(backend, SQL))
            .await?;
        let Some(row) = row else {
            return Ok(String::new());
        };
        let count = |c: &str| row.try_get::<i64>("", c).unwrap_or(-1);
        let latest = |c: &str| {
            row.try_get::<Option<String>>("", c)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        Ok(format!(
            "{}|{}|{}|{}|{}|{}|{}",
            count("a"),
            latest("b"),
            count("c"),
            latest("d"),
            latest("e"),
            count("f"),
            latest("g")
        ))
    }
}
