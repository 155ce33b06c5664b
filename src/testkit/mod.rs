//! Peers on 127.0.0.1 that stand in for the real ones: [`fakehub`], a
//! GitHub-shaped server serving a replay snapshot (the demo and `--replay`
//! use it too, so it is always compiled), and, behind the `testkit`
//! feature that only the crate's own tests, examples and benches turn on,
//! `testaxon`, a miner's axon that checks requests as bittensor 9.9.0's
//! does, and `subtensor`, a subtensor stand-in that speaks the chain's
//! JSON-RPC. Nothing in the library's own modules imports this folder:
//! only the binary's offline commands, the tests, the examples and the
//! benches.

pub mod fakehub;
mod loopback;
#[cfg(feature = "testkit")]
pub mod subtensor;
#[cfg(feature = "testkit")]
pub mod testaxon;
