//! `demo`: the bundled sample round against a local GitHub-shaped server.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use gittensor_validator::github::{Client, ClientConfig};
use gittensor_validator::inputs;
use gittensor_validator::pipeline::{RoundExtras, RoundOptions};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::{LanguageWeights, MasterRepositories, RoundContext};
use time::OffsetDateTime;

use super::common::{start_hub, write_report};
use super::{parse_duration, parse_now};
use gittensor_validator::validator::{
    print_table, round_until_stopped, runtime, Failure, Round, RoundMiners, Shutdown, INTERRUPTED,
};

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Write the round report here ("-" for stdout).
    #[arg(long)]
    pub(crate) report: Option<String>,
    /// The round's "now"; defaults to the sample's own.
    #[arg(long)]
    pub(crate) now: Option<String>,
    /// Delay of each answer of the local server, e.g. 50ms.
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    pub(crate) latency: Duration,
}

pub(crate) const SAMPLE_SNAPSHOT: &str = include_str!("../../sample/snapshot.json");
pub(crate) const SAMPLE_MINERS: &str = include_str!("../../sample/miners.json");
pub(crate) const SAMPLE_REPOSITORIES: &str = include_str!("../../sample/repositories.json");
pub(crate) const SAMPLE_LANGUAGES: &str = include_str!("../../sample/languages.json");
/// The instant the sample round was made for.
pub(crate) const SAMPLE_NOW: &str = "2025-12-20T12:00:00Z";

pub(crate) fn demo(args: DemoArgs) -> Result<(), Failure> {
    let bundled = |name: &str, e: String| Failure::Other(format!("bundled sample/{name}: {e}"));
    let snapshot: Snapshot = serde_json::from_str(SAMPLE_SNAPSHOT)
        .map_err(|e| bundled("snapshot.json", e.to_string()))?;
    let miners = inputs::parse_miners(SAMPLE_MINERS, Path::new("sample/miners.json"))?;
    let repos = MasterRepositories::parse(SAMPLE_REPOSITORIES, "sample/repositories.json")
        .map_err(|e| bundled("repositories.json", e.to_string()))?;
    let languages = LanguageWeights::parse(SAMPLE_LANGUAGES, "sample/languages.json")
        .map_err(|e| bundled("languages.json", e.to_string()))?;
    let now = parse_now(Some(args.now.as_deref().unwrap_or(SAMPLE_NOW)))?
        .unwrap_or_else(OffsetDateTime::now_utc);
    let hub = start_hub(snapshot, args.latency)?;
    log::info!("demo: sample GitHub served on {}", hub.url());
    let client = Client::new(ClientConfig::builder().base_url(hub.url()).build());
    let ctx = Arc::new(RoundContext {
        repos,
        languages,
        now,
    });
    let rt = runtime()?;
    let Round {
        report,
        interrupted,
    } = rt.block_on(async {
        let shutdown = Shutdown::install()?;
        Ok::<_, Failure>(
            round_until_stopped(
                client,
                RoundMiners::Listed(miners),
                ctx,
                RoundOptions::default(),
                RoundExtras::default(),
                &shutdown,
            )
            .await,
        )
    })?;
    gittensor_validator::validator::let_go(rt);
    print_table(&report);
    if let Some(target) = args.report {
        write_report(&report, &target)?;
    }
    if interrupted {
        return Err(Failure::Other(INTERRUPTED.into()));
    }
    Ok(())
}
