//! What both ends of a step share (`on_chain.rs`, `metagraph_file.rs`):
//! a freshly read metagraph adopted, the scores following its hotkeys
//! (SCORING.md §11.3), and what it says of this validator.

use crate::metagraph::Metagraph;

use super::neurons::Neurons;
use super::state::Validator;

impl<N: Neurons> Validator<N> {
    /// This validator's `LastUpdate` in the last synced metagraph.
    pub(super) fn last_update(&self) -> u64 {
        self.metagraph
            .neurons
            .get(usize::from(self.uid))
            .map_or(0, |n| n.last_update)
    }

    /// Whether this hotkey holds a validator permit (as of the last sync);
    /// `None` when the neurons do not say (a metagraph file).
    pub(super) fn permit(&self) -> Option<bool> {
        self.neurons.has_permits().then(|| {
            self.metagraph
                .neurons
                .get(usize::from(self.uid))
                .is_some_and(|n| n.validator_permit)
        })
    }

    /// A freshly read metagraph replaces the last (§11.3).
    pub(super) fn adopt(&mut self, fresh: Metagraph) {
        let changed = !self.metagraph.same_axons(&fresh);
        let r = self.state.resync(&fresh.hotkeys(), changed);
        if !r.reset.is_empty() {
            log::info!(
                "resync: hotkeys replaced at uids {:?}, their scores reset",
                r.reset
            );
        }
        if let Some(n) = r.grew_to {
            log::info!("resync: the subnet grew to {n} uids (scores are float64 from now on)");
        }
        if let Some(n) = r.shrank_to {
            log::warn!("resync: the subnet shrank to {n} uids; the scores past it are dropped");
        }
        if let Some(uid) = fresh.uid_of(self.hotkey.ss58()) {
            self.uid = uid;
        }
        self.metagraph = fresh;
        self.board.submission_mode(self.permit(), self.args.dry_run);
    }
}
