//! Errors of the dendrite.

use std::fmt;

/// Why a miner's axon gave no PAT. No variant holds any part of an answer:
/// a 200 answer carries a PAT, and an axon's own message is the miner's
/// text, so only status codes and fixed words are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The axon is not served (ip `0.0.0.0` or port 0): not queried.
    NotServing,
    /// The round or the miner was cancelled before the query.
    Cancelled,
    /// The query did not finish within the timeout.
    Timeout,
    /// Connecting, sending or receiving failed.
    Transport(String),
    /// The axon answered with this status, not 200.
    Status(u16),
    /// The axon answered 200, but its `bt_header_axon_status_code` said this.
    AxonStatus(u16),
    /// The axon redirected the query (redirects are not followed).
    Redirect(u16),
    /// The answer was over the configured limit.
    BodyTooLarge(u64),
    /// The answer was not a JSON object.
    NotJson,
    /// The answer had no `github_access_token`, or it was null or "".
    NoToken,
    /// `github_access_token` was not a string.
    TokenNotString,
    /// The query could not be built (an address ureq refuses).
    InvalidRequest(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotServing => f.write_str("axon not served (ip 0.0.0.0 or port 0)"),
            Error::Cancelled => f.write_str("cancelled"),
            Error::Timeout => f.write_str("no answer within the timeout"),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::Status(s) => write!(f, "axon answered http {s}{}", status_hint(*s)),
            Error::AxonStatus(s) => write!(f, "axon answered 200 with status {s}"),
            Error::Redirect(s) => write!(f, "axon answered a {s} redirect, not followed"),
            Error::BodyTooLarge(limit) => write!(f, "answer over {limit} bytes"),
            Error::NotJson => f.write_str("answer is not a json object"),
            Error::NoToken => f.write_str("answer has no github_access_token"),
            Error::TokenNotString => f.write_str("github_access_token is not a string"),
            Error::InvalidRequest(m) => write!(f, "invalid request: {m}"),
        }
    }
}

/// What bittensor's axon means by a status (core/axon.py).
fn status_hint(status: u16) -> &'static str {
    match status {
        401 => " (not verified: signature or nonce refused)",
        403 => " (blacklisted by the miner)",
        404 => " (no GitPatSynapse route)",
        408 => " (timed out at the axon)",
        422 => " (request not understood)",
        500 => " (error inside the miner)",
        503 => " (unavailable)",
        _ => "",
    }
}

impl std::error::Error for Error {}

crate::transport::from_ureq_error!(Error);
