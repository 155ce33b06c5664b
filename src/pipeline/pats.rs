//! The PAT phase of a round: every uid of the metagraph asked for its
//! miner's PAT over the dendrite, as 2.0.7 asks every uid (it goes one uid
//! after another, 12 s each at worst; here all go at once).
//!
//! A uid whose axon gives no PAT, for whatever reason, becomes a miner with
//! the metagraph's hotkey and no PAT: the SDK hands 2.0.7 a synapse with
//! the axon's hotkey even when the query failed, so its miner fails with
//! "No Github PAT provided by miner {uid}". Why it failed is logged and kept
//! for the report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{elapsed_ms, Heartbeat, MinerInput};
use crate::bridge;
use crate::cancel::Cancel;
use crate::dendrite::{Dendrite, Error as DendriteError};
use crate::metagraph::{Metagraph, Neuron};
use crate::scoring::PatQueryStats;
use crate::token::Pat;

/// What the PAT phase found.
#[derive(Debug)]
pub struct PatQuery {
    /// One miner per uid, in uid order.
    pub miners: Vec<MinerInput>,
    /// Why a uid has no PAT.
    pub errors: BTreeMap<u16, String>,
    /// Counts and times.
    pub stats: PatQueryStats,
}

/// One neuron's outcome: its miner, whether a PAT came, how long it took.
type Outcome = (MinerInput, Result<(), DendriteError>, Duration);

/// Asks one neuron's axon; never fails (a failure is a miner without PAT).
fn query_one(dendrite: &Dendrite, neuron: &Neuron, cancel: &Cancel) -> Outcome {
    let started = Instant::now();
    let result = dendrite.query_pat(&neuron.query_target(), cancel);
    let uid = neuron.uid;
    let (pat, outcome) = match result {
        Ok(pat) => (pat, Ok(())),
        Err(e) => {
            match e {
                DendriteError::NotServing | DendriteError::Cancelled => {
                    log::debug!("uid {uid}: no PAT: {e}")
                }
                _ => log::info!("uid {uid}: no PAT from its axon: {e}"),
            }
            (Pat::Missing, Err(e))
        }
    };
    let miner = MinerInput {
        uid,
        hotkey: Some(neuron.hotkey.clone()),
        pat,
    };
    (miner, outcome, started.elapsed())
}

/// Folds the outcomes into a [`PatQuery`].
fn collect(outcomes: Vec<Outcome>, started: Instant, lag_ms: f64) -> PatQuery {
    let mut stats = PatQueryStats {
        wall_ms: elapsed_ms(started),
        max_event_loop_lag_ms: lag_ms,
        ..PatQueryStats::default()
    };
    let mut errors = BTreeMap::new();
    let mut miners = Vec::with_capacity(outcomes.len());
    let mut sequential = Duration::ZERO;
    for (miner, outcome, took) in outcomes {
        sequential += took;
        match &outcome {
            Ok(()) => {
                stats.queried += 1;
                stats.answered += 1;
            }
            Err(e) => {
                stats.failed += 1;
                if !matches!(e, DendriteError::NotServing) {
                    stats.queried += 1;
                }
                if matches!(e, DendriteError::Timeout) {
                    stats.timed_out += 1;
                }
                errors.insert(miner.uid, e.to_string());
            }
        }
        miners.push(miner);
    }
    stats.sequential_ms = u64::try_from(sequential.as_millis()).unwrap_or(u64::MAX);
    PatQuery {
        miners,
        errors,
        stats,
    }
}

/// The PAT phase as blocking code: one uid after another, as 2.0.7 does,
/// with [`query_pats`]' result. For callers without a runtime (scripts and
/// tests that score synchronously); with
/// [`run_round_blocking`](super::run_round_blocking) it makes a whole round
/// without tokio.
pub fn query_pats_blocking(
    dendrite: &Dendrite,
    metagraph: &Metagraph,
    cancel: &Cancel,
) -> PatQuery {
    let started = Instant::now();
    let outcomes = metagraph
        .neurons
        .iter()
        .map(|n| query_one(dendrite, n, cancel))
        .collect();
    collect(outcomes, started, 0.0)
}

/// [`query_pats`]' `concurrency` that bounds it by the subnet's size: every
/// uid asked at once.
pub const EVERY_UID_AT_ONCE: usize = 0;

/// The PAT phase on tokio: every query through the bridge, up to
/// `concurrency` at once ([`EVERY_UID_AT_ONCE`], 0, for the subnet's size).
/// Cancelling `cancel`
/// ends the phase at once: queries not started are not sent, queries in
/// flight are not waited for (their threads end within the dendrite
/// timeout) and count as cancelled.
pub async fn query_pats(
    dendrite: Dendrite,
    metagraph: &Metagraph,
    concurrency: usize,
    cancel: Cancel,
) -> PatQuery {
    let started = Instant::now();
    let heartbeat = Heartbeat::start(Duration::from_millis(5));
    let bound = if concurrency == EVERY_UID_AT_ONCE {
        metagraph.n().max(1)
    } else {
        concurrency
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(bound));
    // Each query goes to the blocking pool from this loop, as soon as a
    // permit allows: no task per query waits in the runtime's queues.
    let mut pending = Vec::with_capacity(metagraph.n());
    for neuron in metagraph.neurons.iter().cloned() {
        let fallback = (
            MinerInput {
                uid: neuron.uid,
                hotkey: Some(neuron.hotkey.clone()),
                pat: Pat::Missing,
            },
            Err(DendriteError::Cancelled),
            Duration::ZERO,
        );
        let permit = tokio::select! {
            permit = limit.clone().acquire_owned() => permit.ok(),
            () = cancel.cancelled() => None,
        };
        let Some(permit) = permit else {
            pending.push((None, fallback));
            continue;
        };
        let (dendrite, cancel) = (dendrite.clone(), cancel.clone());
        let query = bridge::spawn(move || {
            let _permit = permit;
            query_one(&dendrite, &neuron, &cancel)
        });
        pending.push((Some(query), fallback));
    }
    let mut outcomes = Vec::with_capacity(pending.len());
    for (query, fallback) in pending {
        let outcome = match query {
            Some(query) => tokio::select! {
                outcome = query => outcome.unwrap_or(fallback),
                // Queries in flight end on their own within the timeout.
                () = cancel.cancelled() => fallback,
            },
            None => fallback,
        };
        outcomes.push(outcome);
    }
    let lag = heartbeat.stop().await;
    collect(outcomes, started, lag.max_ms)
}
