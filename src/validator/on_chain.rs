//! The neurons of a subnet on subtensor, and what the loop remembers of the
//! chain between steps: the first sync (waited for while the chain is
//! down, cut short by a signal), the head and the registration check at a
//! step's end, the metagraph and the consensus view at a resync. Chain
//! failures are logged once, naming the endpoint; the next step tries
//! again. What the weights become is `submit.rs`.

use std::sync::Arc;
use std::time::Duration;

use crate::chain::{Chain, ChainConfig, ChainError, ConsensusView, Head};
use crate::health::Board;
use crate::metagraph::Metagraph;
use crate::scoring::trust::WatchLimits;
use crate::wallet::Hotkey;

use super::{Failure, Shutdown};

/// Subtensor as a source of neurons, and what the loop remembers of it.
pub(super) struct OnChain {
    /// An `Arc`: the submission borrows it while the loop is borrowed.
    pub(super) chain: Arc<Chain>,
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
    pub(super) fn new(endpoint: String, watch: WatchLimits) -> OnChain {
        OnChain {
            chain: Arc::new(Chain::new(
                ChainConfig::builder().endpoint(endpoint).build(),
            )),
            watch,
            consensus: None,
            last_predicted: None,
            version_key_reported: None,
        }
    }

    pub(super) fn endpoint(&self) -> &str {
        self.chain.config().endpoint()
    }

    /// The metagraph and this validator's uid at start. A chain that does
    /// not answer is waited for (with the client's back-off); a hotkey that
    /// is not registered ends the process with status 2; a storage item
    /// that does not decode ends it with 1.
    pub(super) async fn first_sync(
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

    /// The chain's best block at a step's end, with the hotkey still
    /// registered; `None` when the chain failed (logged: no resync or
    /// weights this step). A hotkey no longer registered ends the loop.
    pub(super) async fn head(
        &self,
        netuid: u16,
        hotkey: &Hotkey,
        board: &Board,
    ) -> Result<Option<Head>, Failure> {
        let endpoint = self.endpoint();
        let head = match self.chain.best_block().await {
            Ok(head) => head,
            Err(e) => {
                board.chain(endpoint, false, None);
                self.trouble(&e, "no resync or weights this step");
                return Ok(None);
            }
        };
        board.chain(endpoint, true, Some(head.number));
        match self.chain.uid_of(netuid, hotkey, head).await {
            Ok(Some(_)) => Ok(Some(head)),
            Ok(None) => Err(Failure::Input(format!(
                "hotkey {} is no longer registered on netuid {netuid}",
                hotkey.ss58()
            ))),
            Err(e) => {
                self.trouble(&e, "no resync or weights this step");
                Ok(None)
            }
        }
    }

    /// The metagraph at `head` (a resync), and the consensus view at its
    /// block for the watch; `None` when the chain failed (logged: the
    /// metagraph is kept as it was).
    pub(super) async fn metagraph(&mut self, netuid: u16, head: Head) -> Option<Metagraph> {
        let started = std::time::Instant::now();
        let fresh = match self.chain.metagraph(netuid, head).await {
            Ok(fresh) => {
                log::info!(
                    "resync at block {}: {} uids read in {} ms",
                    head.number,
                    fresh.n(),
                    started.elapsed().as_millis()
                );
                fresh
            }
            Err(e) => {
                self.trouble(&e, "the metagraph is kept as it was");
                return None;
            }
        };
        match self.chain.consensus_view(netuid, &fresh, head).await {
            Ok(view) => self.consensus = Some(view),
            Err(e) => self.trouble(&e, "the consensus watch is skipped until the next resync"),
        }
        Some(fresh)
    }

    /// Five chain calls' deadlines and the wait for a submission's inclusion.
    pub(super) fn sync_budget(&self) -> Duration {
        let config = self.chain.config();
        config.request_timeout() * 5 + config.inclusion_timeout()
    }

    /// Logs a chain failure once, naming the endpoint. A connection that
    /// could not be made was logged by the client with its next attempt;
    /// an item that does not decode is a runtime change, not a network
    /// fault, and is an error.
    pub(super) fn trouble(&self, e: &ChainError, then: &str) {
        let endpoint = self.endpoint();
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
