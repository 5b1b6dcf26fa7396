//! The tamper-evident audit log: every change is appended in the same transaction as the change
//! itself, each record carrying the SHA-256 of its predecessor; `verify` walks the chain.
//!
//! Writers are serialised by [`Writer::begin`], which takes a row lock on the chain's head
//! first thing in the transaction (on SQLite, the database write lock): two changes can never
//! read the same predecessor, on one instance or several.

pub mod chain;
mod sqlite;

use jiff::Timestamp;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use crate::store::entity::{audit_head, audit_record};
use crate::store::time::stamp;

/// The end of the chain: the last record's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// Appends records within one transaction that holds the writers' lock. Records are chained
/// in memory and written by [`Writer::write`] with one multi-row insert and one head update:
/// a change and its records land together, and a batch of many records costs a few
/// statements, not two per record.
///
/// The head is always the first row a writer changes (the lock), so writers queue on it in
/// one order (no deadlock between them), and two writers can never chain onto the same
/// predecessor, on one instance or several.
pub struct Writer {
    seq: i64,
    hash: String,
    pending: Vec<audit_record::Model>,
}

impl Writer {
    /// Takes the writers' lock and reads the chain's head. Call it first in a transaction.
    pub async fn begin(txn: &impl ConnectionTrait) -> Result<Writer, DbErr> {
        let backend = txn.get_database_backend();
        txn.execute_raw(Statement::from_string(
            backend,
            "UPDATE audit_head SET seq = seq WHERE id = 1",
        ))
        .await?;
        Ok(Writer::resume(read_head(txn).await?))
    }

    /// Chains onto a head read under the writers' lock.
    fn resume(head: Head) -> Writer {
        Writer {
            seq: head.seq,
            hash: head.hash,
            pending: Vec::new(),
        }
    }

    /// Chains one record. It is written by [`Writer::write`].
    pub fn append(&mut self, at: Timestamp, event: Event<'_>) {
        let details = event.details.to_string();
        let id = Uuid::now_v7();
        self.append_with_id(id, at, event.actor, event.action, event.subject, details);
    }

    /// Chains one record under an id chosen by the caller (the gate answers with the id of its
    /// decision's record, so anyone can find it in the log), with its details already JSON text.
    pub fn append_with_id(
        &mut self,
        id: Uuid,
        at: Timestamp,
        actor: &str,
        action: &str,
        subject: String,
        details: String,
    ) {
        let (id_text, at_text) = (id.to_string(), stamp(at));
        let seq = self.seq + 1;
        let hash = chain::hash(&chain::Fields {
            seq,
            id: &id_text,
            at: &at_text,
            actor,
            action,
            subject: &subject,
            details: &details,
            prev_hash: &self.hash,
        });
        self.pending.push(audit_record::Model {
            seq,
            id,
            at: at_text,
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject,
            details,
            prev_hash: std::mem::replace(&mut self.hash, hash),
            hash: self.hash.clone(),
        });
        self.seq = seq;
    }

    /// The records chained and not yet written, as [`Planned`]: what the change is about to
    /// record, which a dry run shows instead of committing.
    pub fn planned(&self) -> Vec<Planned> {
        self.pending
            .iter()
            .map(|r| Planned {
                actor: r.actor.clone(),
                action: r.action.clone(),
                subject: r.subject.clone(),
                details: serde_json::from_str(&r.details)
                    .unwrap_or_else(|_| serde_json::Value::String(r.details.clone())),
            })
            .collect()
    }

    /// Where the chain will stand once the records are written.
    pub fn head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    /// Inserts the chained records and moves the head to the last of them. Returns the new
    /// head; the caller commits.
    pub async fn write(self, txn: &impl ConnectionTrait) -> Result<Head, DbErr> {
        const ROWS_PER_INSERT: usize = 500;
        let head = self.head();
        if self.pending.is_empty() {
            return Ok(head);
        }
        let mut rows = self.pending.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<audit_record::ActiveModel> = rows
                .by_ref()
                .take(ROWS_PER_INSERT)
                .map(Into::into)
                .collect();
            audit_record::Entity::insert_many(chunk)
                .exec_without_returning(txn)
                .await?;
        }
        let moved = audit_head::ActiveModel {
            id: Set(1),
            seq: Set(head.seq),
            hash: Set(head.hash.clone()),
        };
        audit_head::Entity::update(moved).exec(txn).await?;
        Ok(head)
    }

    /// Writes the chained records and commits the transaction.
    pub async fn commit(self, txn: DatabaseTransaction) -> Result<Head, DbErr> {
        let head = self.write(&txn).await?;
        txn.commit().await?;
        Ok(head)
    }
}

async fn read_head(db: &impl ConnectionTrait) -> Result<Head, DbErr> {
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
    Ok(Head {
        seq: head.seq,
        hash: head.hash,
    })
}

/// A record a change is about to write ([`Writer::planned`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
}

/// What happened, by whom, to what.
pub struct Event<'a> {
    pub actor: &'a str,
    /// A dotted verb, e.g. `version.activated`.
    pub action: &'a str,
    /// What it happened to, e.g. `agreement:camden-foodbank-referrals`.
    pub subject: String,
    pub details: serde_json::Value,
}

/// How the chain failed verification: the first bad record and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tamper {
    pub seq: i64,
    pub id: Option<Uuid>,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub records: i64,
    pub head: String,
}

/// Walks the whole chain in order; `Ok(Err(tamper))` names the first record that fails.
pub async fn verify(db: &DatabaseConnection) -> Result<Result<Verified, Tamper>, DbErr> {
    const PAGE: u64 = 1000;
    let mut expected_seq = 1;
    let mut prev = chain::GENESIS.to_owned();
    loop {
        let page = audit_record::Entity::find()
            .filter(audit_record::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_record::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let done = (page.len() as u64) < PAGE;
        for r in page {
            if let Err(t) = check_record(&r, expected_seq, &prev) {
                return Ok(Err(t));
            }
            prev = r.hash;
            expected_seq += 1;
        }
        if done {
            break;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    let records = expected_seq - 1;
    match head {
        Some(h) if h.seq == records && h.hash == prev => Ok(Ok(Verified {
            records,
            head: prev,
        })),
        Some(h) => Ok(Err(Tamper {
            seq: records + 1,
            id: None,
            problem: format!(
                "the log ends at record {records}, but its head says {} records: records were \
                 removed from the end",
                h.seq
            ),
        })),
        None => Ok(Err(Tamper {
            seq: 0,
            id: None,
            problem: "the audit head is missing".into(),
        })),
    }
}

fn check_record(r: &audit_record::Model, expected_seq: i64, prev: &str) -> Result<(), Tamper> {
    let tamper = |problem: String| Tamper {
        seq: r.seq,
        id: Some(r.id),
        problem,
    };
    if r.seq != expected_seq {
        return Err(tamper(format!(
            "expected record {expected_seq} next but found {}: records were removed",
            r.seq
        )));
    }
    if r.prev_hash != prev {
        return Err(tamper(
            "its predecessor hash does not match the record before it: records were removed \
             or reordered"
                .into(),
        ));
    }
    let id = r.id.to_string();
    let recomputed = chain::hash(&chain::Fields {
        seq: r.seq,
        id: &id,
        at: &r.at,
        actor: &r.actor,
        action: &r.action,
        subject: &r.subject,
        details: &r.details,
        prev_hash: &r.prev_hash,
    });
    if recomputed != r.hash {
        return Err(tamper(
            "its contents do not match its hash: it was altered".into(),
        ));
    }
    Ok(())
}

/// Which records to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub action: Option<String>,
    pub subject: Option<String>,
    pub actor: Option<String>,
    /// Only records after this one (a cursor: pass the last `seq` of the previous page).
    pub after: Option<i64>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// One record as the API shows it: its details as JSON, not text.
#[derive(Debug, serde::Serialize, poem_openapi::Object)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: Uuid,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, poem_openapi::Object)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[oai(nullable)]
    pub next_after: Option<i64>,
}

/// Most records in one page.
pub const MAX_PAGE: u64 = 1000;

/// A page of records in log order: `limit` (1 to [`MAX_PAGE`]) at most, and where the next
/// page starts if this one is full.
/// The audit log as the API and the console read it: a page of records, and the whole chain
/// verified. Writing is [`Writer`]'s, inside each change's transaction.
#[derive(Clone)]
pub struct Audit {
    db: DatabaseConnection,
}

impl Audit {
    pub fn new(db: DatabaseConnection) -> Audit {
        Audit { db }
    }

    /// [`page`] of the log.
    pub async fn page(&self, filter: &Filter, limit: u64) -> Result<AuditPage, DbErr> {
        page(&self.db, filter, limit).await
    }

    /// [`verify`] the whole chain.
    pub async fn verify(&self) -> Result<Result<Verified, Tamper>, DbErr> {
        verify(&self.db).await
    }
}

pub async fn page(
    db: &DatabaseConnection,
    filter: &Filter,
    limit: u64,
) -> Result<AuditPage, DbErr> {
    let limit = limit.clamp(1, MAX_PAGE);
    let rows = list(db, filter, limit).await?;
    let next_after = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    let items = rows
        .into_iter()
        .map(|r| AuditRecord {
            details: serde_json::from_str(&r.details)
                .unwrap_or(serde_json::Value::String(r.details)),
            seq: r.seq,
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
        .collect();
    Ok(AuditPage { items, next_after })
}

/// Records in log order, at most `limit` of them.
pub async fn list(
    db: &DatabaseConnection,
    filter: &Filter,
    limit: u64,
) -> Result<Vec<audit_record::Model>, DbErr> {
    use audit_record::Column as C;
    let mut q = audit_record::Entity::find();
    if let Some(a) = &filter.action {
        q = q.filter(C::Action.eq(a.as_str()));
    }
    if let Some(s) = &filter.subject {
        q = q.filter(C::Subject.eq(s.as_str()));
    }
    if let Some(a) = &filter.actor {
        q = q.filter(C::Actor.eq(a.as_str()));
    }
    if let Some(after) = filter.after {
        q = q.filter(C::Seq.gt(after));
    }
    if let Some(since) = filter.since {
        q = q.filter(C::At.gte(stamp(since)));
    }
    if let Some(until) = filter.until {
        q = q.filter(C::At.lt(stamp(until)));
    }
    q.order_by_asc(C::Seq).limit(limit).all(db).await
}
