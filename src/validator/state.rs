//! What `validate`'s loop holds between steps, whatever its neurons: the
//! settings, the metagraph of the last sync and this validator's uid in
//! it, the scores, the board; and how a weights attempt ended. It sits
//! below both the loop (`steps.rs`) and the interface the loop is written
//! against (`neurons.rs`), so that no file imports one that imports it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::dendrite::Dendrite;
use crate::health::Board;
use crate::metagraph::Metagraph;
use crate::scoring::state::{Cadence, ValidatorState};
use crate::wallet::Hotkey;

use super::config::{Github, Settings};
use super::Shutdown;

/// How a weights attempt ended: `--rounds` stops on a concluded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// Submitted, refused, or found impossible.
    Concluded,
    /// Failed in a way the next due step may not (the chain unreachable).
    Unknown,
}

/// The loop's state; `N` is where the metagraph comes from.
pub(super) struct Validator<N> {
    pub(super) args: Settings,
    pub(super) hotkey: Hotkey,
    pub(super) neurons: N,
    pub(super) metagraph: Metagraph,
    pub(super) uid: u16,
    pub(super) state: ValidatorState,
    pub(super) dir: PathBuf,
    pub(super) cadence: Cadence,
    pub(super) dendrite: Dendrite,
    pub(super) board: Arc<Board>,
    pub(super) github: Github,
    pub(super) shutdown: Shutdown,
    pub(super) rounds_done: u64,
    /// The last block seen on the chain (never, with a metagraph file).
    pub(super) head: Option<u64>,
}
