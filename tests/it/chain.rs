//! The chain client's calls and storage keys, encoded offline against
//! today's finney metadata (V16, spec 365) and the testbed's (V14, spec
//! 103): the same dynamic lookups must find the same items in both, and
//! give the bytes a hand-built SCALE encoding gives.

use gittensor_validator::chain::{
    axons, block_at_registration_entry, commit_reveal_version, commit_timelocked_weights_call,
    keys, set_weights_call, storage_u16, storage_u64, storage_vec_u16, total_hotkey_alpha_entry,
    total_hotkey_stake, uids, weights_entry, ConsensusView, PALLET,
};
use gittensor_validator::testkit::subtensor::offline_client;
use scale_info::form::PortableForm;
use scale_info::{TypeDef, TypeDefPrimitive};
use sp_crypto_hashing::{blake2_128, twox_128};
use subxt::ext::codec::Encode;
use subxt::utils::AccountId32;
use subxt::{Metadata, OfflineClient, SubstrateConfig};

/// An offline client for a metadata file, and the spec version it holds.
fn offline(file: &str) -> (OfflineClient<SubstrateConfig>, u32, Metadata) {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let o = offline_client(&std::fs::read(path).unwrap()).unwrap();
    (o.client, o.spec_version, o.metadata)
}

/// The storage prefix of a SubtensorModule item.
fn prefix(item: &str) -> Vec<u8> {
    [twox_128(PALLET.as_bytes()), twox_128(item.as_bytes())].concat()
}

fn check_runtime(file: &str, spec: u32, pallet_index: u8) {
    let (client, spec_version, md) = offline(file);
    assert_eq!(spec_version, spec, "{file}");
    let at = client.at_block(0u64).unwrap();
    // set_weights: [pallet, call 0] ++ SCALE(u16, Vec<u16>, Vec<u16>, u64).
    let (netuid, dests, weights, key) =
        (74u16, vec![0u16, 1, 5], vec![65535u16, 32768, 1], 1000u64);
    let data = at
        .tx()
        .call_data(&set_weights_call(netuid, &dests, &weights, key))
        .unwrap();
    let mut expected = vec![pallet_index, 0];
    (netuid, dests, weights, key).encode_to(&mut expected);
    assert_eq!(data, expected, "{file}: set_weights call data");

    let storage = at.storage();
    let hotkey = AccountId32([7; 32]);
    let key_of = |item: &str, suffix: Vec<u8>| [prefix(item), suffix].concat();
    let netuid_le = netuid.to_le_bytes().to_vec();
    let concat = [blake2_128(&hotkey.0).to_vec(), hotkey.0.to_vec()].concat();
    assert_eq!(
        storage
            .entry(keys())
            .unwrap()
            .fetch_key((netuid, 3))
            .unwrap(),
        key_of(
            "Keys",
            [netuid_le.clone(), 3u16.to_le_bytes().to_vec()].concat()
        ),
        "{file}: Keys"
    );
    assert_eq!(
        storage
            .entry(axons())
            .unwrap()
            .fetch_key((netuid, hotkey))
            .unwrap(),
        key_of("Axons", [netuid_le.clone(), concat.clone()].concat()),
        "{file}: Axons"
    );
    assert_eq!(
        storage
            .entry(uids())
            .unwrap()
            .fetch_key((netuid, hotkey))
            .unwrap(),
        key_of("Uids", [netuid_le.clone(), concat].concat()),
        "{file}: Uids"
    );
    for item in [
        "SubnetworkN",
        "MinAllowedWeights",
        "MaxWeightsLimit",
        "Tempo",
    ] {
        assert_eq!(
            storage
                .entry(storage_u16(PALLET, item))
                .unwrap()
                .fetch_key((netuid,))
                .unwrap(),
            key_of(item, netuid_le.clone()),
            "{file}: {item}"
        );
    }
    for item in ["WeightsVersionKey", "WeightsSetRateLimit"] {
        assert_eq!(
            storage
                .entry(storage_u64(PALLET, item))
                .unwrap()
                .fetch_key((netuid,))
                .unwrap(),
            key_of(item, netuid_le.clone()),
            "{file}: {item}"
        );
    }
    // The values the metagraph reader decodes have the shapes it expects.
    let items = md.pallet_by_name(PALLET).unwrap().storage().unwrap();
    let value = |item: &str| {
        let ty = items.entry_by_name(item).unwrap().value_ty();
        md.types().resolve(ty).unwrap().type_def.clone()
    };
    let element = |def: TypeDef<PortableForm>| match def {
        TypeDef::Sequence(s) => md
            .types()
            .resolve(s.type_param.id)
            .unwrap()
            .type_def
            .clone(),
        other => panic!("{file}: not a sequence: {other:?}"),
    };
    assert_eq!(
        element(value("ValidatorPermit")),
        TypeDef::Primitive(TypeDefPrimitive::Bool),
        "{file}"
    );
    assert_eq!(
        element(value("LastUpdate")),
        TypeDef::Primitive(TypeDefPrimitive::U64),
        "{file}"
    );
    let TypeDef::Composite(axon) = value("Axons") else {
        panic!("{file}: AxonInfo is not a struct");
    };
    let fields: Vec<&str> = axon
        .fields
        .iter()
        .filter_map(|f| f.name.as_deref())
        .collect();
    for name in [
        "ip",
        "port",
        "ip_type",
        "protocol",
        "version",
        "placeholder1",
        "placeholder2",
    ] {
        assert!(
            fields.contains(&name),
            "{file}: AxonInfo has no {name}: {fields:?}"
        );
    }
}

#[test]
fn calls_and_storage_keys_encode_against_todays_finney_metadata() {
    check_runtime("finney-spec365.scale", 365, 7);
    // Today's runtime has commit-reveal; the client reads the flag when
    // the item exists.
    let (_, _, md) = offline("finney-spec365.scale");
    let items = md.pallet_by_name(PALLET).unwrap().storage().unwrap();
    assert!(items.entry_by_name("CommitRevealWeightsEnabled").is_some());
}

#[test]
fn the_timelocked_commit_encodes_against_todays_finney_metadata() {
    let (client, _, _) = offline("finney-spec365.scale");
    let at = client.at_block(0u64).unwrap();
    let commit: Vec<u8> = (0u8..=255).cycle().take(311).collect();
    let data = at
        .tx()
        .call_data(&commit_timelocked_weights_call(74, &commit, 20_733_667, 4))
        .unwrap();
    // Pallet 7, call 113, then SCALE(u16, Vec<u8>, u64, u16).
    let mut expected = vec![7, 113];
    (74u16, commit, 20_733_667u64, 4u16).encode_to(&mut expected);
    assert_eq!(data, expected);
    let key = at
        .storage()
        .entry(commit_reveal_version())
        .unwrap()
        .fetch_key(())
        .unwrap();
    assert_eq!(key, prefix("CommitRevealWeightsVersion"));
    // The testbed's 2023 runtime has no such call: it says so before sending.
    let (old, _, _) = offline("testfinney-spec103.scale");
    let old_at = old.at_block(0u64).unwrap();
    assert!(old_at
        .tx()
        .call_data(&commit_timelocked_weights_call(1, &[1], 1, 4))
        .is_err());
}

#[test]
fn calls_and_storage_keys_encode_against_the_testbed_runtime() {
    check_runtime("testfinney-spec103.scale", 103, 8);
    let (_, _, md) = offline("testfinney-spec103.scale");
    let items = md.pallet_by_name(PALLET).unwrap().storage().unwrap();
    assert!(items.entry_by_name("CommitRevealWeightsEnabled").is_none());
}

/// The consensus view's items (`chain::ConsensusView`) in a runtime's
/// metadata: the keys encode as the runtime hashes them, and the values
/// have the shapes the reader decodes.
fn check_consensus_items(file: &str) {
    let (client, _, md) = offline(file);
    let at = client.at_block(0u64).unwrap();
    let storage = at.storage();
    let netuid = 74u16;
    let netuid_le = netuid.to_le_bytes().to_vec();
    for item in ["Consensus", "ValidatorTrust"] {
        assert_eq!(
            storage
                .entry(storage_vec_u16(PALLET, item))
                .unwrap()
                .fetch_key((netuid,))
                .unwrap(),
            [prefix(item), netuid_le.clone()].concat(),
            "{file}: {item}"
        );
    }
    let uid_key = [netuid_le.clone(), 3u16.to_le_bytes().to_vec()].concat();
    assert_eq!(
        storage
            .entry(weights_entry())
            .unwrap()
            .fetch_key((netuid, 3))
            .unwrap(),
        [prefix("Weights"), uid_key.clone()].concat(),
        "{file}: Weights"
    );
    assert_eq!(
        storage
            .entry(block_at_registration_entry())
            .unwrap()
            .fetch_key((netuid, 3))
            .unwrap(),
        [prefix("BlockAtRegistration"), uid_key].concat(),
        "{file}: BlockAtRegistration"
    );
    let items = md.pallet_by_name(PALLET).unwrap().storage().unwrap();
    let resolve = |id: u32| md.types().resolve(id).unwrap().type_def.clone();
    let element = |item: &str| match resolve(items.entry_by_name(item).unwrap().value_ty()) {
        TypeDef::Sequence(s) => resolve(s.type_param.id),
        other => panic!("{file}: {item} is not a sequence: {other:?}"),
    };
    let u16_ty = TypeDef::Primitive(TypeDefPrimitive::U16);
    assert_eq!(element("Consensus"), u16_ty, "{file}");
    assert_eq!(element("ValidatorTrust"), u16_ty, "{file}");
    let TypeDef::Tuple(pair) = element("Weights") else {
        panic!("{file}: a Weights row is not of (uid, weight) pairs");
    };
    let pair: Vec<_> = pair.fields.iter().map(|f| resolve(f.id)).collect();
    assert_eq!(pair, vec![u16_ty.clone(), u16_ty], "{file}: Weights");
}

#[test]
fn the_consensus_items_encode_against_the_testbed_runtime() {
    check_consensus_items("testfinney-spec103.scale");
    // The 2023 runtime weighs a hotkey's total stake.
    let (client, _, _) = offline("testfinney-spec103.scale");
    let at = client.at_block(0u64).unwrap();
    let hotkey = AccountId32([7; 32]);
    let key = at
        .storage()
        .entry(total_hotkey_stake())
        .unwrap()
        .fetch_key((hotkey,))
        .unwrap();
    assert!(key.starts_with(&prefix("TotalHotkeyStake")));
    assert!(key.ends_with(&hotkey.0), "a concat hasher keeps the hotkey");
}

#[test]
fn the_consensus_items_encode_against_todays_finney_metadata() {
    check_consensus_items("finney-spec365.scale");
    // Today's runtime weighs alpha on the subnet and root stake times
    // TaoWeight; there is no TotalHotkeyStake any more.
    let (client, _, md) = offline("finney-spec365.scale");
    let items = md.pallet_by_name(PALLET).unwrap().storage().unwrap();
    assert!(items.entry_by_name("TotalHotkeyStake").is_none());
    assert!(items.entry_by_name("TaoWeight").is_some());
    let at = client.at_block(0u64).unwrap();
    let hotkey = AccountId32([7; 32]);
    let key = at
        .storage()
        .entry(total_hotkey_alpha_entry())
        .unwrap()
        .fetch_key((hotkey, 74u16))
        .unwrap();
    assert!(key.starts_with(&prefix("TotalHotkeyAlpha")));
    assert!(
        key.ends_with(&[hotkey.0.to_vec(), 74u16.to_le_bytes().to_vec()].concat()),
        "hotkey then netuid, concat and identity hashers"
    );
}

/// A subnet of 4 uids: uid 0 set its row at block 100; uid 3 was
/// registered at block 150, after it.
fn view() -> ConsensusView {
    ConsensusView {
        block: 200,
        consensus: vec![0, 32767, 13107, 65535],
        validator_trust: vec![60000, 0, 0, 0],
        weights: [(0u16, vec![(0, 10), (1, 10), (2, 10), (3, 10)])]
            .into_iter()
            .collect(),
        stakes: vec![1_000_000_000, 0, 0, 0],
        permits: vec![true, false, false, false],
        last_update: vec![100, 0, 0, 0],
        block_at_registration: vec![1, 1, 1, 150],
    }
}

#[test]
fn the_chains_row_drops_the_self_weight_and_uids_registered_since() {
    assert_eq!(view().row(0), vec![(1, 10), (2, 10)]);
    assert_eq!(view().row(1), vec![], "a uid without a row");
    // (0.5, 0.5) against (0.49999, 0.2).
    let p = view().chain_row_prediction(0);
    assert_eq!(p.trust_u16(), 32767 + 13107);
}

#[test]
fn the_watch_input_compares_the_weights_about_to_be_set_with_the_chains_consensus() {
    let input = view().watch_input(0, &[(1, 1), (3, 1)], Some(0.9), true);
    assert_eq!(input.trust_now, Some(60000.0 / 65535.0));
    // (0.5, 0.5) against (0.49999, 1): uid 3 counts here, it is in the row now.
    assert_eq!(input.predicted.trust_u16(), 32767 + 32767);
    assert_eq!(input.last_predicted, Some(0.9));
    assert!(input.consensus_known && input.commit_reveal);
    let mut fresh = view();
    fresh.consensus = vec![0; 4];
    assert!(!fresh.watch_input(0, &[(1, 1)], None, false).consensus_known);
}

#[test]
fn a_storage_item_that_cannot_be_read_is_named_and_no_reason_to_reconnect() {
    use gittensor_validator::chain::ChainError;
    let changed = ChainError::Storage {
        item: "SubtensorModule.ValidatorPermit".into(),
        message: "cannot decode".into(),
    };
    // The runtime changed: connecting again cannot mend it.
    assert!(!changed.is_connection_problem() && !changed.is_disconnected());
    assert_eq!(
        changed.to_string(),
        "storage item SubtensorModule.ValidatorPermit cannot be read: cannot decode"
    );
    // A refusal names the chain's error, and says nothing of the connection.
    let refused = ChainError::Refused {
        name: "SettingWeightsTooFast".into(),
        block: 7,
    };
    assert!(!refused.is_connection_problem());
    assert!(refused.to_string().contains("SettingWeightsTooFast"));
    // What the network does is mended by a new connection.
    for e in [
        ChainError::Connect("refused".into()),
        ChainError::Timeout("reading the metagraph"),
        ChainError::Rpc("connection closed".into()),
    ] {
        assert!(e.is_connection_problem(), "{e}");
    }
}
