//! gittensor-validator: the gittensor subnet's validator scoring, in Rust.
//!
//! Layers, one direction:
//! - [`scoring`]: pure rules of SCORING.md (no I/O, no clock, no tokio),
//!   with §11's moving average and weights, the round's verdict and the
//!   consensus watch's trust arithmetic;
//! - [`github`] and [`dendrite`]: blocking clients on ureq (GitHub; the
//!   miners' axons), [`wallet`] the hotkey that signs, [`filestore`] the
//!   merged PRs' files kept across rounds;
//! - [`pipeline`]: the round, async (tokio, through one `spawn_blocking`
//!   bridge) and as a blocking facade;
//! - [`chain`]: the async subtensor client (subxt), the only code that talks
//!   to the chain; [`health`] the operator's `/healthz`, `/readyz` and
//!   `/metrics`; [`store`] what lasts between rounds (the results
//!   database), written through the bridge.
//!
//! Shared plain types have neutral homes: [`cancel`] and [`token`] (used by
//! both blocking clients), [`metagraph`] (neurons and axons), [`replay`]
//! (the `--record`/`--replay` file, served by [`fakehub`]). The test axon
//! and `fakehub`'s fault injection are behind the `testkit` feature, which
//! only the crate's own tests, examples and benches turn on.
//!
//! See ARCHITECTURE.md for the map and the invariants.

#![warn(missing_docs)]

pub mod cancel;
pub mod chain;
pub mod commit_reveal;
pub mod dendrite;
pub mod fakehub;
pub mod filestore;
pub mod github;
pub mod health;
pub mod inputs;
pub mod logging;
mod loopback;
pub mod metagraph;
pub mod pipeline;
pub mod replay;
pub mod scoring;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testaxon;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod token;
mod transport;
pub mod wallet;
