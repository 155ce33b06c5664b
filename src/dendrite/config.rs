//! Settings of the dendrite, in the manner of ureq's `Config`.

use std::time::Duration;

/// Settings of a [`Dendrite`](super::Dendrite). Build with
/// [`DendriteConfig::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DendriteConfig {
    timeout: Duration,
    max_body_bytes: u64,
    input_buffer_size: usize,
    output_buffer_size: usize,
    user_agent: String,
}

impl Default for DendriteConfig {
    fn default() -> Self {
        DendriteConfig {
            timeout: Duration::from_secs(12),
            max_body_bytes: 64 * 1024,
            input_buffer_size: 16 * 1024,
            output_buffer_size: 16 * 1024,
            user_agent: concat!("gittensor-validator/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl DendriteConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> DendriteConfigBuilder {
        DendriteConfigBuilder(DendriteConfig::default())
    }

    /// Bound on one whole query, connect to the end of the answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Largest answer read.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }

    /// Each connection's input buffer, which also bounds an answer's head.
    pub fn input_buffer_size(&self) -> usize {
        self.input_buffer_size
    }

    /// Each connection's output buffer.
    pub fn output_buffer_size(&self) -> usize {
        self.output_buffer_size
    }

    /// The `User-Agent` header.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }
}

/// Builder of a [`DendriteConfig`].
#[derive(Debug, Clone)]
pub struct DendriteConfigBuilder(DendriteConfig);

impl DendriteConfigBuilder {
    /// Bound on one whole query, connect to the end of the answer; also
    /// sent as the synapse's `timeout`, which widens the axon's nonce
    /// window. ureq sets none; a blocking task cannot be aborted, so this
    /// is what ends a query to a silent axon.
    ///
    /// Defaults to 12 s (bittensor's dendrite default, `--dendrite-timeout`).
    pub fn timeout(mut self, v: Duration) -> Self {
        self.0.timeout = v;
        self
    }

    /// Largest answer read; a larger one fails the query. A `GitPatSynapse`
    /// answer is under 2 KiB.
    ///
    /// Defaults to 64 KiB.
    pub fn max_body_bytes(mut self, v: u64) -> Self {
        self.0.max_body_bytes = v;
        self
    }

    /// Each connection's input buffer. It also bounds the status line and
    /// headers of an axon's answer (a larger head fails the query); an
    /// axon's head, its synapse's `bt_header_*` fields included, is a few
    /// KiB. ureq's 128 KiB, times 256 axons asked at once, was most of a
    /// round's memory.
    ///
    /// Defaults to 16 KiB.
    pub fn input_buffer_size(mut self, v: usize) -> Self {
        self.0.input_buffer_size = v.max(4096);
        self
    }

    /// Each connection's output buffer; a query is a signed head and a
    /// small JSON body.
    ///
    /// Defaults to 16 KiB.
    pub fn output_buffer_size(mut self, v: usize) -> Self {
        self.0.output_buffer_size = v.max(4096);
        self
    }

    /// The `User-Agent` header.
    ///
    /// Defaults to `gittensor-validator/{version}`.
    pub fn user_agent(mut self, v: impl Into<String>) -> Self {
        self.0.user_agent = v.into();
        self
    }

    /// The settings.
    pub fn build(self) -> DendriteConfig {
        self.0
    }
}
