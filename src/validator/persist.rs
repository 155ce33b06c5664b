//! What the loops keep on disk: `state.json`, `weights.json` and
//! `report.json`, each written atomically (temp file, fsync, rename), the
//! error naming the path.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use gittensor_validator::inputs;
use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::scoring::RoundReport;

use super::Failure;

/// Writes `value` as pretty JSON to `path`, atomically; the error names the
/// path.
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    // Not bad input: the state folder is ours to write.
    inputs::write_json_atomic(path, value).map_err(|e| Failure::Other(e.to_string()))
}

/// Writes the round report to `target`, or to stdout for `-`.
pub(crate) fn write_report(report: &RoundReport, target: &str) -> Result<(), Failure> {
    if target != "-" {
        return write_json(Path::new(target), report);
    }
    // Serializing plain data with string keys cannot fail.
    let json = serde_json::to_string_pretty(report).map_err(|e| Failure::Other(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| Failure::Other(format!("stdout: {e}")))
}

/// Writes a `run` round's outcome: the report, the weights, then
/// `state.json` last (its round counter is the commit point).
pub(crate) fn save_round(
    dir: &Path,
    state: &ValidatorState,
    weights: &BTreeMap<u16, f64>,
    report: &RoundReport,
) -> Result<(), Failure> {
    write_json(&dir.join("report.json"), report)?;
    write_json(&dir.join("weights.json"), weights)?;
    // Last: state.json names the round counter, so it is the commit point.
    write_json(&dir.join("state.json"), state)
}
