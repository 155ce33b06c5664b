//! `validate` on subtensor: the first sync (waited for while the chain is
//! down, cut short by a signal) and the end of a step (2.0.7's `sync`,
//! SCORING.md §11.5): the registration check, a resync when an epoch
//! passed (the scores follow the new metagraph, §11.3; the consensus watch
//! reads at its block), and weights when due (`submit.rs`). Chain failures
//! are logged once, naming the endpoint; the next step tries again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::chain::{Chain, ChainError, ConsensusView};
use crate::health::Board;
use crate::metagraph::Metagraph;
use crate::scoring::trust::WatchLimits;
use crate::wallet::Hotkey;

use super::neurons::Neurons;
use super::state::{Attempt, Validator};
use super::{Failure, Shutdown};

/// The neurons of a subnet on subtensor, and what the loop remembers of
/// the chain between steps.
pub(super) struct OnChain {
    /// An `Arc`: a step's end lends the chain to the submission while the
    /// validator is borrowed mutably.
    chain: Arc<Chain>,
    /// When the consensus watch warns.
    pub(super) watch: WatchLimits,
    /// The subnet's consensus, trust and weights, read at the last resync.
    pub(super) consensus: Option<ConsensusView>,
    /// The trust our weights were predicted to get at the last setting.
    pub(super) last_predicted: Option<f64>,
    /// The chain's version key we last said was above ours: said once per
    /// change, not every step.
    pub(super) version_key_reported: Option<u64>,
}

impl OnChain {
    pub(super) fn new(chain: Chain, watch: WatchLimits) -> OnChain {
        OnChain {
            chain: Arc::new(chain),
            watch,
            consensus: None,
            last_predicted: None,
            version_key_reported: None,
        }
    }

    fn endpoint(&self) -> &str {
        self.chain.config().endpoint()
    }
}

impl Neurons for OnChain {
    /// A chain that does not answer is waited for (with the client's
    /// back-off); a hotkey that is not registered ends the process with
    /// status 2; a storage item that does not decode ends it with 1.
    async fn first_sync(
        &self,
        netuid: u16,
        hotkey: &Hotkey,
        board: &Board,
        shutdown: &Shutdown,
    ) -> Result<Option<(Metagraph, u16)>, Failure> {
        let chain = &self.chain;
        let endpoint = self.endpoint();
        let mut shutdown = shutdown.clone();
        loop {
            // The first sync may wait long for a chain that is down: each
            // attempt is progress.
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
                    board.chain(endpoint, true, Some(head.number));
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
                    board.chain(endpoint, false, None);
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

    /// The registration check, a resync when an epoch passed, weights when
    /// due. A chain that fails is logged; the next step tries again.
    async fn end_step(v: &mut Validator<Self>) -> Result<Option<Attempt>, Failure> {
        let chain = v.neurons.chain.clone();
        let endpoint = v.neurons.endpoint().to_string();
        let head = match chain.best_block().await {
            Ok(head) => head,
            Err(e) => {
                v.board.chain(&endpoint, false, None);
                v.chain_trouble(&e, "no resync or weights this step");
                return Ok(Some(Attempt::Unknown));
            }
        };
        v.head = Some(head.number);
        v.board.chain(&endpoint, true, Some(head.number));
        match chain.uid_of(v.args.netuid, &v.hotkey, head).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Failure::Input(format!(
                    "hotkey {} is no longer registered on netuid {}",
                    v.hotkey.ss58(),
                    v.args.netuid
                )))
            }
            Err(e) => {
                v.chain_trouble(&e, "no resync or weights this step");
                return Ok(Some(Attempt::Unknown));
            }
        }
        // As 2.0.7: `last_update` as of the last sync.
        let mut last_update = v.last_update();
        if v.cadence.resync_due(head.number, last_update) {
            let started = Instant::now();
            match chain.metagraph(v.args.netuid, head).await {
                Ok(fresh) => {
                    log::info!(
                        "resync at block {}: {} uids read in {} ms",
                        head.number,
                        fresh.n(),
                        started.elapsed().as_millis()
                    );
                    v.adopt(fresh);
                    last_update = v.last_update();
                    // The consensus watch reads at the metagraph's block.
                    match chain
                        .consensus_view(v.args.netuid, &v.metagraph, head)
                        .await
                    {
                        Ok(view) => v.neurons.consensus = Some(view),
                        Err(e) => v.chain_trouble(
                            &e,
                            "the consensus watch is skipped until the next resync",
                        ),
                    }
                }
                Err(e) => v.chain_trouble(&e, "the metagraph is kept as it was"),
            }
        }
        let due = v
            .cadence
            .weights_due(v.state.step, head.number, last_update);
        if !due {
            return Ok(None);
        }
        let started = Instant::now();
        let attempt = v.set_weights(&chain, head).await;
        log::info!("weights step took {} ms", started.elapsed().as_millis());
        Ok(Some(attempt))
    }

    /// Five chain calls' deadlines and the wait for a submission's inclusion.
    fn sync_budget(&self) -> Duration {
        let config = self.chain.config();
        config.request_timeout() * 5 + config.inclusion_timeout()
    }

    fn has_permits(&self) -> bool {
        true
    }

    fn weights_pending(&self) -> &'static str {
        "weights: waiting for the chain"
    }
}

impl Validator<OnChain> {
    /// Logs a chain failure once, naming the endpoint. A connection that
    /// could not be made was logged by the client with its next attempt;
    /// an item that does not decode is a runtime change, not a network
    /// fault, and is an error.
    pub(super) fn chain_trouble(&self, e: &ChainError, then: &str) {
        let endpoint = self.neurons.endpoint();
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
}
