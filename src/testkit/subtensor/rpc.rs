//! The legacy Substrate JSON-RPC methods our chain client (subxt's
//! `LegacyBackend` and `LegacyRpcMethods`) calls, answered from the
//! stand-in's state: `chain_getBlockHash`, `chain_getHeader`,
//! `chain_getFinalizedHead`, `chain_getBlock`, `state_getStorage`,
//! `state_getKeysPaged`, `state_queryStorageAt`, `state_call` (`Core_version`,
//! `Metadata_metadata`, `AccountNonceApi_account_nonce`),
//! `state_getMetadata`, and
//! `author_submitAndWatchExtrinsic` with its `ready`, `inBlock` and
//! `finalized` notifications.

use std::sync::Arc;

use jsonrpsee::server::{ConnectionId, Extensions, PendingSubscriptionSink, RpcModule};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{json, Value as Json};
use subxt::ext::codec::Encode;
use subxt::rpcs::methods::legacy::Bytes;
use subxt::utils::H256;

use super::Shared;

type Answer = Result<Json, ErrorObjectOwned>;

fn error(message: impl Into<String>) -> ErrorObjectOwned {
    // -32000: a server error, as a node answers an unknown block.
    ErrorObjectOwned::owned(-32000, message.into(), None::<()>)
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn unhex(text: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    hex::decode(text.trim_start_matches("0x")).map_err(|e| error(format!("bad hex: {e}")))
}

fn json<T: serde::Serialize>(value: T) -> Answer {
    serde_json::to_value(value).map_err(|e| error(e.to_string()))
}

/// Counts the call and its connection.
fn seen(shared: &Shared, method: &str, ext: &Extensions) {
    let mut st = shared.lock();
    *st.calls.entry(method.to_string()).or_default() += 1;
    if let Some(id) = ext.get::<ConnectionId>() {
        st.connections.insert(id.0);
    }
}

/// The `at` block hash of a call: the `n`th parameter, `null` or absent
/// for the best block.
fn at(params: &Params<'_>, n: usize) -> Result<Option<H256>, ErrorObjectOwned> {
    let all: Vec<Json> = params.parse().unwrap_or_default();
    match all.get(n) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| error(format!("bad block hash: {e}"))),
    }
}

fn nth(params: &Params<'_>, n: usize) -> Json {
    let all: Vec<Json> = params.parse().unwrap_or_default();
    all.get(n).cloned().unwrap_or(Json::Null)
}

pub(super) fn module(shared: Arc<Shared>) -> RpcModule<Arc<Shared>> {
    let mut m = RpcModule::new(shared);
    let register = |m: &mut RpcModule<Arc<Shared>>,
                    name: &'static str,
                    f: fn(&Shared, &Params<'_>) -> Answer| {
        m.register_method(name, move |params, shared, ext| {
            seen(shared, name, ext);
            f(shared, &params)
        })
        .expect("each method is registered once");
    };
    register(&mut m, "chain_getBlockHash", block_hash);
    register(&mut m, "chain_getHeader", |s, p| {
        let st = s.lock();
        json(st.block(at(p, 0)?).map(|b| b.header.clone()))
    });
    register(&mut m, "chain_getFinalizedHead", |s, _| {
        json(s.lock().head().hash)
    });
    register(&mut m, "chain_getBlock", |s, p| {
        let st = s.lock();
        json(st.block(at(p, 0)?).map(|b| {
            let extrinsics: Vec<String> = b.extrinsics.iter().map(|e| hex(e)).collect();
            json!({"block": {"header": b.header, "extrinsics": extrinsics}, "justifications": null})
        }))
    });
    register(&mut m, "state_getStorage", |s, p| {
        let key = unhex(nth(p, 0).as_str().unwrap_or_default())?;
        let st = s.lock();
        let block = st.block(at(p, 1)?).ok_or_else(|| error("unknown block"))?;
        let value = if key == st.events_key {
            Some(&block.events)
        } else {
            st.storage.get(&key)
        };
        json(value.map(|v| hex(v)))
    });
    register(&mut m, "state_getKeysPaged", |s, p| {
        let prefix = unhex(nth(p, 0).as_str().unwrap_or_default())?;
        let count = nth(p, 1).as_u64().unwrap_or(0) as usize;
        let start = match nth(p, 2).as_str() {
            Some(k) => Some(unhex(k)?),
            None => None,
        };
        let st = s.lock();
        st.block(at(p, 3)?).ok_or_else(|| error("unknown block"))?;
        let keys: Vec<String> = st
            .storage
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .filter(|k| start.as_ref().is_none_or(|s| *k > s))
            .take(count)
            .map(|k| hex(k))
            .collect();
        json(keys)
    });
    register(&mut m, "state_queryStorageAt", |s, p| {
        let keys: Vec<String> =
            serde_json::from_value(nth(p, 0)).map_err(|e| error(e.to_string()))?;
        let st = s.lock();
        let block = st.block(at(p, 1)?).ok_or_else(|| error("unknown block"))?;
        let mut changes = Vec::new();
        for k in keys {
            let value = st.storage.get(&unhex(&k)?).map(|v| hex(v));
            changes.push(json!([k, value]));
        }
        json(json!([{"block": block.hash, "changes": changes}]))
    });
    register(&mut m, "state_call", state_call);
    register(&mut m, "state_getMetadata", |s, _| {
        json(hex(&s.runtime.served))
    });
    m.register_subscription(
        "author_submitAndWatchExtrinsic",
        "author_extrinsicUpdate",
        "author_unwatchExtrinsic",
        |params, pending, shared, ext| async move {
            submit(params, pending, Arc::clone(&shared), ext).await
        },
    )
    .expect("the subscription is registered once");
    m
}

fn block_hash(s: &Shared, p: &Params<'_>) -> Answer {
    let st = s.lock();
    let number = match nth(p, 0) {
        Json::Null => return json(st.head().hash),
        Json::Number(n) => n.as_u64(),
        Json::String(h) => u64::from_str_radix(h.trim_start_matches("0x"), 16).ok(),
        _ => None,
    }
    .ok_or_else(|| error("bad block number"))?;
    json(
        usize::try_from(number)
            .ok()
            .and_then(|n| st.blocks.get(n))
            .map(|b| b.hash),
    )
}

fn state_call(s: &Shared, p: &Params<'_>) -> Answer {
    let name = nth(p, 0).as_str().unwrap_or_default().to_string();
    let data = unhex(nth(p, 1).as_str().unwrap_or("0x"))?;
    let st = s.lock();
    st.block(at(p, 2)?).ok_or_else(|| error("unknown block"))?;
    let answer = match name.as_str() {
        "Core_version" => s.runtime.version.clone(),
        "Metadata_metadata" => s.runtime.served.encode(),
        "AccountNonceApi_account_nonce" => {
            let account = <[u8; 32]>::try_from(&data[..]).map_err(|_| error("bad account"))?;
            st.nonces.get(&account).copied().unwrap_or(0).encode()
        }
        // As a 2023 runtime without the versioned metadata API answers.
        other => return Err(error(format!("Exported method {other} is not found"))),
    };
    json(hex(&answer))
}

/// A signed extrinsic: decoded, put in a new block with the outcome the
/// test chose, and watched to `finalized` as a node does (`ready`, then
/// `inBlock`, then `finalized`). One that does not decode is refused as a
/// node refuses an invalid transaction.
async fn submit(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    shared: Arc<Shared>,
    ext: Extensions,
) {
    seen(&shared, "author_submitAndWatchExtrinsic", &ext);
    let bytes = match params.one::<Bytes>() {
        Ok(b) => b.0,
        Err(e) => return pending.reject(e).await,
    };
    let call = match shared.runtime.decode(bytes.clone()).await {
        Ok(c) => c,
        Err(e) => {
            let why = format!("Invalid Transaction: {e}");
            return pending
                .reject(ErrorObjectOwned::owned(1010, why, None::<()>))
                .await;
        }
    };
    let included = {
        let mut st = shared.lock();
        let rt = &shared.runtime;
        st.include(rt, bytes, call)
    };
    let hash = match included {
        Ok(h) => h,
        Err(e) => return pending.reject(error(e)).await,
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    // As substrate serializes its `TransactionStatus` (camelCase).
    for status in [
        json!("ready"),
        json!({ "inBlock": hash }),
        json!({ "finalized": hash }),
    ] {
        let Ok(message) = serde_json::value::to_raw_value(&status) else {
            return;
        };
        if sink.send(message).await.is_err() {
            return;
        }
    }
}
