//! `validate`'s start: the first sync with the chain (waited for while the
//! chain is down, cut short by a signal) and the state: `state.json`, or a
//! Python validator's `state.npz` imported once, then the hotkey rule
//! against the metagraph of now.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gittensor_validator::chain::{Chain, ChainError};
use gittensor_validator::health::Board;
use gittensor_validator::inputs;
use gittensor_validator::metagraph::Metagraph;
use gittensor_validator::pipeline::bridge;
use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::wallet::Hotkey;

use super::{Failure, Shutdown};

/// Where the metagraph comes from.
pub(super) enum Neurons {
    Chain(Arc<Chain>),
    File(PathBuf),
}

/// The metagraph and this validator's uid at start; `None` when a signal
/// came first. A chain that does not answer is waited for (with the
/// client's back-off); a hotkey that is not registered ends the process
/// with status 2; a storage item that does not decode ends it with 1.
pub(super) async fn first_sync(
    neurons: &Neurons,
    netuid: u16,
    hotkey: &Hotkey,
    board: &Board,
    shutdown: &Shutdown,
) -> Result<Option<(Metagraph, u16)>, Failure> {
    match neurons {
        Neurons::File(path) => {
            let p = path.clone();
            let metagraph = bridge::blocking(move || inputs::load_metagraph(&p))
                .await
                .map_err(|e| Failure::Other(e.to_string()))??;
            let uid = metagraph.uid_of(hotkey.ss58()).ok_or_else(|| {
                Failure::Input(format!(
                    "hotkey {} is not in {}: add its neuron to the file ({{\"uid\": N, \"hotkey\": \"{}\", ...}})",
                    hotkey.ss58(),
                    path.display(),
                    hotkey.ss58()
                ))
            })?;
            Ok(Some((metagraph, uid)))
        }
        Neurons::Chain(chain) => {
            let endpoint = chain.config().endpoint().to_string();
            let mut shutdown = shutdown.clone();
            loop {
                // The first sync may wait long for a chain that is down:
                // each attempt is progress.
                board.expect_progress(
                    chain.config().request_timeout() * 4 + chain.config().backoff(u32::MAX),
                    "the first sync with the chain",
                );
                let attempt = async {
                    let head = chain.best_block().await?;
                    let uid = chain.uid_of(netuid, hotkey, head).await?;
                    let metagraph = chain.metagraph(netuid, head).await?;
                    Ok::<_, ChainError>((head, uid, metagraph))
                };
                match attempt.await {
                    Ok((head, uid, metagraph)) => {
                        board.chain(&endpoint, true, Some(head.number));
                        let uid = uid.ok_or_else(|| {
                            Failure::Input(format!(
                                "hotkey {} is not registered on netuid {netuid} at {endpoint}: register it \
                                 (btcli subnet register) or check --netuid and --subtensor.network",
                                hotkey.ss58()
                            ))
                        })?;
                        return Ok(Some((metagraph, uid)));
                    }
                    Err(e) if !e.is_connection_problem() && !e.is_disconnected() => {
                        return Err(Failure::Other(format!("chain {endpoint}: {e}")));
                    }
                    Err(e) => {
                        board.chain(&endpoint, false, None);
                        // The client said why, and when it tries again.
                        log::debug!("chain {endpoint}: {e}");
                        let wait = chain.retry_in().await.unwrap_or(Duration::from_secs(1));
                        tokio::select! {
                            _ = tokio::time::sleep(wait.max(Duration::from_millis(100))) => {}
                            name = shutdown.wait() => {
                                log::info!("{name} before the first sync: nothing to save, exiting");
                                return Ok(None);
                            }
                        }
                    }
                }
            }
        }
    }
}

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
