//! Logging for the binary: `env_logger` as `RUST_LOG` asks, except that the
//! log targets that print raw wire bytes are capped, whatever `RUST_LOG`
//! says. Operators turn on `trace` to debug, not to publish their miners'
//! PATs or their own requests.

use log::{LevelFilter, Log, Metadata, Record};

/// Log targets with the highest level they may log at. A target and all its
/// submodules (`ureq_proto` covers `ureq_proto::util`) are capped.
///
/// - `ureq_proto` at trace dumps every request and response, headers and
///   bodies, in hex and ASCII 16 bytes a line: the `Authorization` header
///   (a PAT) and an axon's answer (a PAT) would be cut over lines. Its
///   debug lines name protocol states only, but it is off as a whole so
///   that a new version's lines cannot slip through.
/// - `ureq` at trace prints redirect `Location` headers unredacted.
/// - `jsonrpsee` and `soketto` (the chain client's RPC and websocket) at
///   trace print every JSON-RPC message and frame.
pub const CAPPED_TARGETS: &[(&str, LevelFilter)] = &[
    ("ureq_proto", LevelFilter::Off),
    ("ureq", LevelFilter::Debug),
    ("jsonrpsee", LevelFilter::Debug),
    ("jsonrpsee_client_transport", LevelFilter::Debug),
    ("jsonrpsee_core", LevelFilter::Debug),
    ("soketto", LevelFilter::Debug),
];

/// The highest level `target` may log at.
pub fn cap(target: &str) -> LevelFilter {
    CAPPED_TARGETS
        .iter()
        .filter(|(name, _)| {
            target
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
        .map(|&(_, level)| level)
        .min()
        .unwrap_or(LevelFilter::Trace)
}

/// `env_logger`, with [`CAPPED_TARGETS`] enforced on every record.
struct Capped(env_logger::Logger);

impl Log for Capped {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= cap(metadata.target()) && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Sets up logging to stderr from `RUST_LOG` (default `info`), with the
/// wire-dumping targets capped. Call once, first thing in `main`.
pub fn init() {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(Capped(inner))).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_dump_targets_are_capped_with_their_submodules() {
        for (target, expected) in [
            ("ureq_proto", LevelFilter::Off),
            ("ureq_proto::util", LevelFilter::Off),
            ("ureq", LevelFilter::Debug),
            ("ureq::unversioned::transport", LevelFilter::Debug),
            ("jsonrpsee_client_transport::ws", LevelFilter::Debug),
            ("gittensor_validator::github", LevelFilter::Trace),
            // A prefix of a name is not the name.
            ("ureqx", LevelFilter::Trace),
            ("ureq_protocol", LevelFilter::Trace),
        ] {
            assert_eq!(cap(target), expected, "{target}");
        }
    }
}
