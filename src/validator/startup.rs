//! The state a validator starts from: `state.json`, or a Python
//! validator's `state.npz` imported once, then the hotkey rule against the
//! metagraph of now. (The first sync is the neurons' own: `on_chain.rs`,
//! `metagraph_file.rs`.)

use std::path::Path;

use gittensor_validator::inputs;
use gittensor_validator::metagraph::Metagraph;
use gittensor_validator::pipeline::bridge;
use gittensor_validator::scoring::state::ValidatorState;

use super::Failure;

/// `state.json` of the folder; else a Python validator's `state.npz`,
/// imported once; else float32 zeros for the metagraph. Then the hotkey rule
/// against the metagraph of now.
pub(super) async fn load_state(
    dir: &Path,
    metagraph: &Metagraph,
) -> Result<ValidatorState, Failure> {
    let d = dir.to_path_buf();
    let loaded = bridge::blocking(move || -> Result<Option<ValidatorState>, inputs::InputError> {
        if let Some(s) = inputs::load_state(&d.join("state.json"))? {
            return Ok(Some(s));
        }
        let npz = d.join("state.npz");
        if npz.exists() {
            let s = inputs::load_state_npz(&npz)?;
            log::info!(
                "imported the Python validator's {} (step {}, {} scores); state.json is kept from now on",
                npz.display(),
                s.step,
                s.scores.len()
            );
            return Ok(Some(s));
        }
        Ok(None)
    })
    .await
    .map_err(|e| Failure::Other(e.to_string()))??;
    Ok(following(loaded, metagraph.hotkeys()))
}

/// A saved state (or a fresh one) made to follow the hotkeys of now
/// (§11.3): a uid whose hotkey changed starts again from 0. `run` calls it
/// before every round, `validate` once at start (its resyncs follow the
/// chain's metagraph).
pub(super) fn following(saved: Option<ValidatorState>, hotkeys: Vec<String>) -> ValidatorState {
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
