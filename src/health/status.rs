//! What `/healthz` and `/readyz` answer, as JSON: the loop's progress,
//! the last round, the chain connection, what is due next, the consensus
//! watch and the results database. Plain data; the [`Board`](super::Board)
//! keeps it and decides the problems.

use serde::Serialize;

/// What `/healthz` tells.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// The release ([`VERSION`](super::VERSION)).
    pub version: &'static str,
    /// The commit it was built from ([`COMMIT`](super::COMMIT)).
    pub commit: &'static str,
    /// The loop's step (`validate`), or 0.
    pub step: u64,
    /// Rounds finished since the process started.
    pub rounds: u64,
    /// The last round: its `now`, wall time and miners.
    pub last_round: Option<LastRound>,
    /// The block of the last weights the chain accepted.
    pub last_weights_block: Option<u64>,
    /// The chain connection (`validate` on a chain).
    pub chain: Option<ChainStatus>,
    /// Whether this hotkey may set weights (`validate` on a chain; `None`
    /// before the first sync). Not a problem: scoring goes on without.
    pub permit: Option<bool>,
    /// `--dry-run`: weights are computed and logged, never submitted.
    pub dry_run: bool,
    /// Why the last round was discarded, if it was.
    pub last_round_discarded: Option<String>,
    /// When the next scoring round is due.
    pub next_round: Option<Due>,
    /// When the next weights are due.
    pub next_weights: Option<Due>,
    /// The consensus watch at the last weight setting.
    pub consensus: Option<ConsensusStatus>,
    /// The results database, when it is on. Not a readiness problem:
    /// storage is not what makes the weights right.
    pub results_db: Option<ResultsDbStatus>,
    /// What is wrong: on `/healthz` the liveness problems, on `/readyz`
    /// the readiness problems. Empty when all is well.
    pub problems: Vec<String>,
}

/// When something is due next: a step or a block, and the time it is
/// expected at (RFC 3339, UTC).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Due {
    /// The loop step it is due at, if counted in steps.
    pub step: Option<u64>,
    /// The block it is due after, if counted in blocks.
    pub block: Option<u64>,
    /// The expected time.
    pub at: String,
}

/// The consensus watch at the last weight setting (`scoring::trust`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConsensusStatus {
    /// The chain's validator trust for our uid.
    pub trust: Option<f64>,
    /// What the weights set would get against the chain's last consensus.
    pub predicted_trust: f64,
    /// The share of those weights above consensus.
    pub consensus_distance: f64,
    /// Whether the chain had a consensus to compare with.
    pub consensus_known: bool,
    /// Commit-reveal is on: the chain's trust is for weights revealed a
    /// reveal period ago.
    pub commit_reveal: bool,
    /// The watch's warning, if any.
    pub warning: Option<String>,
}

/// The results database as its writer last saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResultsDbStatus {
    /// `user@host:port/dbname`.
    pub target: String,
    /// Whether the last write went through.
    pub connected: bool,
    /// Rounds waiting to be written.
    pub rounds_pending: usize,
    /// The last failure, while it lasts.
    pub last_error: Option<String>,
}

/// The last round, for `/healthz`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LastRound {
    /// Its "now" (RFC 3339).
    pub now: String,
    /// Its wall time.
    pub wall_ms: u64,
    /// uids in it.
    pub miners: usize,
    /// Of those, the ones scored without a failure reason.
    pub scored: usize,
}

/// The chain connection, for `/healthz`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChainStatus {
    /// The node's URL.
    pub endpoint: String,
    /// Whether the last call found it connected.
    pub connected: bool,
    /// The last block seen.
    pub block: Option<u64>,
}
