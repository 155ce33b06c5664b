//! The stand-in's SCALE side, all against the served metadata: storage
//! keys (subxt's own dynamic addresses), values and events encoded to the
//! metadata's types (`scale_encode` on `scale_value` values, zeros where a
//! test does not care), extrinsics decoded by subxt, and the metadata
//! itself edited to drop an item.

use std::collections::BTreeSet;

use subxt::config::substrate::SpecVersionForRange;
use subxt::dynamic::Value;
use subxt::ext::codec::{Decode, Encode};
use subxt::ext::frame_decode::storage::IntoEncodableValues;
use subxt::ext::frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use subxt::ext::scale_encode::EncodeAsType;
use subxt::ext::scale_value::{Composite, ValueDef};
use subxt::utils::AccountId32;
use subxt::{Metadata, OfflineClient, SubstrateConfig};

use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};
use subxt::ext::scale_decode::DecodeAsType;

/// The pallet of every subnet item and of the errors a test picks.
pub(super) const PALLET: &str = "SubtensorModule";

/// A signed call as the stand-in decoded it.
pub(super) struct Call {
    /// The signer's account (the hotkey).
    pub(super) signer: [u8; 32],
    /// `Pallet.call`.
    pub(super) name: String,
    /// `set_weights`' fields, when it is that call.
    pub(super) set_weights: Option<(u16, Vec<u16>, Vec<u16>, u64)>,
}

/// The metadata, served and used.
pub(super) struct Runtime {
    /// What `Metadata_metadata` answers: the prefixed metadata, without
    /// the items a test removed.
    pub(super) served: Vec<u8>,
    /// `Core_version`'s answer: the `System.Version` constant.
    pub(super) version: Vec<u8>,
    metadata: Metadata,
    offline: OfflineClient<SubstrateConfig>,
}

/// A runtime's metadata as subxt sees it offline: the client that encodes
/// calls and storage keys against it, its spec version, and the metadata.
pub struct Offline {
    /// Encodes and decodes against the metadata, as at every block.
    pub client: OfflineClient<SubstrateConfig>,
    /// `System.Version`'s `spec_version`.
    pub spec_version: u32,
    /// The metadata itself.
    pub metadata: Metadata,
}

/// An offline client for `bytes` (a `RuntimeMetadataPrefixed`, V14 or
/// later), at the spec and transaction versions its `System.Version`
/// constant gives: what the stand-in encodes with, and what the tests
/// check our addresses against.
pub fn offline_client(bytes: &[u8]) -> Result<Offline, String> {
    let metadata =
        Metadata::decode_from(bytes).map_err(|e| format!("metadata does not decode: {e}"))?;
    let version = metadata
        .pallet_by_name("System")
        .and_then(|p| p.constant_by_name("Version"))
        .ok_or("metadata without System.Version")?;
    let rv = RuntimeVersion::decode(&mut version.value())
        .map_err(|e| format!("System.Version does not decode: {e}"))?;
    let config = SubstrateConfig::builder()
        .set_spec_version_for_block_ranges([SpecVersionForRange {
            block_range: 0..u64::MAX,
            spec_version: rv.spec_version,
            transaction_version: rv.transaction_version,
        }])
        .set_metadata_for_spec_versions([(
            rv.spec_version,
            // subxt's Metadata is not Clone: the client gets its own.
            Metadata::decode_from(bytes)
                .map_err(|e| e.to_string())?
                .arc(),
        )])
        .build();
    Ok(Offline {
        client: OfflineClient::new_with_config(config),
        spec_version: rv.spec_version,
        metadata,
    })
}

#[derive(Decode)]
#[codec(crate = subxt::ext::codec)]
struct RuntimeVersion {
    _spec_name: String,
    _impl_name: String,
    _authoring_version: u32,
    spec_version: u32,
    _impl_version: u32,
    _apis: Vec<([u8; 8], u32)>,
    transaction_version: u32,
}

impl Runtime {
    /// The runtime of `bytes` (a `RuntimeMetadataPrefixed`, V14 or later),
    /// serving it without the `SubtensorModule` items in `removed`.
    pub(super) fn new(bytes: &[u8], removed: &BTreeSet<String>) -> Result<Runtime, String> {
        let offline = offline_client(bytes)?;
        let metadata = offline.metadata;
        let version = metadata
            .pallet_by_name("System")
            .and_then(|p| p.constant_by_name("Version"))
            .map(|c| c.value().to_vec())
            .ok_or("metadata without System.Version")?;
        Ok(Runtime {
            served: without_items(bytes, removed)?,
            version,
            metadata,
            offline: offline.client,
        })
    }

    fn types(&self) -> &PortableRegistry {
        self.metadata.types()
    }

    /// Whether the metadata has `SubtensorModule.item`.
    pub(super) fn has(&self, item: &str) -> bool {
        self.entry_ty(PALLET, item).is_some()
    }

    fn entry_ty(&self, pallet: &str, item: &str) -> Option<u32> {
        let entry = self
            .metadata
            .pallet_by_name(pallet)?
            .storage()?
            .entry_by_name(item)?;
        Some(entry.value_ty())
    }

    /// The storage key of `pallet.item` at `keys`.
    pub(super) fn key<K>(&self, pallet: &str, item: &str, keys: K) -> Result<Vec<u8>, String>
    where
        K: IntoEncodableValues + subxt::ext::frame_decode::storage::IntoDecodableValues,
    {
        let address = subxt::dynamic::storage::<K, Value>(pallet, item);
        let at = self.offline.at_block(0u64).map_err(|e| e.to_string())?;
        let storage = at.storage();
        let entry = storage
            .entry(address)
            .map_err(|e| format!("{pallet}.{item}: {e}"))?;
        entry
            .fetch_key(keys)
            .map_err(|e| format!("{pallet}.{item}: {e}"))
    }

    /// The storage prefix of `pallet.item`: its key for a plain item, the
    /// start of all its keys for a map.
    pub(super) fn prefix(&self, pallet: &str, item: &str) -> Result<Vec<u8>, String> {
        let address = subxt::dynamic::storage::<Vec<Value>, Value>(pallet, item);
        let at = self.offline.at_block(0u64).map_err(|e| e.to_string())?;
        let storage = at.storage();
        let entry = storage
            .entry(address)
            .map_err(|e| format!("{pallet}.{item}: {e}"))?;
        // subxt's `iter_key` underflows on a plain item: ask the metadata.
        let keys = self
            .metadata
            .pallet_by_name(pallet)
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(item))
            .map_or(0, |e| e.keys().len());
        if keys == 0 {
            entry.fetch_key(Vec::new())
        } else {
            entry.iter_key(Vec::new())
        }
        .map_err(|e| format!("{pallet}.{item}: {e}"))
    }

    /// `value` encoded as `SubtensorModule.item`'s value type.
    pub(super) fn value(&self, item: &str, value: &impl EncodeAsType) -> Result<Vec<u8>, String> {
        let ty = self
            .entry_ty(PALLET, item)
            .ok_or_else(|| format!("{PALLET}.{item} is not in the metadata"))?;
        value
            .encode_as_type(ty, self.types())
            .map_err(|e| format!("{PALLET}.{item}: {e}"))
    }

    /// An `AxonInfo` of `SubtensorModule.Axons` with these fields by name,
    /// zeros for the rest.
    pub(super) fn axon(&self, fields: &[(&str, u128)]) -> Result<Vec<u8>, String> {
        let ty = self
            .entry_ty(PALLET, "Axons")
            .ok_or("SubtensorModule.Axons is not in the metadata")?;
        let given: Vec<(&str, Value)> = fields.iter().map(|(k, v)| (*k, Value::u128(*v))).collect();
        let value = self.fill(ty, None, &given)?;
        self.value("Axons", &value)
    }

    /// `System.Events` of a block holding one extrinsic (index 0): its
    /// `ExtrinsicSuccess`, or `ExtrinsicFailed` with the `SubtensorModule`
    /// error `failed`.
    pub(super) fn events(&self, failed: Option<&str>) -> Result<Vec<u8>, String> {
        let ty = self
            .entry_ty("System", "Events")
            .ok_or("System.Events is not in the metadata")?;
        let event = match failed {
            None => self.system_event("ExtrinsicSuccess", None)?,
            Some(name) => self.system_event("ExtrinsicFailed", Some(self.module_error(name)?))?,
        };
        let record = Value::named_composite([
            (
                "phase",
                Value::unnamed_variant("ApplyExtrinsic", [Value::u128(0)]),
            ),
            ("event", event),
            ("topics", Value::unnamed_composite([])),
        ]);
        Value::unnamed_composite([record])
            .encode_as_type(ty, self.types())
            .map_err(|e| format!("System.Events: {e}"))
    }

    /// `System.Events` of a block without extrinsics.
    pub(super) fn no_events(&self) -> Vec<u8> {
        Vec::<u8>::new().encode()
    }

    /// `RuntimeEvent::System(name { .. })`, `dispatch_error` given, the
    /// other fields (the dispatch info) zeros.
    fn system_event(&self, name: &str, dispatch_error: Option<Value>) -> Result<Value, String> {
        let system = self.metadata.pallet_by_name("System").ok_or("no System")?;
        let ty = system.event_ty_id().ok_or("System has no events")?;
        let given: Vec<(&str, Value)> = dispatch_error
            .into_iter()
            .map(|v| ("dispatch_error", v))
            .collect();
        let inner = self.fill(ty, Some(name), &given)?;
        Ok(Value::unnamed_variant("System", [inner]))
    }

    /// `DispatchError::Module` of the `SubtensorModule` error `name`.
    fn module_error(&self, name: &str) -> Result<Value, String> {
        let pallet = self.metadata.pallet_by_name(PALLET).ok_or("no pallet")?;
        let index = pallet
            .error_variants()
            .and_then(|v| v.iter().find(|v| v.name == name))
            .map(|v| v.index)
            .ok_or_else(|| format!("{PALLET} has no error {name}"))?;
        let ty = self
            .metadata
            .dispatch_error_ty()
            .ok_or("no DispatchError type")?;
        // `ModuleError { index, error }`: `error` a u8 in old runtimes, the
        // first of four bytes in later ones.
        let module = self
            .variant_fields(ty, "Module")?
            .first()
            .copied()
            .ok_or("DispatchError::Module has no field")?;
        let error_ty = self
            .composite_fields(module)?
            .into_iter()
            .find(|(n, _)| n.as_deref() == Some("error"))
            .map(|(_, t)| t)
            .ok_or("ModuleError has no error field")?;
        let error = match &self.ty(error_ty)?.type_def {
            TypeDef::Array(a) => Value::unnamed_composite(
                (0..a.len).map(|i| Value::u128(if i == 0 { u128::from(index) } else { 0 })),
            ),
            _ => Value::u128(u128::from(index)),
        };
        let inner = self.fill(
            module,
            None,
            &[
                ("index", Value::u128(u128::from(pallet.error_index()))),
                ("error", error),
            ],
        )?;
        Ok(Value::unnamed_variant("Module", [inner]))
    }

    fn ty(&self, id: u32) -> Result<&scale_info::Type<scale_info::form::PortableForm>, String> {
        self.types()
            .resolve(id)
            .ok_or_else(|| format!("type {id} not in the registry"))
    }

    fn composite_fields(&self, ty: u32) -> Result<Vec<(Option<String>, u32)>, String> {
        match &self.ty(ty)?.type_def {
            TypeDef::Composite(c) => {
                Ok(c.fields.iter().map(|f| (f.name.clone(), f.ty.id)).collect())
            }
            _ => Err(format!("type {ty} is not a struct")),
        }
    }

    fn variant_fields(&self, ty: u32, name: &str) -> Result<Vec<u32>, String> {
        match &self.ty(ty)?.type_def {
            TypeDef::Variant(v) => v
                .variants
                .iter()
                .find(|v| v.name == name)
                .map(|v| v.fields.iter().map(|f| f.ty.id).collect())
                .ok_or_else(|| format!("type {ty} has no variant {name}")),
            _ => Err(format!("type {ty} is not an enum")),
        }
    }

    /// A value of type `ty` (its variant `variant` when it is an enum)
    /// with the named fields `given`, zeros for the others.
    fn fill(
        &self,
        ty: u32,
        variant: Option<&str>,
        given: &[(&str, Value)],
    ) -> Result<Value, String> {
        let fields = match (&self.ty(ty)?.type_def, variant) {
            (TypeDef::Composite(c), None) => &c.fields,
            (TypeDef::Variant(v), Some(name)) => {
                &v.variants
                    .iter()
                    .find(|v| v.name == name)
                    .ok_or_else(|| format!("type {ty} has no variant {name}"))?
                    .fields
            }
            _ => return Err(format!("type {ty} is not what {variant:?} needs")),
        };
        let mut values = Vec::new();
        for f in fields {
            let name = f.name.clone().unwrap_or_default();
            let value = match given.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => v.clone(),
                None => self.zero(f.ty.id)?,
            };
            values.push((name, value));
        }
        let composite = if fields.iter().all(|f| f.name.is_some()) {
            Composite::named(values)
        } else {
            Composite::unnamed(values.into_iter().map(|(_, v)| v))
        };
        Ok(match variant {
            Some(name) => Value::variant(name, composite),
            None => Value::without_context(ValueDef::Composite(composite)),
        })
    }

    /// The zero of type `ty`: 0, false, empty, the first variant.
    fn zero(&self, ty: u32) -> Result<Value, String> {
        Ok(match &self.ty(ty)?.type_def {
            TypeDef::Composite(_) => self.fill(ty, None, &[])?,
            TypeDef::Variant(v) => {
                let first = v.variants.first().ok_or("an enum without variants")?;
                self.fill(ty, Some(&first.name), &[])?
            }
            TypeDef::Sequence(_) => Value::unnamed_composite([]),
            TypeDef::Array(a) => {
                let zero = self.zero(a.type_param.id)?;
                Value::unnamed_composite((0..a.len).map(|_| zero.clone()))
            }
            TypeDef::Tuple(t) => Value::unnamed_composite(
                t.fields
                    .iter()
                    .map(|f| self.zero(f.id))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            TypeDef::Primitive(p) => match p {
                TypeDefPrimitive::Bool => Value::bool(false),
                TypeDefPrimitive::Char => Value::char('\0'),
                TypeDefPrimitive::Str => Value::string(""),
                TypeDefPrimitive::I8
                | TypeDefPrimitive::I16
                | TypeDefPrimitive::I32
                | TypeDefPrimitive::I64
                | TypeDefPrimitive::I128 => Value::i128(0),
                _ => Value::u128(0),
            },
            TypeDef::Compact(c) => self.zero(c.type_param.id)?,
            TypeDef::BitSequence(_) => Value::bit_sequence(Default::default()),
        })
    }

    /// The signed call in `extrinsic` (as submitted), decoded by subxt
    /// against the metadata.
    pub(super) async fn decode(&self, extrinsic: Vec<u8>) -> Result<Call, String> {
        let at = self.offline.at_block(0u64).map_err(|e| e.to_string())?;
        let all = at.extrinsics().from_bytes(vec![extrinsic]).await;
        let ext = all
            .iter()
            .next()
            .ok_or("no extrinsic")?
            .map_err(|e| format!("the extrinsic does not decode: {e}"))?;
        // A `MultiAddress::Id`: its variant byte, then the account.
        let signer = match ext.address_bytes() {
            Some([0, account @ ..]) => <[u8; 32]>::try_from(account).ok(),
            _ => None,
        }
        .ok_or("not signed by an account id")?;
        let name = format!("{}.{}", ext.pallet_name(), ext.call_name());
        let set_weights = if name == format!("{PALLET}.set_weights") {
            let field = |wanted: &str| {
                ext.iter_call_data_fields()
                    .find(|f| f.name() == wanted)
                    .ok_or_else(|| format!("set_weights has no field {wanted}"))
            };
            fn as_<T: DecodeAsType>(
                f: subxt::extrinsics::ExtrinsicCallDataField<'_>,
            ) -> Result<T, String> {
                f.decode_as::<T>().map_err(|e| e.to_string())
            }
            Some((
                as_(field("netuid")?)?,
                as_(field("dests")?)?,
                as_(field("weights")?)?,
                as_(field("version_key")?)?,
            ))
        } else {
            None
        };
        Ok(Call {
            signer,
            name,
            set_weights,
        })
    }
}

/// An account as the storage keys and values take it.
pub(super) fn account(key: [u8; 32]) -> AccountId32 {
    AccountId32(key)
}

/// The prefixed metadata `bytes` without the `SubtensorModule` storage
/// items in `removed` (V14 and later keep them in the same shape).
fn without_items(bytes: &[u8], removed: &BTreeSet<String>) -> Result<Vec<u8>, String> {
    if removed.is_empty() {
        return Ok(bytes.to_vec());
    }
    let mut prefixed = RuntimeMetadataPrefixed::decode(&mut &bytes[..])
        .map_err(|e| format!("metadata does not decode: {e}"))?;
    // The entries dropped, counted: a name the runtime does not have is
    // the test's mistake, said at once.
    let remove_from = |entries: &mut Vec<_>, name: fn(&_) -> &str| {
        let before = entries.len();
        entries.retain(|e| !removed.contains(name(e)));
        before - entries.len()
    };
    let dropped: usize = match &mut prefixed.1 {
        RuntimeMetadata::V14(m) => m
            .pallets
            .iter_mut()
            .filter(|p| p.name == PALLET)
            .filter_map(|p| p.storage.as_mut())
            .map(|s| remove_from(&mut s.entries, |e| e.name.as_str()))
            .sum(),
        RuntimeMetadata::V15(m) => m
            .pallets
            .iter_mut()
            .filter(|p| p.name == PALLET)
            .filter_map(|p| p.storage.as_mut())
            .map(|s| remove_from(&mut s.entries, |e| e.name.as_str()))
            .sum(),
        _ => return Err("only V14 and V15 metadata can lose an item".into()),
    };
    if dropped != removed.len() {
        return Err(format!("{PALLET} does not have all of {removed:?}"));
    }
    Ok(prefixed.encode())
}
