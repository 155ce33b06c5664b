//! The subnet's neurons as the validator sees them: from the chain or from
//! a `--metagraph` file; and a miner's answer, a round's input. Plain data; reading them is the chain client's or
//! `inputs`' job.

use std::net::{IpAddr, Ipv4Addr};

use crate::token::Pat;

/// What a neuron serves, as bittensor's `AxonInfo`. Two metagraphs whose
/// axons are all equal field by field need no resync (SCORING.md §11.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonInfo {
    /// `0.0.0.0` when it does not serve.
    pub ip: IpAddr,
    /// 0 when it does not serve.
    pub port: u16,
    /// 4 or 6 (0 when never served).
    pub ip_type: u8,
    /// The protocol number the miner announced.
    pub protocol: u8,
    /// The miner's announced version.
    pub version: u32,
    /// Reserved fields of the chain's `AxonInfo`.
    pub placeholder1: u8,
    /// Reserved fields of the chain's `AxonInfo`.
    pub placeholder2: u8,
}

impl Default for AxonInfo {
    fn default() -> Self {
        AxonInfo {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            ip_type: 0,
            protocol: 0,
            version: 0,
            placeholder1: 0,
            placeholder2: 0,
        }
    }
}

/// A miner's axon as the dendrite queries it: where it serves and the
/// hotkey it checks our signature against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axon {
    /// Its address; `0.0.0.0` when it does not serve.
    pub ip: IpAddr,
    /// Its port; 0 when it does not serve.
    pub port: u16,
    /// The miner's hotkey (SS58), which the axon checks our signature
    /// against.
    pub hotkey: String,
}

impl Axon {
    /// Whether the axon serves at all (bittensor's `is_serving`).
    pub fn is_served(&self) -> bool {
        !self.ip.is_unspecified() && self.port != 0
    }
}

/// One uid of the subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neuron {
    /// Its uid.
    pub uid: u16,
    /// The hotkey registered at the uid (SS58).
    pub hotkey: String,
    /// The hotkey's owner (SS58), when known.
    pub coldkey: String,
    /// What it serves, as the chain stores it ([`Neuron::query_target`]
    /// is the dendrite's view of it).
    pub axon: AxonInfo,
    /// Whether it may set weights.
    pub validator_permit: bool,
    /// The block of its last weights (0 when never).
    pub last_update: u64,
}

impl Neuron {
    /// Where the dendrite asks this neuron for its PAT: its axon's address
    /// and its hotkey.
    pub fn query_target(&self) -> Axon {
        Axon {
            ip: self.axon.ip,
            port: self.axon.port,
            hotkey: self.hotkey.clone(),
        }
    }
}

/// The subnet at one block: neurons by uid, `0..n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metagraph {
    /// One per uid, in uid order.
    pub neurons: Vec<Neuron>,
}

impl Metagraph {
    /// The number of uids.
    pub fn n(&self) -> usize {
        self.neurons.len()
    }

    /// Hotkeys by uid.
    pub fn hotkeys(&self) -> Vec<String> {
        self.neurons.iter().map(|n| n.hotkey.clone()).collect()
    }

    /// Whether every axon equals `other`'s, field by field and with the
    /// hotkeys and coldkeys (bittensor's `AxonInfo.__eq__`), and the
    /// lengths agree: the reference resyncs only when this is false.
    pub fn same_axons(&self, other: &Metagraph) -> bool {
        self.n() == other.n()
            && self
                .neurons
                .iter()
                .zip(&other.neurons)
                .all(|(a, b)| a.axon == b.axon && a.hotkey == b.hotkey && a.coldkey == b.coldkey)
    }

    /// The uid `hotkey` holds in this metagraph; `None` when it holds
    /// none. ([`crate::chain::Chain::uid_of`] asks the chain instead.)
    pub fn uid_of(&self, hotkey: &str) -> Option<u16> {
        self.neurons
            .iter()
            .find(|n| n.hotkey == hotkey)
            .map(|n| n.uid)
    }
}

/// A miner's answer to the validator's query: a round's input (a line of
/// the miners file, or what an axon answered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinerInput {
    /// The miner's uid.
    pub uid: u16,
    /// The hotkey; `None` when the miner did not respond.
    pub hotkey: Option<String>,
    /// The PAT it sent.
    pub pat: Pat,
}
