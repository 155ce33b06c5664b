//! The options every scoring command takes, read and checked into the
//! inputs of a round before anything runs.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use gittensor_validator::fakehub::{FakeHub, Snapshot};
use gittensor_validator::github::{Client, ClientConfig};
use gittensor_validator::inputs;
use gittensor_validator::pipeline::{MinerInput, RoundOptions, DEFAULT_CONCURRENCY};
use gittensor_validator::scoring::{LanguageWeights, MasterRepositories};
use time::OffsetDateTime;

use super::{parse_duration, parse_now, Failure};

#[derive(Args)]
pub(crate) struct Common {
    /// Miner responses (JSON list of {uid, hotkey, github_access_token}).
    #[arg(long)]
    pub(crate) miners: PathBuf,
    /// Master repositories, gittensor JSON format.
    #[arg(long)]
    pub(crate) repositories: PathBuf,
    /// Language weights, gittensor JSON format.
    #[arg(long)]
    pub(crate) languages: PathBuf,
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
}
/// Inputs of a round, read and checked before anything runs.
pub(crate) struct Prepared {
    pub(crate) miners: Vec<MinerInput>,
    pub(crate) repos: MasterRepositories,
    pub(crate) languages: LanguageWeights,
    pub(crate) client: Client,
    pub(crate) now: Option<OffsetDateTime>,
    pub(crate) options: RoundOptions,
    pub(crate) _replay: Option<FakeHub>,
}

pub(crate) fn prepare(c: &Common) -> Result<Prepared, Failure> {
    let now = parse_now(c.now.as_deref())?;
    let miners = inputs::load_miners(&c.miners)?;
    let repos = inputs::load_repositories(&c.repositories)?;
    let languages = inputs::load_languages(&c.languages)?;
    if c.concurrency == 0 {
        return Err(Failure::Input("--concurrency must be at least 1".into()));
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
    let client = Client::new(
        ClientConfig::builder()
            .base_url(base_url)
            .all_file_pages(c.all_file_pages)
            .max_idle_connections(c.concurrency)
            .build(),
    );
    let options = RoundOptions {
        concurrency: c.concurrency,
        miner_timeout: c.miner_timeout,
        round_timeout: c.round_timeout,
        ..RoundOptions::default()
    };
    Ok(Prepared {
        miners,
        repos,
        languages,
        client,
        now,
        options,
        _replay: replay,
    })
}

pub(crate) fn start_hub(snapshot: Snapshot, latency: Duration) -> Result<FakeHub, Failure> {
    FakeHub::start(snapshot, latency, None)
        .map_err(|e| Failure::Other(format!("cannot start the local GitHub server: {e}")))
}
