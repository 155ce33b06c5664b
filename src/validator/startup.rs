//! The state the loop starts from: `state.json`, or a Python validator's
//! `state.npz` imported once, then the hotkey rule against the neurons of
//! now. (The neurons are the source's: `source.rs`.)

use std::path::Path;

use crate::bridge;
use crate::inputs;
use crate::scoring::state::ValidatorState;

use super::round::RoundMiners;
use super::Failure;

/// The state to start from, with the hotkey rule against the metagraph of
/// now applied. Which file, in one line of the log:
/// - `dir/state.json` alone: it;
/// - `python_dir/state.npz` alone (a Python validator's): imported;
/// - both: the newer by modification time, because that is the one that
///   saw the last rounds: a `state.npz` newer than `state.json` means the
///   Python validator ran after this one last saved (a shadow run beside
///   it, or a switch back and forth), so it is imported, and the older
///   `state.json` is kept as `state.json.replaced`;
/// - neither: float32 zeros for the metagraph.
pub(super) async fn load_state(
    dir: &Path,
    python_dir: Option<&Path>,
    neurons: &RoundMiners,
) -> Result<ValidatorState, Failure> {
    let json = dir.join("state.json");
    // `run` never imports a Python validator's state.
    let npz = python_dir.map(|d| d.join("state.npz"));
    let loaded = bridge::blocking(move || match npz {
        Some(npz) => choose_state(&json, &npz),
        None => inputs::load_state(&json),
    })
    .await?
    .map_err(|e| Failure::Input(e.to_string()))?;
    let kept = loaded.as_ref().map_or(&[][..], |s| &s.hotkeys[..]);
    let hotkeys = neurons.hotkeys(kept);
    Ok(following(loaded, hotkeys))
}

/// [`load_state`]'s choice, read and logged (blocking).
fn choose_state(json: &Path, npz: &Path) -> Result<Option<ValidatorState>, inputs::InputError> {
    let modified = |p: &Path| std::fs::metadata(p).ok().map(|m| m.modified().ok());
    let (json_at, npz_at) = match (modified(json), modified(npz)) {
        (None, None) => {
            log::info!(
                "state: neither {} nor a Python validator's {}: starting from zeros",
                json.display(),
                npz.display()
            );
            return Ok(None);
        }
        (Some(_), None) => {
            let s = inputs::load_state(json)?;
            if let Some(s) = &s {
                log::info!(
                    "state: {} (step {}, {} rounds)",
                    json.display(),
                    s.step,
                    s.rounds
                );
            }
            return Ok(s);
        }
        (None, Some(_)) => {
            let s = inputs::load_state_npz(npz)?;
            log::info!(
                "state: imported the Python validator's {} (step {}, {} scores); state.json is kept from now on",
                npz.display(),
                s.step,
                s.scores.len()
            );
            return Ok(Some(s));
        }
        (Some(j), Some(n)) => (j, n),
    };
    let when = |t: Option<std::time::SystemTime>| {
        t.and_then(|t| {
            time::OffsetDateTime::from(t)
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "at an unknown time".into())
    };
    let npz_newer = matches!((json_at, npz_at), (Some(j), Some(n)) if n > j);
    if npz_newer {
        let s = inputs::load_state_npz(npz)?;
        let kept = json.with_file_name("state.json.replaced");
        let kept_note = match std::fs::copy(json, &kept) {
            Ok(_) => format!("the older state.json is kept as {}", kept.display()),
            Err(e) => format!("the older state.json could not be kept ({e})"),
        };
        log::info!(
            "state: imported the Python validator's {} (written {}, step {}), newer than {} (written {}): \
             the Python validator ran after this one last saved; {kept_note}",
            npz.display(),
            when(npz_at),
            s.step,
            json.display(),
            when(json_at),
        );
        return Ok(Some(s));
    }
    let s = inputs::load_state(json)?;
    if let Some(s) = &s {
        log::info!(
            "state: {} (written {}, step {}), not the Python validator's {} (written {}, not newer): \
             this validator saved after the Python validator last did",
            json.display(),
            when(json_at),
            s.step,
            npz.display(),
            when(npz_at),
        );
    }
    Ok(s)
}

/// A saved state (or a fresh one) made to follow the hotkeys of now
/// (§11.3): a uid whose hotkey changed starts again from 0. Once, at
/// start; the loop's resyncs follow the neurons after that.
fn following(saved: Option<ValidatorState>, hotkeys: Vec<String>) -> ValidatorState {
    match saved {
        None => ValidatorState::new(hotkeys),
        Some(mut s) => {
            let changed = s.hotkeys != hotkeys;
            let r = s.resync(&hotkeys, changed);
            if !r.reset.is_empty() {
                log::info!("hotkeys replaced, their scores reset: uids {:?}", r.reset);
            }
            s
        }
    }
}
