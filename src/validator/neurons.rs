//! Where `validate`'s metagraph comes from: the chain ([`OnChain`]), or
//! with `--metagraph` a file read again at every step ([`MetagraphFile`]).
//! One small interface with two implementations: how the start finds the
//! metagraph and this validator's uid, and what the end of a step does
//! (2.0.7's `sync`, SCORING.md §11.5). The step loop (`steps.rs`) is
//! written once against it.
//!
//! [`OnChain`]: super::on_chain::OnChain
//! [`MetagraphFile`]: super::metagraph_file::MetagraphFile

use std::time::Duration;

use crate::health::Board;
use crate::metagraph::Metagraph;
use crate::wallet::Hotkey;

use super::state::{Attempt, Validator};
use super::{Failure, Shutdown};

/// The source of the neurons, as the step loop sees it.
pub(super) trait Neurons: Sized {
    /// The metagraph and this validator's uid at start; `None` when a
    /// signal came first. A hotkey that is not among the neurons is bad
    /// input.
    async fn first_sync(
        &self,
        netuid: u16,
        hotkey: &Hotkey,
        board: &Board,
        shutdown: &Shutdown,
    ) -> Result<Option<(Metagraph, u16)>, Failure>;

    /// The end of a step: the metagraph read again, and weights when due.
    /// `Some` when weights were attempted, and how that ended.
    async fn end_step(v: &mut Validator<Self>) -> Result<Option<Attempt>, Failure>;

    /// The longest the end of a step may take, for `/healthz`.
    fn sync_budget(&self) -> Duration;

    /// Whether the neurons say who holds a validator permit (the chain's
    /// do; a file's have no say, and nothing is submitted).
    fn has_permits(&self) -> bool;

    /// What the step line says of the weights before a block is known.
    fn weights_pending(&self) -> &'static str;
}
