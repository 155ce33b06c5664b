//! The pure scoring layer: GitHub data in, evaluations and rewards out.
//!
//! # In scope
//! Every rule of `SCORING.md` (gittensor release 2.0.7): weight tables,
//! miner validation, pull-request eligibility and counts over GraphQL pages,
//! file and patch scoring, multipliers with Python's rounding, the round
//! (duplicates, uniqueness, normalization, dynamic emissions), and the
//! validator's side of §11: the float32 moving average, metagraph resync
//! and the u16 weights for the chain, as numpy computes them. Also the
//! report's serde types.
//!
//! # Out of scope
//! This module does no I/O and reads no clock and no environment: no HTTP,
//! no files, no tokio. Time is an input (`now`, once per round); GitHub's
//! answers come in as parsed JSON. Fetching is `crate::github`'s job,
//! orchestration `crate::pipeline`'s.

mod constants;
pub mod files;
pub mod miner;
pub mod numpy;
pub mod pr;
pub mod pulls;
pub mod py;
pub mod report;
pub mod round;
pub mod scores;
pub mod state;
pub mod step;
pub mod tables;
pub mod trust;
pub mod verdict;
pub mod weights;

use std::fmt;

pub use constants::*;
pub use files::{parse_files, FileChange};
pub use miner::GithubUser;
pub use pr::PullRequest;
pub use pulls::{page_nodes, CollectedPrs, PageStep, PrCollector, Stop};
pub use report::{PatQueryStats, RoundReport, RoundStats};
pub use round::{finish_round, MinerEvaluation, Rewards, RoundContext};
pub use tables::{LanguageWeights, MasterRepositories, MasterRepository, TableDiff};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Errors of the scoring layer: only bad weight tables.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The text is not JSON.
    Json {
        /// What was parsed (a file name).
        what: String,
        /// The parser's message.
        message: String,
    },
    /// The JSON is not an object.
    NotAnObject {
        /// What was parsed (a file name).
        what: String,
    },
    /// The object has no entry.
    Empty {
        /// What was parsed (a file name).
        what: String,
    },
    /// Entries that 2.0.7 would skip or misread.
    Entries {
        /// What was parsed (a file name).
        what: String,
        /// How many entries are bad.
        count: usize,
        /// The first few, each with why.
        entries: String,
        /// Whether they look like a later gittensor release's table.
        later_format: bool,
    },
}

impl Error {
    /// What is wrong, without naming the source (for callers that name it
    /// their own way, e.g. by path).
    pub fn message(&self) -> String {
        match self {
            Error::Json { message, .. } => format!("bad json: {message}"),
            Error::NotAnObject { .. } => "not a json object".to_string(),
            Error::Empty { .. } => {
                "no entries: a gittensor 2.0.7 table has at least one".to_string()
            }
            Error::Entries {
                count,
                entries,
                later_format,
                ..
            } => {
                let hint = if *later_format {
                    " (this looks like a table of a later gittensor release; use the one of release 2.0.7)"
                } else {
                    ""
                };
                let noun = if *count == 1 {
                    "entry is"
                } else {
                    "entries are"
                };
                format!("{count} {noun} not in gittensor 2.0.7's format{hint}: {entries}")
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Error::Json { what, .. }
        | Error::NotAnObject { what }
        | Error::Empty { what }
        | Error::Entries { what, .. }) = self;
        write!(f, "{what}: {}", self.message())
    }
}

impl std::error::Error for Error {}

/// Parses a GitHub timestamp (RFC 3339); `None` when it is not one.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Formats a time as RFC 3339 (`2025-12-20T12:00:00Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    // Formatting an in-range UTC time as RFC 3339 cannot fail; the fallback
    // keeps a report readable if it ever did.
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
