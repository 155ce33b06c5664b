//! `validate`: the drop-in validator on subtensor, the loop of 2.0.7's
//! `neurons/validator.py` (SCORING.md §11.5): a step every
//! `--step-interval`; a scoring round at every `--scoring-interval` (the
//! PATs from the miners' axons, then GitHub), folded into the float32
//! moving average; after each step the metagraph is resynced and weights
//! are set when an epoch has passed since this validator's last weights.
//!
//! Where it differs from 2.0.7 on purpose (SCORING.md §11.9): the state
//! survives restarts (`state.json`, a Python `state.npz` imported once), a
//! shrinking metagraph does not stop it, a refused submission is retried at
//! the next due step and logged by the chain's error name, and a dropped
//! chain connection is made again with back-off instead of ending the
//! process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use gittensor_validator::chain::{Chain, ChainConfig, ChainError, Head, Inclusion};
use gittensor_validator::commit_reveal;
use gittensor_validator::dendrite::{Dendrite, DendriteConfig};
use gittensor_validator::health::Board;
use gittensor_validator::inputs;
use gittensor_validator::metagraph::Metagraph;
use gittensor_validator::pipeline::bridge;
use gittensor_validator::scoring::state::{Cadence, ValidatorState};
use gittensor_validator::scoring::weights::{weights_for_chain, WeightLimits};
use gittensor_validator::scoring::{RoundContext, DEFAULT_EMA_ALPHA};
use gittensor_validator::wallet::Hotkey;
use time::OffsetDateTime;

use super::common::{expand_home, prepare_github, Common, WalletArgs};
use super::{
    parse_duration, print_table_async, round_with_ctrl_c, runtime, serve_board, Failure, Round,
    RoundMiners, INTERRUPTED,
};

/// gittensor's `__spec_version__` (1.0.0 -> 1000), the weights version key
/// 2.0.7 sends (SCORING.md §11.4.6).
const VERSION_KEY: u64 = 1000;

#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// The subnet.
    #[arg(long, env = "NETUID", default_value_t = 74)]
    pub(crate) netuid: u16,
    #[command(flatten)]
    pub(crate) wallet: WalletArgs,
    /// finney, test or local (ws://127.0.0.1:9944).
    #[arg(
        long = "subtensor.network",
        env = "SUBTENSOR_NETWORK",
        default_value = "finney"
    )]
    pub(crate) network: String,
    /// A ws:// or wss:// endpoint; wins over --subtensor.network.
    #[arg(long = "subtensor.chain_endpoint", env = "SUBTENSOR_CHAIN_ENDPOINT")]
    pub(crate) endpoint: Option<String>,
    /// The subnet's neurons from this file instead of the chain (offline runs
    /// and tests): every step computes and logs the weights, nothing is submitted.
    #[arg(long, conflicts_with_all = ["endpoint"])]
    pub(crate) metagraph: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) common: Common,
    /// Directory of state.json, report.json and weights.json. Defaults to the
    /// Python validator's: ~/.bittensor/miners/NAME/HOTKEY/netuidN/validator.
    #[arg(long)]
    pub(crate) state: Option<PathBuf>,
    /// Stop after this many scoring rounds, once the weights that follow the
    /// last one were submitted, refused, or found impossible.
    #[arg(long)]
    pub(crate) rounds: Option<u64>,
    /// Compute and log the weights (uid, u16); submit nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Serve GET /healthz and GET /metrics here, e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub(crate) health_addr: Option<SocketAddr>,
    /// Deadline of one axon query, as bittensor's dendrite default.
    #[arg(long, default_value = "12s", value_parser = parse_duration)]
    pub(crate) dendrite_timeout: Duration,
    /// Time between two steps (metagraph sync, weights check).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub(crate) step_interval: Duration,
    /// Time between scoring rounds (a round at every Nth step).
    #[arg(long, default_value = "2h", value_parser = parse_duration)]
    pub(crate) scoring_interval: Duration,
    /// Blocks between two weight settings of this validator.
    #[arg(long, default_value_t = 100)]
    pub(crate) epoch_length: u64,
    /// The weights version key sent with set_weights.
    #[arg(long, default_value_t = VERSION_KEY)]
    pub(crate) version_key: u64,
    /// Moving-average weight of a new round's rewards.
    #[arg(long, default_value_t = DEFAULT_EMA_ALPHA)]
    pub(crate) alpha: f64,
}

/// The endpoint of a network name.
fn endpoint_of(network: &str) -> Result<String, Failure> {
    match network {
        "finney" => Ok("wss://entrypoint-finney.opentensor.ai:443".into()),
        "test" => Ok("wss://test.finney.opentensor.ai:443".into()),
        "local" => Ok("ws://127.0.0.1:9944".into()),
        url if url.starts_with("ws://") || url.starts_with("wss://") => Ok(url.into()),
        other => Err(Failure::Input(format!(
            "--subtensor.network {other:?}: expected finney, test, local or a ws:// URL"
        ))),
    }
}

/// The Python validator's state folder (gittensor/utils/config.py).
fn default_state_dir(args: &ValidateArgs) -> PathBuf {
    let root =
        std::env::var("BT_LOGGING_LOGGING_DIR").unwrap_or_else(|_| "~/.bittensor/miners".into());
    expand_home(&root)
        .join(&args.wallet.name)
        .join(&args.wallet.hotkey)
        .join(format!("netuid{}", args.netuid))
        .join("validator")
}

/// How a weights attempt ended: `--rounds` stops on a concluded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Submitted, refused, or found impossible.
    Concluded,
    /// Failed in a way the next due step may not (the chain unreachable).
    Unknown,
}

/// Where the metagraph comes from.
enum Neurons {
    Chain(Arc<Chain>),
    File(PathBuf),
}

struct Validator {
    args: ValidateArgs,
    hotkey: Hotkey,
    neurons: Neurons,
    metagraph: Metagraph,
    uid: u16,
    state: ValidatorState,
    dir: PathBuf,
    cadence: Cadence,
    dendrite: Dendrite,
    board: Arc<Board>,
    github: super::common::Github,
    rounds_done: u64,
}

pub(crate) fn validate(args: ValidateArgs) -> Result<(), Failure> {
    if !(0.0..=1.0).contains(&args.alpha) {
        return Err(Failure::Input(format!(
            "--alpha {} is not between 0 and 1",
            args.alpha
        )));
    }
    if args.step_interval.is_zero() {
        return Err(Failure::Input("--step-interval must be above 0".into()));
    }
    let github = prepare_github(&args.common)?;
    let hotkey = args.wallet.load()?;
    let dir = args
        .state
        .clone()
        .unwrap_or_else(|| default_state_dir(&args));
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
    inputs::remove_stale_temps(&dir, &["state.json", "weights.json", "report.json"]);
    gittensor_validator::filestore::keep_in_state_dir(&github.client, &dir);
    let neurons = match &args.metagraph {
        Some(path) => Neurons::File(path.clone()),
        None => {
            let endpoint = match &args.endpoint {
                Some(url) => endpoint_of(url)?,
                None => endpoint_of(&args.network)?,
            };
            Neurons::Chain(Arc::new(Chain::new(
                ChainConfig::builder().endpoint(endpoint).build(),
            )))
        }
    };
    let dendrite = Dendrite::new(
        hotkey.clone(),
        DendriteConfig::builder()
            .timeout(args.dendrite_timeout)
            .build(),
    );
    let steps_per_round = (args.scoring_interval.as_secs_f64() / args.step_interval.as_secs_f64())
        .round()
        .max(1.0) as u64;
    let cadence = Cadence {
        steps_per_round,
        epoch_length: args.epoch_length,
    };
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let board = serve_board(args.health_addr).await?;
        let (metagraph, uid) = first_sync(&neurons, &args, &hotkey, &board).await?;
        let state = load_state(&dir, &metagraph).await?;
        log::info!(
            "validating netuid {} as uid {uid} ({}), {} uids, state in {}, step {}, a round every {steps_per_round} steps",
            args.netuid,
            hotkey.ss58(),
            metagraph.n(),
            dir.display(),
            state.step
        );
        let mut v = Validator {
            args,
            hotkey,
            neurons,
            metagraph,
            uid,
            state,
            dir,
            cadence,
            dendrite,
            board,
            github,
            rounds_done: 0,
        };
        v.save().await?;
        v.run().await
    });
    // A round cut short may leave requests in flight (until their timeout);
    // the state is saved, so do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

/// The metagraph and this validator's uid at start. A chain that does not
/// answer is waited for (with the client's back-off); a hotkey that is not
/// registered ends the process with status 2.
async fn first_sync(
    neurons: &Neurons,
    args: &ValidateArgs,
    hotkey: &Hotkey,
    board: &Board,
) -> Result<(Metagraph, u16), Failure> {
    let not_registered = || {
        Failure::Input(format!(
            "hotkey {} is not registered on netuid {}: register it (btcli subnet register) or check --netuid",
            hotkey.ss58(),
            args.netuid
        ))
    };
    match neurons {
        Neurons::File(path) => {
            let p = path.clone();
            let metagraph = bridge::blocking(move || inputs::load_metagraph(&p))
                .await
                .map_err(|e| Failure::Other(e.to_string()))??;
            let uid = metagraph.uid_of(hotkey.ss58()).ok_or_else(not_registered)?;
            Ok((metagraph, uid))
        }
        Neurons::Chain(chain) => loop {
            let attempt = async {
                let head = chain.best_block().await?;
                let uid = chain.uid_of(args.netuid, hotkey, head).await?;
                let metagraph = chain.metagraph(args.netuid, head).await?;
                Ok::<_, ChainError>((head, uid, metagraph))
            };
            match attempt.await {
                Ok((head, uid, metagraph)) => {
                    board.chain(chain.config().endpoint(), true, Some(head.number));
                    let uid = uid.ok_or_else(not_registered)?;
                    return Ok((metagraph, uid));
                }
                Err(e) => {
                    board.chain(chain.config().endpoint(), false, None);
                    // Wait out the client's back-off rather than asking it
                    // again, and again, before it will try.
                    let wait = match &e {
                        ChainError::Disconnected(wait) => *wait,
                        _ => chain.config().backoff(1),
                    };
                    log::warn!(
                        "chain: {e}; the metagraph is needed to start, trying again in {}s",
                        wait.as_secs().max(1)
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait.max(Duration::from_secs(1))) => {}
                        _ = tokio::signal::ctrl_c() => {
                            return Err(Failure::Other("interrupted before the first sync".into()));
                        }
                    }
                }
            }
        },
    }
}

/// `state.json` of the folder; else a Python validator's `state.npz`,
/// imported once; else float32 zeros for the metagraph. Then the hotkey rule
/// against the metagraph of now.
async fn load_state(dir: &Path, metagraph: &Metagraph) -> Result<ValidatorState, Failure> {
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
    let hotkeys = metagraph.hotkeys();
    Ok(match loaded {
        None => ValidatorState::new(hotkeys),
        Some(mut s) => {
            let changed = s.hotkeys != hotkeys;
            let r = s.resync(&hotkeys, changed);
            if !r.reset.is_empty() {
                log::info!(
                    "hotkeys replaced since the state was saved, scores reset: uids {:?}",
                    r.reset
                );
            }
            s
        }
    })
}

impl Validator {
    async fn run(&mut self) -> Result<(), Failure> {
        // One listener for the whole run: a Ctrl-C that comes during a sync
        // or a save is kept, and honoured at the end of that step.
        let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
        let listener = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = stop_tx.send(true);
            }
        });
        let result = self.steps(&mut stop).await;
        listener.abort();
        result
    }

    async fn steps(
        &mut self,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), Failure> {
        loop {
            self.board.step(self.state.step);
            let round_due = self.cadence.is_round_step(self.state.step) && !self.limit_reached();
            if round_due && !self.round().await? {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(self.args.step_interval) => {}
                _ = stop.wait_for(|s| *s) => {
                    log::info!("interrupted between steps: the state is saved");
                    return Ok(());
                }
            }
            let attempt = self.sync().await?;
            self.state.step += 1;
            self.save().await?;
            if *stop.borrow() {
                log::info!("interrupted: the step is finished and the state is saved");
                return Ok(());
            }
            if self.limit_reached() && attempt == Some(Attempt::Concluded) {
                log::info!(
                    "{} rounds done and the weights after them settled: stopping",
                    self.rounds_done
                );
                return Ok(());
            }
        }
    }

    fn limit_reached(&self) -> bool {
        self.args.rounds.is_some_and(|n| self.rounds_done >= n)
    }

    /// One scoring round on the metagraph of the last sync, folded into the
    /// moving average. False when Ctrl-C cut it short (it is discarded).
    async fn round(&mut self) -> Result<bool, Failure> {
        let now = self.github.now.unwrap_or_else(OffsetDateTime::now_utc);
        let ctx = Arc::new(RoundContext {
            repos: self.github.repos.clone(),
            languages: self.github.languages.clone(),
            now,
        });
        log::info!(
            "round {} starting: {} uids",
            self.state.rounds + 1,
            self.metagraph.n()
        );
        let miners = RoundMiners::Axons(self.dendrite.clone(), self.metagraph.clone());
        let Round {
            report,
            interrupted,
        } = round_with_ctrl_c(
            self.github.client.clone(),
            miners,
            ctx,
            self.github.options,
            None,
        )
        .await;
        if interrupted {
            log::warn!("{INTERRUPTED}; it is discarded and the saved state is unchanged");
            return Ok(false);
        }
        if let Err(e) = self.state.fold_round(&report.rewards, self.args.alpha) {
            // The round's uids come from the metagraph the scores follow.
            log::error!("moving average: {e}; the round is discarded");
        }
        self.rounds_done += 1;
        self.board.round(&report);
        print_table_async(&report).await;
        let (dir, rep) = (self.dir.clone(), report);
        bridge::blocking(move || write_json(&dir.join("report.json"), &rep))
            .await
            .map_err(|e| Failure::Other(e.to_string()))??;
        Ok(true)
    }

    /// The end of a step (2.0.7's `sync`): the registration check, a
    /// resync when an epoch passed, weights when due. A chain that fails is
    /// logged; the next step tries again.
    async fn sync(&mut self) -> Result<Option<Attempt>, Failure> {
        let chain = match &self.neurons {
            Neurons::Chain(chain) => chain.clone(),
            Neurons::File(path) => return self.sync_offline(path.clone()).await,
        };
        let head = match chain.best_block().await {
            Ok(head) => head,
            Err(e) => {
                self.board.chain(chain.config().endpoint(), false, None);
                log::warn!("chain: {e}; no resync or weights this step");
                return Ok(Some(Attempt::Unknown));
            }
        };
        self.board
            .chain(chain.config().endpoint(), true, Some(head.number));
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
                log::warn!("chain: {e}; no resync or weights this step");
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
                }
                Err(e) => log::warn!("chain: {e}; the metagraph is kept as it was"),
            }
        }
        if !self
            .cadence
            .weights_due(self.state.step, head.number, last_update)
        {
            return Ok(None);
        }
        let started = Instant::now();
        let attempt = self.set_weights(&chain, head).await;
        log::info!("weights step took {} ms", started.elapsed().as_millis());
        Ok(Some(attempt))
    }

    /// This validator's `LastUpdate` in the last synced metagraph.
    fn last_update(&self) -> u64 {
        self.metagraph
            .neurons
            .get(usize::from(self.uid))
            .map_or(0, |n| n.last_update)
    }

    /// A freshly read metagraph replaces the last (§11.3).
    fn adopt(&mut self, fresh: Metagraph) {
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
    }

    /// Computes the weights of the scores against the chain's limits and
    /// submits them, unless that cannot or must not be done.
    async fn set_weights(&mut self, chain: &Chain, head: Head) -> Attempt {
        let netuid = self.args.netuid;
        let hyper = match chain.hyperparameters(netuid, head).await {
            Ok(h) => h,
            Err(e) => {
                log::warn!("chain: {e}; weights not set this step");
                return Attempt::Unknown;
            }
        };
        let limits = WeightLimits {
            min_allowed_weights: hyper.min_allowed_weights,
            max_weight_limit: hyper.max_weight_limit,
        };
        let Some((uids, weights)) = self.compute(limits).await else {
            return Attempt::Concluded;
        };
        // With commit-reveal on, the same list goes out encrypted to a drand
        // round, as bittensor 9.9.0's commit_reveal_v3_extrinsic sends it.
        let reveal = (hyper.commit_reveal == Some(true)).then(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let round = commit_reveal::reveal_round(
                u64::from(hyper.tempo),
                head.number,
                netuid,
                hyper.reveal_period_epochs.unwrap_or(1),
                commit_reveal::BLOCK_TIME,
                now,
            );
            let version = hyper
                .commit_reveal_version
                .unwrap_or(commit_reveal::DEFAULT_COMMIT_REVEAL_VERSION);
            (round, version)
        });
        if self.args.dry_run {
            match reveal {
                Some((round, _)) => log::info!(
                    "--dry-run: netuid {netuid} has commit-reveal on: the list above would be committed \
                     for drand round {round}; not submitted"
                ),
                None => log::info!(
                    "--dry-run: weights computed at block {}, not submitted",
                    head.number
                ),
            }
            return Attempt::Concluded;
        }
        let permit = self
            .metagraph
            .neurons
            .get(usize::from(self.uid))
            .is_some_and(|n| n.validator_permit);
        if !permit {
            log::warn!(
                "uid {} has no validator permit on netuid {netuid}: weights not submitted (scoring goes on)",
                self.uid
            );
            return Attempt::Concluded;
        }
        if self.args.version_key < hyper.weights_version_key {
            log::error!(
                "our weights version key {} is below netuid {netuid}'s WeightsVersionKey {}: the chain will \
                 refuse these weights; upgrade gittensor-validator, or pass --version-key if the subnet changed it",
                self.args.version_key,
                hyper.weights_version_key
            );
        }
        if let Some((round, version)) = reveal {
            return self
                .commit(chain, head, &uids, &weights, round, version)
                .await;
        }
        log::info!(
            "setting weights on {} uids at block {}",
            uids.len(),
            head.number
        );
        let result = chain
            .set_weights(netuid, &uids, &weights, self.args.version_key, &self.hotkey)
            .await;
        self.settle("set_weights", "weights set", result, "")
    }

    /// What became of a submission: logged by the block that holds it, or
    /// by the chain's error name; the board counts it.
    fn settle(
        &mut self,
        call: &str,
        done: &str,
        result: Result<Inclusion, ChainError>,
        after: &str,
    ) -> Attempt {
        match result {
            Ok(inclusion) => {
                log::info!(
                    "{done}: extrinsic {} in block {} ({}){after}",
                    inclusion.extrinsic_hash,
                    inclusion.block_number,
                    inclusion.block_hash
                );
                self.state.last_weights_block = Some(inclusion.block_number);
                self.board.weights_submitted(inclusion.block_number);
                Attempt::Concluded
            }
            Err(ChainError::Refused { name, block }) => {
                log::error!(
                    "{call} refused by the chain in block {block}: {name}{}",
                    hint(&name)
                );
                self.board.weights_refused();
                Attempt::Concluded
            }
            Err(e @ ChainError::Rejected(_)) => {
                log::error!("{call}: {e}; trying again at the next due step");
                self.board.weights_refused();
                Attempt::Concluded
            }
            Err(e) => {
                log::warn!("{call}: {e}; trying again at the next due step");
                Attempt::Unknown
            }
        }
    }

    /// Commits the list, timelock-encrypted to drand round `round`
    /// (commit-reveal v3 as bittensor 9.9.0 sends it); the chain reveals it
    /// once drand publishes the round.
    async fn commit(
        &mut self,
        chain: &Chain,
        head: Head,
        uids: &[u16],
        weights: &[u16],
        round: u64,
        version: u16,
    ) -> Attempt {
        let netuid = self.args.netuid;
        let payload = commit_reveal::payload(
            &self.hotkey.public_key(),
            uids,
            weights,
            self.args.version_key,
        );
        // Pairings and AES: CPU work, off the event loop.
        let encrypted = bridge::blocking(move || {
            commit_reveal::encrypt(commit_reveal::quicknet(), round, &payload, rand_core::OsRng)
        })
        .await;
        let commit = match encrypted {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                log::error!("commit-reveal: {e}; no weights this step");
                return Attempt::Concluded;
            }
            Err(e) => {
                log::error!("commit-reveal: {e}; no weights this step");
                return Attempt::Unknown;
            }
        };
        log::info!(
            "committing weights on {} uids at block {} for drand round {round} ({} bytes, version {version})",
            uids.len(),
            head.number,
            commit.len()
        );
        let result = chain
            .commit_weights(netuid, &commit, round, version, &self.hotkey)
            .await;
        let after = format!("; the chain reveals them after drand round {round}");
        self.settle(
            "commit_timelocked_weights",
            "weights committed",
            result,
            &after,
        )
    }

    /// §11.4 on the scores: the (uid, u16) list, logged and written to
    /// `weights.json`. `None` when there is nothing to set.
    async fn compute(&self, limits: WeightLimits) -> Option<(Vec<u16>, Vec<u16>)> {
        let w = match weights_for_chain(&self.state.scores, self.metagraph.n(), limits) {
            Ok(w) => w,
            Err(e) => {
                log::error!("weights: {e}");
                return None;
            }
        };
        if w.uids.is_empty() {
            log::warn!("weights: every weight rounds to 0, nothing to set");
            return None;
        }
        let pairs: Vec<(u16, u16)> = w
            .uids
            .iter()
            .copied()
            .zip(w.weights.iter().copied())
            .collect();
        log::info!("weights (uid, u16): {pairs:?}");
        let json = serde_json::json!({
            "step": self.state.step,
            "uids": w.uids,
            "weights": w.weights,
            "min_allowed_weights": limits.min_allowed_weights,
            "max_weight_limit": limits.max_weight_limit,
            "version_key": self.args.version_key,
        });
        let path = self.dir.join("weights.json");
        match bridge::blocking(move || write_json(&path, &json)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("{e}"),
            Err(e) => log::warn!("writing weights.json: {e}"),
        }
        Some((w.uids, w.weights))
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
        // No chain: no limits; neutral ones.
        let limits = WeightLimits {
            min_allowed_weights: 0,
            max_weight_limit: u16::MAX,
        };
        self.compute(limits).await;
        log::info!("--metagraph: no chain, the weights above are not submitted");
        Ok(Some(Attempt::Concluded))
    }

    async fn save(&self) -> Result<(), Failure> {
        let (dir, state) = (self.dir.clone(), self.state.clone());
        bridge::blocking(move || write_json(&dir.join("state.json"), &state))
            .await
            .map_err(|e| Failure::Other(e.to_string()))?
    }
}

/// What an operator can do about a refusal, by the chain's error name.
fn hint(name: &str) -> &'static str {
    match name {
        "SettingWeightsTooFast" => {
            " (the subnet's weights rate limit has not passed since the last weights)"
        }
        "NotEnoughStakeToSetWeights" => " (the hotkey needs more stake to set weights)",
        "IncorrectWeightVersionKey" | "IncorrectNetworkVersionKey" => {
            " (the subnet expects another weights version key: see --version-key)"
        }
        "CommitRevealEnabled" => " (the subnet has commit-reveal on: plain set_weights is refused)",
        "CommitRevealDisabled" => " (the subnet has commit-reveal off: commits are refused)",
        "IncorrectCommitRevealVersion" => " (the chain expects another commit-reveal version)",
        "TooManyUnrevealedCommits" => " (ten commits of this hotkey wait for their reveal)",
        "NoValidatorPermit" => " (the hotkey has no validator permit)",
        "NotRegistered" | "HotKeyNotRegisteredInSubNet" => {
            " (the hotkey is not registered on the subnet)"
        }
        "MaxWeightExceeded" => " (a weight is above the subnet's MaxWeightsLimit)",
        "NotSettingEnoughWeights" => " (fewer weights than the subnet's MinAllowedWeights)",
        _ => "",
    }
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
    inputs::write_atomic(path, json.as_bytes())
        .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))
}
