//! Errors of the GitHub client.

use std::fmt;
use std::time::Duration;

/// Why a GitHub request failed. No variant holds a token or a header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The round or the miner was cancelled.
    Cancelled,
    /// The request did not finish within the configured timeout.
    Timeout,
    /// Connecting, sending or receiving failed.
    Transport(String),
    /// GitHub answered with a status we do not retry, or retries ran out.
    Status(u16),
    /// Rate limited for longer than the client waits.
    RateLimited {
        /// How long GitHub asked us to wait.
        wait: Duration,
    },
    /// The body was over the configured limit.
    BodyTooLarge(u64),
    /// The body was not the JSON expected.
    BadJson(String),
    /// The request could not be built (a URL or header ureq refuses).
    InvalidRequest(String),
    /// A redirect could not be followed.
    Redirect(String),
    /// A repository name that cannot be put in a URL path.
    BadRepository(String),
    /// GraphQL's `RESOURCE_LIMITS_EXCEEDED` (in a 200 answer): GitHub
    /// refused the query's cost, which the client lowers by halving the
    /// page.
    ResourceLimits,
}

impl Error {
    /// Whether the failure is on the validator's side (SCORING.md §11.9.7):
    /// GitHub or the network unreachable, slow or failing, or a limit of
    /// ours. Such a failure says nothing about the miner, and a round where
    /// many miners fail this way is discarded instead of scoring them 0.
    /// The miner's own failures (a PAT GitHub refuses with 401 or 403, a
    /// repository name that cannot be asked for) are not ours.
    pub fn is_ours(&self) -> bool {
        match self {
            Error::Status(s) => *s >= 500 || *s == 429,
            Error::BadRepository(_) => false,
            Error::Cancelled
            | Error::Timeout
            | Error::Transport(_)
            | Error::RateLimited { .. }
            | Error::BodyTooLarge(_)
            | Error::BadJson(_)
            | Error::InvalidRequest(_)
            | Error::Redirect(_)
            | Error::ResourceLimits => true,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cancelled => f.write_str("cancelled"),
            Error::Timeout => f.write_str("request timed out"),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::Status(s) => write!(f, "http status {s}"),
            Error::RateLimited { wait } => write!(f, "rate limited for {}s", wait.as_secs()),
            Error::BodyTooLarge(limit) => write!(f, "response body over {limit} bytes"),
            Error::BadJson(m) => write!(f, "bad json: {m}"),
            Error::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Error::Redirect(m) => write!(f, "redirect: {m}"),
            Error::BadRepository(r) => write!(f, "bad repository name {r:?}"),
            Error::ResourceLimits => f.write_str("graphql resource limits exceeded"),
        }
    }
}

impl std::error::Error for Error {}

crate::transport::from_ureq_error!(Error);
