//! How late the event loop runs: a task ticking through a round, its
//! lateness kept in a fixed histogram. A late tick means something held
//! the loop (a blocking call outside the bridge, a stalled log write), so
//! the round's report and `/metrics` show it.

use std::time::Duration;

/// A task that ticks every `interval` and records how late each tick was:
/// a tick is late exactly when something held the event loop.
pub struct Heartbeat {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Lag>,
}

/// Event-loop lag seen by a [`Heartbeat`], in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lag {
    /// The largest lag of any tick.
    pub max_ms: f64,
    /// The 99th percentile (to 0.1 ms; 1 s when over 1 s).
    pub p99_ms: f64,
}

/// Lag histogram buckets: 0.1 ms wide, the last one holds all beyond 1 s.
const LAG_BUCKETS: usize = 10_001;

impl Heartbeat {
    /// Starts ticking on the current runtime.
    pub fn start(interval: Duration) -> Heartbeat {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            // A fixed histogram: a 2-hour round ticks over a million times.
            let mut buckets = vec![0u32; LAG_BUCKETS];
            let (mut ticks, mut max) = (0u64, Duration::ZERO);
            let mut record = |lag: Duration| {
                max = max.max(lag);
                ticks += 1;
                let bucket = usize::try_from(lag.as_micros() / 100).unwrap_or(usize::MAX);
                buckets[bucket.min(LAG_BUCKETS - 1)] += 1;
            };
            loop {
                let due = tokio::time::Instant::now() + interval;
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {
                        record(tokio::time::Instant::now().saturating_duration_since(due));
                    }
                    _ = &mut stopped => {
                        // A tick overdue when the stop came is the lag of
                        // whatever held the loop until now: count it.
                        let now = tokio::time::Instant::now();
                        if now > due {
                            record(now - due);
                        }
                        break;
                    }
                }
            }
            let p99_rank = ticks - ticks / 100;
            let mut seen = 0u64;
            let p99_bucket = buckets
                .iter()
                .position(|&n| {
                    seen += u64::from(n);
                    seen >= p99_rank.max(1)
                })
                .unwrap_or(0);
            Lag {
                max_ms: max.as_secs_f64() * 1000.0,
                p99_ms: p99_bucket as f64 / 10.0,
            }
        });
        Heartbeat { stop, task }
    }

    /// Stops ticking and returns what it saw.
    pub async fn stop(self) -> Lag {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}
