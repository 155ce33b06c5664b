//! The one bridge from async to blocking code. Nothing else in the crate
//! calls `spawn_blocking` or blocking code from async.

use std::fmt;

/// Why a blocking task gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The task panicked (a bug; the panic message is logged).
    Panicked,
    /// The runtime is shutting down and dropped the task.
    Cancelled,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Panicked => f.write_str("blocking task panicked"),
            Error::Cancelled => f.write_str("blocking task cancelled"),
        }
    }
}

impl std::error::Error for Error {}

/// Runs `f` on tokio's blocking pool and waits for it without blocking the
/// event loop. A blocking task cannot be aborted: `f` must bound itself (a
/// request timeout, a cancellation flag checked between requests).
pub async fn blocking<T, F>(f: F) -> Result<T, Error>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        if e.is_panic() {
            log::error!("blocking task panicked: {e}");
            Error::Panicked
        } else {
            Error::Cancelled
        }
    })
}
