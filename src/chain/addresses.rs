//! Every call and storage item the client uses, by name in
//! `SubtensorModule`, with the key and value types it reads them as. They
//! are public (and `#[doc(hidden)]`) only so that `tests/it/chain.rs` can
//! encode each against real metadata (today's finney and the testbed's)
//! without a node; they are not part of the library's surface.

use subxt::dynamic::{self, Value};
use subxt::utils::AccountId32;

use super::PALLET;

/// `SubtensorModule.commit_timelocked_weights(netuid, commit, reveal_round,
/// commit_reveal_version)`: weights timelock-encrypted to a drand round.
#[doc(hidden)]
pub fn commit_timelocked_weights_call(
    netuid: u16,
    commit: &[u8],
    reveal_round: u64,
    version: u16,
) -> subxt::transactions::DynamicPayload<(u16, Vec<u8>, u64, u16)> {
    dynamic::tx(
        PALLET,
        "commit_timelocked_weights",
        (netuid, commit.to_vec(), reveal_round, version),
    )
}

/// `CommitRevealWeightsVersion -> u16` (a plain item).
#[doc(hidden)]
pub fn commit_reveal_version() -> subxt::storage::DynamicAddress<(), u16> {
    dynamic::storage(PALLET, "CommitRevealWeightsVersion")
}

/// `SubtensorModule.set_weights(netuid, dests, weights, version_key)`.
#[doc(hidden)]
pub fn set_weights_call(
    netuid: u16,
    uids: &[u16],
    weights: &[u16],
    version_key: u64,
) -> subxt::transactions::DynamicPayload<(u16, Vec<u16>, Vec<u16>, u64)> {
    dynamic::tx(
        PALLET,
        "set_weights",
        (netuid, uids.to_vec(), weights.to_vec(), version_key),
    )
}

/// `Keys(netuid, uid) -> hotkey`.
#[doc(hidden)]
pub fn keys() -> subxt::storage::DynamicAddress<(u16, u16), AccountId32> {
    dynamic::storage(PALLET, "Keys")
}

/// `Axons(netuid, hotkey) -> AxonInfo`.
#[doc(hidden)]
pub fn axons() -> subxt::storage::DynamicAddress<(u16, AccountId32), Value> {
    dynamic::storage(PALLET, "Axons")
}

/// `Uids(netuid, hotkey) -> uid`.
#[doc(hidden)]
pub fn uids() -> subxt::storage::DynamicAddress<(u16, AccountId32), u16> {
    dynamic::storage(PALLET, "Uids")
}

/// A `u16` item keyed by netuid (`SubnetworkN`, `MinAllowedWeights`, ...).
#[doc(hidden)]
pub fn storage_u16(pallet: &str, name: &str) -> subxt::storage::DynamicAddress<(u16,), u16> {
    dynamic::storage(pallet, name)
}

/// A `u64` item keyed by netuid (`WeightsVersionKey`, ...).
#[doc(hidden)]
pub fn storage_u64(pallet: &str, name: &str) -> subxt::storage::DynamicAddress<(u16,), u64> {
    dynamic::storage(pallet, name)
}

pub(super) fn storage_bool(
    pallet: &str,
    name: &str,
) -> subxt::storage::DynamicAddress<(u16,), bool> {
    dynamic::storage(pallet, name)
}

pub(super) fn storage_vec_bool(
    pallet: &str,
    name: &str,
) -> subxt::storage::DynamicAddress<(u16,), Vec<bool>> {
    dynamic::storage(pallet, name)
}

pub(super) fn storage_vec_u64(
    pallet: &str,
    name: &str,
) -> subxt::storage::DynamicAddress<(u16,), Vec<u64>> {
    dynamic::storage(pallet, name)
}

/// A `Vec<u16>` item keyed by netuid (`Consensus`, `ValidatorTrust`).
#[doc(hidden)]
pub fn storage_vec_u16(
    pallet: &str,
    name: &str,
) -> subxt::storage::DynamicAddress<(u16,), Vec<u16>> {
    dynamic::storage(pallet, name)
}

/// `Weights(netuid, uid) -> Vec<(uid, u16)>`.
#[doc(hidden)]
pub fn weights_entry() -> subxt::storage::DynamicAddress<(u16, u16), Vec<(u16, u16)>> {
    dynamic::storage(PALLET, "Weights")
}

/// `BlockAtRegistration(netuid, uid) -> block`.
#[doc(hidden)]
pub fn block_at_registration_entry() -> subxt::storage::DynamicAddress<(u16, u16), u64> {
    dynamic::storage(PALLET, "BlockAtRegistration")
}

/// `TotalHotkeyStake(hotkey) -> rao` (the 2023 runtime).
#[doc(hidden)]
pub fn total_hotkey_stake() -> subxt::storage::DynamicAddress<(AccountId32,), Value> {
    dynamic::storage(PALLET, "TotalHotkeyStake")
}

/// `TotalHotkeyAlpha(hotkey, netuid) -> alpha` (today's runtime).
#[doc(hidden)]
pub fn total_hotkey_alpha_entry() -> subxt::storage::DynamicAddress<(AccountId32, u16), Value> {
    dynamic::storage(PALLET, "TotalHotkeyAlpha")
}

/// `TaoWeight -> u64` (a plain item of today's runtime): the share of root
/// stake that counts on a subnet, as a fraction of `u64::MAX`.
pub(super) fn tao_weight() -> subxt::storage::DynamicAddress<(), Value> {
    dynamic::storage(PALLET, "TaoWeight")
}
