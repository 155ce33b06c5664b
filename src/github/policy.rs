//! The retry policy, pure: what to do about one answer of GitHub's, from
//! the answer, the number of retries so far and the time (an argument),
//! as GitHub's REST and GraphQL docs describe rate limits; and the page
//! size after a page refused for its cost. The client reads the clock and
//! acts on the verdict.

use std::time::Duration;

use serde_json::Value;

use super::ClientConfig;

/// What one exchange brought back.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) retry_after: Option<u64>,
    pub(super) remaining: Option<u64>,
    pub(super) reset: Option<u64>,
    pub(super) link: Option<String>,
    pub(super) etag: Option<String>,
    pub(super) body: String,
}

/// What the retry policy makes of one answer. Decided by [`verdict`] from
/// the answer, the attempt number and the time, without I/O or a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A 2xx: read the body.
    Accept,
    /// Transient (5xx): try again after the back-off.
    Retry(Duration),
    /// Rate limited: try again after this wait.
    RateLimited(Duration),
    /// Rate limited for longer than the client waits: give up.
    RateLimitedTooLong(Duration),
    /// Final: a status no retry helps (401, 404, a 403 without access).
    Fail,
}

impl Verdict {
    pub(super) fn wait_or_give_up(wait: Duration, config: &ClientConfig) -> Verdict {
        if wait > config.max_backoff() {
            Verdict::RateLimitedTooLong(wait)
        } else {
            Verdict::RateLimited(wait)
        }
    }
}

/// The retry policy for one answer, after `k` retries, at `now` (Unix
/// seconds). GitHub's docs: a 429, or a 403 that is a rate limit, waits
/// [`rate_limit_wait`]; a 403 is a rate limit when it carries
/// `retry-after`, when `x-ratelimit-remaining` is 0, or when its body says
/// so ("You have exceeded a secondary rate limit", "API rate limit
/// exceeded"); any other 403 (a token without access) is final.
pub(super) fn verdict(a: &Answer, k: u32, now: u64, config: &ClientConfig) -> Verdict {
    match a.status {
        200..=299 => Verdict::Accept,
        429 => Verdict::wait_or_give_up(rate_limit_wait(a, now, config), config),
        403 if a.retry_after.is_some() || a.remaining == Some(0) || says_rate_limit(&a.body) => {
            Verdict::wait_or_give_up(rate_limit_wait(a, now, config), config)
        }
        500..=599 => Verdict::Retry(backoff(config, k)),
        _ => Verdict::Fail,
    }
}

/// The wait GitHub's docs give: `retry-after`, else the reset time when
/// nothing remains, else at least a minute (`secondary_rate_limit_wait`).
pub(super) fn rate_limit_wait(a: &Answer, now: u64, config: &ClientConfig) -> Duration {
    if let Some(secs) = a.retry_after {
        Duration::from_secs(secs)
    } else if let (Some(0), Some(reset)) = (a.remaining, a.reset) {
        Duration::from_secs(reset.saturating_sub(now) + 1)
    } else {
        config.secondary_rate_limit_wait()
    }
}

/// Whether an error body says "rate limit" (GitHub's `message`, or the
/// text when it is not JSON). Only the start of the body is looked at.
pub(super) fn says_rate_limit(body: &str) -> bool {
    let mut end = body.len().min(4096);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let head = &body[..end];
    let message = serde_json::from_str::<Value>(head)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| head.to_string());
    message.to_ascii_lowercase().contains("rate limit")
}

/// Exponential back-off after `k` retries, capped at `max_backoff`.
pub(super) fn backoff(config: &ClientConfig, k: u32) -> Duration {
    config
        .backoff_base()
        .saturating_mul(1u32 << k.min(16))
        .min(config.max_backoff())
}

/// The page size to ask at after GitHub refused `first` for its cost:
/// half, not below `floor`; `None` at the floor (GitHub times out on large
/// accounts at `first: 100`, so the smaller size is kept for later pages).
pub(super) fn smaller_page(first: usize, floor: usize) -> Option<usize> {
    (first > floor).then(|| (first / 2).max(floor))
}

pub(super) fn graphql_error_type(value: &Value) -> Option<&str> {
    value
        .get("errors")?
        .as_array()?
        .first()?
        .get("type")?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, u64)], body: &str) -> Answer {
        let h = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        Answer {
            status,
            retry_after: h("retry-after"),
            remaining: h("x-ratelimit-remaining"),
            reset: h("x-ratelimit-reset"),
            link: None,
            etag: None,
            body: body.to_string(),
        }
    }

    /// The retry policy as a table: (status, headers, body, retries so far)
    /// at NOW, with the default settings (1 s back-off, 60 s cap and
    /// secondary wait).
    #[test]
    fn verdict_follows_githubs_documented_order() {
        const NOW: u64 = 1_767_225_600;
        const SECONDARY: &str = r#"{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        const PRIMARY: &str = r#"{"message": "API rate limit exceeded for user ID 1."}"#;
        const NO_ACCESS: &str =
            r#"{"message": "Resource not accessible by personal access token"}"#;
        let secs = Duration::from_secs;
        let cases: Vec<(Answer, u32, Verdict)> = vec![
            (answer(200, &[], "{}"), 0, Verdict::Accept),
            (answer(204, &[], ""), 0, Verdict::Accept),
            (answer(502, &[], ""), 0, Verdict::Retry(secs(1))),
            (answer(503, &[], ""), 2, Verdict::Retry(secs(4))),
            (answer(500, &[], ""), 10, Verdict::Retry(secs(60))),
            (answer(401, &[], "{}"), 0, Verdict::Fail),
            (answer(404, &[], "{}"), 0, Verdict::Fail),
            // retry-after first, whatever else is there.
            (
                answer(
                    403,
                    &[("retry-after", 7), ("x-ratelimit-remaining", 0)],
                    SECONDARY,
                ),
                0,
                Verdict::RateLimited(secs(7)),
            ),
            (
                answer(429, &[("retry-after", 3)], ""),
                0,
                Verdict::RateLimited(secs(3)),
            ),
            // Nothing remaining: until the reset, plus a second.
            (
                answer(
                    403,
                    &[
                        ("x-ratelimit-remaining", 0),
                        ("x-ratelimit-reset", NOW + 20),
                    ],
                    PRIMARY,
                ),
                0,
                Verdict::RateLimited(secs(21)),
            ),
            // The body alone says secondary rate limit: at least a minute.
            (
                answer(403, &[("x-ratelimit-remaining", 4987)], SECONDARY),
                0,
                Verdict::RateLimited(secs(60)),
            ),
            (
                answer(403, &[], "You have exceeded a secondary rate limit"),
                1,
                Verdict::RateLimited(secs(60)),
            ),
            (answer(429, &[], ""), 0, Verdict::RateLimited(secs(60))),
            // Further than the client waits: give up at once.
            (
                answer(429, &[("retry-after", 3600)], ""),
                0,
                Verdict::RateLimitedTooLong(secs(3600)),
            ),
            // A token without access stays final, rate limit left or not.
            (
                answer(403, &[("x-ratelimit-remaining", 4999)], NO_ACCESS),
                0,
                Verdict::Fail,
            ),
            (answer(403, &[], "<html>forbidden</html>"), 0, Verdict::Fail),
        ];
        let config = ClientConfig::default();
        for (a, k, expected) in cases {
            assert_eq!(
                verdict(&a, k, NOW, &config),
                expected,
                "{} {:?}",
                a.status,
                a.body
            );
        }
    }

    /// A page refused for its cost is asked again at half its size, never
    /// below the floor, and not again once at the floor.
    #[test]
    fn a_refused_page_is_halved_down_to_the_floor() {
        // (first, floor, asked next)
        let table = [
            (100, 10, Some(50)),
            (50, 10, Some(25)),
            (25, 10, Some(12)),
            (12, 10, Some(10)),
            (10, 10, None),
            (7, 10, None),
            (30, 1, Some(15)),
            (1, 1, None),
        ];
        for (first, floor, next) in table {
            assert_eq!(
                smaller_page(first, floor),
                next,
                "first {first}, floor {floor}"
            );
        }
    }
}
