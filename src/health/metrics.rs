//! The counters and gauges of `/metrics`, each registered once with its
//! help text (OpenMetrics names: `gittensor_…`, see
//! `deploy/grafana-dashboard.json`).

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// Counters and gauges of `/metrics`.
pub(super) struct Metrics {
    pub(super) rounds: Counter,
    pub(super) rounds_discarded: Counter,
    pub(super) step: Gauge,
    pub(super) ready: Gauge,
    pub(super) alive: Gauge,
    pub(super) tables_refused: Gauge,
    pub(super) round_seconds: Gauge<f64, AtomicU64>,
    pub(super) miners_scored: Counter,
    pub(super) miners_failed: Counter,
    pub(super) miners_timed_out: Counter,
    pub(super) github_requests: Counter,
    pub(super) github_retries: Counter,
    pub(super) github_rate_limit_waits: Counter,
    pub(super) dendrite_answered: Counter,
    pub(super) dendrite_failed: Counter,
    pub(super) weights_submitted: Counter,
    pub(super) weights_refused: Counter,
    pub(super) event_loop_lag_seconds: Gauge<f64, AtomicU64>,
    pub(super) chain_connected: Gauge,
    pub(super) last_weights_block: Gauge,
    pub(super) validator_trust: Gauge<f64, AtomicU64>,
    pub(super) predicted_trust: Gauge<f64, AtomicU64>,
    pub(super) consensus_distance: Gauge<f64, AtomicU64>,
    pub(super) write_failures: Counter,
    pub(super) writes_failing: Gauge,
    pub(super) db_writes: Counter,
    pub(super) db_writes_failed: Counter,
    pub(super) db_rounds_pending: Gauge,
    pub(super) db_rounds_dropped: Counter,
}

impl Metrics {
    /// Every metric at zero, and the registry that encodes them.
    pub(super) fn registered() -> (Metrics, Registry) {
        let metrics = Metrics {
            rounds: Counter::default(),
            rounds_discarded: Counter::default(),
            step: Gauge::default(),
            ready: Gauge::default(),
            alive: Gauge::default(),
            tables_refused: Gauge::default(),
            round_seconds: Gauge::default(),
            miners_scored: Counter::default(),
            miners_failed: Counter::default(),
            miners_timed_out: Counter::default(),
            github_requests: Counter::default(),
            github_retries: Counter::default(),
            github_rate_limit_waits: Counter::default(),
            dendrite_answered: Counter::default(),
            dendrite_failed: Counter::default(),
            weights_submitted: Counter::default(),
            weights_refused: Counter::default(),
            event_loop_lag_seconds: Gauge::default(),
            chain_connected: Gauge::default(),
            last_weights_block: Gauge::default(),
            validator_trust: Gauge::default(),
            predicted_trust: Gauge::default(),
            consensus_distance: Gauge::default(),
            write_failures: Counter::default(),
            writes_failing: Gauge::default(),
            db_writes: Counter::default(),
            db_writes_failed: Counter::default(),
            db_rounds_pending: Gauge::default(),
            db_rounds_dropped: Counter::default(),
        };
        let mut r = Registry::with_prefix("gittensor");
        r.register(
            "build",
            "The release and the commit this binary was built from",
            Info::new(vec![
                ("version".to_string(), super::VERSION.to_string()),
                ("commit".to_string(), super::COMMIT.to_string()),
            ]),
        );
        let m = &metrics;
        r.register("rounds", "Scoring rounds finished", m.rounds.clone());
        r.register(
        "rounds_discarded",
        "Scoring rounds discarded because the validator's side failed (GitHub or axons unreachable)",
        m.rounds_discarded.clone(),
    );
        r.register("step", "The loop's step", m.step.clone());
        r.register(
            "ready",
            "1 when the weights this process would set now are right (/readyz 200)",
            m.ready.clone(),
        );
        r.register(
            "alive",
            "1 while the loop makes progress (/healthz 200)",
            m.alive.clone(),
        );
        r.register(
            "tables_refused",
            "Weight tables refused (the last good one in use)",
            m.tables_refused.clone(),
        );
        r.register_with_unit(
            "round_duration",
            "Wall time of the last round",
            Unit::Seconds,
            m.round_seconds.clone(),
        );
        r.register(
            "miners_scored",
            "Miners scored without a failure reason",
            m.miners_scored.clone(),
        );
        r.register(
            "miners_failed",
            "Miners that failed (no PAT, account, timeout, ...)",
            m.miners_failed.clone(),
        );
        r.register(
            "miners_timed_out",
            "Miners past their deadline",
            m.miners_timed_out.clone(),
        );
        r.register(
            "github_requests",
            "GitHub requests, retries included",
            m.github_requests.clone(),
        );
        r.register(
            "github_retries",
            "GitHub requests that were retries",
            m.github_retries.clone(),
        );
        r.register(
            "github_rate_limit_waits",
            "Waits for a GitHub rate limit",
            m.github_rate_limit_waits.clone(),
        );
        r.register(
            "dendrite_answered",
            "Axon queries that gave a PAT",
            m.dendrite_answered.clone(),
        );
        r.register(
            "dendrite_failed",
            "uids whose axon gave no PAT",
            m.dendrite_failed.clone(),
        );
        r.register(
            "weights_submitted",
            "Weights the chain accepted",
            m.weights_submitted.clone(),
        );
        r.register(
            "weights_refused",
            "Weights the chain or node refused",
            m.weights_refused.clone(),
        );
        r.register_with_unit(
            "event_loop_lag_max",
            "Largest event-loop lag in the last round",
            Unit::Seconds,
            m.event_loop_lag_seconds.clone(),
        );
        r.register(
            "chain_connected",
            "1 when the chain client is connected",
            m.chain_connected.clone(),
        );
        r.register(
            "last_weights_block",
            "Block of the last weights the chain accepted",
            m.last_weights_block.clone(),
        );
        r.register(
            "validator_trust",
            "The chain's validator trust for our uid (at the last resync)",
            m.validator_trust.clone(),
        );
        r.register(
            "predicted_trust",
            "The trust the last weights set would get against the chain's consensus",
            m.predicted_trust.clone(),
        );
        r.register(
            "consensus_distance",
            "Share of the last weights set above the chain's consensus",
            m.consensus_distance.clone(),
        );
        r.register(
            "write_failures",
            "Writes of the state folder that failed (state, weights, report, PR-files store)",
            m.write_failures.clone(),
        );
        r.register(
            "writes_failing",
            "Files of the state folder whose last write failed",
            m.writes_failing.clone(),
        );
        r.register(
            "db_writes",
            "Rounds written to the results database",
            m.db_writes.clone(),
        );
        r.register(
            "db_writes_failed",
            "Results database writes that failed: attempts at a round (retried) and steps the server refused",
            m.db_writes_failed.clone(),
        );
        r.register(
            "db_rounds_pending",
            "Rounds waiting to be written to the results database",
            m.db_rounds_pending.clone(),
        );
        r.register(
            "db_rounds_dropped",
            "Unwritten rounds dropped from memory while the results database was away",
            m.db_rounds_dropped.clone(),
        );
        (metrics, r)
    }
}
