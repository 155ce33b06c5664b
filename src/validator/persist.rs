//! What the loops keep on disk: `state.json`, `weights.json` and
//! `report.json`, each written atomically (temp file, fsync, rename), the
//! error naming the path.
//!
//! In the loops a write that fails (out of file descriptors, a full disk,
//! an I/O error, a read-only remount) ends nothing: an unattended
//! validator that stopped over it would be off the chain until someone
//! came. It is logged with the path and the OS error, shown on `/readyz`
//! and counted (`gittensor_write_failures_total`) until a later write of
//! the same file succeeds; the loop keeps its state in memory and writes
//! it again at its next save. The file on disk stays the last one written
//! whole (the writes are atomic).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::bridge;
use crate::health::Board;
use crate::inputs;
use crate::scoring::RoundReport;
use crate::store::files::FileStore;

use super::Failure;

/// Writes `value` as pretty JSON to `path`, atomically; the error names the
/// path.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    // Not bad input: the state folder is ours to write.
    inputs::write_json_atomic(path, value).map_err(|e| Failure::Other(e.to_string()))
}

/// Writes the round report to `target`, or to stdout for `-`.
pub fn write_report(report: &RoundReport, target: &str) -> Result<(), Failure> {
    if target != "-" {
        return write_json(Path::new(target), report);
    }
    // Serializing plain data with string keys cannot fail.
    let json = serde_json::to_string_pretty(report).map_err(|e| Failure::Other(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| Failure::Other(format!("stdout: {e}")))
}

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
