//! The dendrite: a blocking client that asks a miner's axon for its PAT
//! (`GitPatSynapse`), signed with the validator's hotkey, on ureq.
//!
//! # What it follows
//! bittensor 9.9.0's wire format, read in `core/dendrite.py`
//! (`preprocess_synapse_for_request`, `call`, `process_server_response`),
//! `core/synapse.py` (`to_headers`, `body_hash`), `core/axon.py`
//! (`default_verify`, `synapse_to_response`) and `utils/axon_utils.py`
//! (the nonce window), and checked against real 9.9.0 axons
//! (`scripts/interop-dendrite.sh`):
//! - `POST http://{ip}:{port}/GitPatSynapse` with the headers `name`,
//!   `timeout`, `bt_header_axon_{ip,port,hotkey}`,
//!   `bt_header_dendrite_{version,nonce,uuid,hotkey,signature}`,
//!   `header_size`, `total_size`, `computed_body_hash`, and the synapse as
//!   JSON. No `bt_header_dendrite_ip`: the SDK sends its external IP, which
//!   the axon replaces by the TCP peer, and finding it means asking a
//!   public service.
//! - `computed_body_hash` is `hex(sha3_256(""))`: the hash of the hashes
//!   of the synapse's `required_hash_fields`, of which `GitPatSynapse` has
//!   none.
//! - The signature is sr25519 (context `substrate`) over
//!   `{nonce}.{dendrite ss58}.{axon ss58}.{uuid}.{body hash}`, sent as `0x`
//!   and 128 hex digits; the nonce is the time in nanoseconds, strictly
//!   increasing within the process (an axon refuses a nonce not above the
//!   last it saw from our hotkey and uuid), and the uuid is one per
//!   [`Dendrite`].
//! - The PAT is `github_access_token` of a 200 answer's JSON. The SDK takes
//!   the status from `bt_header_axon_status_code` when present; a 200 whose
//!   header says otherwise is a failure here too.
//!
//! # Where it is stricter than the SDK
//! The SDK follows redirects, reads any size of answer and waits 12 s in
//! total. Here every query has a global timeout (12 s by default), a body
//! limit, and no redirect: a miner's axon has no reason to send one, and
//! following it would let a miner point the validator at any host.
//!
//! # Out of scope
//! No async (the pipeline calls it through its bridge) and no retries (the
//! SDK makes none: a miner that fails to answer has no PAT this round).

mod client;
mod config;
mod error;

/// The axon type lives with the metagraph's plain data; kept here under its
/// old path.
pub use client::{Dendrite, BODY_HASH, SYNAPSE};
pub use config::{DendriteConfig, DendriteConfigBuilder};
pub use error::Error;

/// bittensor's version as an int (`9.9.0` -> 9009000), sent as
/// `bt_header_dendrite_version`. Axons apply the nonce freshness window to
/// versions from 7.2.0 on.
pub const BITTENSOR_VERSION: u64 = 9_009_000;
