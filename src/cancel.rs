//! A cancellation flag that blocking code checks between requests and that
//! wakes a back-off sleep at once, and that async code awaits
//! ([`Cancel::cancelled`]). A round's flag has one child per miner:
//! cancelling the round cancels every miner, a miner's deadline only itself.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

/// Shared flag: set once, seen by every clone and every child.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    inner: Arc<Node>,
}

#[derive(Default)]
struct Node {
    cancelled: Mutex<bool>,
    /// Wakes blocking sleepers.
    wake: Condvar,
    /// Wakes async waiters. `Notify` needs no runtime, so blocking users
    /// pay nothing for it.
    notify: tokio::sync::Notify,
    children: Mutex<Vec<Weak<Node>>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cancelled = *self.cancelled.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Cancel")
            .field("cancelled", &cancelled)
            .finish()
    }
}

impl Node {
    fn cancel(&self) {
        *self.cancelled.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
        // After the flag is set: a waiter registers before it reads the
        // flag (see `cancelled`), so it either sees the flag or is woken.
        self.notify.notify_waiters();
        let children =
            std::mem::take(&mut *self.children.lock().unwrap_or_else(|e| e.into_inner()));
        for child in children.iter().filter_map(Weak::upgrade) {
            child.cancel();
        }
    }
}

impl Cancel {
    /// A flag that is not set.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// A new flag that is set when this one is (or already set if this one is).
    pub fn child(&self) -> Cancel {
        let child = Cancel::new();
        let mut children = self
            .inner
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Checked under the children lock: cancel() takes the list after
        // setting the flag, so a child is either in the list or sees the flag.
        if self.is_cancelled() {
            child.cancel();
        } else {
            children.retain(|w| w.strong_count() > 0);
            children.push(Arc::downgrade(&child.inner));
        }
        child
    }

    /// Sets the flag, wakes every sleeper, and cancels every child.
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        *self
            .inner
            .cancelled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves when the flag is set (at once if it already is): how async
    /// code waits for a cancel, e.g. in a `tokio::select!` beside the work
    /// it cuts short. No polling: `cancel()` wakes it.
    pub async fn cancelled(&self) {
        let notified = self.inner.notify.notified();
        let mut notified = std::pin::pin!(notified);
        // Registered before the flag is read, so a cancel between the two
        // still wakes it.
        notified.as_mut().enable();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }

    /// Sleeps for `d` or until cancelled; returns whether it was cancelled.
    pub fn sleep(&self, d: Duration) -> bool {
        let guard = self
            .inner
            .cancelled
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .inner
            .wake
            .wait_timeout_while(guard, d, |cancelled| !*cancelled)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn cancelling_a_parent_wakes_a_sleeping_child_at_once() {
        let round = Cancel::new();
        let miner = round.child();
        let sleeper = {
            let miner = miner.clone();
            std::thread::spawn(move || {
                let t = Instant::now();
                (miner.sleep(Duration::from_secs(30)), t.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        round.cancel();
        let (cancelled, took) = sleeper.join().unwrap();
        assert!(cancelled);
        assert!(took < Duration::from_secs(5));
        assert!(round.child().is_cancelled());
    }

    #[test]
    fn cancelling_a_child_leaves_the_parent() {
        let round = Cancel::new();
        round.child().cancel();
        assert!(!round.is_cancelled());
        assert!(!round.sleep(Duration::from_millis(1)));
        assert!(!resolves_now(round.cancelled()));
    }

    /// Whether `f` is ready at its first poll.
    fn resolves_now(f: impl std::future::Future<Output = ()>) -> bool {
        let f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        f.poll(&mut cx).is_ready()
    }

    #[test]
    fn cancelled_resolves_at_once_on_a_flag_already_set() {
        let round = Cancel::new();
        let miner = round.child();
        assert!(!resolves_now(miner.cancelled()));
        round.cancel();
        assert!(resolves_now(miner.cancelled()));
        assert!(resolves_now(round.child().cancelled()));
    }

    #[test]
    fn cancelling_a_parent_wakes_an_async_waiter_on_a_child() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let round = Cancel::new();
        let miner = round.child();
        let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
        let canceller = {
            let round = round.clone();
            std::thread::spawn(move || {
                // Cancelled only once the waiter is parked in `cancelled`.
                waiting_rx.recv().unwrap();
                round.cancel();
            })
        };
        let woken = rt.block_on(async {
            let mut wait = std::pin::pin!(miner.cancelled());
            assert!(!resolves_now(wait.as_mut()));
            waiting_tx.send(()).unwrap();
            // Only a guard against a hang: the wake comes at once.
            tokio::time::timeout(Duration::from_secs(60), wait).await
        });
        canceller.join().unwrap();
        assert!(woken.is_ok(), "the waiter was never woken");
    }
}
