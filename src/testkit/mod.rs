//! Test doubles of what the validator talks to, for the crate's own tests (behind the `testkit` feature).

pub mod subtensor;
