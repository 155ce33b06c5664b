//! The chain client: a subtensor node over its JSON-RPC websocket, through
//! subxt's dynamic API. The metadata comes from the node when the client
//! connects, so a runtime upgrade needs no new build; calls and storage are
//! looked up by name (`SubtensorModule.set_weights`, `Keys`, `Axons`, ...).
//!
//! # In scope
//! What the validator loop needs, and nothing else: the best block, the
//! subnet's neurons and hyperparameters read at one block hash (a consistent
//! snapshot), a hotkey's uid, and submitting `set_weights` signed by the
//! hotkey, watched until it is in a block, with the chain's refusal decoded
//! to its error name.
//!
//! # Out of scope
//! No blocking code (it is async, on the loop's runtime) and no decisions:
//! when to resync or set weights is `scoring::state`'s, what to send is
//! `scoring::weights`'. Only the legacy JSON-RPC methods are used
//! (`chain_*`, `state_*`, `author_submitAndWatchExtrinsic`), which every
//! subtensor node and the chopsticks testbed serve.
//!
//! # Connection
//! The client connects on first use. After any failure (an RPC error or a
//! timeout) it drops the connection and connects again on the next call;
//! failed connects back off (1 s doubling to 60 s), and calls in between fail
//! at once. So a dropped node never blocks the loop or crashes the process:
//! the step that needed it logs and the next step tries again.

mod addresses;
mod config;
mod consensus;
mod error;
mod read;

use std::sync::Arc;
use std::time::{Duration, Instant};

use subxt::backend::LegacyBackend;
use subxt::config::RpcConfigFor;
use subxt::dynamic::Value;
use subxt::ext::scale_value::At;
use subxt::rpcs::methods::LegacyRpcMethods;
use subxt::rpcs::RpcClient;
use subxt::transactions::TransactionStatus;
use subxt::utils::{AccountId32, H256};
use subxt::{OnlineClient, SubstrateConfig};

pub use config::{ChainConfig, ChainConfigBuilder};
pub use consensus::ConsensusView;
// Public only for `tests/it/chain.rs` (see `addresses.rs`).
#[doc(hidden)]
pub use addresses::{
    axons, block_at_registration_entry, commit_reveal_version, commit_timelocked_weights_call,
    keys, set_weights_call, storage_u16, storage_u64, storage_vec_u16, total_hotkey_alpha_entry,
    total_hotkey_stake, uids, weights_entry,
};
pub use error::ChainError;

use addresses::{storage_bool, storage_vec_bool, storage_vec_u64};
use error::rpc_error;
use read::{by_uid, entries, has_item, if_present, read, try_read};

use crate::metagraph::{AxonInfo, Metagraph, Neuron};
use crate::wallet::Hotkey;

/// The subtensor pallet every item below lives in.
pub const PALLET: &str = "SubtensorModule";

type Api = OnlineClient<SubstrateConfig>;

/// A block the reads are made at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: H256,
}

/// The subnet's hyperparameters the loop needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hyperparameters {
    /// `MinAllowedWeights`.
    pub min_allowed_weights: u16,
    /// `MaxWeightsLimit` (a u16 fraction of 65535).
    pub max_weight_limit: u16,
    /// `WeightsVersionKey`: the lowest version key the chain accepts.
    pub weights_version_key: u64,
    /// `WeightsSetRateLimit`, in blocks.
    pub weights_rate_limit: u64,
    /// `Tempo`, in blocks.
    pub tempo: u16,
    /// `CommitRevealWeightsEnabled`; `None` when the runtime has no such
    /// item (then it is off).
    pub commit_reveal: Option<bool>,
    /// `RevealPeriodEpochs`: epochs between a commit and its reveal; `None`
    /// when the runtime has no such item.
    pub reveal_period_epochs: Option<u64>,
    /// `CommitRevealWeightsVersion`, the version a commit must carry; `None`
    /// when the runtime keeps none.
    pub commit_reveal_version: Option<u16>,
}

/// Where a submitted extrinsic landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    /// The block it is in.
    pub block_number: u64,
    /// That block's hash, hex.
    pub block_hash: String,
    /// The extrinsic's hash, hex.
    pub extrinsic_hash: String,
}

/// The subtensor client. Cheap to share behind an `Arc`.
pub struct Chain {
    config: ChainConfig,
    slot: tokio::sync::Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    api: Option<(RpcClient, Api)>,
    failures: u32,
    next_attempt: Option<Instant>,
    /// A connection was made before (so the next one is a reconnect).
    was_connected: bool,
}

impl Chain {
    /// A client for `config`'s endpoint; it connects on first use.
    pub fn new(config: ChainConfig) -> Chain {
        Chain {
            config,
            slot: tokio::sync::Mutex::new(Slot::default()),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// How long until the client will try to connect again, when it is
    /// waiting out its back-off; `None` when a call would try now.
    pub async fn retry_in(&self) -> Option<Duration> {
        let slot = self.slot.lock().await;
        if slot.api.is_some() {
            return None;
        }
        slot.next_attempt
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The connection, made now if there is none and the back-off allows.
    async fn api(&self) -> Result<(RpcClient, Api), ChainError> {
        let mut slot = self.slot.lock().await;
        if let Some(api) = &slot.api {
            return Ok(api.clone());
        }
        if let Some(at) = slot.next_attempt {
            let now = Instant::now();
            if now < at {
                return Err(ChainError::Disconnected(at - now));
            }
        }
        let endpoint = self.config.endpoint().to_string();
        let connect = async {
            let rpc = RpcClient::from_insecure_url(&endpoint).await?;
            let backend = LegacyBackend::<SubstrateConfig>::builder().build(rpc.clone());
            let api = Api::from_backend(Arc::new(backend)).await?;
            Ok::<_, subxt::Error>((rpc, api))
        };
        match tokio::time::timeout(self.config.request_timeout(), connect).await {
            Ok(Ok(api)) => {
                if slot.was_connected {
                    log::info!("chain: reconnected to {endpoint}");
                } else {
                    log::info!("chain: connected to {endpoint}");
                }
                slot.was_connected = true;
                slot.api = Some(api.clone());
                slot.failures = 0;
                slot.next_attempt = None;
                Ok(api)
            }
            failed => {
                let why = match failed {
                    Ok(Err(e)) => ChainError::Connect(e.to_string()),
                    _ => ChainError::Timeout("connecting"),
                };
                slot.failures += 1;
                let wait = self.config.backoff(slot.failures);
                slot.next_attempt = Some(Instant::now() + wait);
                // One line per attempt, naming the endpoint (a resolver's
                // error does not) and the back-off the next call keeps to.
                log::warn!(
                    "chain {endpoint}: {why}; next attempt in {}s",
                    wait.as_secs_f64().ceil()
                );
                Err(why)
            }
        }
    }

    /// Runs `op` on the connection under the request timeout; any failure
    /// drops the connection, so the next call connects again.
    async fn with_api<T, F, Fut>(&self, what: &'static str, op: F) -> Result<T, ChainError>
    where
        F: FnOnce(RpcClient, Api) -> Fut,
        Fut: std::future::Future<Output = Result<T, ChainError>>,
    {
        self.with_api_within(what, self.config.request_timeout(), op)
            .await
    }

    /// [`Chain::with_api`] under `timeout` (a submission waits for
    /// inclusion, longer than a read).
    async fn with_api_within<T, F, Fut>(
        &self,
        what: &'static str,
        timeout: Duration,
        op: F,
    ) -> Result<T, ChainError>
    where
        F: FnOnce(RpcClient, Api) -> Fut,
        Fut: std::future::Future<Output = Result<T, ChainError>>,
    {
        let (rpc, api) = self.api().await?;
        let result = match tokio::time::timeout(timeout, op(rpc, api)).await {
            Ok(r) => r,
            Err(_) => Err(ChainError::Timeout(what)),
        };
        if let Err(e) = &result {
            if e.is_connection_problem() {
                self.drop_connection(e).await;
            }
        }
        result
    }

    async fn drop_connection(&self, why: &ChainError) {
        let mut slot = self.slot.lock().await;
        if slot.api.take().is_some() {
            log::warn!(
                "chain {}: {why}; the connection is dropped and made again on the next call",
                self.config.endpoint()
            );
        }
    }

    /// The best block (bittensor's `get_current_block`).
    pub async fn best_block(&self) -> Result<Head, ChainError> {
        self.with_api("reading the best block", |rpc, _| async move {
            let legacy = LegacyRpcMethods::<RpcConfigFor<SubstrateConfig>>::new(rpc);
            let hash = legacy
                .chain_get_block_hash(None)
                .await
                .map_err(rpc_error)?
                .ok_or(ChainError::Missing("best block hash"))?;
            let header = legacy
                .chain_get_header(Some(hash))
                .await
                .map_err(rpc_error)?
                .ok_or(ChainError::Missing("best block header"))?;
            Ok(Head {
                number: header.number,
                hash,
            })
        })
        .await
    }

    /// The uid `hotkey` holds on `netuid` at block `at`, read from the
    /// chain's `Uids` item; `None` when it is not registered. (With a
    /// [`Metagraph`] already read, [`Metagraph::uid_of`] answers the same
    /// without a call.)
    pub async fn uid_of(
        &self,
        netuid: u16,
        hotkey: &Hotkey,
        at: Head,
    ) -> Result<Option<u16>, ChainError> {
        let account = AccountId32(hotkey.public_key());
        self.with_api("reading the hotkey's uid", |_, api| async move {
            let at = api.at_block(at.hash).await.map_err(rpc_error)?;
            try_read(&at.storage(), uids(), (netuid, account)).await
        })
        .await
    }

    /// The subnet's neurons at `at`: hotkeys by uid, axons, validator
    /// permits and last weight blocks, all read at that one block.
    pub async fn metagraph(&self, netuid: u16, at: Head) -> Result<Metagraph, ChainError> {
        self.with_api("reading the metagraph", |_, api| async move {
            let block = api.at_block(at.hash).await.map_err(rpc_error)?;
            let storage = block.storage();
            let n = read(&storage, storage_u16(PALLET, "SubnetworkN"), (netuid,)).await?;
            let hotkeys = by_uid(&storage, keys(), netuid, usize::from(n)).await?;
            let mut served = std::collections::HashMap::new();
            for (hotkey, value) in entries(&storage, axons(), netuid).await? {
                served.insert(hotkey.0, axon_info(&value)?);
            }
            let permits = read(
                &storage,
                storage_vec_bool(PALLET, "ValidatorPermit"),
                (netuid,),
            )
            .await?;
            let last_update =
                read(&storage, storage_vec_u64(PALLET, "LastUpdate"), (netuid,)).await?;
            let mut neurons = Vec::with_capacity(hotkeys.len());
            for (uid, hotkey) in hotkeys.into_iter().enumerate() {
                let hotkey = hotkey.ok_or(ChainError::Missing(
                    "a uid below SubnetworkN without a hotkey",
                ))?;
                neurons.push(Neuron {
                    uid: u16::try_from(uid).unwrap_or(u16::MAX),
                    hotkey: hotkey.to_string(),
                    coldkey: String::new(),
                    axon: served.get(&hotkey.0).cloned().unwrap_or_default(),
                    validator_permit: permits.get(uid).copied().unwrap_or(false),
                    last_update: last_update.get(uid).copied().unwrap_or(0),
                });
            }
            Ok(Metagraph { neurons })
        })
        .await
    }

    /// The subnet's hyperparameters at `at`.
    pub async fn hyperparameters(
        &self,
        netuid: u16,
        at: Head,
    ) -> Result<Hyperparameters, ChainError> {
        self.with_api("reading the hyperparameters", |_, api| async move {
            let block = api.at_block(at.hash).await.map_err(rpc_error)?;
            let storage = block.storage();
            let storage = &storage;
            let u16_of = |name| read(storage, storage_u16(PALLET, name), (netuid,));
            let u64_of = |name| read(storage, storage_u64(PALLET, name), (netuid,));
            let metadata = block.metadata();
            let has = |name| has_item(&metadata, name);
            let cr_enabled = "CommitRevealWeightsEnabled";
            let commit_reveal = if_present(
                has(cr_enabled),
                read(storage, storage_bool(PALLET, cr_enabled), (netuid,)),
            )
            .await?;
            let reveal_period_epochs =
                if_present(has("RevealPeriodEpochs"), u64_of("RevealPeriodEpochs")).await?;
            let cr_version = "CommitRevealWeightsVersion";
            let commit_reveal_version =
                if_present(has(cr_version), read(storage, commit_reveal_version(), ())).await?;
            Ok(Hyperparameters {
                min_allowed_weights: u16_of("MinAllowedWeights").await?,
                max_weight_limit: u16_of("MaxWeightsLimit").await?,
                weights_version_key: u64_of("WeightsVersionKey").await?,
                weights_rate_limit: u64_of("WeightsSetRateLimit").await?,
                tempo: u16_of("Tempo").await?,
                commit_reveal,
                reveal_period_epochs,
                commit_reveal_version,
            })
        })
        .await
    }

    /// Submits `set_weights(netuid, uids, weights, version_key)` signed by
    /// `hotkey`, and waits until it is in a block, at most the inclusion
    /// timeout; a refusal is [`ChainError::Refused`] with its name.
    pub async fn set_weights(
        &self,
        netuid: u16,
        uids: &[u16],
        weights: &[u16],
        version_key: u64,
        hotkey: &Hotkey,
    ) -> Result<Inclusion, ChainError> {
        self.submit(
            &set_weights_call(netuid, uids, weights, version_key),
            hotkey,
        )
        .await
    }

    /// Submits `commit_timelocked_weights(netuid, commit, reveal_round,
    /// version)` signed by `hotkey`, and waits until it is in a block.
    pub async fn commit_weights(
        &self,
        netuid: u16,
        commit: &[u8],
        reveal_round: u64,
        version: u16,
        hotkey: &Hotkey,
    ) -> Result<Inclusion, ChainError> {
        let call = commit_timelocked_weights_call(netuid, commit, reveal_round, version);
        self.submit(&call, hotkey).await
    }

    /// Signs `call` with `hotkey` (mortal for 8 blocks, as bittensor),
    /// submits it and waits until it is in a block, at most the inclusion
    /// timeout. A refusal by the chain is [`ChainError::Refused`] with the
    /// error's name.
    async fn submit<C: subxt::transactions::Payload>(
        &self,
        call: &C,
        hotkey: &Hotkey,
    ) -> Result<Inclusion, ChainError> {
        let signer = hotkey.keypair().clone();
        let timeout = self.config.inclusion_timeout();
        self.with_api_within("waiting for inclusion", timeout, |_, api| async move {
            let params = subxt::config::SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new()
                .mortal(8)
                .build();
            let mut tx = api.tx().await.map_err(rpc_error)?;
            let mut progress = tx
                .sign_and_submit_then_watch(call, &signer, params)
                .await
                .map_err(|e| ChainError::Rejected(e.to_string()))?;
            let extrinsic_hash = format!("{:?}", progress.extrinsic_hash());
            while let Some(status) = progress.next().await {
                match status.map_err(rpc_error)? {
                    TransactionStatus::InBestBlock(b) | TransactionStatus::InFinalizedBlock(b) => {
                        let block_hash = b.block_hash();
                        let events = b.wait_for_success().await;
                        let block = api.at_block(block_hash).await.map_err(rpc_error)?;
                        let inclusion = Inclusion {
                            block_number: block.block_number(),
                            block_hash: format!("{block_hash:?}"),
                            extrinsic_hash: extrinsic_hash.clone(),
                        };
                        return match events {
                            Ok(_) => Ok(inclusion),
                            Err(e) => Err(refusal(e, inclusion.block_number)),
                        };
                    }
                    TransactionStatus::Invalid { message }
                    | TransactionStatus::Dropped { message }
                    | TransactionStatus::Error { message } => {
                        return Err(ChainError::Rejected(message));
                    }
                    _ => {}
                }
            }
            Err(ChainError::Rejected(
                "the node ended the watch before inclusion".into(),
            ))
        })
        .await
    }
}

/// An `AxonInfo` value, read by field name so that fields a later runtime
/// adds are ignored. The ip is a u128: IPv4 in its low 32 bits.
fn axon_info(value: &Value) -> Result<AxonInfo, ChainError> {
    let field = |name: &'static str| {
        value
            .at(name)
            .and_then(|v| v.as_u128())
            .ok_or(ChainError::Missing(name))
    };
    let ip_type = u8::try_from(field("ip_type")?).unwrap_or(0);
    let raw_ip = field("ip")?;
    let ip = match ip_type {
        6 => std::net::IpAddr::V6(std::net::Ipv6Addr::from(raw_ip)),
        _ => std::net::IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(raw_ip).unwrap_or(0))),
    };
    let small = |name| field(name).map(|v| u8::try_from(v).unwrap_or(0));
    Ok(AxonInfo {
        ip,
        port: u16::try_from(field("port")?).unwrap_or(0),
        ip_type,
        protocol: small("protocol")?,
        version: u32::try_from(field("version")?).unwrap_or(0),
        placeholder1: small("placeholder1")?,
        placeholder2: small("placeholder2")?,
    })
}

/// The chain's reason for refusing an included extrinsic, by name.
fn refusal(e: subxt::error::TransactionEventsError, block: u64) -> ChainError {
    use subxt::error::{DispatchError, TransactionEventsError};
    match e {
        TransactionEventsError::ExtrinsicFailed(DispatchError::Module(m)) => match m.details() {
            Ok(d) => ChainError::Refused {
                name: d.variant.name.to_string(),
                block,
            },
            Err(_) => ChainError::Refused {
                name: format!("module error {}/{}", m.pallet_index(), m.error_index()),
                block,
            },
        },
        TransactionEventsError::ExtrinsicFailed(other) => ChainError::Refused {
            name: format!("{other:?}"),
            block,
        },
        other => rpc_error(other),
    }
}
