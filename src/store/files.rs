//! Merged pull requests' file lists, kept across rounds in one JSON file.
//!
//! A merged pull request's files never change, yet every round asks GitHub
//! for them again, with the miner's PAT: that is most of a round's requests
//! and most of its longest chain. A [`FileStore`] keeps each list read in
//! full (a 200, every page that was asked for) under its repository,
//! number, merge time and whether every page was read, and later rounds
//! take it from there instead.
//!
//! # Invariants
//! - The scores never depend on the store: a list comes out exactly as it
//!   went in, and an entry whose digest does not match is dropped (the PR
//!   is asked of GitHub again), so a wrong, edited or truncated store costs
//!   requests, never a different score.
//! - A store file that does not parse is set aside (renamed `*.bad`) with a
//!   WARN; the round goes on with an empty store.
//! - Entries merged before the lookback window are pruned; past the size
//!   bound the oldest merges go first. Writes are atomic.
//! - No token, nothing of the miner but public repository data.
//!
//! Blocking file I/O: loaded before a round and saved after it, from
//! blocking code (the CLI, or the pipeline's bridge). The round asks it
//! before asking GitHub and fills it after (`pipeline::RoundExtras`); the
//! GitHub client knows nothing of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::scoring::{FileChange, MERGED_PR_LOOKBACK_DAYS};

/// The file name a store takes in a state directory.
pub const FILE_NAME: &str = "pr-files.json";

/// The format version written; another version is set aside, not read.
/// Version 2 keeps each file's `additions`, `deletions` and `status` (for
/// the results database); a version 1 store is simply started afresh.
const VERSION: u32 = 2;

/// What a store file holds.
#[derive(Deserialize)]
struct Disk {
    version: u32,
    entries: Vec<Entry>,
}

/// The same, written from borrowed entries (no copy of the store).
#[derive(Serialize)]
struct DiskRef<'a> {
    version: u32,
    entries: Vec<&'a Entry>,
}

/// One pull request's files.
#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    /// `owner/name`, lower-cased (GitHub's names are case-insensitive).
    repository: String,
    number: u64,
    /// Merge time, Unix seconds.
    merged_at: i64,
    /// Whether every page was read (`--all-file-pages`), or the first only.
    all_pages: bool,
    files: Vec<FileChange>,
    /// SHA-256 of the rest of the entry, hex.
    digest: String,
}

/// Key of an entry: everything that decides what GitHub would answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    repository: String,
    number: u64,
    merged_at: i64,
    all_pages: bool,
}

impl Entry {
    fn key(&self) -> Key {
        Key {
            repository: self.repository.clone(),
            number: self.number,
            merged_at: self.merged_at,
            all_pages: self.all_pages,
        }
    }

    fn compute_digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.repository.as_bytes());
        h.update(b"\0");
        h.update(self.number.to_le_bytes());
        h.update(self.merged_at.to_le_bytes());
        h.update([u8::from(self.all_pages)]);
        // Serializing a Vec of plain structs cannot fail.
        h.update(serde_json::to_vec(&self.files).unwrap_or_default());
        hex::encode(h.finalize())
    }

    /// Bytes the entry weighs, roughly (for the size bound).
    fn weight(&self) -> u64 {
        let files: usize = self
            .files
            .iter()
            .map(|f| f.filename.len() + f.patch.as_ref().map_or(0, String::len) + 32)
            .sum();
        (self.repository.len() + files + 128) as u64
    }
}

/// Settings of a [`FileStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    max_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl StoreConfig {
    /// Bound on the files kept (file names and patches, roughly); past it
    /// the entries merged longest ago are dropped first.
    ///
    /// Defaults to 64 MiB (the store is held in memory during a round).
    pub fn max_bytes(mut self, v: u64) -> Self {
        self.max_bytes = v;
        self
    }
}

/// The store: loaded once, shared by a round's miners, saved after it.
pub struct FileStore {
    path: PathBuf,
    config: StoreConfig,
    entries: Mutex<HashMap<Key, Entry>>,
    hits: AtomicU64,
    changed: AtomicBool,
    /// Why the last save failed, until one succeeds.
    save_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// Opens the store at `path` with the default settings. A missing file
    /// is an empty store; one that does not parse is renamed to
    /// `{path}.bad` with a WARN and the store starts empty. Entries whose
    /// digest does not match are dropped with a WARN. Never fails.
    pub fn open(path: &Path) -> FileStore {
        FileStore::open_with(path, StoreConfig::default())
    }

    /// [`FileStore::open`] with settings.
    pub fn open_with(path: &Path, config: StoreConfig) -> FileStore {
        let store = FileStore {
            path: path.to_path_buf(),
            config,
            entries: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            changed: AtomicBool::new(false),
            save_error: Mutex::new(None),
        };
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return store,
            Err(e) => {
                log::warn!(
                    "file store {}: cannot read ({e}); starting empty",
                    path.display()
                );
                return store;
            }
        };
        // Read as a stream: the file is not held in memory beside the entries.
        let reader = std::io::BufReader::with_capacity(64 * 1024, file);
        let disk = match serde_json::from_reader::<_, Disk>(reader) {
            Ok(d) if d.version == VERSION => d,
            Ok(d) if d.version == 1 => {
                log::info!(
                    "file store {}: written by an earlier release (no files' additions, deletions or status); starting afresh",
                    path.display()
                );
                return store;
            }
            Ok(d) => {
                store.set_aside(&format!("version {} is not {VERSION}", d.version));
                return store;
            }
            Err(e) => {
                store.set_aside(&e.to_string());
                return store;
            }
        };
        let mut entries = HashMap::with_capacity(disk.entries.len());
        let mut bad = 0usize;
        for entry in disk.entries {
            if entry.digest == entry.compute_digest() {
                entries.insert(entry.key(), entry);
            } else {
                bad += 1;
            }
        }
        if bad > 0 {
            log::warn!(
                "file store {}: {bad} entries do not match their digest; dropped, they will be asked again",
                path.display()
            );
            store.changed.store(true, Ordering::Relaxed);
        }
        *store.lock() = entries;
        store
    }

    fn set_aside(&self, why: &str) {
        let bad = self.path.with_extension("json.bad");
        match std::fs::rename(&self.path, &bad) {
            Ok(()) => log::warn!(
                "file store {} does not parse ({why}); set aside as {}, starting empty",
                self.path.display(),
                bad.display()
            ),
            Err(e) => log::warn!(
                "file store {} does not parse ({why}) and cannot be set aside ({e}); starting empty",
                self.path.display()
            ),
        }
        self.changed.store(true, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // Plain data: a panic elsewhere cannot leave it torn.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(repository: &str, number: u64, merged_at: OffsetDateTime, all_pages: bool) -> Key {
        Key {
            repository: repository.to_ascii_lowercase(),
            number,
            merged_at: merged_at.unix_timestamp(),
            all_pages,
        }
    }

    /// The files kept for a merged pull request, if any (counted as a hit).
    pub fn get(
        &self,
        repository: &str,
        number: u64,
        merged_at: OffsetDateTime,
        all_pages: bool,
    ) -> Option<Vec<FileChange>> {
        let key = FileStore::key(repository, number, merged_at, all_pages);
        let files = self.lock().get(&key).map(|e| e.files.clone())?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(files)
    }

    /// Keeps the files of a merged pull request, read in full with a 200.
    pub fn put(
        &self,
        repository: &str,
        number: u64,
        merged_at: OffsetDateTime,
        all_pages: bool,
        files: &[FileChange],
    ) {
        let key = FileStore::key(repository, number, merged_at, all_pages);
        let mut entry = Entry {
            repository: key.repository.clone(),
            number,
            merged_at: key.merged_at,
            all_pages,
            files: files.to_vec(),
            digest: String::new(),
        };
        entry.digest = entry.compute_digest();
        self.lock().insert(key, entry);
        self.changed.store(true, Ordering::Relaxed);
    }

    /// The file it is kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why the last [`FileStore::save`] failed (the OS error), or `None`
    /// when it succeeded or none was tried: the loop shows it on
    /// `/readyz`.
    pub fn save_error(&self) -> Option<String> {
        self.save_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lists taken from the store since it was opened.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the entries merged before the lookback window of a round at
    /// `now`, then the oldest merges while over the size bound; writes the
    /// store atomically if anything changed since it was opened.
    pub fn save(&self, now: OffsetDateTime) -> std::io::Result<()> {
        let cutoff = (now - time::Duration::days(MERGED_PR_LOOKBACK_DAYS)).unix_timestamp();
        // Held to the end: the entries are written from the map, not copied.
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, e| e.merged_at >= cutoff);
        let mut weight: u64 = map.values().map(Entry::weight).sum();
        if weight > self.config.max_bytes {
            let mut by_age: Vec<(i64, Key)> =
                map.iter().map(|(k, e)| (e.merged_at, k.clone())).collect();
            by_age.sort_by_key(|(t, _)| *t);
            for (_, key) in by_age {
                if weight <= self.config.max_bytes {
                    break;
                }
                if let Some(e) = map.remove(&key) {
                    weight -= e.weight();
                }
            }
        }
        if map.len() != before {
            self.changed.store(true, Ordering::Relaxed);
        }
        if !self.changed.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        let mut entries: Vec<&Entry> = map.values().collect();
        entries.sort_by(|a, b| (&a.repository, a.number).cmp(&(&b.repository, b.number)));
        let disk = DiskRef {
            version: VERSION,
            entries,
        };
        let written = write_streamed(&self.path, &disk);
        if written.is_err() {
            self.changed.store(true, Ordering::Relaxed);
        }
        *self.save_error.lock().unwrap_or_else(|e| e.into_inner()) =
            written.as_ref().err().map(ToString::to_string);
        written
    }
}

/// Writes `value` as compact JSON to `path` atomically, streamed (the
/// text is never whole in memory), making its directory first.
fn write_streamed(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    crate::inputs::write_atomic_with(path, |out| {
        serde_json::to_writer(out, value).map_err(std::io::Error::other)
    })
}

/// The store of the state directory `dir` (`{dir}/pr-files.json`), after
/// removing the temporary file a killed write left there: the one call
/// `run` and `validate` make.
pub fn open_in_state_dir(dir: &Path) -> FileStore {
    crate::inputs::remove_stale_temps(dir, &[FILE_NAME]);
    open_logged(&dir.join(FILE_NAME))
}

/// [`FileStore::open`], saying how much it holds (`score --file-store`).
pub fn open_logged(path: &Path) -> FileStore {
    let store = FileStore::open(path);
    log::info!(
        "file store {}: {} pull requests' files kept",
        path.display(),
        store.len()
    );
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    fn files(n: usize, patch_len: usize) -> Vec<FileChange> {
        (0..n)
            .map(|i| FileChange {
                filename: format!("src/f{i}.rs"),
                changes: i as i64,
                patch: Some("x".repeat(patch_len)),
                ..FileChange::default()
            })
            .collect()
    }

    fn days_ago(d: i64) -> OffsetDateTime {
        NOW - time::Duration::days(d)
    }

    #[test]
    fn a_save_that_fails_is_said_until_one_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the store's folder should be: nothing can be written.
        let blocker = dir.path().join("state");
        std::fs::write(&blocker, "").unwrap();
        let store = FileStore::open(&blocker.join(FILE_NAME));
        store.put("acme/widgets", 7, days_ago(1), false, &files(1, 10));
        assert!(store.save(NOW).is_err());
        let why = store.save_error().expect("the failure is kept");
        assert!(why.contains("os error"), "{why}");
        std::fs::remove_file(&blocker).unwrap();
        // Kept in memory, written at the next save.
        store.save(NOW).unwrap();
        assert_eq!(store.save_error(), None);
        assert_eq!(FileStore::open(&blocker.join(FILE_NAME)).len(), 1);
    }

    #[test]
    fn a_list_comes_back_exactly_as_it_went_in_after_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let store = FileStore::open(&path);
        let list = files(3, 10);
        store.put("Acme/Widgets", 7, days_ago(1), false, &list);
        store.save(NOW).unwrap();
        let again = FileStore::open(&path);
        // GitHub's names are case-insensitive.
        assert_eq!(again.get("acme/widgets", 7, days_ago(1), false), Some(list));
        // Another merge time, page mode or number is another key.
        assert_eq!(again.get("acme/widgets", 7, days_ago(2), false), None);
        assert_eq!(again.get("acme/widgets", 7, days_ago(1), true), None);
        assert_eq!(again.get("acme/widgets", 8, days_ago(1), false), None);
        assert_eq!(again.hits(), 1);
    }

    #[test]
    fn entries_merged_before_the_lookback_window_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let store = FileStore::open(&path);
        store.put(
            "a/b",
            1,
            days_ago(MERGED_PR_LOOKBACK_DAYS + 1),
            false,
            &files(1, 1),
        );
        store.put(
            "a/b",
            2,
            days_ago(MERGED_PR_LOOKBACK_DAYS),
            false,
            &files(1, 1),
        );
        store.put("a/b", 3, days_ago(0), false, &files(1, 1));
        store.save(NOW).unwrap();
        let again = FileStore::open(&path);
        assert_eq!(again.len(), 2);
        assert!(again
            .get("a/b", 1, days_ago(MERGED_PR_LOOKBACK_DAYS + 1), false)
            .is_none());
    }

    #[test]
    fn past_the_size_bound_the_oldest_merges_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let store = FileStore::open_with(&path, StoreConfig::default().max_bytes(25_000));
        for n in 0..5 {
            // About 10 kB each, merged n days ago.
            store.put("a/b", n, days_ago(n as i64), false, &files(1, 10_000));
        }
        store.save(NOW).unwrap();
        let again = FileStore::open(&path);
        let kept: Vec<u64> = (0..5)
            .filter(|&n| again.get("a/b", n, days_ago(n as i64), false).is_some())
            .collect();
        assert_eq!(kept, vec![0, 1]);
    }

    #[test]
    fn nothing_changed_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        FileStore::open(&path).save(NOW).unwrap();
        assert!(!path.exists());
    }
}
