//! gittensor-validator: the gittensor subnet's validator scoring, in Rust.
//!
//! Three layers, one direction:
//! - [`scoring`]: pure rules of SCORING.md (no I/O, no clock, no tokio);
//! - [`github`]: a blocking GitHub client on ureq;
//! - [`pipeline`]: the round, async (tokio, through one `spawn_blocking`
//!   bridge) and as a blocking facade.
//!
//! See ARCHITECTURE.md for the map and the invariants.

#![warn(missing_docs)]

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
pub mod scoring;
pub mod testaxon;
pub mod wallet;
