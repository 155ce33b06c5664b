//! One query: build the synapse, sign it, send it, read the PAT.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{DendriteConfig, Error, BITTENSOR_VERSION};
use crate::cancel::Cancel;
use crate::metagraph::Axon;
use crate::token::Pat;
use crate::wallet::Hotkey;

/// The synapse's class name: the URL path and the `name` header.
pub const SYNAPSE: &str = "GitPatSynapse";

/// `computed_body_hash` of a `GitPatSynapse`: `hex(sha3_256(""))`, the
/// hash over no `required_hash_fields`.
pub const BODY_HASH: &str = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";

/// The URL of `axon`'s `GitPatSynapse` endpoint.
fn url(axon: &Axon) -> String {
    match axon.ip {
        IpAddr::V4(ip) => format!("http://{ip}:{}/{SYNAPSE}", axon.port),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}/{SYNAPSE}", axon.port),
    }
}

/// The blocking dendrite: cheap to clone (an `Arc` inside), one uuid and
/// one nonce sequence for all its clones.
#[derive(Clone)]
pub struct Dendrite {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    hotkey: Hotkey,
    uuid: String,
    last_nonce: AtomicU64,
    config: DendriteConfig,
}

impl fmt::Debug for Dendrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dendrite")
            .field("hotkey", &self.inner.hotkey)
            .field("uuid", &self.inner.uuid)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Dendrite {
    /// A dendrite signing with `hotkey`.
    pub fn new(hotkey: Hotkey, config: DendriteConfig) -> Dendrite {
        // One query per axon per round, hours apart: no connection to keep.
        let agent = crate::transport::agent(
            config.timeout(),
            config.user_agent(),
            0,
            config.input_buffer_size(),
            config.output_buffer_size(),
        );
        Dendrite {
            inner: Arc::new(Inner {
                agent,
                hotkey,
                uuid: uuid_v4(),
                last_nonce: AtomicU64::new(0),
                config,
            }),
        }
    }

    /// Asks `axon` for its miner's PAT. The answer is classified at once
    /// ([`Pat`]); nothing of it is kept otherwise.
    pub fn query_pat(&self, axon: &Axon, cancel: &Cancel) -> Result<Pat, Error> {
        if !axon.is_served() {
            return Err(Error::NotServing);
        }
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let (headers, body) = self.request(axon, self.next_nonce());
        let mut req = self.inner.agent.post(url(axon));
        for (name, value) in &headers {
            req = req.header(*name, value);
        }
        let mut resp = req
            .header("content-type", "application/json")
            .send(body.as_bytes())
            .map_err(Error::from)?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            return Err(Error::Redirect(status));
        }
        if status != 200 {
            return Err(Error::Status(status));
        }
        // The SDK reads the status from this header when it is there.
        let axon_status = resp
            .headers()
            .get("bt_header_axon_status_code")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u16>().ok());
        if let Some(s) = axon_status.filter(|&s| s != 200) {
            return Err(Error::AxonStatus(s));
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(self.inner.config.max_body_bytes())
            .read_to_vec()
            .map_err(Error::from)?;
        pat_of(&bytes)
    }

    /// Strictly increasing nanosecond nonces: the clock, or one more than
    /// the last when the clock did not move (or went back).
    fn next_nonce(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let mut last = self.inner.last_nonce.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self.inner.last_nonce.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// The headers and body of one signed query with `nonce`.
    fn request(&self, axon: &Axon, nonce: u64) -> (Vec<(&'static str, String)>, String) {
        let me = self.inner.hotkey.ss58();
        let uuid = &self.inner.uuid;
        let message = format!("{nonce}.{me}.{}.{uuid}.{BODY_HASH}", axon.hotkey);
        let signature = format!(
            "0x{}",
            hex::encode(self.inner.hotkey.sign(message.as_bytes()))
        );
        let timeout = python_float(self.inner.config.timeout().as_secs_f64());
        let ip = axon.ip.to_string();
        let headers = vec![
            ("name", SYNAPSE.to_string()),
            ("timeout", timeout.clone()),
            ("bt_header_axon_ip", ip.clone()),
            ("bt_header_axon_port", axon.port.to_string()),
            ("bt_header_axon_hotkey", axon.hotkey.clone()),
            ("bt_header_dendrite_version", BITTENSOR_VERSION.to_string()),
            ("bt_header_dendrite_nonce", nonce.to_string()),
            ("bt_header_dendrite_uuid", uuid.clone()),
            ("bt_header_dendrite_hotkey", me.to_string()),
            ("bt_header_dendrite_signature", signature.clone()),
            // Logged by the axon, never checked; must parse as ints.
            ("header_size", "0".to_string()),
            ("total_size", "0".to_string()),
            ("computed_body_hash", BODY_HASH.to_string()),
        ];
        let terminal = |ip: Value,
                        port: Value,
                        version: Value,
                        nonce: Value,
                        uuid: Value,
                        hotkey: &str,
                        signature: Value| {
            json!({
                "status_code": null, "status_message": null, "process_time": null,
                "ip": ip, "port": port, "version": version, "nonce": nonce,
                "uuid": uuid, "hotkey": hotkey, "signature": signature,
            })
        };
        let body = json!({
            "name": SYNAPSE,
            "timeout": self.inner.config.timeout().as_secs_f64(),
            "total_size": 0,
            "header_size": 0,
            "dendrite": terminal(Value::Null, Value::Null, json!(BITTENSOR_VERSION), json!(nonce), json!(uuid), me, json!(signature)),
            "axon": terminal(json!(ip), json!(axon.port), Value::Null, Value::Null, Value::Null, &axon.hotkey, Value::Null),
            "computed_body_hash": "",
            "github_access_token": null,
        });
        (headers, body.to_string())
    }
}

/// The PAT of a 200 answer's body. Never quotes the body: it holds the PAT.
fn pat_of(bytes: &[u8]) -> Result<Pat, Error> {
    let value: Value = serde_json::from_slice(bytes).map_err(|_| Error::NotJson)?;
    let object = value.as_object().ok_or(Error::NotJson)?;
    match object.get("github_access_token") {
        None | Some(Value::Null) => Err(Error::NoToken),
        Some(Value::String(s)) if s.is_empty() => Err(Error::NoToken),
        Some(Value::String(s)) => Ok(Pat::from_text(Some(s))),
        Some(_) => Err(Error::TokenNotString),
    }
}

/// Python's `str(float)` for the `timeout` header (`12.0`, `0.5`).
fn python_float(x: f64) -> String {
    format!("{x:?}")
}

/// A random (version 4) UUID: one per dendrite, as the SDK's one per
/// `Dendrite` instance. Axons key nonces by hotkey and uuid.
fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    // With no OS randomness, fall back to the clock: the uuid need only
    // differ between dendrites, not be secret.
    if getrandom::getrandom(&mut b).is_err() {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = t.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha3::{Digest, Sha3_256};

    #[test]
    fn body_hash_is_sha3_of_nothing() {
        assert_eq!(hex::encode(Sha3_256::digest(b"")), BODY_HASH);
    }

    #[test]
    fn timeout_header_is_python_str_of_a_float() {
        assert_eq!(python_float(12.0), "12.0");
        assert_eq!(python_float(0.5), "0.5");
    }

    #[test]
    fn uuid_has_the_v4_shape() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_ne!(u, uuid_v4());
    }

    #[test]
    fn nonces_strictly_increase() {
        let d = Dendrite::new(Hotkey::from_seed([7; 32]), DendriteConfig::default());
        let mut last = 0;
        for _ in 0..1000 {
            let n = d.next_nonce();
            assert!(n > last);
            last = n;
        }
    }

    #[test]
    fn the_answer_decides_the_pat() {
        use crate::token::Token;
        let check = |body: &str, expected: Result<Pat, Error>| {
            assert_eq!(pat_of(body.as_bytes()), expected, "{body}");
        };
        check(
            r#"{"github_access_token": "ghp_abc"}"#,
            Ok(Pat::Valid(Token::new("ghp_abc").unwrap())),
        );
        check(r#"{"github_access_token": "a b"}"#, Ok(Pat::Invalid));
        check(r#"{"github_access_token": null}"#, Err(Error::NoToken));
        check(r#"{"github_access_token": ""}"#, Err(Error::NoToken));
        check("{}", Err(Error::NoToken));
        check(r#"{"github_access_token": 5}"#, Err(Error::TokenNotString));
        check(r#"["ghp_abc"]"#, Err(Error::NotJson));
        check("ghp_abc", Err(Error::NotJson));
    }
}
