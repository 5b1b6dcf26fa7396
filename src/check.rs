//! The `accord check` use case: find agreement files under the given paths, read each within
//! bounds, check it, and find agreement ids used by more than one file. And checking for async
//! callers: on a blocking thread, never on the runtime's workers.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jiff::civil::Date;
use tokio::sync::Semaphore;
use walkdir::WalkDir;

use crate::agreement::yaml::{MAX_BYTES, Pos};
use crate::agreement::{Checked, Code, Diagnostic, check_source};

/// One file's findings.
#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    pub checked: Checked,
}

/// Everything `check_paths` found.
#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
    /// Paths that could not be read at all, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(|f| f.checked.has_errors())
    }
}

/// Checks every agreement file in `paths` (files, or folders searched for `.yaml`/`.yml`).
pub fn check_paths(paths: &[PathBuf], today: Date) -> Report {
    let mut report = Report::default();
    for path in paths {
        match agreement_files(path) {
            Ok(files) => {
                for file in files {
                    match read_source(&file) {
                        Ok(bytes) => {
                            let checked = check_source(&bytes, today);
                            report.files.push(FileReport {
                                path: file,
                                checked,
                            });
                        }
                        Err(why) => report.unreadable.push((file, why)),
                    }
                }
            }
            Err(why) => report.unreadable.push((path.clone(), why)),
        }
    }
    duplicate_ids(&mut report.files);
    report
}

/// The agreement files at `path`: the file itself, or the `.yaml`/`.yml` files below a folder
/// (hidden files and folders skipped), in path order.
pub fn agreement_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let walk = WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let is_yaml = entry
            .path()
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml");
        if entry.file_type().is_file() && is_yaml {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// Reads a file, but never more than one byte past the size limit, so that a huge or endless
/// file (a FIFO, /dev/zero) costs nothing; the parser then reports it as too large.
pub fn read_source(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(bytes)
}

/// Runs `work` on tokio's blocking threads and waits for it. Checking YAML from a request (an
/// upload, a draft, a template, a drafted access request) is linear but may be a MiB: tens of
/// milliseconds of CPU that must not hold an async worker every other request, `/healthz`
/// among them, is waiting for. At most one fewer than the machine's cores run at once (at
/// least one), so a flood of uploads never has every core checking: the others wait their
/// turn, costing nothing while they wait. A panic in `work` goes on in the caller.
pub async fn on_blocking_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    static AT_ONCE: OnceLock<Semaphore> = OnceLock::new();
    let at_once = AT_ONCE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Semaphore::new(cores.saturating_sub(1).max(1))
    });
    // The semaphore is never closed, so acquiring cannot fail.
    let _turn = at_once.acquire().await.ok();
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels a blocking task; nothing waits for it then.
            Err(e) => panic!("a blocking check did not run: {e}"),
        },
    }
}

/// [`check_source`] for an async caller, on a blocking thread.
pub async fn check_blocking(source: Vec<u8>, today: Date) -> Checked {
    on_blocking_thread(move || check_source(&source, today)).await
}

/// An agreement id must be unique across all files: each later use is a `duplicate-id`.
fn duplicate_ids(files: &mut [FileReport]) {
    let mut first: HashMap<String, (PathBuf, Pos)> = HashMap::new();
    for file in files.iter_mut() {
        let Some((id, pos)) = file.checked.id.clone() else {
            continue;
        };
        match first.get(&id) {
            Some((other, other_pos)) => {
                let msg = format!(
                    "agreement id '{id}' is also used by {}:{}:{}; each agreement needs its own id",
                    other.display(),
                    other_pos.line,
                    other_pos.column
                );
                file.checked
                    .diagnostics
                    .push(Diagnostic::new(Code::DuplicateId, pos, msg));
                file.checked.agreement = None;
                crate::agreement::diagnostic::sort(&mut file.checked.diagnostics);
            }
            None => {
                first.insert(id, (file.path.clone(), pos));
            }
        }
    }
}
