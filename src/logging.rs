//! Logging for the binary: `env_logger` as `RUST_LOG` asks, except that the
//! log targets that print raw wire bytes are capped, whatever `RUST_LOG`
//! says. Operators turn on `trace` to debug, not to publish their miners'
//! PATs or their own requests.
//!
//! No log call waits for stderr. Formatted lines go over a bounded channel
//! to one writer thread, which alone writes to stderr; when it falls behind
//! (stderr is a full pipe nobody reads: pm2 stalled, a terminal paused), the
//! channel fills and further lines are dropped and counted, and once the
//! writer catches up it says how many: `N log lines dropped: stderr was not
//! being read`. The event loop logs from its worker threads, so a blocking
//! write there would stop every task, `/healthz` included.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use log::{LevelFilter, Log, Metadata, Record};

/// Log targets with the highest level they may log at. A target and all its
/// submodules (`ureq_proto` covers `ureq_proto::util`) are capped.
///
/// - `ureq_proto` at trace dumps every request and response, headers and
///   bodies, in hex and ASCII 16 bytes a line: the `Authorization` header
///   (a PAT) and an axon's answer (a PAT) would be cut over lines. Its
///   debug lines name protocol states only, but it is off as a whole so
///   that a new version's lines cannot slip through.
/// - `ureq` at trace prints redirect `Location` headers unredacted.
/// - `jsonrpsee` and `soketto` (the chain client's RPC and websocket) at
///   trace print every JSON-RPC message and frame.
pub const CAPPED_TARGETS: &[(&str, LevelFilter)] = &[
    ("ureq_proto", LevelFilter::Off),
    ("ureq", LevelFilter::Debug),
    ("jsonrpsee", LevelFilter::Debug),
    ("jsonrpsee_client_transport", LevelFilter::Debug),
    ("jsonrpsee_core", LevelFilter::Debug),
    ("soketto", LevelFilter::Debug),
];

/// The highest level `target` may log at.
pub fn cap(target: &str) -> LevelFilter {
    CAPPED_TARGETS
        .iter()
        .filter(|(name, _)| {
            target
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
        .map(|&(_, level)| level)
        .min()
        .unwrap_or(LevelFilter::Trace)
}

/// `env_logger`, with [`CAPPED_TARGETS`] enforced on every record.
struct Capped(env_logger::Logger);

impl Log for Capped {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= cap(metadata.target()) && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Sets up logging to stderr from `RUST_LOG` (default `info`), with the
/// wire-dumping targets capped, through the non-blocking [`Sink`]. Call
/// once, first thing in `main`; call [`flush`] before the process exits.
pub fn init() {
    init_with(None);
}

/// [`init`], with `level` (the command line's) in place of `info` when
/// `RUST_LOG` is not set: `RUST_LOG`, when set, wins.
pub fn init_with(level: Option<LevelFilter>) {
    let sink = SINK.get_or_init(|| Sink::new(CAPACITY, std::io::stderr()));
    let default = level.map_or_else(|| "info".to_string(), |l| l.to_string().to_lowercase());
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default));
    // env_logger colours a terminal only when it writes to it itself; the
    // sink writes for it, so ask for colours as it would have.
    if std::env::var_os("RUST_LOG_STYLE").is_none() {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            builder.write_style(env_logger::WriteStyle::Always);
        }
    }
    let inner = builder
        .target(env_logger::Target::Pipe(Box::new(sink.writer())))
        .build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(Capped(inner))).is_ok() {
        log::set_max_level(max);
    }
}

/// Records (or tables) the channel holds; past them the writer has fallen
/// behind and lines are dropped. A few seconds of `debug` in a busy round.
const CAPACITY: usize = 4096;

/// How long [`flush`] waits for the writer: a reader that reads drains the
/// channel in milliseconds; one that does not must not keep the process
/// from exiting (docker's grace period is 10 s).
const FLUSH_WAIT: Duration = Duration::from_secs(3);

static SINK: OnceLock<Sink> = OnceLock::new();

/// Prints `text` (whole lines, each ending in `\n`) on stderr through the
/// logger's sink, after the lines logged before it, without waiting: the
/// round's table from async code. Without [`init`] it writes to stderr at
/// once.
pub fn print(text: &str) {
    match SINK.get() {
        Some(sink) => sink.send(text.as_bytes()),
        None => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

/// Waits (at most 3 s) until every line logged or printed so far is on
/// stderr. Call before the process exits, and before writing to stderr
/// directly.
pub fn flush() {
    if let Some(sink) = SINK.get() {
        sink.flush(FLUSH_WAIT);
    }
}

/// What the writer thread is handed.
enum Message {
    /// Bytes to write: one or more whole lines.
    Text(Vec<u8>),
    /// Answer once everything before is written.
    Flush(SyncSender<()>),
}

/// A bounded channel to one thread that writes to `out`; lines that do not
/// fit are dropped and counted, and the count is written when the writer
/// catches up. Cheap to clone: the clones share the thread.
#[derive(Clone)]
pub struct Sink {
    tx: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

impl Sink {
    /// Starts the writer thread over `out`, with room for `capacity`
    /// messages in flight.
    pub fn new<W: Write + Send + 'static>(capacity: usize, out: W) -> Sink {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let counted = dropped.clone();
        // Without its thread the sink writes nothing; a process that cannot
        // start one thread cannot run a round either.
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_out(rx, &counted, out))
            .expect("cannot start the log writer thread");
        Sink { tx, dropped }
    }

    /// Hands `bytes` to the writer, or drops and counts its lines when the
    /// channel is full. Never waits.
    pub fn send(&self, bytes: &[u8]) {
        match self.tx.try_send(Message::Text(bytes.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let lines = bytes.iter().filter(|&&b| b == b'\n').count().max(1);
                self.dropped.fetch_add(lines as u64, Ordering::Relaxed);
            }
            // The writer thread is gone (it never ends while the sink
            // lives): nothing to write with.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Waits at most `wait` until everything sent before is written.
    pub fn flush(&self, wait: Duration) {
        let deadline = Instant::now() + wait;
        let (ack, acked) = mpsc::sync_channel(1);
        let mut message = Message::Flush(ack);
        loop {
            match self.tx.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) if Instant::now() < deadline => {
                    message = m;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
        let _ = acked.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }

    /// A `Write` for `env_logger`'s pipe target: each record (env_logger
    /// writes a record in one `write_all`) goes to [`Sink::send`].
    fn writer(&self) -> SinkWriter {
        SinkWriter(self.clone())
    }
}

/// [`Sink::send`] as a `Write`.
struct SinkWriter(Sink);

impl Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.send(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The writer thread: writes what comes, and the count of dropped lines
/// whenever it has caught up (the channel is empty) or is asked to flush.
fn write_out<W: Write>(rx: Receiver<Message>, dropped: &AtomicU64, mut out: W) {
    let report = |out: &mut W| {
        let n = dropped.swap(0, Ordering::Relaxed);
        if n > 0 {
            let _ = writeln!(out, "{n} log lines dropped: stderr was not being read");
        }
    };
    loop {
        let message = match rx.try_recv() {
            Ok(m) => m,
            Err(TryRecvError::Empty) => {
                // Lines are dropped only while the channel is full: the
                // writer has caught up now.
                report(&mut out);
                let _ = out.flush();
                match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return,
                }
            }
            Err(TryRecvError::Disconnected) => return,
        };
        match message {
            Message::Text(bytes) => {
                let _ = out.write_all(&bytes);
            }
            Message::Flush(ack) => {
                report(&mut out);
                let _ = out.flush();
                let _ = ack.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_dump_targets_are_capped_with_their_submodules() {
        for (target, expected) in [
            ("ureq_proto", LevelFilter::Off),
            ("ureq_proto::util", LevelFilter::Off),
            ("ureq", LevelFilter::Debug),
            ("ureq::unversioned::transport", LevelFilter::Debug),
            ("jsonrpsee_client_transport::ws", LevelFilter::Debug),
            ("gittensor_validator::github", LevelFilter::Trace),
            // A prefix of a name is not the name.
            ("ureqx", LevelFilter::Trace),
            ("ureq_protocol", LevelFilter::Trace),
        ] {
            assert_eq!(cap(target), expected, "{target}");
        }
    }

    /// A `Write` that holds every write until the gate opens, as a pipe
    /// nobody reads holds its writer.
    struct Stalled {
        gate: Arc<std::sync::Mutex<()>>,
        out: Arc<std::sync::Mutex<Vec<u8>>>,
    }

    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _open = self.gate.lock().unwrap();
            self.out.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_writer_drops_and_counts_lines_and_never_blocks_the_caller() {
        let gate = Arc::new(std::sync::Mutex::new(()));
        let out = Arc::new(std::sync::Mutex::new(Vec::new()));
        let closed = gate.lock().unwrap();
        let sink = Sink::new(
            4,
            Stalled {
                gate: gate.clone(),
                out: out.clone(),
            },
        );
        let started = Instant::now();
        for i in 0..100 {
            sink.send(format!("line {i}\n").as_bytes());
        }
        sink.send(b"a table\nof two lines\n");
        assert!(started.elapsed() < Duration::from_secs(1));
        drop(closed);
        sink.flush(Duration::from_secs(10));
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let written: Vec<&str> = text.lines().filter(|l| l.starts_with("line ")).collect();
        // The first line is with the writer, four wait in the channel.
        assert!(written.len() <= 5 && written[0] == "line 0", "{text}");
        let dropped = 100 - written.len() + 2;
        assert!(
            text.ends_with(&format!(
                "{dropped} log lines dropped: stderr was not being read\n"
            )),
            "{text}"
        );
        // Caught up: lines get through again, and no second notice.
        sink.send(b"after\n");
        sink.flush(Duration::from_secs(10));
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert!(
            text.ends_with("stderr was not being read\nafter\n"),
            "{text}"
        );
    }

    #[test]
    fn flush_waits_for_every_line_sent_before_it() {
        let out = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Sink::new(
            1024,
            Stalled {
                gate: Arc::default(),
                out: out.clone(),
            },
        );
        for i in 0..500 {
            sink.send(format!("line {i}\n").as_bytes());
        }
        sink.flush(Duration::from_secs(10));
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 500);
        assert!(text.ends_with("line 499\n"));
    }

    #[test]
    fn flush_gives_up_on_a_writer_that_never_returns() {
        let gate = Arc::new(std::sync::Mutex::new(()));
        let _closed = gate.lock().unwrap();
        let sink = Sink::new(
            2,
            Stalled {
                gate: gate.clone(),
                out: Arc::default(),
            },
        );
        for _ in 0..10 {
            sink.send(b"line\n");
        }
        let started = Instant::now();
        sink.flush(Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
