//! The results database: every round's evaluations in PostgreSQL, in the
//! tables and rows of gittensor 2.0.7's `DatabaseStorage` (its switch
//! `--database.store_validation_results`, its `DB_*` variables), plus a
//! round history of our own (`gv_round_history`).
//!
//! - `rows.rs`: a judged round as rows (pure; tested without a server).
//! - `schema.rs`: the tables (2.0.7's names, types, keys; ours `gv_`).
//! - `config.rs`: [`Config`], where the server is and how the writer
//!   behaves.
//! - `write.rs`: the blocking `postgres` client: the schema made sure of,
//!   the rows upserted with 2.0.7's conflict rules, step by step.
//! - here: [`ResultsDb`], the handle the loops give each judged round to.
//!   A background task writes it through the bridge (never on the event
//!   loop), retries with back-off while the server is away, keeps at most
//!   [`Config`]'s `max_pending` rounds unwritten (the oldest dropped with a
//!   WARN), and reports on the board. A database fault is never a round's:
//!   nothing here is awaited by a round, a fold or a weight setting.

mod config;
pub mod rows;
pub mod schema;
mod write;

pub use config::{Config, ConfigBuilder};

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bridge;
use crate::health::{Board, ResultsDbStatus};
use crate::scoring::RoundReport;

/// Why the database could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The connection string or a setting is not valid.
    Config(String),
    /// No connection: the server is down, refuses us, or the login failed.
    Connect(String),
    /// The server failed a statement, or the connection broke mid-way.
    Server(String),
    /// The database holds tables of a newer build of ours.
    SchemaTooNew {
        /// The version found in `gv_schema_version`.
        found: i32,
        /// This build's.
        ours: i32,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "bad database settings: {e}"),
            Error::Connect(e) => write!(f, "cannot connect: {e}"),
            Error::Server(e) => write!(f, "server error: {e}"),
            Error::SchemaTooNew { found, ours } => write!(
                f,
                "schema version {found} is newer than this build's ({ours}): upgrade the validator"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    fn connect(e: postgres::Error) -> Error {
        Error::Connect(error_text(&e))
    }

    fn server(e: postgres::Error) -> Error {
        Error::Server(error_text(&e))
    }
}

/// A postgres error with its cause (the crate's `Display` stops at the
/// kind: "error connecting to server"). It never holds the password: the
/// crate's messages name options, not their values.
fn error_text(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text = format!("{text}: {s_text}");
        }
        source = s.source();
    }
    text
}

/// The first wait after a failed write; it doubles up to `retry_max`.
const RETRY_MIN: Duration = Duration::from_secs(1);

/// While a loop's end waits for its unwritten rounds, the longest between
/// two attempts.
pub const FLUSH_RETRY: Duration = Duration::from_secs(5);

/// The results database of a running validator: judged rounds go in,
/// a background task writes them.
#[derive(Clone)]
pub struct ResultsDb {
    inner: Arc<Inner>,
}

impl fmt::Debug for ResultsDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultsDb")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: Config,
    queue: Mutex<Queue>,
    /// A round was queued.
    wake: tokio::sync::Notify,
    /// A write attempt ended.
    attempted: tokio::sync::Notify,
    started: AtomicBool,
}

#[derive(Default)]
struct Queue {
    rounds: VecDeque<Arc<RoundReport>>,
    dropped: u64,
}

impl ResultsDb {
    /// A handle; nothing connects before [`ResultsDb::start`] or the first
    /// [`ResultsDb::submit`].
    pub fn new(config: Config) -> ResultsDb {
        ResultsDb {
            inner: Arc::new(Inner {
                config,
                queue: Mutex::new(Queue::default()),
                wake: tokio::sync::Notify::new(),
                attempted: tokio::sync::Notify::new(),
                started: AtomicBool::new(false),
            }),
        }
    }

    /// `user@host:port/dbname`.
    pub fn target(&self) -> &str {
        self.inner.config.target()
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        // Plain data: a panic elsewhere cannot leave it torn.
        self.inner.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rounds not written yet.
    pub fn pending(&self) -> usize {
        self.queue().rounds.len()
    }

    /// Hands a judged round over (its `discarded` set or not) and returns
    /// at once; the first call starts the writer on the current tokio
    /// runtime, reporting on `board`. Must be called from within a runtime.
    pub fn submit(&self, report: &RoundReport, board: &Arc<Board>) {
        let round = Arc::new(report.clone());
        let pending = {
            let mut q = self.queue();
            if q.rounds.len() >= self.inner.config.max_pending {
                if let Some(old) = q.rounds.pop_front() {
                    q.dropped += 1;
                    log::warn!(
                        "results database: {} rounds unwritten, the oldest (round of {}) dropped; {} dropped since start",
                        self.inner.config.max_pending,
                        old.now,
                        q.dropped
                    );
                    board.results_db_dropped();
                }
            }
            q.rounds.push_back(round);
            q.rounds.len()
        };
        board.results_db_pending(pending);
        self.start(board);
        self.inner.wake.notify_one();
    }

    /// Starts the writer on the current tokio runtime, once: it connects
    /// and makes sure of the tables now, so a server down at start is said
    /// at start (a WARN, then retries). Must be called within a runtime.
    pub fn start(&self, board: &Arc<Board>) {
        if !self.inner.started.swap(true, Ordering::SeqCst) {
            board.results_db_status(ResultsDbStatus {
                target: self.target().to_string(),
                ..ResultsDbStatus::default()
            });
            tokio::spawn(writer(self.clone(), board.clone()));
        }
    }

    /// Waits until every submitted round is written, for at most `within`,
    /// with an attempt at least every [`FLUSH_RETRY`] meanwhile (not the
    /// back-off's minute); returns the rounds still unwritten then.
    pub async fn flush(&self, within: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let attempted = self.inner.attempted.notified();
            tokio::pin!(attempted);
            attempted.as_mut().enable();
            let pending = self.pending();
            if pending == 0 {
                return 0;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return pending;
            }
            let step = FLUSH_RETRY.min(deadline - now);
            if tokio::time::timeout(step, attempted).await.is_err() {
                // Cuts the writer's back-off short.
                self.inner.wake.notify_one();
            }
        }
    }
}

/// A connection that is never closed on the event loop. Closing one
/// blocks (a goodbye to the server) on the postgres crate's own runtime,
/// which panics when started on a thread that drives ours: dropped where a
/// tokio runtime is current (the writer task dropped at shutdown, or a
/// bridge thread, which cannot be told apart), it is closed on a thread of
/// its own; without a runtime, in place.
struct Conn(Option<postgres::Client>);

impl Conn {
    fn is_usable(&self) -> bool {
        self.0.as_ref().is_some_and(|c| !c.is_closed())
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            drop(client);
            return;
        }
        // Handed over through a slot: a spawn that fails (no thread to be
        // had, as when the process is out of resources) drops its closure
        // here, and the client with it would panic; it is forgotten
        // instead (the server closes it when the socket goes).
        let slot = Arc::new(Mutex::new(Some(client)));
        let theirs = slot.clone();
        let closer = std::thread::Builder::new().name("results-db-close".into());
        let spawned = closer.spawn(move || {
            let client = theirs.lock().unwrap_or_else(|e| e.into_inner()).take();
            drop(client);
        });
        if let Err(e) = spawned {
            log::debug!("results database: no thread to close the connection: {e}");
            let left = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            std::mem::forget(left);
        }
    }
}

/// One attempt: connect when there is no usable connection (the schema
/// made sure of), then write `round` if there is one. A connection that
/// sat idle may have been closed by the server: a failure on it is tried
/// once more on a fresh one before it counts.
fn attempt(
    cfg: &Config,
    conn: Option<Conn>,
    round: Option<&RoundReport>,
) -> (Option<Conn>, Result<Option<write::Written>, Error>) {
    let reused = conn.is_some();
    match attempt_once(cfg, conn, round) {
        (_, Err(_)) if reused => attempt_once(cfg, None, round),
        done => done,
    }
}

fn attempt_once(
    cfg: &Config,
    conn: Option<Conn>,
    round: Option<&RoundReport>,
) -> (Option<Conn>, Result<Option<write::Written>, Error>) {
    let mut conn = match conn.filter(Conn::is_usable) {
        Some(c) => c,
        None => match write::connect(cfg) {
            Ok(c) => Conn(Some(c)),
            Err(e) => return (None, Err(e)),
        },
    };
    let Some(round) = round else {
        return (Some(conn), Ok(None));
    };
    let Some(client) = conn.0.as_mut() else {
        return (None, Err(Error::Server("internal: no connection".into())));
    };
    let rows = rows::round_rows(round);
    match write::write_round(client, &rows, cfg.history_days) {
        Ok(w) => (Some(conn), Ok(Some(w))),
        // A fresh connection next time: this one may be half-way through
        // anything.
        Err(e) => (None, Err(e)),
    }
}

/// The background writer: it connects at once (so a server down at start
/// is said at start), then writes the oldest pending round through the
/// bridge; on a failure, the same round again after a back-off. One WARN
/// when an outage starts, one INFO when it ends.
async fn writer(db: ResultsDb, board: Arc<Board>) {
    let config = db.inner.config.clone();
    let mut client: Option<Conn> = None;
    let mut wait = RETRY_MIN;
    let mut down_since: Option<Instant> = None;
    let mut connected_once = false;
    let mut status = ResultsDbStatus {
        target: config.target.clone(),
        ..ResultsDbStatus::default()
    };
    loop {
        let wake = db.inner.wake.notified();
        let next = db.queue().rounds.front().cloned();
        if next.is_none() && client.as_ref().is_some_and(Conn::is_usable) {
            wake.await;
            continue;
        }
        let (cfg, conn, rep) = (config.clone(), client.take(), next.clone());
        let result = match bridge::blocking(move || attempt(&cfg, conn, rep.as_deref())).await {
            Ok((conn, result)) => {
                client = conn;
                result
            }
            Err(e) => Err(Error::Server(e.to_string())),
        };
        match result {
            Ok(written) => {
                if let Some(since) = down_since.take() {
                    log::info!(
                        "results database {} is back after {}s; {} rounds to write",
                        config.target,
                        since.elapsed().as_secs(),
                        db.pending()
                    );
                } else if !connected_once {
                    log::info!(
                        "results database {}: connected, tables ready",
                        config.target
                    );
                }
                connected_once = true;
                if let (Some(round), Some(written)) = (next, written) {
                    {
                        let mut q = db.queue();
                        if q.rounds.front().is_some_and(|r| Arc::ptr_eq(r, &round)) {
                            q.rounds.pop_front();
                        }
                    }
                    if let Some(first) = written.refused.first() {
                        log::warn!(
                            "results database: round of {}: the server refused {} of its writes, skipped as 2.0.7 skips them (first: {first})",
                            round.now,
                            written.refused.len()
                        );
                    }
                    log::info!(
                        "results database: round of {} written ({} rows{})",
                        round.now,
                        written.rows,
                        if round.discarded.is_some() {
                            "; history only: the round was discarded"
                        } else {
                            ""
                        }
                    );
                    board.results_db_written(written.refused.len());
                }
                wait = RETRY_MIN;
                status.connected = true;
                status.last_error = None;
            }
            Err(e) => {
                board.results_db_failed();
                if down_since.is_none() {
                    down_since = Some(Instant::now());
                    log::warn!(
                        "results database {}: {e}; rounds are kept (at most {}) and written when it answers, retrying with back-off up to {}s",
                        config.target,
                        config.max_pending,
                        config.retry_max.as_secs()
                    );
                } else {
                    log::debug!("results database {}: still failing: {e}", config.target);
                }
                status.connected = false;
                status.last_error = Some(e.to_string());
            }
        }
        status.rounds_pending = db.pending();
        board.results_db_status(status.clone());
        db.inner.attempted.notify_waiters();
        if down_since.is_some() {
            // A new round or a flush cuts the back-off short.
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = db.inner.wake.notified() => {}
            }
            wait = (wait * 2).min(config.retry_max);
        }
    }
}

#[cfg(test)]
mod tests;
