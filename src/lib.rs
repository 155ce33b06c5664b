//! gittensor-validator: the gittensor subnet's validator scoring, in Rust.
//!
//! Layers, one direction (each imports only those below it):
//! - [`validator`]: the one loop of `run` and `validate` (the binary's
//!   `cli` builds its [`validator::LoopConfig`]);
//! - [`pipeline`]: one round, async through the one [`bridge`] and as a
//!   blocking facade; [`store`] what lasts between rounds; [`health`] the
//!   operator's board; [`chain`] the async subtensor client;
//! - [`github`] and [`dendrite`]: blocking clients on ureq, each knowing
//!   only its peer; [`wallet`] the hotkey that signs;
//! - [`scoring`]: the pure rules of SCORING.md, with §11's moving average
//!   and weights and the loop's decisions.
//!
//! Small shared rooms: [`cancel`], [`token`], [`metagraph`], [`replay`],
//! [`inputs`], [`logging`], [`commit_reveal`]. [`testkit`] holds the peers
//! on 127.0.0.1 the tests use (its fault injection and test axon behind the
//! `testkit` feature).
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
