//! The operator's view, served on the event loop (INTERFACE.md
//! "Operating"):
//!
//! - `GET /healthz`, liveness: 200 while the loop makes progress, 503 with
//!   `problems` when the progress the loop promised did not come (no step
//!   for three step intervals, a round past its own deadlines). A
//!   supervisor restarts a process that stays 503.
//! - `GET /readyz`, "would the weights this process sets now be right?":
//!   200, or 503 with `problems` an operator can act on (a refused weight
//!   table, a discarded round, the chain unreachable for minutes, a
//!   version key below the chain's).
//! - `GET /metrics`, Prometheus/OpenMetrics text.
//!
//! All three answer at once as long as the event loop is not blocked.

mod metrics;
mod serve;
mod status;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use crate::scoring::RoundReport;
use metrics::Metrics;

pub use serve::serve;
pub use status::{ChainStatus, ConsensusStatus, Due, LastRound, ResultsDbStatus, Status};

/// The release this binary is.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit it was built from (`git rev-parse HEAD` at build time), or
/// "unknown".
pub const COMMIT: &str = env!("GITTENSOR_BUILD_COMMIT");

/// What a readiness problem is about: each kind has at most one, replaced
/// when it changes and cleared when it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Concern {
    /// A weight table refused, the last good one in use.
    Tables,
    /// The last round was discarded, or none has been scored yet.
    Round,
    /// The chain cannot take or refuses our weights (a version key below
    /// the chain's).
    Submission,
    /// Our weights would get a low trust against the subnet's consensus.
    Consensus,
}

/// How long the chain may be unreachable before `/readyz` says so: a node
/// restart or a short network cut is not worth a page.
pub const CHAIN_GRACE: Duration = Duration::from_secs(300);

/// What the loop says of its own progress and troubles, besides `Status`.
#[derive(Default)]
struct Watch {
    /// The loop promised its next progress by then.
    alive_until: Option<(Instant, String)>,
    /// Readiness problems by what they are about.
    concerns: BTreeMap<Concern, String>,
    /// Since when the chain has been unreachable.
    chain_down_since: Option<Instant>,
    /// Files of the state folder whose last write failed, and why.
    failed_writes: BTreeMap<PathBuf, String>,
}

/// The shared board: the loop writes, the endpoint reads.
pub struct Board {
    status: Mutex<Status>,
    watch: Mutex<Watch>,
    metrics: Metrics,
    registry: Registry,
}

impl Default for Board {
    fn default() -> Self {
        Board::new()
    }
}

impl Board {
    /// An empty board with every metric registered.
    pub fn new() -> Board {
        let (metrics, registry) = Metrics::registered();
        Board {
            status: Mutex::new(Status {
                version: VERSION,
                commit: COMMIT,
                ..Status::default()
            }),
            watch: Mutex::new(Watch::default()),
            metrics,
            registry,
        }
    }

    fn status_mut(&self) -> std::sync::MutexGuard<'_, Status> {
        // Plain data: a panic elsewhere cannot leave it torn.
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn watch_mut(&self) -> std::sync::MutexGuard<'_, Watch> {
        self.watch.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `/healthz` would say now, its `problems` the liveness ones.
    pub fn status(&self) -> Status {
        let mut status = self.status_mut().clone();
        status.problems = self.liveness_problems();
        status
    }

    /// What `/readyz` would say now, its `problems` the readiness ones.
    pub fn readiness(&self) -> Status {
        let mut status = self.status_mut().clone();
        status.problems = self.readiness_problems();
        status
    }

    /// Why the loop is not alive: the progress it promised is overdue.
    pub fn liveness_problems(&self) -> Vec<String> {
        let watch = self.watch_mut();
        match &watch.alive_until {
            Some((deadline, what)) if Instant::now() > *deadline => {
                let late = Instant::now().duration_since(*deadline).as_secs();
                vec![format!("the loop is stuck: {what}, overdue by {late}s")]
            }
            _ => Vec::new(),
        }
    }

    /// Why the weights this process would set now are not right.
    pub fn readiness_problems(&self) -> Vec<String> {
        let watch = self.watch_mut();
        let mut problems: Vec<String> = watch.concerns.values().cloned().collect();
        problems.extend(watch.failed_writes.iter().map(|(path, why)| {
            format!(
                "cannot write {}: {why}; the state in memory is kept and written again at the next round",
                path.display()
            )
        }));
        if let Some(since) = watch.chain_down_since {
            let down = since.elapsed();
            if down > CHAIN_GRACE {
                let endpoint = self
                    .status_mut()
                    .chain
                    .as_ref()
                    .map(|c| c.endpoint.clone())
                    .unwrap_or_default();
                problems.push(format!(
                    "chain {endpoint} unreachable for {} min: no resync, no weights",
                    down.as_secs() / 60
                ));
            }
        }
        problems
    }

    /// The loop promises its next progress (a step, a round's end) within
    /// `within`; `what` says what it is waiting for. `/healthz` turns 503
    /// when the promise is broken.
    pub fn expect_progress(&self, within: Duration, what: &str) {
        self.watch_mut().alive_until = Some((Instant::now() + within, what.to_string()));
    }

    /// Sets or clears (`None`) the readiness problem of one concern.
    pub fn concern(&self, concern: Concern, problem: Option<String>) {
        let mut watch = self.watch_mut();
        match problem {
            Some(p) => watch.concerns.insert(concern, p),
            None => watch.concerns.remove(&concern),
        };
    }

    /// A write of `path` failed (`why`, the OS error): a readiness problem
    /// naming the path until a later write of it succeeds, and one more
    /// in `gittensor_write_failures_total`.
    pub fn write_failed(&self, path: &Path, why: &str) {
        self.metrics.write_failures.inc();
        let mut watch = self.watch_mut();
        watch
            .failed_writes
            .insert(path.to_path_buf(), why.to_string());
        self.metrics
            .writes_failing
            .set(i64::try_from(watch.failed_writes.len()).unwrap_or(i64::MAX));
    }

    /// A write of `path` succeeded: its problem, if any, is over. True
    /// when it was failing until now.
    pub fn written(&self, path: &Path) -> bool {
        let mut watch = self.watch_mut();
        let was = watch.failed_writes.remove(path).is_some();
        self.metrics
            .writes_failing
            .set(i64::try_from(watch.failed_writes.len()).unwrap_or(i64::MAX));
        was
    }

    /// The number of refused weight tables, for `/metrics`.
    pub fn tables_refused(&self, n: usize) {
        self.metrics
            .tables_refused
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// A round that failed on the validator's side and was not folded in.
    pub fn round_discarded(&self, why: &str) {
        self.metrics.rounds_discarded.inc();
        self.status_mut().last_round_discarded = Some(why.to_string());
        self.concern(
            Concern::Round,
            Some(format!("the last round was discarded: {why}")),
        );
    }

    /// Whether this hotkey holds a permit, and whether this is a dry run.
    pub fn submission_mode(&self, permit: Option<bool>, dry_run: bool) {
        let mut st = self.status_mut();
        st.permit = permit;
        st.dry_run = dry_run;
    }

    /// The consensus watch at a weight setting.
    pub fn consensus(&self, c: ConsensusStatus) {
        let m = &self.metrics;
        m.validator_trust.set(c.trust.unwrap_or(0.0));
        m.predicted_trust.set(c.predicted_trust);
        m.consensus_distance.set(c.consensus_distance);
        self.status_mut().consensus = Some(c);
    }

    /// When the next round and the next weights are due.
    pub fn next_due(&self, round: Option<Due>, weights: Option<Due>) {
        let mut st = self.status_mut();
        st.next_round = round;
        st.next_weights = weights;
    }

    /// A finished round.
    pub fn round(&self, report: &RoundReport) {
        let m = &self.metrics;
        let s = &report.stats;
        let scored = report
            .evaluations
            .values()
            .filter(|e| e.failed_reason.is_none())
            .count();
        m.rounds.inc();
        #[allow(clippy::cast_precision_loss)]
        m.round_seconds.set(s.wall_ms as f64 / 1000.0);
        m.miners_scored.inc_by(scored as u64);
        m.miners_failed
            .inc_by((report.evaluations.len() - scored) as u64);
        m.miners_timed_out.inc_by(s.miners_timed_out as u64);
        m.github_requests.inc_by(s.github_requests);
        m.github_retries.inc_by(s.github_retries);
        m.github_rate_limit_waits.inc_by(s.github_rate_limit_waits);
        if let Some(q) = &s.pat_query {
            m.dendrite_answered.inc_by(q.answered as u64);
            m.dendrite_failed.inc_by(q.failed as u64);
        }
        m.event_loop_lag_seconds.set(
            s.max_event_loop_lag_ms.max(
                s.pat_query
                    .as_ref()
                    .map_or(0.0, |q| q.max_event_loop_lag_ms),
            ) / 1000.0,
        );
        self.concern(Concern::Round, None);
        let mut st = self.status_mut();
        st.last_round_discarded = None;
        st.rounds += 1;
        st.last_round = Some(LastRound {
            now: report.now.clone(),
            wall_ms: s.wall_ms,
            miners: report.evaluations.len(),
            scored,
        });
    }

    /// The loop's step.
    pub fn step(&self, step: u64) {
        self.metrics
            .step
            .set(i64::try_from(step).unwrap_or(i64::MAX));
        self.status_mut().step = step;
    }

    /// Weights the chain accepted in `block`.
    pub fn weights_submitted(&self, block: u64) {
        self.metrics.weights_submitted.inc();
        self.last_weights_block(block);
    }

    /// The block of the last weights the chain accepted (as saved, after a
    /// restart).
    pub fn last_weights_block(&self, block: u64) {
        self.metrics
            .last_weights_block
            .set(i64::try_from(block).unwrap_or(i64::MAX));
        self.status_mut().last_weights_block = Some(block);
    }

    /// Weights the chain or the node refused.
    pub fn weights_refused(&self) {
        self.metrics.weights_refused.inc();
    }

    /// The chain connection as last seen.
    pub fn chain(&self, endpoint: &str, connected: bool, block: Option<u64>) {
        self.metrics.chain_connected.set(i64::from(connected));
        {
            let mut watch = self.watch_mut();
            if connected {
                watch.chain_down_since = None;
            } else if watch.chain_down_since.is_none() {
                watch.chain_down_since = Some(Instant::now());
            }
        }
        let mut st = self.status_mut();
        let previous = st.chain.as_ref().and_then(|c| c.block);
        st.chain = Some(ChainStatus {
            endpoint: endpoint.to_string(),
            connected,
            block: block.or(previous),
        });
    }

    /// Rounds waiting for the results database.
    pub fn results_db_pending(&self, rounds: usize) {
        self.metrics
            .db_rounds_pending
            .set(i64::try_from(rounds).unwrap_or(i64::MAX));
        if let Some(s) = self.status_mut().results_db.as_mut() {
            s.rounds_pending = rounds;
        }
    }

    /// An unwritten round dropped to bound memory.
    pub fn results_db_dropped(&self) {
        self.metrics.db_rounds_dropped.inc();
    }

    /// A round written; `refused` of its steps the server refused.
    pub fn results_db_written(&self, refused: usize) {
        self.metrics.db_writes.inc();
        self.metrics.db_writes_failed.inc_by(refused as u64);
    }

    /// An attempt at a round that failed (it is retried).
    pub fn results_db_failed(&self) {
        self.metrics.db_writes_failed.inc();
    }

    /// The writer's view, for `/healthz`.
    pub fn results_db_status(&self, status: ResultsDbStatus) {
        self.results_db_pending(status.rounds_pending);
        self.status_mut().results_db = Some(status);
    }

    /// The `/metrics` text.
    pub fn metrics_text(&self) -> String {
        let m = &self.metrics;
        m.alive.set(i64::from(self.liveness_problems().is_empty()));
        m.ready.set(i64::from(self.readiness_problems().is_empty()));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_fails_when_the_promised_progress_is_overdue() {
        let board = Board::new();
        assert!(board.liveness_problems().is_empty(), "no promise yet");
        board.expect_progress(Duration::from_secs(60), "step 3");
        assert!(board.liveness_problems().is_empty());
        board.expect_progress(Duration::ZERO, "step 4 (wait, then sync)");
        std::thread::sleep(Duration::from_millis(2));
        let p = board.liveness_problems();
        assert!(
            p[0].starts_with("the loop is stuck: step 4 (wait, then sync), overdue by"),
            "{p:?}"
        );
        assert!(board.metrics_text().contains("gittensor_alive 0"));
    }

    #[test]
    fn a_failed_write_is_a_readiness_problem_naming_the_path_until_a_write_succeeds() {
        let board = Board::new();
        let path = Path::new("/var/lib/v/report.json");
        board.write_failed(path, "Is a directory (os error 21)");
        board.write_failed(path, "No space left on device (os error 28)");
        assert_eq!(
            board.readiness_problems(),
            vec!["cannot write /var/lib/v/report.json: No space left on device (os error 28); the state in memory is kept and written again at the next round"]
        );
        let text = board.metrics_text();
        assert!(text.contains("gittensor_write_failures_total 2"), "{text}");
        assert!(text.contains("gittensor_writes_failing 1"), "{text}");
        assert!(board.written(path));
        assert!(!board.written(path), "already cleared");
        assert!(board.readiness_problems().is_empty());
        assert!(board.metrics_text().contains("gittensor_writes_failing 0"));
    }

    #[test]
    fn readiness_lists_each_concern_until_it_is_cleared() {
        let board = Board::new();
        assert!(board.readiness_problems().is_empty());
        board.concern(Concern::Tables, Some("table refused".into()));
        board.round_discarded("GitHub down");
        assert_eq!(
            board.readiness_problems(),
            vec!["table refused", "the last round was discarded: GitHub down"]
        );
        assert!(board.metrics_text().contains("gittensor_ready 0"));
        board.concern(Concern::Tables, None);
        board.round(&RoundReport::new(
            time::OffsetDateTime::UNIX_EPOCH,
            &Default::default(),
            &[],
        ));
        assert!(board.readiness_problems().is_empty());
        assert!(board.status().last_round_discarded.is_none());
        // A chain down for less than the grace is not a problem yet.
        board.chain("ws://x", false, None);
        assert!(board.readiness_problems().is_empty());
        board.watch_mut().chain_down_since =
            Some(Instant::now() - CHAIN_GRACE - Duration::from_secs(1));
        let p = board.readiness_problems();
        assert!(
            p[0].starts_with("chain ws://x unreachable for 5 min"),
            "{p:?}"
        );
        board.chain("ws://x", true, Some(7));
        assert!(board.readiness_problems().is_empty());
    }
}
