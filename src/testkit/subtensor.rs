//! A subtensor stand-in on 127.0.0.1: a real JSON-RPC server over
//! WebSocket (jsonrpsee) answering the legacy Substrate methods our chain
//! client calls, with a runtime's metadata (the test passes it, e.g.
//! `tests/data/testfinney-spec103.scale`) and a subnet's storage the test
//! sets and changes while `validate` runs.
//!
//! # What it implements
//! Blocks on demand (genesis, [`Subtensor::advance`], and one per
//! submitted extrinsic); storage reads at any of its blocks (the current
//! storage, `System.Events` per block); the connect path of subxt
//! (genesis hash, `Core_version`, `Metadata_metadata`, the account nonce);
//! signed extrinsics decoded against the metadata and recorded, each in a
//! new block whose `System.Events` says `ExtrinsicSuccess` or
//! `ExtrinsicFailed` with the `SubtensorModule` error the test chose
//! ([`Outcome`]); a `set_weights` that succeeds moves the signer's
//! `LastUpdate` and `Weights` row. An item can be made undecodable
//! ([`Subtensor::break_item`]) or left out of the served metadata
//! ([`Subtensor::start_without`]), and serving can stop and start again on
//! the same port.
//!
//! # What it does not
//! No runtime: no epoch (`Consensus`, `ValidatorTrust`, permits and stakes
//! are what the test wrote), no signature or mortality check, no fees, no
//! rate limit or version-key check (a refusal is the test's choice), no
//! finality other than at once, no new-heads subscriptions.

mod rpc;
mod scale;
mod state;

use std::collections::BTreeMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, MutexGuard};

use jsonrpsee::server::{Server, ServerHandle};

use scale::Runtime;
pub use scale::{offline_client, Offline};
use state::State;

/// One uid of the subnet, in uid order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Neuron {
    /// Its hotkey (the account's public key).
    pub hotkey: [u8; 32],
    /// Where its axon serves (IPv4), if it serves.
    pub axon: Option<SocketAddrV4>,
    /// `ValidatorPermit`.
    pub permit: bool,
    /// `LastUpdate`: the block of its last weights.
    pub last_update: u64,
    /// `TotalHotkeyStake`, in rao (the 2023 runtime's item).
    pub stake: u64,
    /// `BlockAtRegistration`.
    pub registered_at: u64,
}

/// The subnet's hyperparameters our client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hyperparameters {
    /// `MinAllowedWeights`.
    pub min_allowed_weights: u16,
    /// `MaxWeightsLimit`.
    pub max_weights_limit: u16,
    /// `WeightsVersionKey`.
    pub weights_version_key: u64,
    /// `WeightsSetRateLimit`.
    pub weights_rate_limit: u64,
    /// `Tempo`.
    pub tempo: u16,
}

impl Default for Hyperparameters {
    /// What `scripts/testbed/setup.mjs` sets, but for the version key (0:
    /// any is accepted).
    fn default() -> Self {
        Hyperparameters {
            min_allowed_weights: 1,
            max_weights_limit: u16::MAX,
            weights_version_key: 0,
            weights_rate_limit: 0,
            tempo: 360,
        }
    }
}

/// The subnet as the storage holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subnet {
    /// Its netuid.
    pub netuid: u16,
    /// Its neurons by uid (`SubnetworkN` is their number).
    pub neurons: Vec<Neuron>,
    /// Its hyperparameters.
    pub hyperparameters: Hyperparameters,
    /// `Consensus` by uid (not written when empty).
    pub consensus: Vec<u16>,
    /// `ValidatorTrust` by uid (not written when empty).
    pub validator_trust: Vec<u16>,
    /// `Weights` rows by uid: (uid, u16).
    pub weights: BTreeMap<u16, Vec<(u16, u16)>>,
}

/// What a submitted extrinsic does in its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `System.ExtrinsicSuccess`.
    Success,
    /// `System.ExtrinsicFailed` with this `SubtensorModule` error
    /// (`SettingWeightsTooFast`, `IncorrectWeightVersionKey`, ...). A name
    /// the pallet does not have makes the node refuse the submission.
    Failed(String),
}

/// The fields of a `SubtensorModule.set_weights` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetWeights {
    /// `netuid`.
    pub netuid: u16,
    /// `dests`.
    pub uids: Vec<u16>,
    /// `weights`.
    pub weights: Vec<u16>,
    /// `version_key`.
    pub version_key: u64,
}

/// A signed extrinsic the stand-in took, in submission order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extrinsic {
    /// The block it is in.
    pub block: u64,
    /// Its signer.
    pub signer: [u8; 32],
    /// `Pallet.call`.
    pub call: String,
    /// Its fields, when it is `SubtensorModule.set_weights`.
    pub set_weights: Option<SetWeights>,
    /// What its events said.
    pub outcome: Outcome,
}

/// What the RPC methods share: the metadata, and the state behind a lock
/// no method holds across an await.
struct Shared {
    runtime: Runtime,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding it leaves the state as it
        // was: still the best answer for the other threads.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running stand-in, driven from a test's thread (its methods block
/// on its own runtime: not for use inside an async context). Dropping it
/// stops the server.
pub struct Subtensor {
    shared: Arc<Shared>,
    addr: SocketAddr,
    handle: Option<ServerHandle>,
    runtime: tokio::runtime::Runtime,
}

impl Subtensor {
    /// Serves `subnet` with the runtime of `metadata` (a SCALE
    /// `RuntimeMetadataPrefixed`, V14 or later) on a free port of
    /// 127.0.0.1, at block 0.
    pub fn start(metadata: &[u8], subnet: Subnet) -> Result<Subtensor, String> {
        Subtensor::start_without(metadata, subnet, &[])
    }

    /// [`Subtensor::start`], the served metadata without the
    /// `SubtensorModule` storage items `removed` (a runtime that dropped
    /// them). Their values are still stored.
    pub fn start_without(
        metadata: &[u8],
        subnet: Subnet,
        removed: &[&str],
    ) -> Result<Subtensor, String> {
        let removed = removed.iter().map(|s| s.to_string()).collect();
        let runtime = Runtime::new(metadata, &removed)?;
        let state = State::new(&runtime, subnet)?;
        let shared = Arc::new(Shared {
            runtime,
            state: Mutex::new(state),
        });
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("subtensor-stand-in")
            .enable_all()
            .build()
            .map_err(|e| format!("stand-in runtime: {e}"))?;
        let mut me = Subtensor {
            shared,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            handle: None,
            runtime: tokio,
        };
        me.serve()?;
        Ok(me)
    }

    fn serve(&mut self) -> Result<(), String> {
        {
            // A new server numbers its connections from the start again.
            let mut st = self.shared.lock();
            st.past_connections += st.connections.len();
            st.connections.clear();
        }
        let module = rpc::module(self.shared.clone());
        let addr = self.addr;
        let (handle, bound) = self.runtime.block_on(async move {
            let server = Server::builder()
                .build(addr)
                .await
                .map_err(|e| format!("stand-in on {addr}: {e}"))?;
            let bound = server.local_addr().map_err(|e| e.to_string())?;
            Ok::<_, String>((server.start(module), bound))
        })?;
        self.addr = bound;
        self.handle = Some(handle);
        Ok(())
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Stops serving: the connections close, the port refuses. The state
    /// is kept.
    pub fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = handle.stop();
            self.runtime.block_on(handle.stopped());
        }
    }

    /// Serves again, on the same port and state.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.serve()
    }

    /// Changes the subnet (the storage follows at once, at every block).
    pub fn update(&self, change: impl FnOnce(&mut Subnet)) -> Result<(), String> {
        let mut st = self.shared.lock();
        change(&mut st.subnet);
        st.rebuild(&self.shared.runtime)
    }

    /// The subnet as stored now (with what submissions changed).
    pub fn subnet(&self) -> Subnet {
        self.shared.lock().subnet.clone()
    }

    /// Makes `n` empty blocks.
    pub fn advance(&self, n: u64) {
        let mut st = self.shared.lock();
        for _ in 0..n {
            let events = self.shared.runtime.no_events();
            st.push_block(Vec::new(), events);
        }
    }

    /// The best (and finalized) block's number.
    pub fn head(&self) -> u64 {
        self.shared.lock().head().header.number
    }

    /// What submissions do in their blocks from now on (after those
    /// [`Subtensor::answer_next`] queued).
    pub fn answer(&self, outcome: Outcome) {
        self.shared.lock().outcome = outcome;
    }

    /// What the next submission does, once; queued after earlier ones.
    pub fn answer_next(&self, outcome: Outcome) {
        self.shared.lock().next.push_back(outcome);
    }

    /// The extrinsics taken so far.
    pub fn extrinsics(&self) -> Vec<Extrinsic> {
        self.shared.lock().extrinsics.clone()
    }

    /// Stores bytes no type decodes as every value of `SubtensorModule.item`
    /// (`mend_item` undoes it).
    pub fn break_item(&self, item: &str) -> Result<(), String> {
        let mut st = self.shared.lock();
        st.broken.insert(item.to_string());
        st.rebuild(&self.shared.runtime)
    }

    /// Stores `SubtensorModule.item` as the subnet says again.
    pub fn mend_item(&self, item: &str) -> Result<(), String> {
        let mut st = self.shared.lock();
        st.broken.remove(item);
        st.rebuild(&self.shared.runtime)
    }

    /// How many calls of `method` were answered.
    pub fn calls(&self, method: &str) -> usize {
        self.shared.lock().calls.get(method).copied().unwrap_or(0)
    }

    /// How many websocket connections made a call.
    pub fn connections(&self) -> usize {
        let st = self.shared.lock();
        st.past_connections + st.connections.len()
    }
}

impl Drop for Subtensor {
    fn drop(&mut self) {
        self.stop();
    }
}
