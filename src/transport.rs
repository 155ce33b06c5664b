//! What both blocking clients, GitHub's and the dendrite's, take from ureq
//! alike: the agent's settings, and the reading of a failed exchange. Each
//! client keeps its own config and its own error enum (one per module); in
//! both a transport failure becomes one of the same four variants, so their
//! `From<ureq::Error>` is written once here.

use std::time::Duration;

/// A ureq agent as both clients want it: one global timeout, the longest
/// anything may take, since a blocking call cannot be cancelled; statuses
/// as answers, not errors; no redirect followed (GitHub's client follows
/// them by hand, so the token goes only to its origin; an axon has none);
/// no proxy from the environment; `idle` idle connections kept; the given
/// buffers, the status line and headers bounded by the input buffer.
pub(crate) fn agent(
    timeout: Duration,
    user_agent: &str,
    idle: usize,
    input_buffer: usize,
    output_buffer: usize,
) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(user_agent)
        .max_idle_connections(idle)
        .max_idle_connections_per_host(idle)
        .input_buffer_size(input_buffer)
        .output_buffer_size(output_buffer)
        .max_response_header_size(input_buffer)
        .build()
        .into()
}

/// `impl From<ureq::Error> for $error`, for an enum with the variants
/// `Timeout`, `BodyTooLarge(u64)`, `InvalidRequest(String)` and
/// `Transport(String)`.
macro_rules! from_ureq_error {
    ($error:ty) => {
        impl From<ureq::Error> for $error {
            fn from(e: ureq::Error) -> Self {
                match e {
                    ureq::Error::Timeout(_) => Self::Timeout,
                    ureq::Error::BodyExceedsLimit(limit) => Self::BodyTooLarge(limit),
                    // Tokens are checked when made, so this is a URL or a
                    // header that cannot be sent; no retry helps. http's
                    // messages quote no value.
                    ureq::Error::Http(e) => Self::InvalidRequest(e.to_string()),
                    ureq::Error::BadUri(_) => Self::InvalidRequest("bad url".into()),
                    // ureq's messages name the host at most, never a header
                    // or a body.
                    e => Self::Transport(e.to_string()),
                }
            }
        }
    };
}

pub(crate) use from_ureq_error;
