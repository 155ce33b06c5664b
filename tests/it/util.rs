//! Builders of GitHub-shaped JSON shared by the tests.

use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

pub const NOW: OffsetDateTime = datetime!(2025-12-20 12:00:00 UTC);

/// A port of 127.0.0.1 that refuses connections for as long as this lives:
/// bound, so no server another test starts meanwhile can take it, but never
/// listening, so a connect is reset at once. (A port bound and released
/// again could be handed to such a server before the test uses it.)
pub struct ClosedPort(socket2::Socket);

impl ClosedPort {
    pub fn new() -> ClosedPort {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket
            .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        ClosedPort(socket)
    }

    pub fn port(&self) -> u16 {
        self.0.local_addr().unwrap().as_socket().unwrap().port()
    }

    /// `scheme://127.0.0.1:PORT`.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port())
    }
}

/// Merges `patch` into `base`, object by object (null replaces).
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(&k) {
                    Some(slot) if v.is_object() && slot.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, p) => *b = p,
    }
}

/// A merged PR from a fork into `main` of `repo`, by `alice`, merged one hour
/// before NOW, with `overrides` merged in.
pub fn pr_node(repo: &str, number: u64, overrides: Value) -> Value {
    let (owner, name) = repo.split_once('/').unwrap();
    let mut node = json!({
        "title": format!("PR {number}"), "number": number, "additions": 10, "deletions": 2,
        "mergedAt": "2025-12-20T11:00:00Z", "createdAt": "2025-12-15T00:00:00Z",
        "closedAt": "2025-12-20T11:00:00Z", "lastEditedAt": null, "bodyText": "A change.",
        "state": "MERGED", "commits": {"totalCount": 1},
        "repository": {"name": name, "owner": {"login": owner}, "defaultBranchRef": {"name": "main"}},
        "headRepository": {"name": name, "owner": {"login": "alice"}},
        "baseRefName": "main", "headRefName": "feature",
        "author": {"login": "alice"}, "authorAssociation": "CONTRIBUTOR",
        "mergedBy": {"login": "maintainer"},
        "closingIssuesReferences": {"nodes": []},
        "reviews": {"nodes": []}
    });
    merge(&mut node, overrides);
    node
}

/// A GraphQL answer holding one page of pull requests.
pub fn page(nodes: Vec<Value>, next: Option<&str>) -> Value {
    json!({"data": {"node": {"pullRequests": {
        "pageInfo": {"hasNextPage": next.is_some(), "endCursor": next},
        "nodes": nodes
    }}}})
}

/// A patch of `n` added code lines.
pub fn code_lines(n: usize) -> String {
    let mut s = String::from("@@ -0,0 +1 @@");
    for i in 0..n {
        s.push_str(&format!("\n+let v{i} = compute({i});"));
    }
    s
}

use std::sync::Arc;
use std::time::Duration;

use gittensor_validator::github::{Client, ClientConfig, ClientConfigBuilder};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::testkit::fakehub::{Fault, FaultFn, RequestInfo};

/// A `/user` answer of an account old enough to be scored.
pub fn user(id: u64) -> Value {
    json!({"login": format!("user{id}"), "id": id, "created_at": "2019-01-01T00:00:00Z"})
}

/// A `/files` entry.
pub fn file_entry(name: &str, changes: i64, patch: Option<&str>) -> Value {
    let mut e = json!({"filename": name, "status": "modified", "additions": changes, "deletions": 0, "changes": changes});
    if let Some(p) = patch {
        e["patch"] = json!(p);
    }
    e
}

/// A snapshot with one miner: `token` is account `id`, with `prs` and the
/// files of each PR (`owner/name#n`).
pub fn snapshot(token: &str, id: u64, prs: Vec<Value>, files: Vec<(&str, Vec<Value>)>) -> Snapshot {
    let mut s = Snapshot::default();
    s.users.insert(token.to_string(), user(id));
    s.pull_requests.insert(id.to_string(), prs);
    for (k, v) in files {
        s.files.insert(k.to_string(), v);
    }
    s
}

/// Wraps a closure as a fault picker.
pub fn faults(
    f: impl Fn(&RequestInfo) -> Option<Fault> + Send + Sync + 'static,
) -> Option<FaultFn> {
    Some(Arc::new(f))
}

/// Client settings for tests: real behaviour, short waits.
pub fn fast_config(url: &str) -> ClientConfigBuilder {
    ClientConfig::builder()
        .base_url(url)
        .timeout(Duration::from_secs(5))
        .backoff_base(Duration::from_millis(1))
        .secondary_rate_limit_wait(Duration::from_millis(10))
        .max_backoff(Duration::from_secs(5))
}

/// A client with `fast_config`.
pub fn fast_client(url: &str) -> Client {
    Client::new(fast_config(url).build())
}

/// The bundled sample: its snapshot, miners text, and round context at its "now".
pub fn sample() -> (Snapshot, String, gittensor_validator::scoring::RoundContext) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let snapshot: Snapshot = serde_json::from_str(&read("snapshot.json")).unwrap();
    let ctx = gittensor_validator::scoring::RoundContext {
        repos: gittensor_validator::scoring::MasterRepositories::parse(
            &read("repositories.json"),
            "sample",
        )
        .unwrap(),
        languages: gittensor_validator::scoring::LanguageWeights::parse(
            &read("languages.json"),
            "sample",
        )
        .unwrap(),
        now: NOW,
    };
    (snapshot, read("miners.json"), ctx)
}

/// A multi-thread runtime for tests that drive the async round.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A realistic GitHub PAT: `ghp_` and 36 random alphanumerics (fresh in
/// every call, so a test cannot pass by matching a fixed string).
pub fn realistic_pat() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    use std::hash::{BuildHasher, Hasher};
    let mut state = std::collections::hash_map::RandomState::new().build_hasher();
    state.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    let mut x = state.finish() | 1;
    let mut pat = String::from("ghp_");
    for _ in 0..36 {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        pat.push(char::from(ALPHABET[(r >> 58) as usize % ALPHABET.len()]));
    }
    pat
}

/// Where a piece of `secret` shows in `haystack`: any `window` consecutive
/// characters of it in clear, or `window` bytes of it in hex (spaces and
/// line breaks between the digits ignored, as in a wire dump), in base64,
/// or as a decimal byte list (`{:?}` of a byte slice). Returns the piece
/// found.
pub fn find_leak(haystack: &str, secret: &str, window: usize) -> Option<String> {
    use base64::Engine as _;
    let clear = secret.as_bytes().windows(window).map(|w| w.to_vec());
    if let Some(w) = clear
        .map(|w| String::from_utf8(w).unwrap())
        .find(|w| haystack.contains(w.as_str()))
    {
        return Some(w);
    }
    let squeezed: String = haystack
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    for start in (0..hex.len().saturating_sub(2 * window - 1)).step_by(2) {
        let piece = &hex[start..start + 2 * window];
        if squeezed.contains(piece) {
            return Some(format!("hex {piece}"));
        }
    }
    let squeezed_decimal: String = haystack.chars().filter(|c| !c.is_whitespace()).collect();
    for w in secret.as_bytes().windows(window) {
        let piece = w.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
        if squeezed_decimal.contains(&piece) {
            return Some(format!("decimal {piece}"));
        }
    }
    for offset in 0..3 {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&secret.as_bytes()[offset..]);
        // The last block depends on padding; the rest is the same wherever
        // the secret sits in a longer encoded text with this alignment.
        let stable = &b64[..b64.len().saturating_sub(4)];
        for start in 0..stable.len().saturating_sub(window - 1) {
            let piece = &stable[start..start + window];
            if haystack.contains(piece) {
                return Some(format!("base64 {piece}"));
            }
        }
    }
    None
}

/// The weight tables the process tests score with, as `repos.json` and
/// `langs.json` in `dir`: one repository of weight 1.0, Rust at 1.5.
pub fn write_tables(dir: &std::path::Path) {
    std::fs::write(
        dir.join("repos.json"),
        r#"{"acme/widgets": {"weight": 1.0}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("langs.json"), r#"{"rs": 1.5}"#).unwrap();
}

/// A running binary whose stderr is read line by line: a test waits on
/// what the process says (a log line), never on a sleep.
pub struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

/// What the binary logs once its board listens, before the address.
pub const SERVING: &str = "serving /healthz, /readyz and /metrics on ";

impl Running {
    /// Starts the binary with `args` and `env` (and no `RUST_LOG` unless
    /// `env` sets it).
    pub fn start(args: &[String], env: &[(&str, &str)]) -> Running {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(crate::cli::BIN);
        cmd.args(args)
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 60 s) for a line with `text`, and returns it.
    pub fn wait_for(&mut self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {text:?}; stderr:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Waits for the line saying where the board listens (the binary was
    /// given `--health-addr 127.0.0.1:0`), and returns that address.
    /// Looks at the lines already read first: it may come after others.
    pub fn health_addr(&mut self) -> std::net::SocketAddr {
        let line = match self.seen.iter().find(|l| l.contains(SERVING)) {
            Some(line) => line.clone(),
            None => self.wait_for(SERVING),
        };
        bound_addr(&line)
    }

    /// Sends the signal `name` (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        signal(self.child.id(), name);
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits at most `within` for the exit: `Some` of its status, or `None`
    /// while the process still runs.
    pub fn exit_within(&mut self, within: Duration) -> Option<Option<i32>> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code());
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the exit; its status and everything it said.
    pub fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (status.code(), self.seen.join("\n"))
    }
}

/// A test that fails leaves no process behind (one stuck on purpose
/// would otherwise outlive the suite).
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address at the end of a [`SERVING`] line.
pub fn bound_addr(line: &str) -> std::net::SocketAddr {
    let at = line.find(SERVING).unwrap_or_else(|| panic!("{line}")) + SERVING.len();
    line[at..]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Sends the signal `name` (`TERM`, `INT`) to process `pid`.
pub fn signal(pid: u32, name: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} {pid}");
}

/// One `GET path` on the board at `addr`: the status and the body. A board
/// that does not answer fails the test: a timeout is never skipped. (The
/// 30 s bound only keeps a hung board from hanging the suite.)
pub fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // The board is on 127.0.0.1: no HTTP_PROXY of the machine between.
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut answer = agent
        .get(format!("http://{addr}{path}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path} on {addr}: {e}"));
    let body = answer
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("GET {path} on {addr}: {e}"));
    (answer.status().as_u16(), body)
}

/// [`get`] of a JSON answer (`/healthz`, `/readyz`).
pub fn get_json(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let (status, body) = get(addr, path);
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, value)
}

/// The value of the sample `name` (a metric without labels) in `/metrics`
/// text; fails the test when the metric is missing.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Replaces `path` with `text` at once (written beside it, then renamed),
/// as an editor or a deploy does: a reader sees the old file or the new
/// one, never half of it.
pub fn replace_file(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A named pipe at `path` (`mkfifo`): opening it blocks until the other
/// end is opened: a process that opens it to write is stuck there for
/// good.
pub fn fifo(path: &std::path::Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A gate the test opens: a server's fault hook waits at it, so a round
/// cannot end before the test has done what it must do first.
#[derive(Default)]
pub struct Gate {
    open: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    /// Waits until the gate is open (at most 60 s, so a failed test ends).
    pub fn pass(&self) {
        let open = self.open.lock().unwrap();
        let _ = self
            .opened
            .wait_timeout_while(open, Duration::from_secs(60), |open| !*open)
            .unwrap();
    }

    /// Opens it for good.
    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

/// A report's `rewards` (uid -> reward), as the moving average takes them.
pub fn rewards(report: &Value) -> std::collections::BTreeMap<u16, f64> {
    report["rewards"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), v.as_f64().unwrap()))
        .collect()
}

/// A round's context with one master repository, `acme/widgets` (weight
/// 1), no language weights, at [`NOW`].
pub fn widgets_ctx() -> gittensor_validator::scoring::RoundContext {
    gittensor_validator::scoring::RoundContext {
        repos: gittensor_validator::scoring::MasterRepositories::parse(
            r#"{"acme/widgets": {"weight": 1}}"#,
            "t",
        )
        .unwrap(),
        languages: Default::default(),
        now: NOW,
    }
}
