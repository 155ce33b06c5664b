//! The blocking client against a real HTTP server on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::{Client, Error};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::{MasterRepositories, PrCollector, Stop};
use gittensor_validator::testkit::fakehub::{FakeHub, Fault, Response};
use gittensor_validator::token::Token;
use serde_json::{json, Value};

use crate::rate_limits::hub_limiting_once;
use crate::util::{fast_client, fast_config, faults, file_entry, pr_node, snapshot, user, NOW};

pub(crate) const TOKEN: &str = "ghp_testtoken";

pub(crate) fn token() -> Token {
    Token::new(TOKEN).unwrap()
}

fn repos() -> MasterRepositories {
    MasterRepositories::parse(r#"{"acme/widgets": {"weight": 1.0}}"#, "t").unwrap()
}

pub(crate) fn prs(n: u64) -> Vec<Value> {
    (1..=n)
        .map(|i| pr_node("acme/widgets", i, json!({})))
        .collect()
}

fn graphql_limits(hub: &FakeHub) -> Vec<u64> {
    hub.requests()
        .iter()
        .filter(|r| r.path == "/graphql")
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["variables"]["limit"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// Runs the paging for the one miner of `hub`.
pub(crate) fn collect(client: &Client, id: &str) -> (Result<Stop, Error>, usize) {
    let repos = repos();
    let mut c = PrCollector::new(&repos, NOW);
    let stop = client.collect_pull_requests(&token(), id, &mut c, &Cancel::new(), &mut |_| {});
    (stop, c.finish().pull_requests.len())
}

#[test]
fn pages_through_three_graphql_pages_with_cursors() {
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(250), vec![]), Duration::ZERO, None).unwrap();
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    assert_eq!(collect(&client, "7"), (Ok(Stop::LastPage), 250));
    // `first` is min(100, 1000 - accepted): 100 each time; the last page holds 50.
    assert_eq!(graphql_limits(&hub), vec![100, 100, 100]);
    let bodies: Vec<Value> = hub
        .requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies[0]["variables"]["cursor"], Value::Null);
    assert_eq!(bodies[1]["variables"]["cursor"], "o100");
    // The node id is base64("04:User7").
    assert_eq!(bodies[0]["variables"]["userId"], "MDQ6VXNlcjc=");
    assert!(hub
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer ghp_testtoken")));
    assert_eq!(client.stats().graphql, 3);
}

#[test]
fn unknown_user_id_gives_a_null_node_and_stops() {
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(3), vec![]), Duration::ZERO, None).unwrap();
    assert_eq!(
        collect(&fast_client(&hub.url()), "8"),
        (Ok(Stop::NullNode), 0)
    );
}

#[test]
fn rest_502_then_200_is_retried() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let f = faults(move |_| {
        (s.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| Fault::Respond(Response::json(502, &json!({}))))
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    let u = client.user(&token(), &Cancel::new()).unwrap();
    assert_eq!(u.id, Some(7));
    assert_eq!((client.stats().user, client.stats().retries), (2, 1));
}

#[test]
fn graphql_502_is_retried_at_half_the_page_size() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    // The first two GraphQL answers are gateway timeouts.
    let f = faults(move |r| {
        (r.path == "/graphql" && s.fetch_add(1, Ordering::SeqCst) < 2)
            .then(|| Fault::Respond(Response::json(504, &json!({}))))
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(120), vec![]), Duration::ZERO, f).unwrap();
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    assert_eq!(collect(&client, "7"), (Ok(Stop::LastPage), 120));
    // 100 -> 50 -> 25, and 25 for the pages after.
    assert_eq!(graphql_limits(&hub), vec![100, 50, 25, 25, 25, 25, 25]);
}

#[test]
fn graphql_504_at_the_smallest_page_is_retried_within_the_budget() {
    // Every answer a gateway timeout: halved to the floor (outside the
    // retry budget), then retried there as any 5xx, until the budget ends.
    let f =
        faults(|r| (r.path == "/graphql").then(|| Fault::Respond(Response::json(504, &json!({})))));
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(120), vec![]), Duration::ZERO, f).unwrap();
    hub.set_recording(true);
    let client = Client::new(
        fast_config(&hub.url())
            .min_page_size(25)
            .max_retries(2)
            .build(),
    );
    assert_eq!(collect(&client, "7"), (Err(Error::Status(504)), 0));
    assert_eq!(graphql_limits(&hub), vec![100, 50, 25, 25, 25]);
    // Two halvings and two retries at the floor.
    assert_eq!(client.stats().retries, 4);
}

#[test]
fn graphql_resource_limits_exceeded_halves_the_page() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let f = faults(move |r| {
        (r.path == "/graphql" && s.fetch_add(1, Ordering::SeqCst) == 0).then(|| {
            Fault::Respond(Response::json(200, &json!({"data": null, "errors": [{"type": "RESOURCE_LIMITS_EXCEEDED", "message": "too big"}]})))
        })
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(60), vec![]), Duration::ZERO, f).unwrap();
    hub.set_recording(true);
    assert_eq!(
        collect(&fast_client(&hub.url()), "7"),
        (Ok(Stop::LastPage), 60)
    );
    assert_eq!(graphql_limits(&hub), vec![100, 50, 50]);
}

#[test]
fn graphql_resource_limits_is_its_own_error_and_the_validators() {
    // GitHub refused the query's cost: a 200 answer, but no miner's fault,
    // so it counts against the round as the validator's failure (§11.9.7).
    let e = Error::ResourceLimits;
    assert_ne!(e, Error::Status(200));
    assert!(e.is_ours());
    assert!(!Error::Status(200).is_ours());
    assert_eq!(e.to_string(), "graphql resource limits exceeded");
}

#[test]
fn graphql_other_errors_stop_paging_and_keep_earlier_pages() {
    let f = faults(|r| {
        let body: Value = serde_json::from_str(&r.body).ok()?;
        (body["variables"]["cursor"] == "o100").then(|| {
            Fault::Respond(Response::json(
                200,
                &json!({"data": {"node": null}, "errors": [{"type": "NOT_FOUND", "message": "x"}]}),
            ))
        })
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(150), vec![]), Duration::ZERO, f).unwrap();
    let (stop, accepted) = collect(&fast_client(&hub.url()), "7");
    assert_eq!(stop, Ok(Stop::GraphqlErrors("NOT_FOUND: x".into())));
    assert_eq!(accepted, 100);
}

#[test]
fn a_failed_page_keeps_the_pages_before_it() {
    let f = faults(|r| {
        let body: Value = serde_json::from_str(&r.body).ok()?;
        (body["variables"]["cursor"] == "o100")
            .then(|| Fault::Respond(Response::json(401, &json!({"message": "Bad credentials"}))))
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, prs(150), vec![]), Duration::ZERO, f).unwrap();
    assert_eq!(
        collect(&fast_client(&hub.url()), "7"),
        (Err(Error::Status(401)), 100)
    );
}

#[test]
fn status_401_is_not_retried() {
    let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, None).unwrap();
    let client = fast_client(&hub.url());
    assert_eq!(
        client.user(&token(), &Cancel::new()),
        Err(Error::Status(401))
    );
    assert_eq!((client.stats().user, client.stats().retries), (1, 0));
}

#[test]
fn status_404_and_422_are_not_retried() {
    for status in [404, 422] {
        let f = faults(move |_| {
            Some(Fault::Respond(Response::json(
                status,
                &json!({"message": "no"}),
            )))
        });
        let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, f).unwrap();
        let client = fast_client(&hub.url());
        assert_eq!(
            client.user(&token(), &Cancel::new()),
            Err(Error::Status(status))
        );
        assert_eq!(client.stats().user, 1);
    }
}

#[test]
fn slow_answer_times_out_within_the_global_timeout() {
    // Answers come 10 s late: waiting for one would show.
    const LATE: Duration = Duration::from_secs(10);
    let f = faults(|_| Some(Fault::Stall(LATE)));
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = Client::new(
        fast_config(&hub.url())
            .timeout(Duration::from_millis(200))
            .max_retries(1)
            .build(),
    );
    let started = Instant::now();
    assert_eq!(client.user(&token(), &Cancel::new()), Err(Error::Timeout));
    // Two attempts of 200 ms, not one answer's wait.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < LATE,
        "{took:?}"
    );
    assert_eq!(client.stats().user, 2);
}

#[test]
fn truncated_body_is_a_transport_error_and_retried() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let f = faults(move |_| (s.fetch_add(1, Ordering::SeqCst) == 0).then_some(Fault::Truncate));
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    assert_eq!(client.user(&token(), &Cancel::new()).unwrap().id, Some(7));
    assert_eq!(client.stats().retries, 1);
}

#[test]
fn connection_reset_is_retried_then_fails() {
    let f = faults(|_| Some(Fault::Reset));
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = Client::new(fast_config(&hub.url()).max_retries(2).build());
    assert!(matches!(
        client.user(&token(), &Cancel::new()),
        Err(Error::Transport(_))
    ));
    assert_eq!(client.stats().user, 3);
}

#[test]
fn body_over_the_limit_fails_without_retry() {
    let big = json!({"login": "x".repeat(10_000), "id": 7, "created_at": "2019-01-01T00:00:00Z"});
    let mut snap = Snapshot::default();
    snap.users.insert(TOKEN.into(), big);
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let client = Client::new(fast_config(&hub.url()).max_body_bytes(1024).build());
    assert_eq!(
        client.user(&token(), &Cancel::new()),
        Err(Error::BodyTooLarge(1024))
    );
    assert_eq!(client.stats().user, 1);
}

#[test]
fn bad_json_is_a_typed_error() {
    let f = faults(|_| {
        Some(Fault::Respond(Response {
            status: 200,
            headers: vec![],
            body: b"{not json".to_vec(),
        }))
    });
    let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    assert!(matches!(
        client.user(&token(), &Cancel::new()),
        Err(Error::BadJson(_))
    ));
    let (stop, n) = collect(&client, "7");
    assert!(matches!(stop, Err(Error::BadJson(_))));
    assert_eq!(n, 0);
}

#[test]
fn redirect_to_another_host_carries_no_token() {
    let other = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, None).unwrap();
    other.set_recording(true);
    // Same host name, another port: still another origin.
    let target = format!("{}/user", other.url());
    let f = faults(move |_| {
        Some(Fault::Respond(
            Response::json(302, &json!({})).header("location", &target),
        ))
    });
    let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, f).unwrap();
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    // The other server sees no token, so it answers 401.
    assert_eq!(
        client.user(&token(), &Cancel::new()),
        Err(Error::Status(401))
    );
    let seen = other.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization, None);
}

#[test]
fn redirect_within_the_origin_keeps_the_token() {
    // GitHub moves a renamed repository's URLs on the same host.
    let f = faults(|r| {
        r.path.starts_with("/repos/acme/old/").then(|| {
            Fault::Respond(
                Response::json(301, &json!({}))
                    .header("location", &r.path.replace("/acme/old/", "/acme/widgets/")),
            )
        })
    });
    let snap = snapshot(
        TOKEN,
        7,
        vec![],
        vec![("acme/widgets#1", vec![file_entry("a.rs", 1, None)])],
    );
    let hub = FakeHub::start(snap, Duration::ZERO, f).unwrap();
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    let files = client
        .pull_request_files(&token(), "acme/old", 1, &Cancel::new())
        .unwrap()
        .files;
    assert_eq!(files.len(), 1);
    let seen = hub.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|r| r.authorization.as_deref() == Some("token ghp_testtoken")));
}

#[test]
fn complete_user_is_cached_incomplete_is_fetched_again() {
    let mut snap = Snapshot::default();
    snap.users.insert("complete".into(), user(1));
    snap.users
        .insert("incomplete".into(), json!({"login": "x", "id": 2}));
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    let cancel = Cancel::new();
    for _ in 0..3 {
        client
            .user(&Token::new("complete").unwrap(), &cancel)
            .unwrap();
        client
            .user(&Token::new("incomplete").unwrap(), &cancel)
            .unwrap();
    }
    let paths: Vec<String> = hub
        .requests()
        .iter()
        .map(|r| r.authorization.clone().unwrap())
        .collect();
    assert_eq!(paths.iter().filter(|a| *a == "token complete").count(), 1);
    assert_eq!(paths.iter().filter(|a| *a == "token incomplete").count(), 3);
}

#[test]
fn cancel_ends_a_back_off_wait_at_once() {
    let f = faults(|_| {
        Some(Fault::Respond(
            // As long as the client waits (its longest back-off is 5 s).
            Response::json(429, &json!({"message": "slow down"})).header("retry-after", "5"),
        ))
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = fast_client(&hub.url());
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        c2.cancel();
    });
    let started = Instant::now();
    assert_eq!(client.user(&token(), &cancel), Err(Error::Cancelled));
    // Not the 5 s wait: cut short by the cancel.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn files_reads_the_first_page_like_2_0_7_or_every_page_when_asked() {
    let files: Vec<Value> = (0..45)
        .map(|i| file_entry(&format!("src/f{i}.rs"), 1, None))
        .collect();
    let snap = snapshot(TOKEN, 7, vec![], vec![("acme/widgets#3", files)]);
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let cancel = Cancel::new();
    let first = fast_client(&hub.url())
        .pull_request_files(&token(), "acme/widgets", 3, &cancel)
        .unwrap()
        .files;
    assert_eq!(first.len(), 30);
    let all = Client::new(fast_config(&hub.url()).all_file_pages(true).build());
    assert_eq!(
        all.pull_request_files(&token(), "acme/widgets", 3, &cancel)
            .unwrap()
            .files
            .len(),
        45
    );
    // per_page=100 holds all 45: one request.
    assert_eq!(all.stats().files, 1);
}

#[test]
fn files_pages_forever_is_bounded() {
    // A server whose `next` link never ends.
    let f = faults(|r| {
        r.path.contains("/files").then(|| {
            Fault::Respond(
                Response::json(200, &json!([file_entry("a.rs", 1, None)]))
                    .header("link", &format!("<{}&x=1>; rel=\"next\"", r.path)),
            )
        })
    });
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![], vec![]), Duration::ZERO, f).unwrap();
    let client = Client::new(fast_config(&hub.url()).all_file_pages(true).build());
    let list = client
        .pull_request_files(&token(), "acme/widgets", 1, &Cancel::new())
        .unwrap();
    assert_eq!(list.files.len(), 30);
    // Cut short by the guard: not a list worth keeping across rounds.
    assert!(!list.complete);
}

#[test]
fn bad_repository_names_are_not_put_in_a_url() {
    let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, None).unwrap();
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    for repo in ["../../user", "acme/../x", "acme/wid gets", "noslash"] {
        assert!(matches!(
            client.pull_request_files(&token(), repo, 1, &Cancel::new()),
            Err(Error::BadRepository(_))
        ));
    }
    assert!(hub.requests().is_empty());
}

#[test]
fn errors_and_debug_output_never_show_the_token() {
    let hub = FakeHub::start(Snapshot::default(), Duration::ZERO, None).unwrap();
    let client = fast_client(&hub.url());
    let err = client.user(&token(), &Cancel::new()).unwrap_err();
    let printed = format!("{err} {err:?} {client:?} {:?}", token());
    assert!(!printed.contains(TOKEN), "{printed}");
}

#[test]
fn rest_requests_send_the_api_version_they_are_written_for() {
    let hub = hub_limiting_once("/nothing");
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    let cancel = Cancel::new();
    client.user(&token(), &cancel).unwrap();
    client
        .pull_request_files(&token(), "acme/widgets", 1, &cancel)
        .unwrap();
    let rest: Vec<_> = hub
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(rest.len(), 2);
    for r in rest {
        assert_eq!(r.api_version.as_deref(), Some("2022-11-28"), "{}", r.path);
    }
}

#[test]
fn user_asked_again_carries_its_etag_and_a_304_reuses_the_answer() {
    let mut snap = Snapshot::default();
    snap.users
        .insert("incomplete".into(), json!({"login": "x", "id": 2}));
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    hub.set_recording(true);
    let client = fast_client(&hub.url());
    let token = Token::new("incomplete").unwrap();
    let answers: Vec<_> = (0..3)
        .map(|_| client.user(&token, &Cancel::new()).unwrap().id)
        .collect();
    assert_eq!(answers, vec![Some(2); 3]);
    let sent: Vec<bool> = hub
        .requests()
        .iter()
        .map(|r| r.if_none_match.is_some())
        .collect();
    assert_eq!(sent, vec![false, true, true]);
    let s = client.stats();
    assert_eq!((s.user, s.not_modified), (3, 2));
}

#[test]
fn a_null_nodes_list_reads_as_empty_and_keeps_the_pull_request() {
    let node = pr_node(
        "acme/widgets",
        1,
        json!({"closingIssuesReferences": {"nodes": null}, "reviews": {"nodes": null}}),
    );
    assert!(node["reviews"]["nodes"].is_null());
    let hub = FakeHub::start(snapshot(TOKEN, 7, vec![node], vec![]), Duration::ZERO, None).unwrap();
    assert_eq!(
        collect(&fast_client(&hub.url()), "7"),
        (Ok(Stop::LastPage), 1)
    );
}
