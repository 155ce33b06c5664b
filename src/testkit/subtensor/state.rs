//! The stand-in's chain: blocks, the storage built from the test's
//! [`Subnet`], and what a submission does to them. No runtime runs: a
//! `set_weights` the test lets succeed updates `LastUpdate` and `Weights`
//! as the pallet would, nothing else (no epoch, no fees, no signature
//! check).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use subxt::config::substrate::{BlakeTwo256, Digest, SubstrateHeader};
use subxt::config::Hasher;
use subxt::ext::codec::Encode;
use subxt::utils::H256;

use super::scale::{account, Call, Runtime, PALLET};
use super::{Extrinsic, Outcome, SetWeights, Subnet};

/// One block: its header and hash, its extrinsics as submitted, and its
/// `System.Events` (encoded).
pub(super) struct Block {
    pub(super) header: SubstrateHeader<H256>,
    pub(super) hash: H256,
    pub(super) extrinsics: Vec<Vec<u8>>,
    pub(super) events: Vec<u8>,
}

/// Everything the RPC methods read and the test changes.
pub(super) struct State {
    pub(super) subnet: Subnet,
    /// Items whose stored values are bytes no type decodes.
    pub(super) broken: BTreeSet<String>,
    pub(super) storage: BTreeMap<Vec<u8>, Vec<u8>>,
    pub(super) blocks: Vec<Block>,
    /// The storage key of `System.Events` (answered per block).
    pub(super) events_key: Vec<u8>,
    pub(super) nonces: HashMap<[u8; 32], u32>,
    /// What the next submissions get, in turn, before `outcome`.
    pub(super) next: VecDeque<Outcome>,
    /// What submissions get otherwise.
    pub(super) outcome: Outcome,
    pub(super) extrinsics: Vec<Extrinsic>,
    /// RPC calls by method.
    pub(super) calls: BTreeMap<String, usize>,
    /// The websocket connections that made a call.
    pub(super) connections: BTreeSet<usize>,
    /// Those of the servers stopped before.
    pub(super) past_connections: usize,
}

impl State {
    pub(super) fn new(runtime: &Runtime, subnet: Subnet) -> Result<State, String> {
        let mut state = State {
            subnet,
            broken: BTreeSet::new(),
            storage: BTreeMap::new(),
            blocks: Vec::new(),
            events_key: runtime.prefix("System", "Events")?,
            nonces: HashMap::new(),
            next: VecDeque::new(),
            outcome: Outcome::Success,
            extrinsics: Vec::new(),
            calls: BTreeMap::new(),
            connections: BTreeSet::new(),
            past_connections: 0,
        };
        state.push_block(Vec::new(), runtime.no_events());
        state.rebuild(runtime)?;
        Ok(state)
    }

    pub(super) fn head(&self) -> &Block {
        // Never empty: the genesis block is made first.
        &self.blocks[self.blocks.len() - 1]
    }

    pub(super) fn block(&self, hash: Option<H256>) -> Option<&Block> {
        match hash {
            None => Some(self.head()),
            Some(h) => self.blocks.iter().find(|b| b.hash == h),
        }
    }

    pub(super) fn push_block(&mut self, extrinsics: Vec<Vec<u8>>, events: Vec<u8>) -> H256 {
        let parent_hash = self.blocks.last().map(|b| b.hash).unwrap_or_default();
        let header = SubstrateHeader {
            parent_hash,
            number: self.blocks.len() as u64,
            state_root: H256::zero(),
            extrinsics_root: BlakeTwo256.hash(&extrinsics.encode()),
            digest: Digest::default(),
        };
        let hash = BlakeTwo256.hash(&header.encode());
        self.blocks.push(Block {
            header,
            hash,
            extrinsics,
            events,
        });
        hash
    }

    /// The storage again, from the subnet, the broken items last.
    pub(super) fn rebuild(&mut self, rt: &Runtime) -> Result<(), String> {
        let s = &self.subnet;
        let netuid = s.netuid;
        let mut kv: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut put = |key: Vec<u8>, value: Vec<u8>| kv.push((key, value));
        let of_subnet = |item: &str| rt.key(PALLET, item, (netuid,));
        let n = u16::try_from(s.neurons.len()).map_err(|_| "more than 65535 uids")?;
        put(of_subnet("SubnetworkN")?, rt.value("SubnetworkN", &n)?);
        let h = &s.hyperparameters;
        for (item, value) in [
            (
                "MinAllowedWeights",
                rt.value("MinAllowedWeights", &h.min_allowed_weights)?,
            ),
            (
                "MaxWeightsLimit",
                rt.value("MaxWeightsLimit", &h.max_weights_limit)?,
            ),
            (
                "WeightsVersionKey",
                rt.value("WeightsVersionKey", &h.weights_version_key)?,
            ),
            (
                "WeightsSetRateLimit",
                rt.value("WeightsSetRateLimit", &h.weights_rate_limit)?,
            ),
            ("Tempo", rt.value("Tempo", &h.tempo)?),
        ] {
            put(of_subnet(item)?, value);
        }
        let permits: Vec<bool> = s.neurons.iter().map(|n| n.permit).collect();
        let last_update: Vec<u64> = s.neurons.iter().map(|n| n.last_update).collect();
        put(
            of_subnet("ValidatorPermit")?,
            rt.value("ValidatorPermit", &permits)?,
        );
        put(
            of_subnet("LastUpdate")?,
            rt.value("LastUpdate", &last_update)?,
        );
        for (item, values) in [
            ("Consensus", &s.consensus),
            ("ValidatorTrust", &s.validator_trust),
        ] {
            if !values.is_empty() {
                put(of_subnet(item)?, rt.value(item, values)?);
            }
        }
        let stake_item = rt.has("TotalHotkeyStake");
        for (uid, neuron) in (0u16..).zip(&s.neurons) {
            let hotkey = account(neuron.hotkey);
            put(
                rt.key(PALLET, "Keys", (netuid, uid))?,
                rt.value("Keys", &hotkey)?,
            );
            put(
                rt.key(PALLET, "Uids", (netuid, hotkey))?,
                rt.value("Uids", &uid)?,
            );
            put(
                rt.key(PALLET, "BlockAtRegistration", (netuid, uid))?,
                rt.value("BlockAtRegistration", &neuron.registered_at)?,
            );
            if stake_item {
                put(
                    rt.key(PALLET, "TotalHotkeyStake", (hotkey,))?,
                    rt.value("TotalHotkeyStake", &neuron.stake)?,
                );
            }
            if let Some(axon) = neuron.axon {
                let info = rt.axon(&[
                    ("ip", u128::from(u32::from(*axon.ip()))),
                    ("port", u128::from(axon.port())),
                    ("ip_type", 4),
                    ("protocol", 4),
                    ("version", 1),
                ])?;
                put(rt.key(PALLET, "Axons", (netuid, hotkey))?, info);
            }
        }
        for (uid, row) in &s.weights {
            put(
                rt.key(PALLET, "Weights", (netuid, *uid))?,
                rt.value("Weights", row)?,
            );
        }
        let mut storage = BTreeMap::new();
        for (key, value) in kv {
            storage.insert(key, value);
        }
        // A broken item: every stored value of it is one byte, which no
        // integer, vector, account or struct of it decodes from.
        for item in &self.broken {
            let prefix = rt.prefix(PALLET, item)?;
            for (key, value) in storage.iter_mut() {
                if key.starts_with(&prefix) {
                    *value = vec![0xff];
                }
            }
        }
        self.storage = storage;
        Ok(())
    }

    /// A signed extrinsic submitted: a new block holding it, its events
    /// the current outcome's, and for a `set_weights` that succeeds the
    /// signer's `LastUpdate` and `Weights` row.
    pub(super) fn include(
        &mut self,
        rt: &Runtime,
        bytes: Vec<u8>,
        call: Call,
    ) -> Result<H256, String> {
        let outcome = self
            .next
            .pop_front()
            .unwrap_or_else(|| self.outcome.clone());
        let failed = match &outcome {
            Outcome::Success => None,
            Outcome::Failed(name) => Some(name.as_str()),
        };
        let events = rt.events(failed)?;
        *self.nonces.entry(call.signer).or_insert(0) += 1;
        let number = self.blocks.len() as u64;
        let hash = self.push_block(vec![bytes], events);
        let set_weights = call
            .set_weights
            .map(|(netuid, uids, weights, version_key)| SetWeights {
                netuid,
                uids,
                weights,
                version_key,
            });
        if let (Outcome::Success, Some(sw)) = (&outcome, &set_weights) {
            let uid = self
                .subnet
                .neurons
                .iter()
                .position(|n| n.hotkey == call.signer);
            if let (Some(uid), true) = (uid, sw.netuid == self.subnet.netuid) {
                self.subnet.neurons[uid].last_update = number;
                let row = sw
                    .uids
                    .iter()
                    .copied()
                    .zip(sw.weights.iter().copied())
                    .collect();
                self.subnet.weights.insert(uid as u16, row);
                self.rebuild(rt)?;
            }
        }
        self.extrinsics.push(Extrinsic {
            block: number,
            signer: call.signer,
            call: call.name,
            set_weights,
            outcome,
        });
        Ok(hash)
    }
}
