//! Adding versions: from a folder at start, or uploaded. Each distinct content of an agreement
//! id becomes one immutable version (identified by the SHA-256 of its bytes); the same content
//! again is recognised, not duplicated.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::engagements::carries_ends;
use super::gate_index::Touched;
use super::stored::{SignatureSource, VersionInfo, find_version, not_terminated};
use super::{Registry, RegistryError, Result};
use crate::agreement::lifecycle::{Control, Stored};
use crate::agreement::validate::placeholders::{left_to_fill, officer_notes};
use crate::agreement::{ValidAgreement, check_source};
use crate::audit::{Event, Writer};
use crate::check::{agreement_files, check_blocking, read_source};
use crate::store::entity::{agreement, signature, version};
use crate::store::time::stamp;

/// Where a version's source came from, which decides whether the signatures written in it
/// count. Only the operator's agreements folder, imported at start, is trusted: anyone with
/// the server's files could sign anyway. Through the API, a `signatures:` block is a claim
/// each party's signatory confirms by signing; until then the version awaits that party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The agreements folder, imported at start: its signatures count.
    Import,
    /// Uploaded by an officer: its signatures are claims.
    Upload,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Import => "import",
            Origin::Upload => "upload",
        }
    }

    /// How the `signatures:` written in such a source are recorded.
    fn signature_source(self) -> SignatureSource {
        match self {
            Origin::Import => SignatureSource::File,
            Origin::Upload => SignatureSource::Claimed,
        }
    }
}

/// The result of adding a version.
#[derive(Debug, Clone)]
pub enum Added {
    Created(VersionInfo),
    /// The same content was already a version of this agreement.
    Existing(VersionInfo),
}

/// What importing a folder did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// The versions stored: agreement id and the registry's version number.
    pub created: Vec<(String, i32)>,
    pub unchanged: usize,
    /// Files skipped, with why (errors, or unreadable).
    pub skipped: Vec<(PathBuf, String)>,
}

/// What storing one source came to, inside the caller's transaction.
enum StoredAs {
    New(version::Model),
    /// The same content was already a version of the agreement.
    Existing(version::Model),
}

/// Files imported in one transaction: one commit (one sync to disk) per batch, not per file.
const IMPORT_BATCH: usize = 250;

impl Registry {
    /// Checks and stores an uploaded or imported source.
    pub async fn add_version(&self, source: &[u8], actor: &str, origin: Origin) -> Result<Added> {
        let checked = check_blocking(source.to_vec(), self.clock.today()).await;
        let Some(agreement) = checked.agreement else {
            return Err(RegistryError::Invalid(checked.diagnostics));
        };
        let text = String::from_utf8_lossy(source).into_owned();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let now = self.clock.now();
        let id = agreement.id.to_string();
        let stored = self
            .store_in(
                &txn,
                &mut log,
                &text,
                Arc::new(agreement),
                actor,
                origin,
                now,
                Seen::Unknown,
            )
            .await?;
        let row = match stored {
            StoredAs::Existing(row) => {
                drop(txn);
                return Ok(Added::Existing(self.version_info(row).await?));
            }
            StoredAs::New(row) => row,
        };
        self.commit_change(txn, log, Touched::Agreements(&[id]))
            .await?;
        let fresh = version::Entity::find_by_id(row.id).one(&self.db).await?;
        let fresh = fresh.ok_or_else(|| RegistryError::NotFound("version vanished".into()))?;
        Ok(Added::Created(self.version_info(fresh).await?))
    }

    /// Stores `source` as a new draft version inside the caller's transaction, which holds the
    /// writers' lock (`log` was begun on it), then commits it with everything the caller
    /// changed and updates the gate's index: the caller's change and the version land together
    /// or not at all. An upload: signatures in the source are claims. Refused when the source
    /// has errors or its content is already stored.
    pub(crate) async fn add_version_in(
        &self,
        txn: DatabaseTransaction,
        mut log: Writer,
        source: &str,
        actor: &str,
    ) -> Result<VersionInfo> {
        let checked = check_blocking(source.as_bytes().to_vec(), self.clock.today()).await;
        let Some(agreement) = checked.agreement else {
            return Err(RegistryError::Invalid(checked.diagnostics));
        };
        let id = agreement.id.to_string();
        let now = self.clock.now();
        let stored = self
            .store_in(
                &txn,
                &mut log,
                source,
                Arc::new(agreement),
                actor,
                Origin::Upload,
                now,
                Seen::Unknown,
            )
            .await?;
        let StoredAs::New(row) = stored else {
            return Err(RegistryError::Conflict(format!(
                "agreement {id} already has a version with this content"
            )));
        };
        let number = row.number;
        self.commit_change(txn, log, Touched::Agreements(std::slice::from_ref(&id)))
            .await?;
        let fresh = find_version(&self.db, &id, number).await?;
        self.version_info(fresh).await
    }

    /// Imports every agreement file under `dir`; files with errors are reported and skipped.
    /// Files are stored in batches of [`IMPORT_BATCH`], one transaction each; a file whose
    /// content is already stored is recognised by its hash without being checked again; the
    /// gate's index is rebuilt once, at the end. Files are read and checked on a blocking
    /// thread, a little ahead of the batches being written, so parsing and writing overlap.
    /// Cost: linear in the number of files.
    pub async fn import_dir(&self, dir: &Path) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let files = agreement_files(dir).map_err(RegistryError::BadRequest)?;
        let mut known: HashSet<String> = version::Entity::find()
            .select_only()
            .column(version::Column::ContentHash)
            .into_tuple::<String>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let total = files.len();
        let mut read = read_ahead(files, known.clone(), self.clock.today());
        let mut done = 0;
        while done < total {
            let txn = self.db.begin().await?;
            let mut log = Writer::begin(&txn).await?;
            // Read under the writers' lock, so no other instance adds one before we commit.
            let mut registered: HashSet<String> = agreement::Entity::find()
                .select_only()
                .column(agreement::Column::Id)
                .into_tuple::<String>()
                .all(&txn)
                .await?
                .into_iter()
                .collect();
            let mut touched: Vec<String> = Vec::new();
            let batch_end = (done + IMPORT_BATCH).min(total);
            while done < batch_end {
                done += 1;
                let Some(file) = read.recv().await else {
                    // Only a panic on the reader's thread ends it before the last file.
                    let why = "the import's file reader stopped before the last file";
                    return Err(sea_orm::DbErr::Custom(why.into()).into());
                };
                let (path, text, a) = match file {
                    ReadFile::Unchanged => {
                        report.unchanged += 1;
                        continue;
                    }
                    ReadFile::Skipped(path, why) => {
                        report.skipped.push((path, why));
                        continue;
                    }
                    ReadFile::Checked(path, text, a) => (path, text, a),
                };
                if known.contains(&content_hash(&text)) {
                    report.unchanged += 1;
                    continue;
                }
                let now = self.clock.now();
                let seen = if registered.insert(a.id.to_string()) {
                    Seen::New
                } else {
                    Seen::Unknown
                };
                let stored = self
                    .store_in(
                        &txn,
                        &mut log,
                        &text,
                        Arc::new(*a),
                        "import",
                        Origin::Import,
                        now,
                        seen,
                    )
                    .await;
                match stored {
                    Ok(StoredAs::New(row)) => {
                        known.insert(row.content_hash);
                        report.created.push((row.agreement_id.clone(), row.number));
                        touched.push(row.agreement_id);
                    }
                    Ok(StoredAs::Existing(_)) => report.unchanged += 1,
                    Err(RegistryError::Conflict(why)) => report.skipped.push((path, why)),
                    Err(other) => return Err(other),
                }
            }
            if touched.is_empty() {
                // Nothing was written: an agreement's row is made only with its first version.
                drop(txn);
            } else {
                touched.dedup();
                self.commit_change(txn, log, Touched::Import(&touched))
                    .await?;
            }
        }
        if !report.created.is_empty() {
            self.reload_index().await?;
        }
        Ok(report)
    }

    /// Stores `source` (checked: `a`) as a new version of its agreement, in `txn`, with its
    /// audit records in `log`; activates it if the signatures that count are all there.
    #[allow(clippy::too_many_arguments)]
    async fn store_in(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        source: &str,
        a: Arc<ValidAgreement>,
        actor: &str,
        origin: Origin,
        now: jiff::Timestamp,
        seen: Seen,
    ) -> Result<StoredAs> {
        let hash = content_hash(source);
        let agreement_id = a.id.as_str();
        let number = match seen {
            Seen::New => {
                register(txn, log, agreement_id, actor, now).await?;
                1
            }
            Seen::Unknown => {
                let control = ensure_agreement(txn, log, agreement_id, actor, now).await?;
                not_terminated(control, agreement_id, "it takes no new versions")?;
                let existing = version::Entity::find()
                    .filter(version::Column::AgreementId.eq(agreement_id))
                    .filter(version::Column::ContentHash.eq(hash.as_str()))
                    .one(txn)
                    .await?;
                if let Some(row) = existing {
                    return Ok(StoredAs::Existing(row));
                }
                carries_ends(txn, &a, "the version was not saved").await?;
                next_number(txn, agreement_id).await?
            }
        };
        let row = version::ActiveModel {
            id: Set(Uuid::now_v7()),
            agreement_id: Set(agreement_id.to_owned()),
            number: Set(number),
            content_hash: Set(hash.clone()),
            declared_version: Set(a.version.get() as i32),
            title: Set(a.title.clone()),
            source: Set(source.to_owned()),
            status: Set(Stored::Draft.as_str().to_owned()),
            origin: Set(origin.as_str().to_owned()),
            created_at: Set(stamp(now)),
            created_by: Set(actor.to_owned()),
            activated_at: Set(None),
            superseded_at: Set(None),
        };
        let row = version::Entity::insert(row)
            .exec_with_returning(txn)
            .await?;
        self.remember(row.id, a.clone());
        let source = origin.signature_source();
        let declared = declared_signatures(txn, &row, &a, source, actor, now).await?;
        let declared_as = match source {
            SignatureSource::Claimed => "claimed_signatures",
            _ => "declared_signatures",
        };
        let event = Event {
            actor,
            action: "version.created",
            subject: format!("agreement:{agreement_id}"),
            details: serde_json::json!({
                "version": number, "id": row.id, "content_hash": hash,
                "origin": origin.as_str(), "declared_version": a.version, declared_as: declared,
            }),
        };
        log.append(now, event);
        super::signing::activate_if_signed(txn, log, &row, &a, actor, now).await?;
        Ok(StoredAs::New(row))
    }
}

/// What the caller of `store_in` knows of the agreement's row.
#[derive(Debug, Clone, Copy)]
enum Seen {
    /// Nothing: look it up (and create it if missing).
    Unknown,
    /// No row exists: the caller read so under the writers' lock (the importer, once per
    /// batch). The version is the agreement's first, so nothing else needs reading.
    New,
}

/// The agreement's row, created (and audited) on first sight; returns its control.
async fn ensure_agreement(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    id: &str,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<Control> {
    if let Some(row) = agreement::Entity::find_by_id(id).one(txn).await? {
        return Ok(Control::parse(&row.control));
    }
    register(txn, log, id, actor, now).await?;
    Ok(Control::Open)
}

/// Creates the agreement's row, open, with its audit record.
async fn register(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    id: &str,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<()> {
    let row = agreement::ActiveModel {
        id: Set(id.to_owned()),
        control: Set(Control::Open.as_str().to_owned()),
        control_reason: Set(None),
        control_changed_at: Set(None),
        control_changed_by: Set(None),
        created_at: Set(stamp(now)),
        title: Set(String::new()),
        shown_version: Set(None),
        shown_stored: Set(Stored::Draft.as_str().to_owned()),
        shown_term_end: Set(None),
        shown_review_due: Set(None),
        current_version: Set(None),
        latest_version: Set(0),
        version_count: Set(0),
        published: Set(false),
        in_force_since: Set(None),
    };
    agreement::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    let event = Event {
        actor,
        action: "agreement.registered",
        subject: format!("agreement:{id}"),
        details: serde_json::json!({}),
    };
    log.append(now, event);
    Ok(())
}

/// The number the next version of `agreement_id` gets (stable under the writers' lock).
pub(crate) async fn next_number(txn: &impl ConnectionTrait, agreement_id: &str) -> Result<i32> {
    let last = version::Entity::find()
        .filter(version::Column::AgreementId.eq(agreement_id))
        .order_by_desc(version::Column::Number)
        .one(txn)
        .await?;
    Ok(last.map_or(1, |v| v.number + 1))
}

/// The SHA-256 of a version's source, as stored.
fn content_hash(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

/// A file as the importer's reader leaves it.
enum ReadFile {
    /// Its content is stored already (by its hash).
    Unchanged,
    /// Unreadable, or with errors: why.
    Skipped(PathBuf, String),
    /// Its text, checked and valid.
    Checked(PathBuf, String, Box<ValidAgreement>),
}

/// How far the reader may run ahead of the writer: a batch and a half.
const READ_AHEAD: usize = IMPORT_BATCH * 3 / 2;

/// Reads and checks `files` in order on a blocking thread, a bounded distance ahead of the
/// receiver; one [`ReadFile`] per file. Files whose hash is in `known` are not checked.
fn read_ahead(
    files: Vec<PathBuf>,
    known: HashSet<String>,
    today: jiff::civil::Date,
) -> tokio::sync::mpsc::Receiver<ReadFile> {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        for file in files {
            let read = match read_source(&file) {
                Err(why) => ReadFile::Skipped(file, why),
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    if known.contains(&content_hash(&text)) {
                        ReadFile::Unchanged
                    } else {
                        let checked = check_source(&bytes, today);
                        match checked.agreement {
                            Some(a) if !a.signatures.is_empty() => {
                                let mut left = checked.diagnostics;
                                left.extend(officer_notes(&text));
                                match left_to_fill(&left) {
                                    Some(left) => {
                                        ReadFile::Skipped(file, signed_placeholders(&left))
                                    }
                                    None => ReadFile::Checked(file, text, Box::new(a)),
                                }
                            }
                            Some(a) => ReadFile::Checked(file, text, Box::new(a)),
                            None => ReadFile::Skipped(file, errors(&checked.diagnostics)),
                        }
                    }
                }
            };
            if tx.blocking_send(read).is_err() {
                return; // The importer stopped (an error): nothing more to read.
            }
        }
    });
    rx
}

/// Why a file that carries signatures but still holds a template's placeholders is skipped:
/// its signatures would count, and a version with placeholders is never activated.
fn signed_placeholders(left: &str) -> String {
    format!(
        "it carries signatures but still has {left}; a version with a placeholder left is \
         never activated: fill them in, or remove the signatures to store it as a draft"
    )
}

/// A file's errors, one line each joined, for the import's report.
fn errors(diags: &[crate::agreement::Diagnostic]) -> String {
    let lines: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let (line, col) = (d.pos.line, d.pos.column);
            format!("{line}:{col}: {}[{}]: {}", d.severity(), d.code, d.message)
        })
        .collect();
    lines.join("; ")
}

/// Records the file's `signatures:` on this version, as `source` (signatures of a trusted file,
/// or claims); returns them for the audit.
async fn declared_signatures(
    txn: &impl ConnectionTrait,
    row: &version::Model,
    a: &ValidAgreement,
    source: SignatureSource,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<Vec<serde_json::Value>> {
    let mut seen = BTreeSet::new();
    let mut declared = Vec::new();
    let mut rows = Vec::new();
    for s in &a.signatures {
        if !seen.insert((s.party.as_str(), s.role)) {
            continue;
        }
        rows.push(signature::ActiveModel {
            id: Set(Uuid::now_v7()),
            version_id: Set(row.id),
            party_id: Set(s.party.to_string()),
            role: Set(s.role.as_str().to_owned()),
            name: Set(s.name.clone()),
            signed_on: Set(s.date.to_string()),
            source: Set(source.as_str().to_owned()),
            recorded_at: Set(stamp(now)),
            recorded_by: Set(actor.to_owned()),
        });
        declared.push(
            serde_json::json!({ "party": s.party, "role": s.role, "name": s.name, "date": s.date }),
        );
    }
    if !rows.is_empty() {
        // One statement for all of them: a file declares at most a few per party.
        signature::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(declared)
}
