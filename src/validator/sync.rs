//! The end of a step (2.0.7's `sync`, SCORING.md §11.5), on the chain or,
//! with `--metagraph`, from the file read again. On the chain: the registration
//! check, a resync when an epoch passed (the scores follow the new
//! metagraph, §11.3; the consensus watch reads at its block), and weights
//! when due (`submit.rs`). Chain failures are logged once, naming the
//! endpoint; the next step tries again.

use std::path::PathBuf;
use std::time::Instant;

use gittensor_validator::chain::ChainError;
use gittensor_validator::inputs;
use gittensor_validator::metagraph::Metagraph;
use gittensor_validator::pipeline::bridge;
use gittensor_validator::scoring::weights::WeightLimits;

use super::startup::Neurons;
use super::steps::{Attempt, Validator};
use super::Failure;

impl Validator {
    /// The end of a step (2.0.7's `sync`): the registration check, a
    /// resync when an epoch passed, weights when due. A chain that fails is
    /// logged; the next step tries again.
    pub(super) async fn sync(&mut self) -> Result<Option<Attempt>, Failure> {
        let chain = match &self.neurons {
            Neurons::Chain(chain) => chain.clone(),
            Neurons::File(path) => return self.sync_offline(path.clone()).await,
        };
        let endpoint = chain.config().endpoint().to_string();
        let head = match chain.best_block().await {
            Ok(head) => head,
            Err(e) => {
                self.board.chain(&endpoint, false, None);
                self.chain_trouble(&e, "no resync or weights this step");
                return Ok(Some(Attempt::Unknown));
            }
        };
        self.head = Some(head.number);
        self.board.chain(&endpoint, true, Some(head.number));
        match chain.uid_of(self.args.netuid, &self.hotkey, head).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Failure::Input(format!(
                    "hotkey {} is no longer registered on netuid {}",
                    self.hotkey.ss58(),
                    self.args.netuid
                )))
            }
            Err(e) => {
                self.chain_trouble(&e, "no resync or weights this step");
                return Ok(Some(Attempt::Unknown));
            }
        }
        // As 2.0.7: `last_update` as of the last sync.
        let mut last_update = self.last_update();
        if self.cadence.resync_due(head.number, last_update) {
            let started = Instant::now();
            match chain.metagraph(self.args.netuid, head).await {
                Ok(fresh) => {
                    log::info!(
                        "resync at block {}: {} uids read in {} ms",
                        head.number,
                        fresh.n(),
                        started.elapsed().as_millis()
                    );
                    self.adopt(fresh);
                    last_update = self.last_update();
                    // The consensus watch reads at the metagraph's block.
                    match chain
                        .consensus_view(self.args.netuid, &self.metagraph, head)
                        .await
                    {
                        Ok(view) => self.consensus = Some(view),
                        Err(e) => self.chain_trouble(
                            &e,
                            "the consensus watch is skipped until the next resync",
                        ),
                    }
                }
                Err(e) => self.chain_trouble(&e, "the metagraph is kept as it was"),
            }
        }
        let due = self
            .cadence
            .weights_due(self.state.step, head.number, last_update);
        if !due {
            return Ok(None);
        }
        let started = Instant::now();
        let attempt = self.set_weights(&chain, head).await;
        log::info!("weights step took {} ms", started.elapsed().as_millis());
        Ok(Some(attempt))
    }

    /// Logs a chain failure once, naming the endpoint. A connection that
    /// could not be made was logged by the client with its next attempt;
    /// an item that does not decode is a runtime change, not a network
    /// fault, and is an error.
    pub(super) fn chain_trouble(&self, e: &ChainError, then: &str) {
        let endpoint = match &self.neurons {
            Neurons::Chain(chain) => chain.config().endpoint().to_string(),
            Neurons::File(_) => String::new(),
        };
        if e.is_disconnected() {
            log::debug!("chain {endpoint}: {e}; {then}");
        } else if e.is_connection_problem() {
            log::warn!("chain {endpoint}: {e}; {then}");
        } else {
            log::error!(
                "chain {endpoint}: {e}; {then} (the runtime may have changed: check for a newer gittensor-validator)"
            );
        }
    }

    /// This validator's `LastUpdate` in the last synced metagraph.
    pub(super) fn last_update(&self) -> u64 {
        self.metagraph
            .neurons
            .get(usize::from(self.uid))
            .map_or(0, |n| n.last_update)
    }

    /// Whether this hotkey holds a validator permit (as of the last sync);
    /// `None` without a chain.
    pub(super) fn permit(&self) -> Option<bool> {
        match self.neurons {
            Neurons::Chain(_) => Some(
                self.metagraph
                    .neurons
                    .get(usize::from(self.uid))
                    .is_some_and(|n| n.validator_permit),
            ),
            Neurons::File(_) => None,
        }
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

    /// A step's end without a chain: the metagraph file read again, weights
    /// computed and logged after every step but the first.
    async fn sync_offline(&mut self, path: PathBuf) -> Result<Option<Attempt>, Failure> {
        let p = path.clone();
        match bridge::blocking(move || inputs::load_metagraph(&p)).await {
            Ok(Ok(fresh)) => self.adopt(fresh),
            Ok(Err(e)) => log::error!("{e}; keeping the metagraph of the last step"),
            Err(e) => log::error!("reading {}: {e}", path.display()),
        }
        if self.state.step == 0 {
            return Ok(None);
        }
        if !self.state.is_scored() {
            log::info!("no scoring round has finished yet: no weights to compute");
            return Ok(Some(Attempt::Concluded));
        }
        // No chain: no limits; neutral ones.
        let limits = WeightLimits {
            min_allowed_weights: 0,
            max_weight_limit: u16::MAX,
        };
        self.compute(limits).await;
        log::info!("--metagraph: no chain, the weights above are not submitted");
        Ok(Some(Attempt::Concluded))
    }
}
