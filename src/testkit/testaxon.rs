//! A miner's axon on 127.0.0.1 that serves `GitPatSynapse` and checks each
//! request as bittensor 9.9.0's axon does (`core/axon.py`: `preprocess`,
//! `blacklist`, `default_verify`, `verify_body_integrity`,
//! `synapse_to_response`), for the tests and benchmarks of the dendrite.
//!
//! In order, as the SDK's middleware: an unknown synapse is 404; a
//! blacklisting axon answers 403 before any check; then the signature
//! check, 401 on failure: a nonce is required; from dendrite version 7.2.0
//! on, the first nonce of a `{hotkey}:{uuid}` must be newer than
//! `now - 4 s - timeout`; every later one must be above the last accepted;
//! the sr25519 signature over
//! `{nonce}.{dendrite hotkey}.{own hotkey}.{uuid}.{computed_body_hash}`
//! must verify. Then a body that is not JSON is 422, a body hash that is
//! not the synapse's is 500, and the behaviour answers.
//!
//! Stricter than the SDK in one place: a request with no signature is
//! refused, where the SDK skips the check. Our dendrite always signs.

use std::collections::HashMap;
use std::io::{self, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::dendrite::{BODY_HASH, SYNAPSE};
use crate::metagraph::Axon;
use crate::testkit::loopback::{self, Server};
use crate::wallet::{self, Hotkey};

/// What the axon answers once a request passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 with this PAT, as gittensor's miner does.
    Pat(String),
    /// 200 with `github_access_token: null`.
    NoToken,
    /// 403: the miner blacklists the validator.
    Blacklist,
    /// Waits this long, then answers the PAT.
    Slow(Duration, String),
    /// 500: the miner's forward raised.
    Error,
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with a JSON body of about this many bytes.
    Huge(usize),
}

/// Requests seen, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AxonStats {
    /// Passed every check.
    pub accepted: usize,
    /// Refused with 401 (signature or nonce).
    pub not_verified: usize,
    /// Refused with another status (403, 404, 422, 500).
    pub other: usize,
}

/// A running axon; stops when dropped.
pub struct TestAxon {
    server: Server,
    state: Arc<State>,
}

struct State {
    hotkey: Hotkey,
    behaviour: Behaviour,
    /// Last accepted nonce per `{hotkey}:{uuid}`, as the SDK's `nonces`.
    nonces: Mutex<HashMap<String, u64>>,
    accepted: AtomicUsize,
    not_verified: AtomicUsize,
    other: AtomicUsize,
}

/// bittensor's `V_7_2_0`: from this dendrite version on, a first nonce
/// must be fresh.
const V_7_2_0: u64 = 7_002_000;
/// bittensor's `ALLOWED_DELTA`: 4 s.
const ALLOWED_DELTA_NS: u128 = 4_000_000_000;

impl TestAxon {
    /// Serves as the miner of `hotkey` on an ephemeral port of 127.0.0.1.
    pub fn start(hotkey: Hotkey, behaviour: Behaviour) -> io::Result<TestAxon> {
        let state = Arc::new(State {
            hotkey,
            behaviour,
            nonces: Mutex::new(HashMap::new()),
            accepted: AtomicUsize::new(0),
            not_verified: AtomicUsize::new(0),
            other: AtomicUsize::new(0),
        });
        let shared = state.clone();
        let server = Server::start("testaxon", move |conn| {
            let _ = handle(conn, &shared);
        })?;
        Ok(TestAxon { server, state })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The axon as a metagraph would list it.
    pub fn axon(&self) -> Axon {
        Axon {
            ip: self.addr().ip(),
            port: self.addr().port(),
            hotkey: self.state.hotkey.ss58().to_string(),
        }
    }

    /// Requests seen so far.
    pub fn stats(&self) -> AxonStats {
        AxonStats {
            accepted: self.state.accepted.load(Ordering::SeqCst),
            not_verified: self.state.not_verified.load(Ordering::SeqCst),
            other: self.state.other.load(Ordering::SeqCst),
        }
    }
}

fn handle(conn: TcpStream, state: &State) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(15)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut conn = conn;
    let Some(req) = loopback::read_request(&mut reader, 1 << 20)? else {
        return Ok(());
    };
    let (status, body) = match answer(&req, state) {
        Ok(body) => {
            state.accepted.fetch_add(1, Ordering::SeqCst);
            (200, body)
        }
        Err((status, message)) => {
            let counter = if status == 401 {
                &state.not_verified
            } else {
                &state.other
            };
            counter.fetch_add(1, Ordering::SeqCst);
            (
                status,
                json!({ "message": message }).to_string().into_bytes(),
            )
        }
    };
    let mut headers = vec![("bt_header_axon_status_code".to_string(), status.to_string())];
    if state.behaviour == Behaviour::Garbage && status == 200 {
        headers.push(("content-type".to_string(), "text/plain".to_string()));
    }
    loopback::write_response(&mut conn, status, &headers, &body, body.len(), true)
}

/// The checks in the SDK's order, then the behaviour's answer.
fn answer(req: &loopback::Request, state: &State) -> Result<Vec<u8>, (u16, String)> {
    let name = req.path.trim_start_matches('/');
    if name != SYNAPSE {
        return Err((404, format!("Synapse name '{name}' not found")));
    }
    if state.behaviour == Behaviour::Blacklist {
        return Err((403, "Forbidden. Key is blacklisted: test.".into()));
    }
    verify(req, state).map_err(|why| (401, format!("Not Verified with error: {why}")))?;
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|_| (422, "body is not json".to_string()))?;
    if req.header("computed_body_hash") != Some(BODY_HASH) {
        return Err((500, "Internal Server Error #hash".into()));
    }
    let pat = match &state.behaviour {
        Behaviour::Pat(p) => Value::String(p.clone()),
        Behaviour::Slow(d, p) => {
            std::thread::sleep(*d);
            Value::String(p.clone())
        }
        Behaviour::NoToken => Value::Null,
        Behaviour::Error => return Err((500, "Internal Server Error #forward".into())),
        Behaviour::Garbage => return Ok(b"this is not json".to_vec()),
        Behaviour::Huge(n) => Value::String("x".repeat(*n)),
        Behaviour::Blacklist => unreachable!("answered above"),
    };
    // As synapse_to_response: the request's synapse, filled in.
    let mut synapse = body;
    if let Some(obj) = synapse.as_object_mut() {
        obj.insert("github_access_token".into(), pat);
        if let Some(axon) = obj.get_mut("axon").and_then(Value::as_object_mut) {
            axon.insert("status_code".into(), json!(200));
            axon.insert("status_message".into(), json!("Success"));
        }
    }
    Ok(synapse.to_string().into_bytes())
}

/// `default_verify` of the SDK.
fn verify(req: &loopback::Request, state: &State) -> Result<(), String> {
    let hotkey = req
        .header("bt_header_dendrite_hotkey")
        .ok_or("no dendrite hotkey")?;
    let uuid = req.header("bt_header_dendrite_uuid").unwrap_or("None");
    let nonce: u64 = req
        .header("bt_header_dendrite_nonce")
        .ok_or("Missing Nonce")?
        .parse()
        .map_err(|_| "bad nonce")?;
    let version: Option<u64> = req
        .header("bt_header_dendrite_version")
        .and_then(|v| v.parse().ok());
    let timeout: f64 = req
        .header("timeout")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let body_hash = req.header("computed_body_hash").unwrap_or("None");
    let key = format!("{hotkey}:{uuid}");
    let mut nonces = state.nonces.lock().unwrap_or_else(|e| e.into_inner());
    let last = nonces.get(&key).copied();
    if version.is_some_and(|v| v >= V_7_2_0) && last.is_none() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let window = now
            .saturating_sub(ALLOWED_DELTA_NS)
            .saturating_sub((timeout.max(0.0) * 1e9) as u128);
        if u128::from(nonce) <= window {
            return Err("Nonce is too old".into());
        }
    }
    if last.is_some_and(|l| nonce <= l) {
        return Err("Nonce is too old, a newer one was last processed".into());
    }
    let signature = req
        .header("bt_header_dendrite_signature")
        .ok_or("no signature")?;
    let signature = signature
        .strip_prefix("0x")
        .and_then(decode_64)
        .ok_or("bad signature encoding")?;
    let public = wallet::public_key_of(hotkey).ok_or("Invalid SS58 address")?;
    let message = format!(
        "{nonce}.{hotkey}.{}.{uuid}.{body_hash}",
        state.hotkey.ss58()
    );
    if !wallet::verify(&signature, message.as_bytes(), &public) {
        return Err("Signature mismatch".into());
    }
    nonces.insert(key, nonce);
    Ok(())
}

fn decode_64(text: &str) -> Option<[u8; 64]> {
    let mut out = [0u8; 64];
    hex::decode_to_slice(text, &mut out).ok().map(|()| out)
}
