//! The blocking client: one HTTP exchange, the retry loop around it, and
//! the three calls scoring needs.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};

use super::policy::{
    backoff, graphql_error_type, rate_limit_wait, smaller_page, verdict, Answer, Verdict,
};
use super::stats::{Counters, Endpoint, RequestStats};
use super::urls::{is_path_segment, next_link, origin_of, resolve};
use super::{ClientConfig, Error, PULL_REQUESTS_QUERY};
use crate::cancel::Cancel;
use crate::scoring::{parse_files, FileChange, GithubUser, PageStep, PrCollector, Stop};
use crate::token::Token;

/// Most `/files` pages read when every page is asked for (GitHub lists 3 000
/// files at most, 100 a page).
const MAX_FILE_PAGES: usize = 30;
/// Most GraphQL pages per miner: a guard against a server that never ends.
const MAX_PR_PAGES: usize = 500;

/// A blocking GitHub client. Cheap to clone (an `Arc` inside, like ureq's
/// `Agent`): clone it into each blocking task.
///
/// Only HTTP: it keeps nothing across calls but `/user` answers and request
/// counts (what is worth keeping across rounds is the round's decision).
/// Its three calls are the steps of one miner's evaluation
/// ([`crate::pipeline::evaluate_miner`]), offered on their own on purpose,
/// for a script that looks at one account or one pull request:
///
/// ```
/// # use std::{path::Path, time::Duration};
/// use gittensor_validator::cancel::Cancel;
/// use gittensor_validator::github::{Client, ClientConfig};
/// use gittensor_validator::scoring::{MasterRepositories, PrCollector};
/// use gittensor_validator::token::Token;
/// # use gittensor_validator::{replay::Snapshot, testkit::fakehub::FakeHub};
/// # let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
/// # let read = |f: &str| std::fs::read_to_string(sample.join(f)).unwrap();
/// # let snapshot: Snapshot = serde_json::from_str(&read("snapshot.json")).unwrap();
/// // A local server answering as GitHub did for the bundled sample.
/// let hub = FakeHub::start(snapshot, Duration::ZERO, None)?;
/// let client = Client::new(ClientConfig::builder().base_url(hub.url()).build());
/// let (token, cancel) = (Token::new("demo-token-alice").ok_or("token")?, Cancel::new());
///
/// let user = client.user(&token, &cancel)?;
/// assert_eq!(user.id, Some(1001));
/// let repos = MasterRepositories::parse(&read("repositories.json"), "sample")?;
/// let now = time::macros::datetime!(2025-12-20 12:00 UTC);
/// let mut collector = PrCollector::new(&repos, now);
/// client.collect_pull_requests(&token, "1001", &mut collector, &cancel, &mut |_| {})?;
/// assert_eq!(collector.finish().pull_requests.len(), 2);
///
/// let list = client.pull_request_files(&token, "acme/widgets", 42, &cancel)?;
/// assert!(list.complete && !list.files.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    config: ClientConfig,
    origin: Option<String>,
    users: Mutex<HashMap<[u8; 32], KnownUser>>,
    counters: Counters,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A `/user` answer kept in memory per token fingerprint (never the token,
/// never on disk), with its `ETag` for a conditional ask.
#[derive(Clone)]
struct KnownUser {
    user: GithubUser,
    etag: Option<String>,
}

/// A pull request's files as [`Client::pull_request_files`] read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileList {
    /// The files, in GitHub's order.
    pub files: Vec<FileChange>,
    /// Whether every page asked for was read: false only when the client's
    /// page guard ran out first (more pages than GitHub lists).
    pub complete: bool,
}

/// The REST API version the client is written for, sent with every REST
/// request as `X-GitHub-Api-Version`.
pub const API_VERSION: &str = "2022-11-28";

enum Method<'a> {
    Get,
    Post(&'a str),
}

/// What the retry loop does after one attempt. (Not `Attempt`: that is
/// `validate`'s outcome of a weights submission.)
enum Next<T> {
    Done(T),
    Fatal(Error),
    /// Try again after the wait, within the retry budget.
    Retry(Error, Duration),
}

/// One GraphQL page's outcome: its answer, or GitHub refused its cost
/// (502/504 or `RESOURCE_LIMITS_EXCEEDED`) and it is asked again at the
/// smaller size.
enum Page {
    Answer(Value),
    Smaller(Error, usize),
}

impl Client {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Client {
        // One idle connection per miner in flight, all to the one host.
        let agent = crate::transport::agent(
            config.timeout(),
            config.user_agent(),
            config.max_idle_connections(),
            config.input_buffer_size(),
            config.output_buffer_size(),
        );
        let origin = origin_of(config.base_url());
        Client {
            inner: Arc::new(Inner {
                agent,
                config,
                origin,
                users: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// The client's config.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Requests sent so far.
    pub fn stats(&self) -> RequestStats {
        self.inner.counters.load()
    }

    /// `GET /user` for the token's account (SCORING.md §3). An answer with
    /// both `id` and `created_at` is cached per token for the life of the
    /// client, as the reference validator's in-process cache does; an
    /// incomplete one is asked again next time, with `If-None-Match` and
    /// the `ETag` it came with: GitHub's 304 costs no rate limit.
    pub fn user(&self, token: &Token, cancel: &Cancel) -> Result<GithubUser, Error> {
        let key = token.fingerprint();
        let known = self.lock_users().get(&key).cloned();
        if let Some(k) = known.as_ref().filter(|k| k.user.is_complete()) {
            return Ok(k.user.clone());
        }
        let etag = known.as_ref().and_then(|k| k.etag.clone());
        let url = format!("{}/user", self.config().base_url());
        let auth = format!("token {}", token.expose());
        let answer = self.retrying(cancel, |k| {
            self.rest_attempt(Endpoint::User, &url, &auth, etag.as_deref(), k)
        })?;
        if answer.status == 304 {
            self.inner
                .counters
                .not_modified
                .fetch_add(1, Ordering::Relaxed);
            // A 304 only answers a conditional ask, made only with a known user.
            return known.map(|k| k.user).ok_or(Error::Status(304));
        }
        let user: GithubUser =
            serde_json::from_str(&answer.body).map_err(|e| Error::BadJson(e.to_string()))?;
        if user.is_complete() || answer.etag.is_some() {
            let etag = answer.etag.filter(|e| e.len() <= MAX_ETAG_LEN);
            let known = KnownUser {
                user: user.clone(),
                etag,
            };
            self.lock_users().insert(key, known);
        }
        Ok(user)
    }

    /// Pages through the account's pull requests (SCORING.md §4), feeding
    /// each page to `collector` after showing its answer to `seen_page` (a
    /// round's recording keeps them, through
    /// [`crate::scoring::page_nodes`]; pass `&mut |_| {}` to ignore them).
    /// Returns why paging stopped; an `Err` is a page that failed after its
    /// retries, and what the collector holds from earlier pages stays valid.
    ///
    /// A page answered with 502/504 or `RESOURCE_LIMITS_EXCEEDED` is asked
    /// again at half the size, down to `min_page_size`, for this and the
    /// following pages: GitHub times out on large accounts at `first: 100`.
    pub fn collect_pull_requests(
        &self,
        token: &Token,
        github_id: &str,
        collector: &mut PrCollector<'_>,
        cancel: &Cancel,
        seen_page: &mut dyn FnMut(&Value),
    ) -> Result<Stop, Error> {
        let node_id =
            base64::engine::general_purpose::STANDARD.encode(format!("04:User{github_id}"));
        let url = format!("{}/graphql", self.config().base_url());
        let auth = format!("Bearer {}", token.expose());
        let floor = self.config().min_page_size();
        // The page size in force: halved when GitHub refuses a page for its
        // cost, and kept small for the pages after it.
        let mut size = crate::scoring::PR_PAGE_LIMIT;
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PR_PAGES {
            let cap = collector.next_limit();
            if cap == 0 {
                return Ok(Stop::Cap);
            }
            let answer = loop {
                let first = cap.min(size);
                let body = json!({
                    "query": PULL_REQUESTS_QUERY,
                    "variables": {"userId": node_id, "limit": first, "cursor": cursor},
                })
                .to_string();
                let page = self.retrying(cancel, |k| {
                    let a = match self.exchange(
                        Endpoint::Graphql,
                        Method::Post(&body),
                        &url,
                        &auth,
                        &[],
                    ) {
                        Ok(a) => a,
                        Err(e) => return self.transport_attempt(e, k),
                    };
                    // A page refused for its cost is asked again smaller,
                    // down to the floor; at the floor it is judged as any
                    // other answer.
                    let smaller = smaller_page(first, floor);
                    if let (502 | 504, Some(smaller)) = (a.status, smaller) {
                        return Next::Done(Page::Smaller(Error::Status(a.status), smaller));
                    }
                    if let Some(fail) = self.status_attempt(&a, k) {
                        return fail;
                    }
                    let value: Value = match serde_json::from_str(&a.body) {
                        Ok(v) => v,
                        Err(e) => return Next::Fatal(Error::BadJson(e.to_string())),
                    };
                    match (graphql_error_type(&value), smaller) {
                        (Some("RESOURCE_LIMITS_EXCEEDED"), Some(smaller)) => {
                            Next::Done(Page::Smaller(Error::ResourceLimits, smaller))
                        }
                        (Some("RATE_LIMITED" | "RATE_LIMIT"), _) => self.rate_limit_attempt(&a),
                        _ => Next::Done(Page::Answer(value)),
                    }
                })?;
                match page {
                    Page::Answer(value) => break value,
                    Page::Smaller(e, smaller) => {
                        log::debug!(
                            "graphql at first:{first}: {e}; asking again at first:{smaller}"
                        );
                        self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                        size = smaller;
                    }
                }
            };
            seen_page(&answer);
            match collector.add_page(&answer) {
                PageStep::Next(next) => {
                    if !seen.insert(next.clone()) {
                        return Ok(Stop::Malformed("endCursor repeats an earlier page".into()));
                    }
                    cursor = Some(next);
                }
                PageStep::Done(stop) => return Ok(stop),
            }
        }
        Ok(Stop::Malformed(format!("more than {MAX_PR_PAGES} pages")))
    }

    /// `GET /repos/{owner}/{name}/pulls/{number}/files` (SCORING.md §6):
    /// the first page, as release 2.0.7 reads, or every page when
    /// `all_file_pages` is set; with whether every page asked for was read
    /// (only a complete list is worth keeping across rounds).
    pub fn pull_request_files(
        &self,
        token: &Token,
        repository: &str,
        number: u64,
        cancel: &Cancel,
    ) -> Result<FileList, Error> {
        let (owner, name) = repository
            .split_once('/')
            .filter(|(o, n)| is_path_segment(o) && is_path_segment(n))
            .ok_or_else(|| Error::BadRepository(repository.chars().take(100).collect()))?;
        let all = self.config().all_file_pages();
        let mut url = format!(
            "{}/repos/{owner}/{name}/pulls/{number}/files",
            self.config().base_url()
        );
        if all {
            url.push_str("?per_page=100");
        }
        let auth = format!("token {}", token.expose());
        let mut files = Vec::new();
        for _ in 0..MAX_FILE_PAGES {
            let a = self.retrying(cancel, |k| {
                self.rest_attempt(Endpoint::Files, &url, &auth, None, k)
            })?;
            let value: Value =
                serde_json::from_str(&a.body).map_err(|e| Error::BadJson(e.to_string()))?;
            files.extend(parse_files(&value).map_err(Error::BadJson)?);
            let next = a.link.as_deref().and_then(next_link);
            match next.and_then(|n| resolve(&url, &n)) {
                Some(next) if all => url = next,
                _ => {
                    return Ok(FileList {
                        files,
                        complete: true,
                    })
                }
            }
        }
        Ok(FileList {
            files,
            complete: false,
        })
    }

    fn lock_users(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], KnownUser>> {
        // The cache holds plain data; a panic elsewhere cannot leave it torn.
        self.inner.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One REST GET, classified for the retry loop; with `if_none_match`,
    /// a conditional one whose 304 is an answer.
    fn rest_attempt(
        &self,
        endpoint: Endpoint,
        url: &str,
        auth: &str,
        if_none_match: Option<&str>,
        k: u32,
    ) -> Next<Answer> {
        let extra: &[(&str, &str)] = match if_none_match {
            Some(etag) => &[("if-none-match", etag)],
            None => &[],
        };
        match self.exchange(endpoint, Method::Get, url, auth, extra) {
            Ok(a) if a.status == 304 && if_none_match.is_some() => Next::Done(a),
            Ok(a) => match self.status_attempt(&a, k) {
                Some(fail) => fail,
                None => Next::Done(a),
            },
            Err(e) => self.transport_attempt(e, k),
        }
    }

    /// Runs `once` until it is done, fails for good, the retry budget is
    /// spent, or `cancel` is set (checked before each try and while waiting).
    fn retrying<T>(
        &self,
        cancel: &Cancel,
        mut once: impl FnMut(u32) -> Next<T>,
    ) -> Result<T, Error> {
        let mut retries = 0;
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            match once(retries) {
                Next::Done(t) => return Ok(t),
                Next::Fatal(e) => return Err(e),
                Next::Retry(e, wait) => {
                    if retries >= self.config().max_retries() {
                        return Err(e);
                    }
                    retries += 1;
                    self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                    log::debug!("retry {retries} in {wait:?} after: {e}");
                    if cancel.sleep(wait) {
                        return Err(Error::Cancelled);
                    }
                }
            }
        }
    }

    fn transport_attempt<T>(&self, e: Error, k: u32) -> Next<T> {
        match e {
            Error::Timeout | Error::Transport(_) => Next::Retry(e, backoff(self.config(), k)),
            e => Next::Fatal(e),
        }
    }

    /// `None` for a 2xx; otherwise what to do about the status (see
    /// [`verdict`], which decides it with the clock read here).
    fn status_attempt<T>(&self, a: &Answer, k: u32) -> Option<Next<T>> {
        self.act(verdict(a, k, unix_now(), self.config()), a.status)
    }

    /// A GraphQL answer whose body says it is rate limited.
    fn rate_limit_attempt<T>(&self, a: &Answer) -> Next<T> {
        let wait = rate_limit_wait(a, unix_now(), self.config());
        self.act(Verdict::wait_or_give_up(wait, self.config()), a.status)
            .unwrap_or(Next::Fatal(Error::Status(a.status)))
    }

    /// Turns a verdict into the retry loop's next step, counting waits.
    fn act<T>(&self, v: Verdict, status: u16) -> Option<Next<T>> {
        match v {
            Verdict::Accept => None,
            Verdict::Retry(wait) => Some(Next::Retry(Error::Status(status), wait)),
            Verdict::RateLimited(wait) => {
                self.inner
                    .counters
                    .rate_limit_waits
                    .fetch_add(1, Ordering::Relaxed);
                Some(Next::Retry(Error::Status(status), wait))
            }
            Verdict::RateLimitedTooLong(wait) => {
                log::warn!(
                    "github rate limit asks for {}s, more than the client waits",
                    wait.as_secs()
                );
                Some(Next::Fatal(Error::RateLimited { wait }))
            }
            Verdict::Fail => Some(Next::Fatal(Error::Status(status))),
        }
    }

    /// One request, following redirects by hand, body read under the limit.
    fn exchange(
        &self,
        endpoint: Endpoint,
        method: Method<'_>,
        url: &str,
        auth: &str,
        extra: &[(&str, &str)],
    ) -> Result<Answer, Error> {
        self.inner
            .counters
            .of(endpoint)
            .fetch_add(1, Ordering::Relaxed);
        let mut url = url.to_string();
        let mut hops = 0;
        loop {
            let same_origin = self.inner.origin.is_some() && origin_of(&url) == self.inner.origin;
            let token = same_origin.then_some(auth);
            let agent = &self.inner.agent;
            let result = match method {
                Method::Get => {
                    let mut req = with_token(agent.get(&url), token)
                        .header("accept", "application/vnd.github+json")
                        .header("x-github-api-version", API_VERSION);
                    for (name, value) in extra {
                        req = req.header(*name, *value);
                    }
                    req.call()
                }
                Method::Post(body) => with_token(agent.post(&url), token)
                    .header("content-type", "application/json")
                    .send(body),
            };
            let mut resp = result.map_err(Error::from)?;
            let status = resp.status().as_u16();
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            if matches!(status, 301 | 302 | 303 | 307 | 308) && matches!(method, Method::Get) {
                hops += 1;
                if hops > self.config().max_redirects() {
                    return Err(Error::Redirect("too many redirects".into()));
                }
                let location =
                    header("location").ok_or_else(|| Error::Redirect("no location".into()))?;
                url = resolve(&url, &location)
                    .ok_or_else(|| Error::Redirect("bad location".into()))?;
                log::debug!("following a {status} redirect");
                continue;
            }
            let num = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
            let (retry_after, remaining, reset) = (
                num("retry-after"),
                num("x-ratelimit-remaining"),
                num("x-ratelimit-reset"),
            );
            let link = header("link");
            let etag = header("etag");
            let body = resp
                .body_mut()
                .with_config()
                .limit(self.config().max_body_bytes())
                .read_to_string()
                .map_err(Error::from)?;
            return Ok(Answer {
                status,
                retry_after,
                remaining,
                reset,
                link,
                etag,
                body,
            });
        }
    }
}

/// Adds the `Authorization` header when there is a token to send (only to
/// the configured origin).
fn with_token<B>(req: ureq::RequestBuilder<B>, token: Option<&str>) -> ureq::RequestBuilder<B> {
    match token {
        Some(t) => req.header("authorization", t),
        None => req,
    }
}

/// Longest `ETag` kept (GitHub's are a quoted hash of under 100 bytes).
const MAX_ETAG_LEN: usize = 256;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
