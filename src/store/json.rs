//! What the loop keeps on disk in its state folder: `state.json`,
//! `weights.json` and `report.json`, each written atomically (temp file,
//! fsync, rename) off the event loop, the error naming the path; and the
//! files store's last save put on the board.
//!
//! A write that fails (out of file descriptors, a full disk,
//! an I/O error, a read-only remount) ends nothing: an unattended
//! validator that stopped over it would be off the chain until someone
//! came. It is logged with the path and the OS error, shown on `/readyz`
//! and counted (`gittensor_write_failures_total`) until a later write of
//! the same file succeeds; the loop keeps its state in memory and writes
//! it again at its next save. The file on disk stays the last one written
//! whole (the writes are atomic).

use std::path::{Path, PathBuf};

use crate::bridge;
use crate::health::Board;
use crate::inputs;
use crate::store::files::FileStore;

/// A loop's write of `value` to `path` (pretty JSON, atomic, off the event
/// loop). A failure is logged, shown on the board and counted, never
/// returned: see the module's doc. True when written.
pub async fn save_json<T>(board: &Board, path: PathBuf, value: T) -> bool
where
    T: serde::Serialize + Send + 'static,
{
    let p = path.clone();
    let written =
        bridge::blocking(move || inputs::write_json_atomic(&p, &value).map_err(|e| e.message))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
    if let Err(why) = &written {
        log::error!(
            "{}: cannot write ({why}); the state in memory is kept and written again at the next round",
            path.display()
        );
    }
    noted(board, &path, written)
}

/// Puts the outcome of a write of `path` on the board; says when a file
/// that could not be written is written again. True when written.
fn noted(board: &Board, path: &Path, written: Result<(), String>) -> bool {
    match written {
        Ok(()) => {
            if board.written(path) {
                log::info!("{}: written again", path.display());
            }
            true
        }
        Err(why) => {
            board.write_failed(path, &why);
            false
        }
    }
}

/// Puts the last save of the round's PR-files store on the board (the
/// pipeline saves it after each round and logs a failure itself).
pub fn note_file_store(board: &Board, files: Option<&FileStore>) {
    if let Some(store) = files {
        noted(board, store.path(), store.save_error().map_or(Ok(()), Err));
    }
}
