//! Running out of a resource never ends the validator, and the health port
//! cannot take it down (issue 22): the real binary, `run` on the bundled
//! sample (`--replay`), met by a flood of idle connections under a limit
//! of 1024 open files, by bad requests, and by a state folder that cannot
//! be written.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::BIN;
use crate::util::{bound_addr, signal, SERVING};

/// The health endpoint's own bounds (`health::serve`), as the tests lean on
/// them.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: usize = 32;

/// `run` on the bundled sample, its stderr kept line by line.
struct Validator {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Validator {
    /// Starts `run --replay sample/snapshot.json` with rounds `interval`
    /// apart, state in `state`, the board on a free port; with
    /// `open_files`, both limits of open files set to it before the binary
    /// starts (the binary raises its soft limit to the hard one).
    fn start(state: &Path, interval: &str, open_files: Option<u64>) -> Validator {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
        let s = |name: &str| sample.join(name).display().to_string();
        let mut cmd = Command::new(BIN);
        cmd.args(["run", "--replay", &s("snapshot.json"), "--miners"])
            .arg(s("miners.json"))
            .args(["--repositories", &s("repositories.json")])
            .args(["--languages", &s("languages.json")])
            .args(["--now", "2025-12-20T12:00:00Z", "--state"])
            .arg(state)
            .args(["--interval", interval, "--health-addr", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(n) = open_files {
            // SAFETY: setrlimit is async-signal-safe; nothing else runs
            // between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        Validator { child, lines }
    }

    fn said(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits (at most 60 s, or until the process ends) for a line with
    /// `text` among the lines said after the first `after`; returns its
    /// index.
    fn wait_for(&mut self, text: &str, after: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(i) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .skip(after)
                .position(|l| l.contains(text))
            {
                return after + i;
            }
            let ended = self.child.try_wait().unwrap();
            assert!(
                ended.is_none() && Instant::now() < deadline,
                "no line with {text:?} (exit {ended:?}); stderr:\n{}",
                self.said()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn health_addr(&mut self) -> SocketAddr {
        let i = self.wait_for(SERVING, 0);
        bound_addr(&self.lines.lock().unwrap()[i].clone())
    }

    /// The rounds started so far ("round N starting").
    fn rounds(&self) -> u64 {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let rest = l.split("] round ").nth(1)?;
                rest.split_once(" starting")?.0.parse().ok()
            })
            .max()
            .unwrap_or(0)
    }

    /// Waits for round `n` to start.
    fn wait_for_round(&mut self, n: u64) {
        self.wait_for(&format!("] round {n} starting"), 0);
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// CPU time the process used so far (user and system).
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // The fields after the command name, which may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // SAFETY: sysconf only reads a constant.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        Duration::from_millis(ticks * 1000 / per_second)
    }

    /// SIGTERM, then the exit status.
    fn stop(mut self) -> Option<i32> {
        signal(self.child.id(), "TERM");
        self.child.wait().unwrap().code()
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` as is on a new connection and reads until the server
/// closes it: the status line and the rest.
fn exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<(String, String)> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(HEADER_TIMEOUT * 2))?;
    conn.write_all(request)?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (status, rest) = answer.split_once("\r\n").unwrap_or((&answer, ""));
    Ok((status.to_string(), rest.to_string()))
}

/// `GET path` from a well-behaved client: the status code, the body and how
/// long the answer took.
fn get(addr: SocketAddr, path: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    let (status, rest) =
        exchange(addr, request.as_bytes()).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let code = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: {status:?}"));
    let body = rest.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (code, body.to_string(), started.elapsed())
}

/// A head past the bound is answered 431 (or, should the close overtake
/// the answer, reset).
fn too_large(answer: std::io::Result<(String, String)>) {
    match answer {
        Ok((status, _)) => assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

/// Raises this test process's own soft limit of open files to `n` at least.
fn allow_open_files(n: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain structs we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < n {
            limit.rlim_cur = n.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(
        limit.rlim_cur >= n,
        "this test needs {n} open files; the hard limit is {}",
        limit.rlim_max
    );
}

#[test]
fn a_flood_of_idle_connections_under_1024_open_files_neither_stops_nor_slows_the_rounds() {
    const FLOOD: usize = 2_000;
    const HOLD: Duration = Duration::from_secs(30);
    allow_open_files(FLOOD as u64 + 512);
    let dir = tempfile::tempdir().unwrap();
    let mut v = Validator::start(&dir.path().join("state"), "200ms", Some(1024));
    let addr = v.health_addr();
    v.wait_for_round(2);

    let (cpu_before, rounds_before, started) = (v.cpu(), v.rounds(), Instant::now());
    // Every connection is opened and then left idle: more than the 1024
    // files the process may open, all at once.
    let mut flood = Vec::with_capacity(FLOOD);
    for i in 0..FLOOD {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
            Ok(conn) => flood.push(conn),
            Err(e) => panic!(
                "connection {i}: {e}; the validator {}:\n{}",
                if v.alive() { "runs" } else { "ended" },
                v.said()
            ),
        }
    }
    while started.elapsed() < HOLD {
        assert!(v.alive(), "the validator ended:\n{}", v.said());
        std::thread::sleep(Duration::from_millis(500));
    }
    let (cpu, rounds, held) = (v.cpu() - cpu_before, v.rounds(), started.elapsed());
    assert!(v.alive(), "the validator ended:\n{}", v.said());
    drop(flood);

    // Rounds 200 ms apart went on (a few, however loaded the machine).
    assert!(
        rounds >= rounds_before + 3,
        "rounds {rounds_before} -> {rounds} in {held:?}"
    );
    // No spinning: a loop retrying a failed accept would burn a core.
    assert!(
        cpu < held / 2,
        "{cpu:?} of CPU in {held:?} of flood ({rounds_before} -> {rounds} rounds)"
    );
    // The endpoint answers a well-behaved client at once after it.
    let (code, body, took) = get(addr, "/healthz");
    assert_eq!(code, 200, "{body}");
    assert!(took < HEADER_TIMEOUT, "{took:?}");
    eprintln!(
        "{FLOOD} connections held {held:?}: rounds {rounds_before} -> {rounds}, CPU {cpu:?}, then /healthz in {took:?}"
    );
    let said = v.said();
    assert!(
        said.contains("connection(s) refused with 32 held already"),
        "{said}"
    );
    // The limit the test set is the one the process ran under.
    assert!(
        said.contains("open files: soft limit 1024 (the hard limit)"),
        "{said}"
    );
    assert!(!said.contains("cannot write"), "{said}");
    assert_eq!(v.stop(), Some(0));
}

#[test]
fn the_health_port_takes_bad_requests_calmly() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = Validator::start(&dir.path().join("state"), "300ms", None);
    let addr = v.health_addr();
    // Round 2 starting: round 1 is folded in, so /readyz is 200 from here
    // on (waiting for round 1 to start left it racing the checks below).
    v.wait_for_round(2);
    // Each check is followed by one a well-behaved client makes: it is
    // answered at once, never after a bad client's timeout.
    let answered_at_once = |after: &str| {
        // Connections still being served when the check starts may fill
        // the endpoint's bound for a moment: a refused connection (503 or
        // reset) is tried again, as a scraper would.
        let started = Instant::now();
        let body = loop {
            let request = b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
            match exchange(addr, request) {
                Ok((status, rest)) if status == "HTTP/1.1 200 OK" => {
                    break rest.split_once("\r\n\r\n").unwrap().1.to_string()
                }
                Ok((status, _)) if status.starts_with("HTTP/1.1 503") => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
                other => panic!("after {after}: {other:?}"),
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = started.elapsed();
        assert!(took < HEADER_TIMEOUT / 4, "after {after}: {took:?}");
        serde_json::from_str::<Value>(&body).unwrap();
    };

    // A request line that never ends: held open, it is closed after the
    // header timeout (checked last, it runs beside the others)...
    let mut endless = TcpStream::connect(addr).unwrap();
    endless.write_all(b"GET /healthz?").unwrap();
    let opened = Instant::now();
    answered_at_once("a request line left open");
    // ... and one that keeps coming is cut at the head's bound.
    let mut long = b"GET /".to_vec();
    long.extend(std::iter::repeat_n(b'a', 64 * 1024));
    too_large(exchange(addr, &long));
    answered_at_once("a request line of 64 KiB");

    // 64 KiB of headers.
    let mut big = b"GET /healthz HTTP/1.1\r\nhost: x\r\n".to_vec();
    for i in 0..64 {
        big.extend(format!("x-pad-{i:02}: {}\r\n", "p".repeat(1024)).bytes());
    }
    big.extend(b"\r\n");
    assert!(big.len() >= 64 * 1024);
    too_large(exchange(addr, &big));
    answered_at_once("64 KiB of headers");

    // A request split byte by byte.
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_nodelay(true).unwrap();
    for byte in b"GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n" {
        conn.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut answer = String::new();
    conn.set_read_timeout(Some(HEADER_TIMEOUT)).unwrap();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    answered_at_once("a request split byte by byte");

    // Clients that close before the answer, more of them than the
    // connections it holds.
    for _ in 0..MAX_CONNECTIONS * 4 {
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
    }
    answered_at_once("clients closing before the answer");

    // HEAD: the headers of the GET, no body.
    let (status, rest) = exchange(
        addr,
        b"HEAD /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (headers, body) = rest.split_once("\r\n\r\n").unwrap();
    assert!(headers.contains("content-type: application/openmetrics-text"));
    assert!(headers.contains("content-length: "), "{headers}");
    assert_eq!(body, "");

    // An unknown method.
    for method in ["BREW", "DELETE", "POST"] {
        let request = format!("{method} /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        let (status, rest) = exchange(addr, request.as_bytes()).unwrap();
        assert_eq!(status, "HTTP/1.1 405 Method Not Allowed", "{method}");
        assert!(rest.contains("allow: GET, HEAD"), "{method}: {rest}");
    }
    answered_at_once("unknown methods");

    // Keep-alive: two requests on one connection.
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\nGET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    let mut both = String::new();
    conn.set_read_timeout(Some(HEADER_TIMEOUT)).unwrap();
    conn.read_to_string(&mut both).unwrap();
    assert_eq!(both.matches("HTTP/1.1 200 OK").count(), 2, "{both}");

    // The request line left open is closed by the server.
    endless.set_read_timeout(Some(HEADER_TIMEOUT * 2)).unwrap();
    let mut rest = Vec::new();
    let _ = endless.read_to_end(&mut rest);
    let closed_after = opened.elapsed();
    assert!(
        closed_after >= HEADER_TIMEOUT - Duration::from_secs(1)
            && closed_after < HEADER_TIMEOUT * 2,
        "closed after {closed_after:?}"
    );
    answered_at_once("the header timeout");
    assert!(v.alive());
    assert_eq!(v.stop(), Some(0));
}

/// Reads `path` as JSON, failing the test on a torn or missing file.
fn parsed(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is torn: {e}", path.display()))
}

#[test]
fn a_report_that_cannot_be_written_is_on_readyz_and_written_again_once_mended() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut v = Validator::start(&state, "300ms", None);
    let addr = v.health_addr();
    v.wait_for_round(3);
    let report = state.join("report.json");
    let state_json = state.join("state.json");

    // Whatever happens below, state.json always parses.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (stop, path) = (stop.clone(), state_json.clone());
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                parsed(&path);
                reads += 1;
            }
            reads
        })
    };

    // A directory in report.json's place, between two rounds (the loop may
    // put the file back between the removal and the mkdir: try again).
    while std::fs::remove_file(&report).is_ok() && std::fs::create_dir(&report).is_err() {}
    assert!(report.is_dir());
    let at = v.lines.lock().unwrap().len();
    let failed = v.wait_for("report.json: cannot write (", at);
    let fault_round = v.rounds();
    let (code, body, _) = get(addr, "/readyz");
    assert_eq!(code, 503, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    let named = format!("cannot write {}: ", report.display());
    assert!(
        ready["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with(&named)),
        "{ready}"
    );
    let (_, metrics, _) = get(addr, "/metrics");
    assert!(metrics.contains("gittensor_writes_failing 1"), "{metrics}");
    assert!(
        !metrics.contains("gittensor_write_failures_total 0"),
        "{metrics}"
    );
    // The rounds go on, the state saved at each.
    v.wait_for_round(fault_round + 2);
    assert!(v.alive());
    let saved = parsed(&state_json)["rounds"].as_u64().unwrap();
    assert!(
        saved > fault_round,
        "state.json at round {saved}, fault at {fault_round}"
    );

    // Mended: the next round writes everything again, /readyz clears.
    std::fs::remove_dir(&report).unwrap();
    let mended_round = v.rounds();
    v.wait_for("report.json: written again", failed);
    // report.json is written first and state.json last: the next round's
    // start says this one's state.json is saved too.
    v.wait_for_round(mended_round + 1);
    let (code, body, _) = get(addr, "/readyz");
    assert_eq!(code, 200, "{body}");
    let (_, metrics, _) = get(addr, "/metrics");
    assert!(metrics.contains("gittensor_writes_failing 0"), "{metrics}");
    assert!(parsed(&report)["now"].is_string());
    assert!(parsed(&state_json)["rounds"].as_u64().unwrap() >= mended_round);
    parsed(&state.join("weights.json"));

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = watcher.join().unwrap();
    assert!(reads > 0);
    eprintln!(
        "report.json unwritable from round {fault_round} to round {mended_round}; state.json read {reads} times, never torn"
    );
    assert_eq!(v.stop(), Some(0));
}
