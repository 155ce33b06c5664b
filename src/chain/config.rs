//! Settings of the chain client, in the manner of ureq's `Config`.

use std::time::Duration;

/// Settings of a [`Chain`](super::Chain). Build with [`ChainConfig::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    endpoint: String,
    request_timeout: Duration,
    inclusion_timeout: Duration,
    backoff_base: Duration,
    max_backoff: Duration,
    reads_in_flight: usize,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            endpoint: "wss://entrypoint-finney.opentensor.ai:443".to_string(),
            request_timeout: Duration::from_secs(30),
            inclusion_timeout: Duration::from_secs(60),
            backoff_base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            reads_in_flight: 16,
        }
    }
}

impl ChainConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ChainConfigBuilder {
        ChainConfigBuilder(ChainConfig::default())
    }

    /// The node's websocket URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Bound on connecting and on one read (a whole metagraph included).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Bound on a submission, from signing to the block that holds it.
    pub fn inclusion_timeout(&self) -> Duration {
        self.inclusion_timeout
    }

    /// How many per-uid storage reads may be in flight at once.
    pub fn reads_in_flight(&self) -> usize {
        self.reads_in_flight
    }

    /// The wait after the `failures`-th failed connect in a row.
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.backoff_base
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Builder of a [`ChainConfig`].
#[derive(Debug, Clone)]
pub struct ChainConfigBuilder(ChainConfig);

impl ChainConfigBuilder {
    /// The node's websocket URL (`ws://` or `wss://`).
    ///
    /// Defaults to finney's public entrypoint,
    /// `wss://entrypoint-finney.opentensor.ai:443`.
    pub fn endpoint(mut self, v: impl Into<String>) -> Self {
        self.0.endpoint = v.into();
        self
    }

    /// Bound on connecting and on one read. A read of a 256-uid metagraph
    /// is a few paged storage queries.
    ///
    /// Defaults to 30 s.
    pub fn request_timeout(mut self, v: Duration) -> Self {
        self.0.request_timeout = v;
        self
    }

    /// Bound on a submission, from signing until the extrinsic is in a
    /// block; past it the outcome is unknown and the next due step decides
    /// again from the chain's `LastUpdate`.
    ///
    /// Defaults to 60 s (five 12 s blocks).
    pub fn inclusion_timeout(mut self, v: Duration) -> Self {
        self.0.inclusion_timeout = v;
        self
    }

    /// The first wait after a failed connect; each further failure doubles
    /// it.
    ///
    /// Defaults to 1 s.
    pub fn backoff_base(mut self, v: Duration) -> Self {
        self.0.backoff_base = v;
        self
    }

    /// The longest wait between two connects.
    ///
    /// Defaults to 60 s.
    pub fn max_backoff(mut self, v: Duration) -> Self {
        self.0.max_backoff = v;
        self
    }

    /// How many per-uid storage reads (a validator's weights row, its
    /// stake) the consensus view keeps in flight on the one websocket: a
    /// 256-uid subnet needs hundreds, and one at a time they cost a round
    /// trip each. 0 is taken as 1.
    ///
    /// Defaults to 16.
    pub fn reads_in_flight(mut self, v: usize) -> Self {
        self.0.reads_in_flight = v.max(1);
        self
    }

    /// The settings.
    pub fn build(self) -> ChainConfig {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = ChainConfig::default();
        let waits: Vec<u64> = (1..=8).map(|f| c.backoff(f).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(c.backoff(1000).as_secs(), 60);
    }
}
