//! Reads at one block, each failure named by its storage item: a failure
//! on the wire is `Rpc` (the connection may be broken, and is made again),
//! one in the metadata (the item is not there, its value does not decode)
//! is `Storage` (the runtime changed; no reconnect helps).

use subxt::SubstrateConfig;

use super::error::rpc_error;
use super::{ChainError, PALLET};

/// Reads an item the runtime may not have: `None` without asking when
/// `present` is false (the metadata has no such item).
pub(super) async fn if_present<T>(
    present: bool,
    read: impl std::future::Future<Output = Result<T, ChainError>>,
) -> Result<Option<T>, ChainError> {
    if present {
        read.await.map(Some)
    } else {
        Ok(None)
    }
}

/// Whether the runtime of `metadata` has the storage item `name`: the items
/// a runtime added or dropped (commit-reveal, alpha stake) are read only
/// where they exist.
pub(super) fn has_item(metadata: &subxt::Metadata, name: &str) -> bool {
    metadata
        .pallet_by_name(PALLET)
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name(name))
        .is_some()
}

/// An item at the block of `storage`, or the metadata's default when
/// nothing is stored (subxt's `fetch`); a failure names the item.
pub(super) async fn read<C, A>(
    storage: &subxt::storage::StorageClient<'_, SubstrateConfig, C>,
    address: A,
    key: A::KeyParts,
) -> Result<A::Value, ChainError>
where
    C: subxt::client::OnlineClientAtBlockT<SubstrateConfig>,
    A: subxt::storage::Address,
{
    let item = item_name(&address);
    fetch(storage, address, key, Stored::OrDefault)
        .await?
        .ok_or_else(|| ChainError::Storage {
            item,
            message: "not stored, and the metadata has no default".into(),
        })
}

/// [`read`], but `None` when nothing is stored.
pub(super) async fn try_read<C, A>(
    storage: &subxt::storage::StorageClient<'_, SubstrateConfig, C>,
    address: A,
    key: A::KeyParts,
) -> Result<Option<A::Value>, ChainError>
where
    C: subxt::client::OnlineClientAtBlockT<SubstrateConfig>,
    A: subxt::storage::Address,
{
    fetch(storage, address, key, Stored::Only).await
}

/// What a read takes when nothing is stored.
enum Stored {
    /// Nothing.
    Only,
    /// The metadata's default value, if it has one.
    OrDefault,
}

async fn fetch<C, A>(
    storage: &subxt::storage::StorageClient<'_, SubstrateConfig, C>,
    address: A,
    key: A::KeyParts,
    stored: Stored,
) -> Result<Option<A::Value>, ChainError>
where
    C: subxt::client::OnlineClientAtBlockT<SubstrateConfig>,
    A: subxt::storage::Address,
{
    let item = item_name(&address);
    let entry = storage.entry(address).map_err(read_error(&item))?;
    let value = entry.try_fetch(key).await.map_err(read_error(&item))?;
    let value = match stored {
        Stored::Only => value,
        Stored::OrDefault => value.or_else(|| entry.default_value()),
    };
    value
        .map(|v| v.decode().map_err(decode_error(&item)))
        .transpose()
}

/// `Pallet.Item`, as errors name it.
fn item_name(address: &impl subxt::storage::Address) -> String {
    format!("{}.{}", address.pallet_name(), address.entry_name())
}

/// Every `Item(netuid, K) -> V` of a subnet, as (K, V): a double map read
/// whole at the block of `storage`.
pub(super) async fn entries<C, K, V>(
    storage: &subxt::storage::StorageClient<'_, SubstrateConfig, C>,
    address: subxt::storage::DynamicAddress<(u16, K), V>,
    netuid: u16,
) -> Result<Vec<(K, V)>, ChainError>
where
    C: subxt::client::OnlineClientAtBlockT<SubstrateConfig>,
    // A key of (netuid, K) that subxt can encode and iterate.
    subxt::storage::DynamicAddress<(u16, K), V>:
        subxt::storage::Address<KeyParts = (u16, K), Value = V>,
    K: subxt::ext::scale_decode::DecodeAsType,
    V: subxt::ext::scale_decode::DecodeAsType,
{
    let item = item_name(&address);
    let mut found = Vec::new();
    let mut stream = storage
        .entry(address)
        .map_err(read_error(&item))?
        .iter((netuid,))
        .await
        .map_err(read_error(&item))?;
    while let Some(kv) = stream.next().await {
        let kv = kv.map_err(rpc_error)?;
        let key = kv
            .key()
            .map_err(rpc_error)?
            .part(1)
            .and_then(|p| p.decode_as::<K>().ok().flatten())
            .ok_or_else(|| decode_error(&item)("a key without its second part"))?;
        let value: V = kv.value().decode().map_err(decode_error(&item))?;
        found.push((key, value));
    }
    Ok(found)
}

/// A map `Item(netuid, uid) -> V` read whole into `n` slots by uid, `None`
/// where nothing is stored; a uid from `n` on is passed over (the subnet
/// shrank between the reads, which are at one block: it cannot).
pub(super) async fn by_uid<C, V>(
    storage: &subxt::storage::StorageClient<'_, SubstrateConfig, C>,
    address: subxt::storage::DynamicAddress<(u16, u16), V>,
    netuid: u16,
    n: usize,
) -> Result<Vec<Option<V>>, ChainError>
where
    C: subxt::client::OnlineClientAtBlockT<SubstrateConfig>,
    V: subxt::ext::scale_decode::DecodeAsType,
{
    let mut slots: Vec<Option<V>> = (0..n).map(|_| None).collect();
    for (uid, value) in entries(storage, address, netuid).await? {
        if let Some(slot) = slots.get_mut(usize::from(uid)) {
            *slot = Some(value);
        }
    }
    Ok(slots)
}

/// A storage read that failed: on the wire (the connection may be broken),
/// or in the metadata (the item is not there, its key does not encode): a
/// runtime change, named by the item, and no reason to reconnect.
fn read_error(item: &str) -> impl Fn(subxt::error::StorageError) -> ChainError + '_ {
    use subxt::error::StorageError;
    move |e| match e {
        StorageError::CannotFetchValue(_)
        | StorageError::CannotIterateValues(_)
        | StorageError::StreamFailure(_) => rpc_error(e),
        other => ChainError::Storage {
            item: item.to_string(),
            message: other.to_string(),
        },
    }
}

/// A storage value that does not decode as the shape we expect.
fn decode_error<E: std::fmt::Display>(item: &str) -> impl Fn(E) -> ChainError + '_ {
    move |e| ChainError::Storage {
        item: item.to_string(),
        message: format!("does not decode: {e}"),
    }
}
