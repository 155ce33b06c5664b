//! Where the loop's neurons come from, and what a source says it read, as
//! plain data: the chain ([`OnChain`]), a metagraph file, or a miners
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
use crate::metagraph::Metagraph;
use crate::metagraph::MinerInput;
use crate::wallet::Hotkey;

use super::config::NeuronsFrom;
use super::on_chain::OnChain;
use super::round::RoundMiners;
use super::{Failure, Shutdown};

/// A source of neurons.
pub(super) enum Source {
    /// Subtensor.
    Chain(Box<OnChain>),
    /// A metagraph file, read again at every step's end.
    MetagraphFile(PathBuf),
    /// A miners file, read again at every step's end.
    MinersFile(PathBuf),
}

/// The neurons a round starts from, as last read.
#[derive(Clone)]
pub(super) enum Neurons {
    /// A metagraph (the chain's or a file's): every uid's axon is asked.
    Metagraph(Metagraph),
    /// A miners file's miners, with their PATs.
    Miners(Vec<MinerInput>),
}

impl Neurons {
    /// How many uids (metagraph) or miners (file) a round takes.
    pub(super) fn count(&self) -> usize {
        match self {
            Neurons::Metagraph(m) => m.n(),
            Neurons::Miners(m) => m.len(),
        }
    }

    /// What a round starts from.
    pub(super) fn round_miners(&self, dendrite: Option<&Dendrite>) -> RoundMiners {
        match (self, dendrite) {
            (Neurons::Metagraph(m), Some(d)) => RoundMiners::Axons(d.clone(), m.clone()),
            (Neurons::Miners(m), _) => RoundMiners::Listed(m.clone()),
            // The config pairs a metagraph with a dendrite; without one no
            // axon can be asked.
            (Neurons::Metagraph(_), None) => RoundMiners::Listed(Vec::new()),
        }
    }

    /// The hotkey of each uid the scores follow (§11.3). A miners file
    /// lists only the miners that answered: a uid it leaves out keeps the
    /// hotkey it had (`kept`), since not answering is not a new
    /// registration; a uid never seen has none ("").
    pub(super) fn hotkeys(&self, kept: &[String]) -> Vec<String> {
        match self {
            Neurons::Metagraph(m) => m.hotkeys(),
            Neurons::Miners(miners) => {
                let n = miners
                    .iter()
                    .map(|m| usize::from(m.uid) + 1)
                    .max()
                    .unwrap_or(0);
                let mut hotkeys: Vec<String> = (0..n)
                    .map(|i| kept.get(i).cloned().unwrap_or_default())
                    .collect();
                for m in miners {
                    if let Some(h) = &m.hotkey {
                        hotkeys[usize::from(m.uid)] = h.clone();
                    }
                }
                hotkeys
            }
        }
    }

    /// The metagraph, when the neurons are one.
    pub(super) fn metagraph(&self) -> Option<&Metagraph> {
        match self {
            Neurons::Metagraph(m) => Some(m),
            Neurons::Miners(_) => None,
        }
    }
}

/// What the loop starts from.
pub(super) struct Start {
    /// The neurons.
    pub(super) neurons: Neurons,
    /// This validator's uid among them, when it has a hotkey.
    pub(super) uid: Option<u16>,
}

impl Source {
    /// The source the flags chose.
    pub(super) fn new(from: NeuronsFrom) -> Source {
        match from {
            NeuronsFrom::Chain { endpoint, watch } => {
                Source::Chain(Box::new(OnChain::new(endpoint, watch)))
            }
            NeuronsFrom::MetagraphFile(path) => Source::MetagraphFile(path),
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
            Source::Chain(on) => {
                let Some(hotkey) = hotkey else {
                    return Err(Failure::Other(
                        "validating on a chain needs a hotkey".into(),
                    ));
                };
                let first = on.first_sync(netuid, hotkey, board, shutdown).await?;
                return Ok(first.map(|(metagraph, uid)| Start {
                    neurons: Neurons::Metagraph(metagraph),
                    uid: Some(uid),
                }));
            }
            Source::MetagraphFile(path) => (
                Neurons::Metagraph(read(path, inputs::load_metagraph).await??),
                path,
            ),
            Source::MinersFile(path) => (
                Neurons::Miners(read(path, inputs::load_miners).await??),
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
    pub(super) async fn read_again(&mut self, netuid: u16, head: Option<Head>) -> Option<Neurons> {
        match (self, head) {
            (Source::Chain(on), Some(head)) => {
                on.metagraph(netuid, head).await.map(Neurons::Metagraph)
            }
            (Source::Chain(_), None) => None,
            (Source::MetagraphFile(path), _) => {
                let read = read(path, inputs::load_metagraph).await;
                keep_last(path, read, "the metagraph of the last step").map(Neurons::Metagraph)
            }
            (Source::MinersFile(path), _) => {
                let read = read(path, inputs::load_miners).await;
                keep_last(path, read, "the miners of the last round").map(Neurons::Miners)
            }
        }
    }

    /// The longest the end of a step may take, for `/healthz`.
    pub(super) fn sync_budget(&self) -> Duration {
        match self {
            Source::Chain(on) => on.sync_budget(),
            // A file is read at once.
            Source::MetagraphFile(_) | Source::MinersFile(_) => Duration::from_secs(30),
        }
    }

    /// Whether the neurons say who holds a validator permit (the chain's
    /// do; a file's have no say, and nothing is submitted).
    pub(super) fn has_permits(&self) -> bool {
        matches!(self, Source::Chain(_))
    }

    /// The chain, when the neurons come from one.
    pub(super) fn chain(&mut self) -> Option<&mut OnChain> {
        match self {
            Source::Chain(on) => Some(on),
            Source::MetagraphFile(_) | Source::MinersFile(_) => None,
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
