//! The client against GitHub's rate limits: primary and secondary, in a
//! 403/429 status or a GraphQL body, waited for within the budget and the
//! miner's deadline, or given up at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::{Client, Error};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::Stop;
use gittensor_validator::testkit::fakehub::{FakeHub, Fault, Response};
use serde_json::json;

use crate::client::{collect, prs, token, TOKEN};
use crate::util::{fast_client, fast_config, faults, file_entry, snapshot};

#[test]
fn graphql_rate_limited_in_a_200_body_is_retried() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let f = faults(move |_| {
        (s.fetch_add(1, Ordering::SeqCst) == 0).then(|| {
            Fault::Respond(
                Response::json(200, &json!({"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}))
                    .header("x-ratelimit-remaining", "12"),
            )
        })
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(5), vec![]), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    assert_eq!(collect(&client, "7"), (Ok(Stop::LastPage), 5));
    assert_eq!(client.stats().retries, 1);
}

#[test]
fn secondary_rate_limit_403_waits_for_retry_after() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let f = faults(move |_| {
        (s.fetch_add(1, Ordering::SeqCst) == 0).then(|| {
            Fault::Respond(
                Response::json(
                    403,
                    &json!({"message": "You have exceeded a secondary rate limit"}),
                )
                .header("retry-after", "1"),
            )
        })
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    let started = Instant::now();
    assert!(client.user(&token(), &Cancel::new()).is_ok());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after was not honoured"
    );
    assert_eq!(client.stats().user, 2);
}

#[test]
fn rate_limit_longer_than_max_backoff_fails_at_once() {
    let f = faults(|_| {
        Some(Fault::Respond(
            Response::json(429, &json!({"message": "rate limited"})).header("retry-after", "3600"),
        ))
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    let err = client.user(&token(), &Cancel::new()).unwrap_err();
    assert_eq!(
        err,
        Error::RateLimited {
            wait: Duration::from_secs(3600)
        }
    );
    assert_eq!(client.stats().user, 1);
}

#[test]
fn primary_rate_limit_403_waits_until_reset() {
    let epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
    };
    // The limit resets two seconds from the first answer (GitHub gives
    // whole seconds); the hub notes when each request came.
    let reset = epoch().as_secs() + 2;
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let a = asked.clone();
    let f = faults(move |_| {
        let mut asked = a.lock().unwrap();
        asked.push(epoch());
        (asked.len() == 1).then(|| {
            Fault::Respond(
                Response::json(403, &json!({"message": "API rate limit exceeded"}))
                    .header("x-ratelimit-remaining", "0")
                    .header("x-ratelimit-reset", &reset.to_string()),
            )
        })
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    assert!(client.user(&token(), &Cancel::new()).is_ok());
    assert_eq!(client.stats().retries, 1);
    assert_eq!(client.stats().rate_limit_waits, 1);
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 2);
    // Asked again once the limit had reset, not before.
    assert!(
        asked[1] >= Duration::from_secs(reset),
        "asked again at {:?}, the limit resets at {reset} s",
        asked[1]
    );
}

#[test]
fn plain_403_is_not_retried() {
    let f = faults(|_| {
        Some(Fault::Respond(Response::json(
            403,
            &json!({"message": "Resource not accessible"}),
        )))
    });
    let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    assert_eq!(
        client.user(&token(), &Cancel::new()),
        Err(Error::Status(403))
    );
    assert_eq!(client.stats().user, 1);
}

/// GitHub's documented answer to a secondary rate limit: a 403 whose body
/// says so, with `x-ratelimit-remaining` above 0 and no `retry-after`.
fn secondary_rate_limit() -> Response {
    Response::json(
        403,
        &json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0C21:1D2E:3F4A5B:6C7D8E:65A1B2C3.",
            "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
        }),
    )
    .header("x-ratelimit-limit", "5000")
    .header("x-ratelimit-remaining", "4987")
    .header("x-ratelimit-used", "13")
    .header("x-ratelimit-reset", "1767225600")
    .header("x-ratelimit-resource", "core")
}

/// A hub whose first request to `path_part` is a secondary rate limit.
pub(crate) fn hub_limiting_once(path_part: &'static str) -> FakeHub {
    let seen = Arc::new(AtomicUsize::new(0));
    let f = faults(move |r| {
        (r.path.contains(path_part) && seen.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| Fault::Respond(secondary_rate_limit()))
    });
    let snap = snapshot(
        TOKEN,
        7,
        prs(3),
        vec![("acme/widgets#1", vec![file_entry("src/a.rs", 1, None)])],
    );
    FakeHub::start(snap, Duration::ZERO, f).unwrap()
}

#[test]
fn secondary_rate_limit_without_retry_after_waits_then_retries_on_user() {
    let hub = hub_limiting_once("/user");
    let client = fast_client(&hub.url());
    assert_eq!(
        client.user(&token(), &Cancel::new()).map(|u| u.id),
        Ok(Some(7))
    );
    let s = client.stats();
    assert_eq!((s.user, s.retries, s.rate_limit_waits), (2, 1, 1));
}

#[test]
fn secondary_rate_limit_without_retry_after_waits_then_retries_on_graphql() {
    let hub = hub_limiting_once("/graphql");
    let client = fast_client(&hub.url());
    assert_eq!(collect(&client, "7"), (Ok(Stop::LastPage), 3));
    let s = client.stats();
    assert_eq!((s.graphql, s.retries, s.rate_limit_waits), (2, 1, 1));
}

#[test]
fn secondary_rate_limit_without_retry_after_waits_then_retries_on_files() {
    let hub = hub_limiting_once("/files");
    let client = fast_client(&hub.url());
    let files = client
        .pull_request_files(&token(), "acme/widgets", 1, &Cancel::new())
        .unwrap()
        .files;
    assert_eq!(files.len(), 1);
    let s = client.stats();
    assert_eq!((s.files, s.retries, s.rate_limit_waits), (2, 1, 1));
}

#[test]
fn secondary_rate_limit_waits_at_least_the_configured_minute() {
    let hub = hub_limiting_once("/user");
    let client = Client::new(
        fast_config(&hub.url())
            .secondary_rate_limit_wait(Duration::from_millis(300))
            .build(),
    );
    let started = Instant::now();
    assert!(client.user(&token(), &Cancel::new()).is_ok());
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn secondary_rate_limit_wait_ends_with_the_miners_deadline() {
    let hub = hub_limiting_once("/user");
    let client = Client::new(
        fast_config(&hub.url())
            .secondary_rate_limit_wait(Duration::from_secs(60))
            .max_backoff(Duration::from_secs(60))
            .build(),
    );
    let cancel = Cancel::new();
    let deadline = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        deadline.cancel();
    });
    let started = Instant::now();
    assert_eq!(client.user(&token(), &cancel), Err(Error::Cancelled));
    // Not the minute's wait: cut short by the deadline.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn forbidden_without_access_stays_final_with_remaining_rate_limit() {
    let f = faults(|_| {
        Some(Fault::Respond(
            Response::json(
                403,
                &json!({"message": "Resource not accessible by personal access token", "documentation_url": "https://docs.github.com/rest/pulls/pulls#list-pull-requests-files", "status": "403"}),
            )
            .header("x-ratelimit-remaining", "4999"),
        ))
    });
    let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    let err = client
        .pull_request_files(&token(), "acme/widgets", 1, &Cancel::new())
        .unwrap_err();
    assert_eq!(err, Error::Status(403));
    assert_eq!(client.stats().files, 1);
}
