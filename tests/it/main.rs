//! The integration test binary: every module here is one area.

mod example;
mod rules;
mod util;
