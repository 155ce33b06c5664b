//! The endpoint: hyper's HTTP/1 server on the event loop, answering `GET`
//! (and `HEAD`) `/healthz`, `/readyz` and `/metrics` from the board.
//!
//! Whoever can reach the port (a scraper gone wrong, any local user, the
//! network when it is bound to 0.0.0.0) must not be able to take the
//! validator down through it, so the endpoint's appetite is bounded:
//!
//! - at most [`MAX_CONNECTIONS`] connections are held at once; one past
//!   that is answered `503` and closed on the spot, so a flood never holds
//!   the file descriptors GitHub, the axons and the chain need;
//! - a connection that has not sent a whole request head within
//!   [`HEADER_TIMEOUT`] (a request line that never ends, a client idle
//!   between keep-alive requests) is closed, and none is kept longer than
//!   [`CONNECTION_LIFETIME`];
//! - a request head is at most [`MAX_HEAD`] bytes (past that: `431`);
//! - an accept that fails (out of file descriptors) pauses accepting for
//!   [`ACCEPT_BACKOFF`] instead of retrying at once: the pending
//!   connection keeps the listener readable, so retrying would spin.
//!
//! Parsing, keep-alive, `HEAD` and the error answers are hyper's.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::{Board, Status};

/// Connections held at once; scrapers and probes need a handful.
pub const MAX_CONNECTIONS: usize = 32;

/// How long a connection may take to send a request head, idle time
/// before it included.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a connection is kept, however busy.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// The largest request head (request line and headers) read, in bytes.
pub const MAX_HEAD: usize = 16 * 1024;

/// The pause after an accept that failed for want of a resource.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(500);

/// What a connection past [`MAX_CONNECTIONS`] is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\nretry-after: 1\r\n\r\n";

/// How often at most a flood of refused connections is logged.
const REFUSED_LOG_EVERY: Duration = Duration::from_secs(60);

/// Binds `addr` and serves `/healthz`, `/readyz` and `/metrics` from `board` until the
/// runtime stops. Returns the bound address (useful with port 0).
pub async fn serve(addr: SocketAddr, board: Arc<Board>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(accept_loop(listener, board));
    Ok(local)
}

async fn accept_loop(listener: TcpListener, board: Arc<Board>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .max_header_size(MAX_HEAD);
    let http = Arc::new(http);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut failing = false;
    let mut refused = Refused::default();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // The client gave up before we took it: nothing of ours is short.
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                if !failing {
                    log::warn!(
                        "health endpoint: cannot accept a connection ({e}); trying again every {} ms",
                        ACCEPT_BACKOFF.as_millis()
                    );
                    failing = true;
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if failing {
            log::info!("health endpoint: accepting connections again");
            failing = false;
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused.one();
            turn_away(stream);
            continue;
        };
        let (board, http) = (board.clone(), http.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request| {
                let response = answer(&board, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            // A client that closes early or sends garbage is hyper's to
            // answer (400, 431) or drop; nothing to log.
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
        });
    }
}

/// Accept errors about one connection only (it was reset before it was
/// taken): the next accept may go on at once.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

/// Answers a connection past the bound with a 503 and closes it, without
/// waiting on it: the write goes into an empty send buffer or not at all.
fn turn_away(stream: tokio::net::TcpStream) {
    use std::io::Write;
    if let Ok(stream) = stream.into_std() {
        let _ = (&stream).write(BUSY);
    }
}

/// Connections turned away, logged at the first and then at most once a
/// minute, so that a flood cannot flood the log too.
#[derive(Default)]
struct Refused {
    since_log: u64,
    logged: Option<Instant>,
}

impl Refused {
    fn one(&mut self) {
        self.since_log += 1;
        if self
            .logged
            .is_none_or(|at| at.elapsed() >= REFUSED_LOG_EVERY)
        {
            log::warn!(
                "health endpoint: {} connection(s) refused with {MAX_CONNECTIONS} held already",
                self.since_log
            );
            self.since_log = 0;
            self.logged = Some(Instant::now());
        }
    }
}

/// The answer to one request.
fn answer(board: &Board, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "text/plain", String::new());
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let json = |status: Status| {
        let code = if status.problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        // Plain data with string keys: serializing cannot fail.
        let body = serde_json::to_string(&status).unwrap_or_default();
        plain(code, "application/json", body)
    };
    match request.uri().path() {
        "/healthz" => json(board.status()),
        "/readyz" => json(board.readiness()),
        "/metrics" => plain(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            board.metrics_text(),
        ),
        _ => plain(StatusCode::NOT_FOUND, "text/plain", String::new()),
    }
}

fn plain(status: StatusCode, kind: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    r
}
