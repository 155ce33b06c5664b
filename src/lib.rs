//! gittensor-validator: the gittensor subnet's validator scoring, in Rust.
//!
//! Layers, one direction:
//! - [`scoring`]: pure rules of SCORING.md (no I/O, no clock, no tokio),
//!   with §11's moving average and weights, the round's verdict and the
//!   consensus watch's trust arithmetic;
//! - [`github`] and [`dendrite`]: blocking clients on ureq (GitHub; the
//!   miners' axons), [`wallet`] the hotkey that signs;
//! - [`pipeline`]: the round, async (tokio, through one `spawn_blocking`
//!   bridge) and as a blocking facade; it asks [`store::files`] (merged
//!   PRs' files kept across rounds) before GitHub, the client knows no store;
//! - [`chain`]: the async subtensor client (subxt), the only code that talks
//!   to the chain; [`health`] the operator's `/healthz`, `/readyz` and
//!   `/metrics`; [`store`] what lasts between rounds (the results
//!   database), written through the bridge.
//!
//! Shared plain types have neutral homes: [`cancel`] and [`token`] (used by
//! both blocking clients), [`metagraph`] (neurons and axons), [`replay`]
//! (the `--record`/`--replay` file, served by [`testkit::fakehub`]). The test axon
//! and `fakehub`'s fault injection are behind the `testkit` feature, which
//! only the crate's own tests, examples and benches turn on.
//!
//! See ARCHITECTURE.md for the map and the invariants.

#![warn(missing_docs)]

pub mod bridge;
pub mod cancel;
pub mod chain;
pub mod commit_reveal;
pub mod dendrite;
pub mod github;
pub mod health;
pub mod inputs;
pub mod logging;
pub mod metagraph;
pub mod pipeline;
pub mod replay;
pub mod scoring;
pub mod store;
pub mod testkit;
pub mod token;
mod transport;
pub mod validator;
pub mod wallet;
