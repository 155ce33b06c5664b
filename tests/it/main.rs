//! The integration test binary: every module here is one area.

mod architecture;
mod client;
mod example;
mod rules;
mod util;
