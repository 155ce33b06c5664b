//! A cancellation flag that blocking code checks between requests and that
//! wakes a back-off sleep at once. A round's flag has one child per miner:
//! cancelling the round cancels every miner, a miner's deadline only itself.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

/// Shared flag: set once, seen by every clone and every child.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    inner: Arc<Node>,
}

type Callback = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Node {
    cancelled: Mutex<bool>,
    wake: Condvar,
    children: Mutex<Vec<Weak<Node>>>,
    callbacks: Mutex<Vec<Callback>>,
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
        let children =
            std::mem::take(&mut *self.children.lock().unwrap_or_else(|e| e.into_inner()));
        for child in children.iter().filter_map(Weak::upgrade) {
            child.cancel();
        }
        let callbacks =
            std::mem::take(&mut *self.callbacks.lock().unwrap_or_else(|e| e.into_inner()));
        for callback in callbacks {
            callback();
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

    /// Runs `callback` once when the flag is set (at once if it already is).
    /// This is how async code learns of a cancel without this module knowing
    /// of any runtime.
    pub fn on_cancel(&self, callback: impl FnOnce() + Send + 'static) {
        let mut callbacks = self
            .inner
            .callbacks
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Checked under the callbacks lock, as in `child`.
        if self.is_cancelled() {
            drop(callbacks);
            callback();
        } else {
            callbacks.push(Box::new(callback));
        }
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
    }
}
