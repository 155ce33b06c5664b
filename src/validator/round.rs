//! One scoring round: the round's inputs made ready (the weight tables
//! read again), the round run under a stop signal (the PAT phase first
//! when the miners come from axons), its verdict (SCORING.md §11.9.7) and
//! its table. `score` runs one; the loop one per round step (`fold.rs`).

use std::sync::Arc;
use std::time::Duration;

use crate::cancel::Cancel;
use crate::dendrite::Dendrite;
use crate::github::Client;
use crate::metagraph::Metagraph;
use crate::metagraph::MinerInput;
use crate::pipeline::{query_pats, run_round, RoundExtras, RoundOptions, EVERY_UID_AT_ONCE};
use crate::scoring::{RoundContext, RoundReport};

use crate::health::{Board, Concern};
use crate::scoring::verdict::{verdict, Verdict};

use super::config::RoundInputs;
use super::Shutdown;

/// What a round starts from: the miners with their PATs, or the axons to
/// ask for them first.
#[derive(Clone)]
pub enum RoundMiners {
    /// Listed in a miners file.
    Listed(Vec<MinerInput>),
    /// Every uid of the metagraph, asked over the dendrite.
    Axons(Dendrite, Metagraph),
}

impl RoundMiners {
    /// How many uids (metagraph) or miners (file) a round takes.
    pub fn count(&self) -> usize {
        match self {
            RoundMiners::Axons(_, m) => m.n(),
            RoundMiners::Listed(m) => m.len(),
        }
    }

    /// The hotkey of each uid the scores follow (§11.3). A miners file
    /// lists only the miners that answered: a uid it leaves out keeps the
    /// hotkey it had (`kept`), since not answering is not a new
    /// registration; a uid never seen has none ("").
    pub fn hotkeys(&self, kept: &[String]) -> Vec<String> {
        match self {
            RoundMiners::Axons(_, m) => m.hotkeys(),
            RoundMiners::Listed(miners) => {
                let n = miners
                    .iter()
                    .map(|m| usize::from(m.uid) + 1)
                    .max()
                    .unwrap_or(0);
                let mut hotkeys: Vec<String> = (0..n)
                    .map(|i| kept.get(i).cloned().unwrap_or_default())
                    .collect();
                for m in miners {
                    if let Some(h) = &m.hotkey {
                        hotkeys[usize::from(m.uid)] = h.clone();
                    }
                }
                hotkeys
            }
        }
    }

    /// The metagraph, when the miners are its axons.
    pub fn metagraph(&self) -> Option<&Metagraph> {
        match self {
            RoundMiners::Axons(_, m) => Some(m),
            RoundMiners::Listed(_) => None,
        }
    }
}

/// One round (the PAT phase first when the miners come from axons), cut
/// short by SIGTERM or SIGINT: every miner still running then fails with a
/// reason, and the round is marked interrupted.
pub async fn round_until_stopped(
    client: Client,
    miners: RoundMiners,
    ctx: Arc<RoundContext>,
    options: RoundOptions,
    extras: RoundExtras,
    shutdown: &Shutdown,
) -> Round {
    let cancel = Cancel::new();
    let watcher = {
        let (cancel, mut shutdown) = (cancel.clone(), shutdown.clone());
        tokio::spawn(async move {
            shutdown.wait().await;
            log::warn!("cancelling the round in flight");
            cancel.cancel();
        })
    };
    let (miners, query) = match miners {
        RoundMiners::Listed(miners) => (miners, None),
        RoundMiners::Axons(dendrite, metagraph) => {
            log::info!("asking {} axons for their PATs", metagraph.n());
            let q = query_pats(dendrite, &metagraph, EVERY_UID_AT_ONCE, cancel.clone()).await;
            log::info!(
                "PATs: {} of {} uids answered in {} ms ({} queried, {} timed out)",
                q.stats.answered,
                metagraph.n(),
                q.stats.wall_ms,
                q.stats.queried,
                q.stats.timed_out
            );
            (q.miners, Some((q.errors, q.stats)))
        }
    };
    let mut report = run_round(client, miners, ctx, options, cancel.clone(), extras).await;
    if let Some((errors, stats)) = query {
        report.pat_query_errors = errors;
        report.stats.pat_query = Some(stats);
    }
    watcher.abort();
    Round {
        report,
        interrupted: cancel.is_cancelled(),
    }
}

/// A round's report, and whether a signal cut it short (then its rewards
/// say nothing about the miners: every one still running failed).
pub struct Round {
    /// What the round found, judged or not.
    pub report: RoundReport,
    /// A signal cut it short.
    pub interrupted: bool,
}

/// What the log says of a round a signal cut short.
pub const INTERRUPTED: &str = "interrupted: the round was cancelled before it finished";

/// The round's table for a person: a line per uid, then the totals.
pub fn table(report: &RoundReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{:>5} {:>4} {:>12} {:>10}  note",
        "uid", "PRs", "score", "reward"
    );
    for (uid, reward) in &report.rewards {
        let e = report.evaluations.get(uid);
        let prs = e.map_or(0, |e| e.pull_requests.len());
        let score = e.map_or(0.0, |e| e.total_score);
        let note = e.and_then(|e| e.failed_reason.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{uid:>5} {prs:>4} {score:>12.4} {reward:>10.6}  {note}"
        );
    }
    let s = &report.stats;
    let _ = writeln!(
        out,
        "{} miners in {} ms, {} GitHub requests ({} retries), max event-loop lag {:.2} ms",
        s.miners, s.wall_ms, s.github_requests, s.github_retries, s.max_event_loop_lag_ms
    );
    out
}

/// Prints the round's table on stderr through the logger's sink: after the
/// lines logged before it, and never waiting on stderr (so async code may
/// call it too).
pub fn print_table(report: &RoundReport) {
    crate::logging::print(&table(report));
}

/// The longest a round may take before `/healthz` calls the loop stuck:
/// the PAT phase (one dendrite timeout, all axons at once), then each wave
/// of miners within its deadline (or the round's own deadline), and a
/// minute for the rest.
pub fn round_budget(
    options: &RoundOptions,
    miners: usize,
    dendrite_timeout: Option<Duration>,
) -> Duration {
    let waves =
        u32::try_from(miners.div_ceil(options.concurrency.max(1)).max(1)).unwrap_or(u32::MAX);
    let github = options.miner_timeout.saturating_mul(waves);
    let github = options.round_timeout.map_or(github, |r| github.min(r));
    github + dendrite_timeout.unwrap_or_default() + Duration::from_secs(60)
}

impl RoundInputs {
    /// The context of the next round: the weight tables read again (a
    /// refusal on the board until the file is mended) and the round's
    /// "now".
    pub async fn next_round(&mut self, board: &Board) -> Arc<RoundContext> {
        self.tables.refresh().await;
        let problems = self.tables.problems();
        board.tables_refused(problems.len());
        board.concern(
            Concern::Tables,
            (!problems.is_empty()).then(|| problems.join("; ")),
        );
        let (repos, languages) = self.tables.current();
        Arc::new(RoundContext {
            repos,
            languages,
            now: self.now.unwrap_or_else(time::OffsetDateTime::now_utc),
        })
    }

    /// Judges a finished round (SCORING.md §11.9.7), and says so: a round
    /// that failed on the validator's side is marked `discarded` in its
    /// report and `Err` gives why; below the threshold, the miners that
    /// failed on our side (they score 0, as in 2.0.7) are counted in one
    /// WARN and the round may be folded in.
    pub fn judge(&self, report: &mut RoundReport) -> Result<(), String> {
        match verdict(report, self.discard_threshold, &self.url) {
            Verdict::Discard(why) => {
                log::warn!(
                    "round discarded: {why}; its rewards are not folded in: the scores and the weights stay as they were"
                );
                report.discarded = Some(why.clone());
                Err(why)
            }
            Verdict::Fold { faults, asked } => {
                if faults > 0 {
                    log::warn!(
                        "{faults} of {asked} miners failed on the validator's side (GitHub at {}); \
                         below the discard threshold, so they score 0 as in 2.0.7",
                        self.url
                    );
                }
                Ok(())
            }
        }
    }
}
