//! Transport settings of the GitHub client, in the manner of ureq's `Config`.

use std::time::Duration;

/// Settings of a [`Client`](super::Client). Build with [`ClientConfig::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    base_url: String,
    timeout: Duration,
    max_body_bytes: u64,
    max_retries: u32,
    backoff_base: Duration,
    max_backoff: Duration,
    secondary_rate_limit_wait: Duration,
    min_page_size: usize,
    all_file_pages: bool,
    max_redirects: u32,
    max_idle_connections: usize,
    input_buffer_size: usize,
    output_buffer_size: usize,
    user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: "https://api.github.com".to_string(),
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            max_retries: 3,
            backoff_base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            secondary_rate_limit_wait: Duration::from_secs(60),
            min_page_size: 10,
            all_file_pages: false,
            max_redirects: 5,
            max_idle_connections: 256,
            input_buffer_size: 16 * 1024,
            output_buffer_size: 16 * 1024,
            user_agent: concat!("gittensor-validator/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl ClientConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder(ClientConfig::default())
    }

    /// REST base; GraphQL is at `{base_url}/graphql`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// Bound on one whole request, DNS to the end of the body.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Largest response body read.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }
    /// Retries of one request after a transient failure.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }
    /// First exponential back-off step.
    pub fn backoff_base(&self) -> Duration {
        self.backoff_base
    }
    /// Longest single wait; a server asking for more fails the request.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }
    /// Wait after a secondary rate limit that gave no `retry-after`.
    pub fn secondary_rate_limit_wait(&self) -> Duration {
        self.secondary_rate_limit_wait
    }
    /// Smallest GraphQL page when halving after timeouts.
    pub fn min_page_size(&self) -> usize {
        self.min_page_size
    }
    /// Whether every page of `/files` is read.
    pub fn all_file_pages(&self) -> bool {
        self.all_file_pages
    }
    /// Redirects followed per request.
    pub fn max_redirects(&self) -> u32 {
        self.max_redirects
    }
    /// Idle connections kept for reuse.
    pub fn max_idle_connections(&self) -> usize {
        self.max_idle_connections
    }
    /// Each connection's input buffer, which also bounds a response's headers.
    pub fn input_buffer_size(&self) -> usize {
        self.input_buffer_size
    }
    /// Each connection's output buffer.
    pub fn output_buffer_size(&self) -> usize {
        self.output_buffer_size
    }
    /// The `User-Agent` sent (GitHub requires one).
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }
}

/// Builder of [`ClientConfig`].
#[derive(Debug, Clone)]
pub struct ClientConfigBuilder(ClientConfig);

impl ClientConfigBuilder {
    /// REST base URL, without a trailing slash; GraphQL is at `{url}/graphql`.
    ///
    /// Defaults to `https://api.github.com`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.0.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Bound on one whole request, DNS to the end of the body. ureq sets none;
    /// a blocking call cannot be cancelled, so this is what ends it.
    ///
    /// Defaults to 30 seconds (GitHub ends GraphQL queries at 10 s).
    pub fn timeout(mut self, v: Duration) -> Self {
        self.0.timeout = v;
        self
    }

    /// Largest response body read; a larger one fails the request.
    ///
    /// Defaults to 16 MiB (a page of 100 pull requests with bodies is a few MiB).
    pub fn max_body_bytes(mut self, v: u64) -> Self {
        self.0.max_body_bytes = v;
        self
    }

    /// Retries after a transport error, a 5xx, a 429 or a rate-limited 403.
    ///
    /// Defaults to 3.
    pub fn max_retries(mut self, v: u32) -> Self {
        self.0.max_retries = v;
        self
    }

    /// First exponential back-off step; it doubles per retry.
    ///
    /// Defaults to 1 second.
    pub fn backoff_base(mut self, v: Duration) -> Self {
        self.0.backoff_base = v;
        self
    }

    /// Longest single wait. A `retry-after` or rate-limit reset further away
    /// fails the request at once instead of holding a thread.
    ///
    /// Defaults to 60 seconds.
    pub fn max_backoff(mut self, v: Duration) -> Self {
        self.0.max_backoff = v;
        self
    }

    /// Wait after a secondary rate limit without `retry-after` (GitHub asks
    /// for at least a minute).
    ///
    /// Defaults to 60 seconds.
    pub fn secondary_rate_limit_wait(mut self, v: Duration) -> Self {
        self.0.secondary_rate_limit_wait = v;
        self
    }

    /// Smallest GraphQL page size reached by halving after 502/504 or
    /// `RESOURCE_LIMITS_EXCEEDED`.
    ///
    /// Defaults to 10.
    pub fn min_page_size(mut self, v: usize) -> Self {
        self.0.min_page_size = v.max(1);
        self
    }

    /// Read every page of `/files` (`per_page=100`, following `Link`), up to
    /// GitHub's 3 000 files. Release 2.0.7 reads only the first page of 30,
    /// so turning this on changes scores.
    ///
    /// Defaults to false.
    pub fn all_file_pages(mut self, v: bool) -> Self {
        self.0.all_file_pages = v;
        self
    }

    /// Redirects followed per request (the token goes only to the base URL's
    /// origin).
    ///
    /// Defaults to 5.
    pub fn max_redirects(mut self, v: u32) -> Self {
        self.0.max_redirects = v;
        self
    }

    /// Idle connections kept for reuse, all to the one GitHub host. ureq
    /// keeps 3 per host by default: with miners evaluated at once, most
    /// requests would then pay a new TCP and TLS handshake. Set it to the
    /// number of miners evaluated at once.
    ///
    /// Defaults to 256 (one per miner of a full subnet, the binary's default
    /// `--concurrency`).
    pub fn max_idle_connections(mut self, v: usize) -> Self {
        self.0.max_idle_connections = v;
        self
    }

    /// Each connection's input buffer. It also bounds the status line and
    /// headers of an answer (a larger head fails the request); bodies stream
    /// through it. GitHub's heads are 2 to 3 KiB. ureq's 128 KiB, times one
    /// connection per miner in flight, was most of a round's memory.
    ///
    /// Defaults to 16 KiB.
    pub fn input_buffer_size(mut self, v: usize) -> Self {
        self.0.input_buffer_size = v.max(4096);
        self
    }

    /// Each connection's output buffer; requests are a GET line with a few
    /// headers, or a GraphQL POST of about 2 KiB.
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

    /// The finished config.
    pub fn build(self) -> ClientConfig {
        self.0
    }
}
