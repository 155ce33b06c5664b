//! Where the loop's neurons come from, and what a source says it read, as
//! plain data (a round's [`RoundMiners`]): the chain ([`OnChain`]), a metagraph file, or a miners
//! file. A source never sees the loop: it is asked for the neurons at
//! start, for the chain's head at a step's end, and for the neurons again
//! when [`crate::scoring::step::plan_step`] says so.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bridge;
use crate::chain::Head;
use crate::dendrite::Dendrite;
use crate::health::Board;
use crate::inputs::{self, InputError};
use crate::wallet::Hotkey;

use super::config::NeuronsFrom;
use super::on_chain::OnChain;
use super::round::RoundMiners;
use super::{Failure, Shutdown};

/// A source of neurons.
pub(super) enum Source {
    /// Subtensor; the axons asked with this dendrite.
    Chain(Box<OnChain>, Dendrite),
    /// A metagraph file, read again at every step's end; its axons asked
    /// with this dendrite.
    MetagraphFile(PathBuf, Dendrite),
    /// A miners file, read again at every step's end.
    MinersFile(PathBuf),
}

/// What the loop starts from.
pub(super) struct Start {
    /// The neurons.
    pub(super) neurons: RoundMiners,
    /// This validator's uid among them, when it has a hotkey.
    pub(super) uid: Option<u16>,
}

impl Source {
    /// The source the flags chose.
    pub(super) fn new(from: NeuronsFrom) -> Source {
        match from {
            NeuronsFrom::Chain {
                endpoint,
                watch,
                dendrite,
            } => Source::Chain(Box::new(OnChain::new(endpoint, watch)), dendrite),
            NeuronsFrom::MetagraphFile(path, dendrite) => Source::MetagraphFile(path, dendrite),
            NeuronsFrom::MinersFile(path) => Source::MinersFile(path),
        }
    }

    /// The neurons at start, and this validator's uid when `hotkey` is
    /// given; `None` when a signal came first. A hotkey that is not among
    /// the neurons is bad input; a file that does not parse too.
    pub(super) async fn first_read(
        &self,
        netuid: u16,
        hotkey: Option<&Hotkey>,
        board: &Board,
        shutdown: &Shutdown,
    ) -> Result<Option<Start>, Failure> {
        let (neurons, path) = match self {
            Source::Chain(on, dendrite) => {
                let Some(hotkey) = hotkey else {
                    return Err(Failure::Other(
                        "validating on a chain needs a hotkey".into(),
                    ));
                };
                let first = on.first_sync(netuid, hotkey, board, shutdown).await?;
                return Ok(first.map(|(metagraph, uid)| Start {
                    neurons: RoundMiners::Axons(dendrite.clone(), metagraph),
                    uid: Some(uid),
                }));
            }
            Source::MetagraphFile(path, dendrite) => (
                RoundMiners::Axons(dendrite.clone(), read(path, inputs::load_metagraph).await??),
                path,
            ),
            Source::MinersFile(path) => (
                RoundMiners::Listed(read(path, inputs::load_miners).await??),
                path,
            ),
        };
        let Some(hotkey) = hotkey else {
            return Ok(Some(Start { neurons, uid: None }));
        };
        let uid = neurons.metagraph().and_then(|m| m.uid_of(hotkey.ss58()));
        let uid = uid.ok_or_else(|| {
            Failure::Input(format!(
                "hotkey {} is not in {}: add its neuron to the file ({{\"uid\": N, \"hotkey\": \"{}\", ...}})",
                hotkey.ss58(),
                path.display(),
                hotkey.ss58()
            ))
        })?;
        Ok(Some(Start {
            neurons,
            uid: Some(uid),
        }))
    }

    /// The neurons read again at a step's end (a chain's at `head`). A
    /// file that went bad, or a chain that failed, keeps the last ones,
    /// which is logged.
    pub(super) async fn read_again(
        &mut self,
        netuid: u16,
        head: Option<Head>,
    ) -> Option<RoundMiners> {
        match (self, head) {
            (Source::Chain(on, dendrite), Some(head)) => {
                let fresh = on.metagraph(netuid, head).await?;
                Some(RoundMiners::Axons(dendrite.clone(), fresh))
            }
            (Source::Chain(..), None) => None,
            (Source::MetagraphFile(path, dendrite), _) => {
                let read = read(path, inputs::load_metagraph).await;
                let fresh = keep_last(path, read, "the metagraph of the last step")?;
                Some(RoundMiners::Axons(dendrite.clone(), fresh))
            }
            (Source::MinersFile(path), _) => {
                let read = read(path, inputs::load_miners).await;
                keep_last(path, read, "the miners of the last round").map(RoundMiners::Listed)
            }
        }
    }

    /// The longest the end of a step may take, for `/healthz`.
    pub(super) fn sync_budget(&self) -> Duration {
        match self {
            Source::Chain(on, _) => on.sync_budget(),
            // A file is read at once.
            Source::MetagraphFile(..) | Source::MinersFile(_) => Duration::from_secs(30),
        }
    }

    /// Whether the neurons say who holds a validator permit (the chain's
    /// do; a file's have no say, and nothing is submitted).
    pub(super) fn has_permits(&self) -> bool {
        matches!(self, Source::Chain(..))
    }

    /// The chain, when the neurons come from one.
    pub(super) fn chain(&mut self) -> Option<&mut OnChain> {
        match self {
            Source::Chain(on, _) => Some(on),
            Source::MetagraphFile(..) | Source::MinersFile(_) => None,
        }
    }
}

/// A file read off the event loop.
async fn read<T: Send + 'static>(
    path: &Path,
    load: fn(&Path) -> Result<T, InputError>,
) -> Result<Result<T, InputError>, Failure> {
    let p = path.to_path_buf();
    Ok(bridge::blocking(move || load(&p)).await?)
}

/// A file read again: the fresh neurons, or `None` (the last ones kept,
/// which is logged) when it went bad.
fn keep_last<T>(
    path: &Path,
    read: Result<Result<T, InputError>, Failure>,
    kept: &str,
) -> Option<T> {
    match read {
        Ok(Ok(fresh)) => Some(fresh),
        Ok(Err(e)) => {
            log::error!("{e}; keeping {kept}");
            None
        }
        Err(e) => {
            log::error!("reading {}: {e}; keeping {kept}", path.display());
            None
        }
    }
}
