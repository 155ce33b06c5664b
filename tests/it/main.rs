//! The integration test binary: every module here is one area.

mod architecture;
mod axons;
mod chain;
mod cli;
mod client;
mod commit_reveal;
mod dendrite;
mod deploy;
mod example;
mod faults;
mod hostile;
mod operating;
mod pipeline;
mod props;
mod resources;
mod results_db;
mod reward_goldens;
mod rules;
mod state;
mod status;
mod store;
mod switching;
mod trust;
mod util;
mod validate;
mod weights;
