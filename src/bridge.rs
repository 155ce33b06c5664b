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

/// How much lower than the event loop's the CPU priority of blocking work
/// is (a nice increment, Linux). Hundreds of blocking threads wake together
/// when a subnet's axons or GitHub answer at once; at the same priority the
/// event loop's workers (one per core) wait their turn among them. Lower, they take a
/// core the moment they need one, and the blocking work still gets every
/// idle cycle (BENCHMARKS.md, benchmark 5, measures both).
pub const BLOCKING_NICE: i32 = 10;

/// Runs `f` on tokio's blocking pool and waits for it without blocking the
/// event loop. A blocking task cannot be aborted: `f` must bound itself (a
/// request timeout, a cancellation flag checked between requests).
pub async fn blocking<T, F>(f: F) -> Result<T, Error>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn(f).await
}

/// Hands `f` to tokio's blocking pool now, before any await, and returns
/// the future of its result. For a loop that starts many blocking calls:
/// starting them from the loop itself, rather than from a task each,
/// keeps the runtime's run queues free (256 tasks queued at once, each
/// calling `spawn_blocking` when first polled, held the event loop's ticks
/// back by up to 30 ms).
pub fn spawn<T, F>(f: F) -> impl std::future::Future<Output = Result<T, Error>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let handle = tokio::task::spawn_blocking(move || {
        lower_priority();
        f()
    });
    async move {
        handle.await.map_err(|e| {
            if e.is_panic() {
                log::error!("blocking task panicked: {e}");
                Error::Panicked
            } else {
                Error::Cancelled
            }
        })
    }
}

/// Lowers this blocking-pool thread's CPU priority by [`BLOCKING_NICE`],
/// once per thread (the pool reuses its threads). Raising one's own nice
/// needs no privilege; failing to is harmless, so it is not reported.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use std::cell::Cell;
        thread_local! {
            static LOWERED: Cell<bool> = const { Cell::new(false) };
        }
        LOWERED.with(|lowered| {
            if !lowered.get() {
                lowered.set(true);
                // SAFETY: gettid and setpriority take and return plain
                // integers; on Linux, PRIO_PROCESS with a thread id sets
                // that one thread's nice value.
                unsafe {
                    let tid = libc::gettid();
                    let current = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
                    libc::setpriority(
                        libc::PRIO_PROCESS,
                        tid as libc::id_t,
                        current + BLOCKING_NICE,
                    );
                }
            }
        });
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn blocking_work_runs_below_the_callers_priority() {
        // SAFETY: plain integer syscalls about the calling thread.
        let nice =
            || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mine = nice();
        let theirs = rt.block_on(super::blocking(nice)).unwrap();
        assert_eq!(theirs, (mine + super::BLOCKING_NICE).min(19));
    }
}
