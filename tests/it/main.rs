//! The integration test binary: every module here is one area.

mod architecture;
mod cli;
mod client;
mod example;
mod pipeline;
mod rules;
mod util;
