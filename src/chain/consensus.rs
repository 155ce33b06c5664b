//! The subnet's consensus as the chain holds it, read at one block: what
//! the last epoch stored (`Consensus`, `ValidatorTrust`), the validators'
//! weights rows and their stake as the runtime weighs it. Items are looked
//! up by name, and the stake by whichever items the runtime has: the 2023
//! runtime's `TotalHotkeyStake`, or today's `TotalHotkeyAlpha` on the
//! subnet plus the root stake times `TaoWeight`.

use std::collections::BTreeMap;
use std::str::FromStr;

use subxt::dynamic::Value;
use subxt::ext::futures::{stream, StreamExt, TryStreamExt};
use subxt::ext::scale_value::{Composite, Primitive, ValueDef};
use subxt::utils::AccountId32;

use super::addresses::{
    block_at_registration_entry, storage_vec_bool, storage_vec_u16, storage_vec_u64, tao_weight,
    total_hotkey_alpha_entry, total_hotkey_stake, weights_entry,
};
use super::error::rpc_error;
use super::read::{by_uid, has_item, try_read};
use super::{Chain, ChainError, Head, PALLET};
use crate::metagraph::Metagraph;
use crate::scoring::trust::{self, Prediction, WatchInput};

/// The subnet's consensus view at one block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsensusView {
    /// The block it was read at.
    pub block: u64,
    /// `Consensus`: per uid, the stake-weighted median of the weights on
    /// it at the last epoch (u16 fraction).
    pub consensus: Vec<u16>,
    /// `ValidatorTrust`: per uid, at the last epoch (u16 fraction).
    pub validator_trust: Vec<u16>,
    /// `Weights` rows of the uids with a validator permit (uid, u16), as
    /// the chain stores them; a permitted uid without weights has none here.
    pub weights: BTreeMap<u16, Vec<(u16, u16)>>,
    /// Per uid, the stake the runtime weighs (rao; for today's runtime
    /// alpha plus root stake times TaoWeight, without child-key shares).
    /// 0 for uids without a permit (not read).
    pub stakes: Vec<u64>,
    /// `ValidatorPermit` per uid.
    pub permits: Vec<bool>,
    /// `LastUpdate` per uid: the block of each uid's last weights.
    pub last_update: Vec<u64>,
    /// `BlockAtRegistration` per uid.
    pub block_at_registration: Vec<u64>,
}

impl ConsensusView {
    /// What the watch compares when `uid` is about to set `weights` (uid,
    /// u16, as sent): the chain's trust for `uid`, the trust `weights`
    /// would get against the chain's consensus, and `last_predicted` (the
    /// prediction at the last setting, kept by the caller).
    pub fn watch_input(
        &self,
        uid: u16,
        weights: &[(u16, u16)],
        last_predicted: Option<f64>,
        commit_reveal: bool,
    ) -> WatchInput {
        WatchInput {
            trust_now: self
                .validator_trust
                .get(usize::from(uid))
                .map(|&t| trust::from_u16(t)),
            predicted: trust::predicted_trust(weights, &self.consensus, Some(uid)),
            last_predicted,
            consensus_known: trust::consensus_known(&self.consensus),
            commit_reveal,
        }
    }

    /// What the chain's own weights row of `uid` gets against the chain's
    /// consensus (`status`' "recomputed" column).
    pub fn chain_row_prediction(&self, uid: u16) -> Prediction {
        trust::predicted_trust(&self.row(uid), &self.consensus, Some(uid))
    }

    /// The weights row of `uid` the runtime's epoch would use: without the
    /// weights on uids registered at or after the row was set.
    pub fn row(&self, uid: u16) -> Vec<(u16, u16)> {
        let Some(row) = self.weights.get(&uid) else {
            return Vec::new();
        };
        let set_at = self.last_update.get(usize::from(uid)).copied().unwrap_or(0);
        trust::effective_row(row, self.consensus.len(), Some(uid), |j| {
            self.block_at_registration
                .get(usize::from(j))
                .is_some_and(|&registered| set_at <= registered)
        })
    }
}

impl Chain {
    /// The consensus view of `netuid` at `at`, for the uids of `metagraph`
    /// (read at the same block): stakes and weights rows are read for the
    /// permitted uids only.
    pub async fn consensus_view(
        &self,
        netuid: u16,
        metagraph: &Metagraph,
        at: Head,
    ) -> Result<ConsensusView, ChainError> {
        let hotkeys: Vec<Option<AccountId32>> = metagraph
            .neurons
            .iter()
            .map(|n| AccountId32::from_str(&n.hotkey).ok())
            .collect();
        let reads_in_flight = self.config().reads_in_flight();
        self.with_api("reading the consensus", |_, api| async move {
            let block = api.at_block(at.hash).await.map_err(rpc_error)?;
            let storage = block.storage();
            // A vector the chain never wrote is empty.
            let consensus: Vec<u16> =
                try_read(&storage, storage_vec_u16(PALLET, "Consensus"), (netuid,))
                    .await?
                    .unwrap_or_default();
            let validator_trust: Vec<u16> = try_read(
                &storage,
                storage_vec_u16(PALLET, "ValidatorTrust"),
                (netuid,),
            )
            .await?
            .unwrap_or_default();
            let permits: Vec<bool> = try_read(
                &storage,
                storage_vec_bool(PALLET, "ValidatorPermit"),
                (netuid,),
            )
            .await?
            .unwrap_or_default();
            let last_update: Vec<u64> =
                try_read(&storage, storage_vec_u64(PALLET, "LastUpdate"), (netuid,))
                    .await?
                    .unwrap_or_default();
            let n = hotkeys.len();
            let block_at_registration: Vec<u64> =
                by_uid(&storage, block_at_registration_entry(), netuid, n)
                    .await?
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect();
            let permitted = |uid: usize| permits.get(uid).copied().unwrap_or(false);
            let metadata = block.metadata();
            let has = |name| has_item(&metadata, name);
            let stake_kind = if has("TotalHotkeyAlpha") {
                let tao_weight = if has("TaoWeight") {
                    try_read(&storage, tao_weight(), ())
                        .await?
                        .as_ref()
                        .and_then(number)
                        .unwrap_or(0)
                } else {
                    0
                };
                StakeKind::Alpha {
                    tao_weight: tao_weight as f64 / u64::MAX as f64,
                }
            } else if has("TotalHotkeyStake") {
                StakeKind::Total
            } else {
                StakeKind::None
            };
            // One row and one stake per permitted uid, a bounded number in
            // flight on the websocket.
            let reads = hotkeys
                .iter()
                .enumerate()
                .filter(|&(uid, _)| permitted(uid))
                .map(|(uid, hotkey)| read_validator(&storage, netuid, uid, *hotkey, stake_kind));
            let read: Vec<ValidatorRead> = stream::iter(reads)
                .buffered(reads_in_flight)
                .try_collect()
                .await?;
            let mut weights = BTreeMap::new();
            let mut stakes = vec![0u64; n];
            for (uid, row, stake) in read {
                if let Some(row) = row {
                    weights.insert(u16::try_from(uid).unwrap_or(u16::MAX), row);
                }
                stakes[uid] = stake;
            }
            Ok(ConsensusView {
                block: at.number,
                consensus,
                validator_trust,
                weights,
                stakes,
                permits,
                last_update,
                block_at_registration,
            })
        })
        .await
    }
}

/// Which items hold the stake the runtime weighs.
#[derive(Debug, Clone, Copy)]
enum StakeKind {
    /// Today's: `TotalHotkeyAlpha` on the subnet plus on root (netuid 0)
    /// times this `TaoWeight`.
    Alpha { tao_weight: f64 },
    /// The 2023 runtime's `TotalHotkeyStake`.
    Total,
    /// Neither (0).
    None,
}

/// A uid, its `Weights` row (if stored) and its stake.
type ValidatorRead = (usize, Option<Vec<(u16, u16)>>, u64);

/// A validator's `Weights` row and stake at the block of `storage`.
async fn read_validator<C>(
    storage: &subxt::storage::StorageClient<'_, subxt::SubstrateConfig, C>,
    netuid: u16,
    uid: usize,
    hotkey: Option<AccountId32>,
    stake: StakeKind,
) -> Result<ValidatorRead, ChainError>
where
    C: subxt::client::OnlineClientAtBlockT<subxt::SubstrateConfig>,
{
    let value = |v: Option<subxt::storage::StorageValue<'_, Value>>| -> Result<u64, ChainError> {
        match v {
            Some(v) => Ok(number(&v.decode().map_err(rpc_error)?).unwrap_or(0)),
            None => Ok(0),
        }
    };
    let row = storage
        .try_fetch(
            weights_entry(),
            (netuid, u16::try_from(uid).unwrap_or(u16::MAX)),
        )
        .await
        .map_err(rpc_error)?
        .map(|r| r.decode().map_err(rpc_error))
        .transpose()?;
    let Some(hotkey) = hotkey else {
        return Ok((uid, row, 0));
    };
    let stake = match stake {
        StakeKind::Alpha { tao_weight } => {
            let fetch =
                |netuid: u16| storage.try_fetch(total_hotkey_alpha_entry(), (hotkey, netuid));
            let alpha = value(fetch(netuid).await.map_err(rpc_error)?)?;
            let root = value(fetch(0).await.map_err(rpc_error)?)?;
            alpha.saturating_add((root as f64 * tao_weight) as u64)
        }
        StakeKind::Total => value(
            storage
                .try_fetch(total_hotkey_stake(), (hotkey,))
                .await
                .map_err(rpc_error)?,
        )?,
        StakeKind::None => 0,
    };
    Ok((uid, row, stake))
}

/// An unsigned number, through the newtypes a runtime wraps it in
/// (`AlphaCurrency(u64)`, ...).
fn number<T>(v: &Value<T>) -> Option<u64> {
    match &v.value {
        ValueDef::Primitive(Primitive::U128(n)) => u64::try_from(*n).ok(),
        ValueDef::Composite(Composite::Unnamed(fields)) if fields.len() == 1 => number(&fields[0]),
        ValueDef::Composite(Composite::Named(fields)) if fields.len() == 1 => number(&fields[0].1),
        _ => None,
    }
}
