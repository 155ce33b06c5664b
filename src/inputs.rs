//! Reading the input files and writing outputs atomically. Errors name the
//! file and what is wrong with it; the binary maps them to exit status 2.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::metagraph::MinerInput;
use crate::metagraph::{AxonInfo, Metagraph, Neuron};
use crate::replay::Snapshot;
use crate::scoring::scores::Scores;
use crate::scoring::state::{LegacyRunState, ValidatorState};
use crate::scoring::{LanguageWeights, MasterRepositories};
use crate::token::Pat;

/// A bad input file, or an output that could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for InputError {}

fn read(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|e| InputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn bad(path: &Path, message: impl Into<String>) -> InputError {
    InputError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Loads `master_repositories.json`.
pub fn load_repositories(path: &Path) -> Result<MasterRepositories, InputError> {
    load_table(path, MasterRepositories::parse).map(|(t, _)| t)
}

/// Loads `programming_languages.json`.
pub fn load_languages(path: &Path) -> Result<LanguageWeights, InputError> {
    load_table(path, LanguageWeights::parse).map(|(t, _)| t)
}

/// Reads a weight table with `parse` (strict: a table 2.0.7 would misread
/// is an error naming its entries), and the sha256 of the file's bytes, in
/// hex, which names this version of the table in the log.
pub fn load_table<T>(
    path: &Path,
    parse: fn(&str, &str) -> Result<T, crate::scoring::Error>,
) -> Result<(T, String), InputError> {
    use sha2::Digest;
    let text = read(path)?;
    let digest = sha2::Sha256::digest(text.as_bytes());
    let table = parse(&text, &path.display().to_string()).map_err(|e| bad(path, e.message()))?;
    Ok((table, hex::encode(digest)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MinerEntry {
    uid: u64,
    #[serde(default)]
    hotkey: Option<String>,
    #[serde(default)]
    github_access_token: Option<String>,
}

/// Parses the miners file text (INTERFACE.md). `path` names it in errors.
pub fn parse_miners(text: &str, path: &Path) -> Result<Vec<MinerInput>, InputError> {
    let entries: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| bad(path, format!("not a json list of miners: {e}")))?;
    let mut seen = HashSet::new();
    let mut miners = Vec::with_capacity(entries.len());
    for (i, raw) in entries.into_iter().enumerate() {
        // serde's messages can quote the offending value, which may be a
        // token: say where, not what.
        let entry = MinerEntry::deserialize(&raw).map_err(|_| {
            bad(
                path,
                format!("entry {i}: expected {{\"uid\", \"hotkey\", \"github_access_token\"}}"),
            )
        })?;
        let uid = u16::try_from(entry.uid)
            .map_err(|_| bad(path, format!("entry {i}: uid {} out of range", entry.uid)))?;
        if !seen.insert(uid) {
            return Err(bad(path, format!("entry {i}: duplicate uid {uid}")));
        }
        miners.push(MinerInput {
            uid,
            hotkey: entry.hotkey,
            pat: Pat::from_text(entry.github_access_token.as_deref()),
        });
    }
    Ok(miners)
}

/// Loads the miners file.
pub fn load_miners(path: &Path) -> Result<Vec<MinerInput>, InputError> {
    parse_miners(&read(path)?, path)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeuronEntry {
    uid: u64,
    hotkey: String,
    #[serde(default)]
    coldkey: String,
    #[serde(default = "unserved")]
    ip: String,
    #[serde(default)]
    port: u16,
    #[serde(default)]
    validator_permit: bool,
    #[serde(default)]
    last_update: u64,
}

fn unserved() -> String {
    "0.0.0.0".into()
}

/// Parses a metagraph file (INTERFACE.md): one entry per uid `0..n`, in
/// any order, each uid once. `path` names it in errors.
pub fn parse_metagraph(text: &str, path: &Path) -> Result<Metagraph, InputError> {
    let entries: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| bad(path, format!("not a json list of neurons: {e}")))?;
    let n = entries.len();
    let mut neurons: Vec<Option<Neuron>> = vec![None; n];
    for (i, raw) in entries.into_iter().enumerate() {
        let e = NeuronEntry::deserialize(&raw).map_err(|e| {
            bad(
                path,
                format!("entry {i}: expected {{\"uid\", \"hotkey\", \"ip\", \"port\", ...}}: {e}"),
            )
        })?;
        let uid = usize::try_from(e.uid).unwrap_or(usize::MAX);
        let slot = neurons.get_mut(uid).ok_or_else(|| {
            bad(
                path,
                format!(
                    "entry {i}: uid {} out of range for {n} neurons (uids are 0..n)",
                    e.uid
                ),
            )
        })?;
        if slot.is_some() {
            return Err(bad(path, format!("entry {i}: duplicate uid {uid}")));
        }
        let ip =
            e.ip.parse()
                .map_err(|_| bad(path, format!("entry {i}: ip {:?} is not an address", e.ip)))?;
        let ip_type = match ip {
            std::net::IpAddr::V4(_) => 4,
            std::net::IpAddr::V6(_) => 6,
        };
        *slot = Some(Neuron {
            uid: u16::try_from(uid)
                .map_err(|_| bad(path, format!("entry {i}: uid {uid} out of range")))?,
            hotkey: e.hotkey,
            coldkey: e.coldkey,
            axon: AxonInfo {
                ip,
                port: e.port,
                ip_type,
                ..AxonInfo::default()
            },
            validator_permit: e.validator_permit,
            last_update: e.last_update,
        });
    }
    Ok(Metagraph {
        // Every slot is filled: n entries, n distinct uids below n.
        neurons: neurons.into_iter().flatten().collect(),
    })
}

/// A metagraph as its file format (INTERFACE.md), for a recording.
pub fn metagraph_json(metagraph: &Metagraph) -> serde_json::Value {
    serde_json::Value::Array(
        metagraph
            .neurons
            .iter()
            .map(|n| {
                serde_json::json!({
                    "uid": n.uid, "hotkey": n.hotkey, "coldkey": n.coldkey,
                    "ip": n.axon.ip.to_string(), "port": n.axon.port,
                    "validator_permit": n.validator_permit, "last_update": n.last_update,
                })
            })
            .collect(),
    )
}

/// Loads a metagraph file.
pub fn load_metagraph(path: &Path) -> Result<Metagraph, InputError> {
    parse_metagraph(&read(path)?, path)
}

/// Loads a replay snapshot.
pub fn load_snapshot(path: &Path) -> Result<Snapshot, InputError> {
    serde_json::from_str(&read(path)?).map_err(|e| bad(path, format!("bad snapshot: {e}")))
}

/// Loads a `state.json`: `None` when there is none yet. A `run` state of
/// the format before §11 (f64 scores per uid) is read and converted.
pub fn load_state(path: &Path) -> Result<Option<ValidatorState>, InputError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(path, e.to_string())),
    };
    match serde_json::from_str::<ValidatorState>(&text) {
        Ok(state) => Ok(Some(state)),
        Err(current) => match serde_json::from_str::<LegacyRunState>(&text) {
            Ok(old) => {
                log::info!(
                    "{}: state of an earlier release, converted to float32 scores",
                    path.display()
                );
                Ok(Some(old.into()))
            }
            Err(_) => Err(bad(path, format!("bad state: {current}"))),
        },
    }
}

/// Imports a Python validator's `state.npz` (SCORING.md §11.6.2): numpy's
/// `savez` archive of `step` (int64), `scores` (float32, or float64 after a
/// growth; the width is kept) and `hotkeys` (unicode strings).
pub fn load_state_npz(path: &Path) -> Result<ValidatorState, InputError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| bad(path, e.to_string()))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| bad(path, format!("not a numpy .npz archive: {e}")))?;
    let mut member = |name: &str| -> Result<npyz::NpyFile<std::io::Cursor<Vec<u8>>>, InputError> {
        let mut f = archive
            .by_name(&format!("{name}.npy"))
            .map_err(|e| bad(path, format!("{name}: {e}")))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .map_err(|e| bad(path, format!("{name}: {e}")))?;
        npyz::NpyFile::new(std::io::Cursor::new(buf)).map_err(|e| bad(path, format!("{name}: {e}")))
    };
    let step: Vec<i64> = member("step")?
        .into_vec()
        .map_err(|e| bad(path, format!("step: {e}")))?;
    let step = match step[..] {
        [s] => u64::try_from(s).map_err(|_| bad(path, format!("step {s} is negative")))?,
        _ => return Err(bad(path, "step is not one number")),
    };
    let scores = member("scores")?;
    let dtype = match scores.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => other.descr(),
    };
    let scores = match dtype.as_str() {
        "<f4" => Scores::Float32(
            scores
                .into_vec()
                .map_err(|e| bad(path, format!("scores: {e}")))?,
        ),
        "<f8" => Scores::Float64(
            scores
                .into_vec()
                .map_err(|e| bad(path, format!("scores: {e}")))?,
        ),
        other => {
            return Err(bad(
                path,
                format!("scores have dtype {other}, not float32 or float64"),
            ))
        }
    };
    let hotkeys: Vec<String> = member("hotkeys")?
        .into_vec()
        .map_err(|e| bad(path, format!("hotkeys: {e}")))?;
    Ok(ValidatorState {
        step,
        rounds: 0,
        scores,
        hotkeys,
        last_weights_block: None,
    })
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, synced, then renamed over the target. A crash leaves the old
/// file or the new one, never a torn one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |out| std::io::Write::write_all(out, contents))
}

/// Writes `value` as pretty JSON to `path` atomically, as [`write_atomic`]
/// does, streamed (the text is never whole in memory); the error names the
/// path.
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(
    path: &Path,
    value: &T,
) -> Result<(), InputError> {
    write_atomic_with(path, |out| {
        serde_json::to_writer_pretty(out, value).map_err(std::io::Error::other)
    })
    .map_err(|e| bad(path, e.to_string()))
}

/// The one atomic write: `write` fills a buffered temporary file in
/// `path`'s directory, which is synced, then renamed over `path`.
///
/// A target that is a device or a pipe (`--report /dev/null`) is written
/// to as it is: a rename would put a regular file in its place, and as
/// root that breaks `/dev/null` for every other program on the machine.
pub(crate) fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
        write(&mut out)?;
        return out.flush();
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
        write(&mut out)?;
        out.flush()?;
        out.get_ref().sync_all()?;
        drop(out);
        std::fs::rename(&tmp, path)?;
        // The rename is durable once the directory is synced.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes the temporary files a killed [`write_atomic`] left in `dir`
/// (`.{name}.tmp.{pid}`); the files they were for are intact.
pub fn remove_stale_temps(dir: &Path, names: &[&str]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if names
            .iter()
            .any(|n| file.starts_with(&format!(".{n}.tmp.")))
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
