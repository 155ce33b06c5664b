//! The options every scoring command takes, read and checked into the
//! inputs of a round before anything runs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use gittensor_validator::dendrite::{Dendrite, DendriteConfig};
use gittensor_validator::github::{Client, ClientConfig};
use gittensor_validator::inputs;
use gittensor_validator::pipeline::{RoundOptions, DEFAULT_CONCURRENCY};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::verdict::DEFAULT_DISCARD_THRESHOLD;
use gittensor_validator::scoring::RoundReport;
use gittensor_validator::testkit::fakehub::FakeHub;
use gittensor_validator::wallet::{hotkey_path, Hotkey};

use super::database::DatabaseArgs;
use super::{parse_duration, parse_now};
use gittensor_validator::validator::{Failure, NeuronsFrom, RoundInputs, RoundMiners, Tables};

/// Where a round's miners and their PATs come from: a miners file, or the
/// axons of a metagraph file, asked over the dendrite.
#[derive(Args)]
pub(crate) struct SourceArgs {
    /// Miner responses (JSON list of {uid, hotkey, github_access_token}).
    #[arg(
        long,
        required_unless_present = "metagraph",
        conflicts_with = "metagraph"
    )]
    pub(crate) miners: Option<PathBuf>,
    /// The subnet's neurons (JSON list of {uid, hotkey, ip, port}): every
    /// uid's axon is asked for its PAT, signed with the wallet's hotkey.
    #[arg(long)]
    pub(crate) metagraph: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) wallet: WalletArgs,
    #[command(flatten)]
    pub(crate) dendrite: DendriteArgs,
}

/// How the miners' axons are asked for their PATs.
#[derive(Args)]
pub(crate) struct DendriteArgs {
    /// Deadline of one axon query, as bittensor's dendrite default.
    #[arg(long, default_value = "12s", value_parser = parse_duration)]
    pub(crate) dendrite_timeout: Duration,
}

/// The bittensor wallet whose hotkey signs.
#[derive(Args)]
pub(crate) struct WalletArgs {
    /// Wallet name.
    #[arg(long = "wallet.name", env = "WALLET_NAME", default_value = "default")]
    pub(crate) name: String,
    /// Hotkey name within the wallet.
    #[arg(long = "wallet.hotkey", env = "HOTKEY_NAME", default_value = "default")]
    pub(crate) hotkey: String,
    /// Directory of the wallets (the hotkey file is PATH/NAME/hotkeys/HOTKEY).
    #[arg(
        long = "wallet.path",
        env = "WALLET_PATH",
        default_value = "~/.bittensor/wallets"
    )]
    pub(crate) path: String,
}

impl WalletArgs {
    /// The hotkey file.
    pub(crate) fn hotkey_file(&self) -> PathBuf {
        hotkey_path(&expand_home(&self.path), &self.name, &self.hotkey)
    }

    /// Loads the hotkey; a bad or missing file is bad input (status 2).
    pub(crate) fn load(&self) -> Result<Hotkey, Failure> {
        let hotkey =
            Hotkey::load(&self.hotkey_file()).map_err(|e| Failure::Input(e.to_string()))?;
        log::info!(
            "hotkey {} from {}",
            hotkey.ss58(),
            self.hotkey_file().display()
        );
        Ok(hotkey)
    }
}

/// `~/x` as `$HOME/x`, as bittensor's `expanduser`.
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if path == "~" => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from(path), PathBuf::from)
        }
        _ => PathBuf::from(path),
    }
}

/// The GitHub side of a round: weight tables, where GitHub is, deadlines.
#[derive(Args)]
pub(crate) struct Common {
    /// Master repositories, gittensor 2.0.7's JSON format. Defaults to
    /// gittensor/validator/weights/master_repositories.json of the gittensor
    /// checkout (--gittensor-dir).
    #[arg(long)]
    pub(crate) repositories: Option<PathBuf>,
    /// Language weights, gittensor 2.0.7's JSON format. Defaults to
    /// gittensor/validator/weights/programming_languages.json of the
    /// gittensor checkout (--gittensor-dir).
    #[arg(long)]
    pub(crate) languages: Option<PathBuf>,
    /// The gittensor 2.0.7 checkout whose weight tables are used when
    /// --repositories or --languages is not given. Defaults to the current
    /// directory when it is one.
    #[arg(long, env = "GITTENSOR_DIR")]
    pub(crate) gittensor_dir: Option<PathBuf>,
    /// REST and GraphQL base URL.
    #[arg(long, default_value = "https://api.github.com")]
    pub(crate) github_api_url: String,
    /// Serve GitHub's answers from this snapshot file instead (offline replay).
    #[arg(long, conflicts_with = "github_api_url")]
    pub(crate) replay: Option<PathBuf>,
    /// The round's "now" (RFC 3339); defaults to the clock, read once per round.
    #[arg(long)]
    pub(crate) now: Option<String>,
    /// Miners evaluated at once. The default takes a whole subnet (256
    /// uids) at once: GitHub limits each user, each PAT is a different
    /// user, and one PAT's requests stay serial. Lower it to cap memory or
    /// the number of connections (each miner in flight holds a thread).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    pub(crate) concurrency: usize,
    /// Deadline per miner, e.g. 90s, 5m.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub(crate) miner_timeout: Duration,
    /// Deadline of a whole round, e.g. 90m; past it the miners still
    /// running fail with a reason and the round finishes.
    #[arg(long, value_parser = parse_duration)]
    pub(crate) round_timeout: Option<Duration>,
    /// Read every page of a PR's files (release 2.0.7 reads only the first 30).
    #[arg(long)]
    pub(crate) all_file_pages: bool,
    /// Share of the miners sent to GitHub that may fail on the validator's
    /// side (transport, timeout, 5xx after the retries, a rate-limit wait
    /// past the deadline) before the round is discarded: its rewards are
    /// not folded in, and the scores and weights stay as they were. A
    /// round where every served axon failed is discarded too. 1 turns
    /// discarding off (every round folded, as 2.0.7 does).
    #[arg(long, default_value_t = DEFAULT_DISCARD_THRESHOLD)]
    pub(crate) discard_threshold: f64,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// Where the weight tables are in a gittensor checkout.
pub(crate) const WEIGHTS_DIR: &str = "gittensor/validator/weights";

impl Common {
    /// The two weight tables: the ones named, else those of the gittensor
    /// checkout (`--gittensor-dir`, else the current directory when it is
    /// one), which is logged. None found is bad usage (exit 2).
    pub(crate) fn table_paths(&self) -> Result<(PathBuf, PathBuf), Failure> {
        if let (Some(r), Some(l)) = (&self.repositories, &self.languages) {
            return Ok((r.clone(), l.clone()));
        }
        let checkout = match &self.gittensor_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        let weights = checkout.join(WEIGHTS_DIR);
        let mut taken = Vec::new();
        let mut pick = |given: &Option<PathBuf>, file: &str, flag: &str| {
            given.clone().map_or_else(
                || {
                    let path = weights.join(file);
                    if path.is_file() {
                        taken.push(path.display().to_string());
                        Ok(path)
                    } else {
                        Err(Failure::Input(format!(
                            "no {flag} given and no {} in the gittensor checkout {}: pass {flag} FILE, \
                             or name a checkout of gittensor 2.0.7 with --gittensor-dir (env GITTENSOR_DIR), \
                             or start from one",
                            Path::new(WEIGHTS_DIR).join(file).display(),
                            checkout.display()
                        )))
                    }
                },
                Ok,
            )
        };
        let repositories = pick(
            &self.repositories,
            "master_repositories.json",
            "--repositories",
        )?;
        let languages = pick(&self.languages, "programming_languages.json", "--languages")?;
        log::info!(
            "weight tables from the gittensor checkout {}: {}",
            checkout.display(),
            taken.join(", ")
        );
        Ok((repositories, languages))
    }
}

/// `--alpha` is a moving-average weight: between 0 and 1.
pub(crate) fn check_alpha(alpha: f64) -> Result<(), Failure> {
    if (0.0..=1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(Failure::Input(format!(
            "--alpha {alpha} is not between 0 and 1"
        )))
    }
}
/// The miners the options name: read and checked, where they come from
/// (for a loop, which reads them again), and the dendrite that asks a
/// metagraph's axons.
pub(crate) struct Miners {
    /// The file, as the loop reads it again.
    pub(crate) from: NeuronsFrom,
    /// What a round starts from, as read now.
    pub(crate) round: RoundMiners,
}

/// Reads the miners named by the options.
pub(crate) fn load_source(args: &SourceArgs) -> Result<Miners, Failure> {
    match (&args.miners, &args.metagraph) {
        (Some(path), _) => Ok(Miners {
            from: NeuronsFrom::MinersFile(path.clone()),
            round: RoundMiners::Listed(inputs::load_miners(path)?),
        }),
        (None, Some(path)) => {
            let metagraph = inputs::load_metagraph(path)?;
            let config = DendriteConfig::builder()
                .timeout(args.dendrite.dendrite_timeout)
                .build();
            let dendrite = Dendrite::new(args.wallet.load()?, config);
            Ok(Miners {
                from: NeuronsFrom::MetagraphFile(path.clone(), dendrite.clone()),
                round: RoundMiners::Axons(dendrite, metagraph),
            })
        }
        // clap requires one of the two.
        (None, None) => Err(Failure::Input("--miners or --metagraph is required".into())),
    }
}

/// Inputs of a round, read and checked before anything runs.
pub(crate) struct Prepared {
    pub(crate) miners: Miners,
    pub(crate) round: RoundInputs,
    /// The local GitHub of `--replay`: to be kept while the rounds run.
    pub(crate) replay: Option<FakeHub>,
}

pub(crate) fn prepare(c: &Common, source: &SourceArgs) -> Result<Prepared, Failure> {
    let (round, replay) = prepare_github(c)?;
    let miners = load_source(source)?;
    Ok(Prepared {
        miners,
        round,
        replay,
    })
}

/// The round's inputs, and the local GitHub of `--replay`, which the
/// caller keeps while the rounds run.
pub(crate) fn prepare_github(c: &Common) -> Result<(RoundInputs, Option<FakeHub>), Failure> {
    let now = parse_now(c.now.as_deref())?;
    let (repositories, languages) = c.table_paths()?;
    let tables = Tables::load(&repositories, &languages)?;
    if c.concurrency == 0 {
        return Err(Failure::Input("--concurrency must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&c.discard_threshold) {
        return Err(Failure::Input(format!(
            "--discard-threshold {} is not between 0 and 1",
            c.discard_threshold
        )));
    }
    let (base_url, replay) = match &c.replay {
        Some(path) => {
            let hub = start_hub(inputs::load_snapshot(path)?, Duration::ZERO)?;
            (hub.url(), Some(hub))
        }
        None => {
            let url = &c.github_api_url;
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .map(|rest| rest.split('/').next().unwrap_or(""));
            if host.is_none_or(str::is_empty) {
                return Err(Failure::Input(format!(
                    "--github-api-url: {url:?} is not an http(s) URL"
                )));
            }
            (url.clone(), None)
        }
    };
    let url = match &c.replay {
        Some(path) => format!("{} (replay of {})", base_url, path.display()),
        None => base_url.clone(),
    };
    let client = Client::new(
        ClientConfig::builder()
            .base_url(base_url)
            .all_file_pages(c.all_file_pages)
            .max_idle_connections(c.concurrency)
            .build(),
    );
    let results = c.database.results_db()?;
    let options = RoundOptions {
        concurrency: c.concurrency,
        miner_timeout: c.miner_timeout,
        round_timeout: c.round_timeout,
        keep_files: results.is_some(),
        ..RoundOptions::default()
    };
    let round = RoundInputs {
        tables,
        url,
        client,
        now,
        options,
        discard_threshold: c.discard_threshold,
        // A loop keeps them in its state folder (`score --file-store`
        // names a file).
        files: None,
        results,
    };
    Ok((round, replay))
}

pub(crate) fn start_hub(snapshot: Snapshot, latency: Duration) -> Result<FakeHub, Failure> {
    FakeHub::start(snapshot, latency, None)
        .map_err(|e| Failure::Other(format!("cannot start the local GitHub server: {e}")))
}

/// Where the chain is: `validate`'s chain options, for the commands that
/// only read it.
#[derive(Args)]
pub(crate) struct ChainArgs {
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
}

impl ChainArgs {
    /// The endpoint `--subtensor.network` names, or the one
    /// `--subtensor.chain_endpoint` gives; errors name the option at fault.
    pub(crate) fn endpoint(&self) -> Result<String, Failure> {
        let is_ws = |url: &str| url.starts_with("ws://") || url.starts_with("wss://");
        if let Some(url) = &self.endpoint {
            if is_ws(url) {
                return Ok(url.clone());
            }
            return Err(Failure::Input(format!(
                "--subtensor.chain_endpoint {url:?} (or SUBTENSOR_CHAIN_ENDPOINT): expected a ws:// or wss:// URL, \
                 e.g. ws://127.0.0.1:9944 (subtensor's RPC is a websocket)"
            )));
        }
        match self.network.as_str() {
            "finney" => Ok("wss://entrypoint-finney.opentensor.ai:443".into()),
            "test" => Ok("wss://test.finney.opentensor.ai:443".into()),
            "local" => Ok("ws://127.0.0.1:9944".into()),
            url if is_ws(url) => Ok(url.into()),
            other => Err(Failure::Input(format!(
                "--subtensor.network {other:?} (or SUBTENSOR_NETWORK): expected finney, test, local or a ws:// URL"
            ))),
        }
    }
}

/// The consensus watch's thresholds (`scoring::trust`), for the commands
/// that judge a trust.
#[derive(Args)]
pub(crate) struct WatchArgs {
    /// Warn when the trust our weights would get is under this.
    #[arg(long, default_value_t = gittensor_validator::scoring::trust::DEFAULT_TRUST_THRESHOLD)]
    pub(crate) trust_threshold: f64,
    /// Warn when the trust our weights would get falls by this much from
    /// one weight setting to the next.
    #[arg(long, default_value_t = gittensor_validator::scoring::trust::DEFAULT_TRUST_DROP)]
    pub(crate) trust_drop: f64,
}

impl WatchArgs {
    /// The limits; a threshold or drop outside 0..=1 is bad usage.
    pub(crate) fn limits(
        &self,
    ) -> Result<gittensor_validator::scoring::trust::WatchLimits, Failure> {
        for (name, v) in [
            ("--trust-threshold", self.trust_threshold),
            ("--trust-drop", self.trust_drop),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Failure::Input(format!("{name} {v} is not between 0 and 1")));
            }
        }
        Ok(gittensor_validator::scoring::trust::WatchLimits {
            threshold: self.trust_threshold,
            drop: self.trust_drop,
        })
    }
}

/// Writes `value` as pretty JSON to `path`, atomically; the error names the
/// path.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    // Not bad input: the state folder is ours to write.
    inputs::write_json_atomic(path, value).map_err(|e| Failure::Other(e.to_string()))
}

/// Writes the round report to `target`, or to stdout for `-`.
pub(crate) fn write_report(report: &RoundReport, target: &str) -> Result<(), Failure> {
    if target != "-" {
        return write_json(Path::new(target), report);
    }
    // Serializing plain data with string keys cannot fail.
    let json = serde_json::to_string_pretty(report).map_err(|e| Failure::Other(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| Failure::Other(format!("stdout: {e}")))
}
