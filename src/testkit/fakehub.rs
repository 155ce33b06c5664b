//! A GitHub-shaped HTTP server on 127.0.0.1, serving a [`Snapshot`] (the
//! replay format, [`crate::replay`]): the demo, `--replay`, the tests and
//! the benchmarks all talk to it through the real client (ureq, HTTP,
//! JSON). Faults can be injected per request (the `testkit` feature, for
//! the crate's own tests and benchmarks).
//!
//! It is a small std server, one thread per connection, kept alive between
//! requests as GitHub does until the client closes it or it idles (5 s); a
//! fault can drop, stall or cut an answer exactly as a broken network would.

use std::io::{self, BufReader};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::replay::Snapshot;
use crate::testkit::loopback::{self, Server};

// The fault-injection API is the tests' and benchmarks' (the `testkit`
// feature); without it the same types serve the demo and `--replay`
// privately.
#[cfg(not(feature = "testkit"))]
use wire::{Fault, RequestInfo, Response};
#[cfg(feature = "testkit")]
pub use wire::{Fault, RequestInfo, Response};

#[cfg_attr(not(feature = "testkit"), allow(dead_code))]
mod wire {
    use std::time::Duration;

    use serde_json::Value;

    /// One request as the server saw it. `Debug` leaves the token out.
    #[derive(Clone)]
    pub struct RequestInfo {
        /// `GET` or `POST`.
        pub method: String,
        /// Path and query.
        pub path: String,
        /// The `Authorization` header, if any.
        pub authorization: Option<String>,
        /// The request body.
        pub body: String,
        /// The `X-GitHub-Api-Version` header, if any.
        pub api_version: Option<String>,
        /// The `If-None-Match` header, if any.
        pub if_none_match: Option<String>,
    }

    impl std::fmt::Debug for RequestInfo {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RequestInfo")
                .field("method", &self.method)
                .field("path", &self.path)
                .field(
                    "authorization",
                    &self.authorization.as_ref().map(|_| "<redacted>"),
                )
                .field("body", &self.body)
                .field("api_version", &self.api_version)
                .field("if_none_match", &self.if_none_match)
                .finish()
        }
    }

    /// An answer written as is.
    #[derive(Debug, Clone)]
    pub struct Response {
        /// Status code.
        pub status: u16,
        /// Extra headers.
        pub headers: Vec<(String, String)>,
        /// Body.
        pub body: Vec<u8>,
    }

    impl Response {
        /// A JSON answer.
        pub fn json(status: u16, body: &Value) -> Response {
            Response {
                status,
                headers: Vec::new(),
                body: body.to_string().into_bytes(),
            }
        }

        /// Adds a header.
        pub fn header(mut self, name: &str, value: &str) -> Response {
            self.headers.push((name.to_string(), value.to_string()));
            self
        }
    }

    /// What to do to one request instead of (or before) answering it.
    #[derive(Debug, Clone)]
    pub enum Fault {
        /// Answer this instead.
        Respond(Response),
        /// Close the connection without answering.
        Reset,
        /// Wait, then answer normally.
        Stall(Duration),
        /// Answer normally, but send only half the body.
        Truncate,
    }
}

/// Picks a fault for a request, or none.
#[cfg(feature = "testkit")]
pub type FaultFn = Arc<dyn Fn(&RequestInfo) -> Option<Fault> + Send + Sync>;

/// Without the `testkit` feature there is no fault injection: this type has
/// no value, so [`FakeHub::start`] takes only `None`.
#[cfg(not(feature = "testkit"))]
#[derive(Debug)]
pub enum FaultFn {}

#[cfg(feature = "testkit")]
fn fault_for(f: &FaultFn, info: &RequestInfo) -> Option<Fault> {
    f(info)
}

#[cfg(not(feature = "testkit"))]
fn fault_for(f: &FaultFn, _: &RequestInfo) -> Option<Fault> {
    match *f {}
}

/// A running server; stops when dropped.
pub struct FakeHub {
    server: Server,
    // Read by the testkit's methods; the server's thread holds a clone.
    #[cfg_attr(not(feature = "testkit"), allow(dead_code))]
    state: Arc<State>,
}

struct State {
    snapshot: std::sync::RwLock<Arc<Snapshot>>,
    latency: Duration,
    faults: Option<FaultFn>,
    recording: AtomicBool,
    log: Mutex<Vec<RequestInfo>>,
}

impl FakeHub {
    /// Serves `snapshot` on an ephemeral port of 127.0.0.1, each answer
    /// after `latency`, with `faults` consulted for every request.
    pub fn start(
        snapshot: Snapshot,
        latency: Duration,
        faults: Option<FaultFn>,
    ) -> io::Result<FakeHub> {
        let state = Arc::new(State {
            snapshot: std::sync::RwLock::new(Arc::new(snapshot)),
            latency,
            faults,
            recording: AtomicBool::new(false),
            log: Mutex::new(Vec::new()),
        });
        let shared = state.clone();
        let server = Server::start("fakehub", move |conn| {
            let _ = handle(conn, &shared);
        })?;
        Ok(FakeHub { server, state })
    }

    /// Serves `snapshot` from now on (a later round of the same miners).
    #[cfg(feature = "testkit")]
    pub fn replace_snapshot(&self, snapshot: Snapshot) {
        *self
            .state
            .snapshot
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Whether requests are kept for [`FakeHub::requests`]. Off by
    /// default: a test that looks at the requests asks for them, and a
    /// replay or a soak that runs for hours keeps nothing (each request
    /// kept, with its body, is memory that only grows).
    #[cfg(feature = "testkit")]
    pub fn set_recording(&self, on: bool) {
        self.state.recording.store(on, Ordering::SeqCst);
    }

    /// Every request seen while recording ([`FakeHub::set_recording`]).
    ///
    /// # Panics
    /// When recording is off: a test that forgot to ask would see no
    /// requests and could pass for the wrong reason.
    #[cfg(feature = "testkit")]
    pub fn requests(&self) -> Vec<RequestInfo> {
        assert!(
            self.state.recording.load(Ordering::SeqCst),
            "FakeHub::requests: call set_recording(true) first"
        );
        self.state
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Serves the requests of one connection, kept alive between them as
/// GitHub does, until the client closes it, it idles, or a fault drops it.
fn handle(conn: TcpStream, state: &State) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut conn = conn;
    loop {
        let Some((info, close)) = read_request(&mut reader, state)? else {
            return Ok(());
        };
        if !state.latency.is_zero() {
            std::thread::sleep(state.latency);
        }
        let fault = state.faults.as_ref().and_then(|f| fault_for(f, &info));
        let snapshot = state
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match fault {
            Some(Fault::Reset) => return Ok(()),
            Some(Fault::Respond(r)) => write_response(&mut conn, &r, false, close)?,
            Some(Fault::Stall(d)) => {
                std::thread::sleep(d);
                write_response(&mut conn, &answer(&snapshot, &info), false, close)?
            }
            Some(Fault::Truncate) => {
                return write_response(&mut conn, &answer(&snapshot, &info), true, true);
            }
            None => write_response(&mut conn, &answer(&snapshot, &info), false, close)?,
        }
        if close {
            return Ok(());
        }
    }
}

/// Reads one request and keeps it in the log (while recording); `None` at
/// the end of the connection. The flag says whether the client asked to
/// close after it.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    state: &State,
) -> io::Result<Option<(RequestInfo, bool)>> {
    let Some(req) = loopback::read_request(reader, 1 << 20)? else {
        return Ok(None);
    };
    let info = RequestInfo {
        authorization: req.header("authorization").map(str::to_string),
        api_version: req.header("x-github-api-version").map(str::to_string),
        if_none_match: req.header("if-none-match").map(str::to_string),
        method: req.method,
        path: req.path,
        body: String::from_utf8_lossy(&req.body).into_owned(),
    };
    if state.recording.load(Ordering::Relaxed) {
        state
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(info.clone());
    }
    Ok(Some((info, req.close)))
}

fn write_response(
    conn: &mut TcpStream,
    r: &Response,
    truncate: bool,
    close: bool,
) -> io::Result<()> {
    let body = if truncate {
        &r.body[..r.body.len() / 2]
    } else {
        &r.body[..]
    };
    loopback::write_response(conn, r.status, &r.headers, body, r.body.len(), close)
}

fn bad_credentials() -> Response {
    Response::json(
        401,
        &json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn token_of(info: &RequestInfo) -> Option<&str> {
    let auth = info.authorization.as_deref()?;
    auth.strip_prefix("token ")
        .or_else(|| auth.strip_prefix("Bearer "))
}

/// The answer GitHub would give from the snapshot.
fn answer(snap: &Snapshot, info: &RequestInfo) -> Response {
    let known = token_of(info).and_then(|t| snap.users.get(t));
    let (path, query) = info.path.split_once('?').unwrap_or((&info.path, ""));
    match (info.method.as_str(), path) {
        ("GET", "/user") => match known {
            Some(user) => {
                // GitHub's ETag is a hash of the answer; a match is a 304.
                let etag = format!("W/\"{}\"", hex_sha256(user.to_string().as_bytes()));
                if info.if_none_match.as_deref() == Some(etag.as_str()) {
                    let mut r = Response::json(304, &Value::Null);
                    r.body.clear();
                    r.header("etag", &etag)
                } else {
                    Response::json(200, user).header("etag", &etag)
                }
            }
            None => bad_credentials(),
        },
        ("POST", "/graphql") => {
            if known.is_none() {
                return bad_credentials();
            }
            graphql(snap, &info.body)
        }
        ("GET", p) if p.starts_with("/repos/") && p.ends_with("/files") => {
            if known.is_none() {
                return bad_credentials();
            }
            files(snap, p, query)
        }
        _ => Response::json(404, &json!({"message": "Not Found"})),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn graphql(snap: &Snapshot, body: &str) -> Response {
    let Ok(req) = serde_json::from_str::<Value>(body) else {
        return Response::json(400, &json!({"message": "Problems parsing JSON"}));
    };
    let vars = &req["variables"];
    let id = vars["userId"]
        .as_str()
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("04:User").map(str::to_string));
    let Some(prs) = id.and_then(|id| snap.pull_requests.get(&id)) else {
        return Response::json(200, &json!({"data": {"node": null}}));
    };
    let first = vars["limit"].as_u64().unwrap_or(100).min(100) as usize;
    let offset = vars["cursor"]
        .as_str()
        .and_then(|c| c.strip_prefix("o"))
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0)
        .min(prs.len());
    let end = (offset + first).min(prs.len());
    let has_next = end < prs.len();
    Response::json(
        200,
        &json!({"data": {"node": {"pullRequests": {
            "pageInfo": {"hasNextPage": has_next, "endCursor": if end > offset { Some(format!("o{end}")) } else { None }},
            "nodes": &prs[offset..end]
        }}}}),
    )
}

fn files(snap: &Snapshot, path: &str, query: &str) -> Response {
    // /repos/{owner}/{name}/pulls/{n}/files
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let key = match parts.as_slice() {
        ["repos", owner, name, "pulls", n, "files"] => format!("{owner}/{name}#{n}"),
        _ => return Response::json(404, &json!({"message": "Not Found"})),
    };
    // Exact key first; GitHub's paths are case-insensitive, so fall back to a scan.
    let found = snap.files.get(&key).or_else(|| {
        snap.files
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
            .map(|(_, v)| v)
    });
    let Some(all) = found else {
        return Response::json(404, &json!({"message": "Not Found"}));
    };
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let per_page = param("per_page").unwrap_or(30).clamp(1, 100);
    let page = param("page").unwrap_or(1).max(1);
    let start = ((page - 1) * per_page).min(all.len());
    let end = (start + per_page).min(all.len());
    let mut r = Response::json(200, &Value::Array(all[start..end].to_vec()));
    if end < all.len() {
        r = r.header(
            "link",
            &format!(
                "<{path}?per_page={per_page}&page={}>; rel=\"next\"",
                page + 1
            ),
        );
    }
    r
}
