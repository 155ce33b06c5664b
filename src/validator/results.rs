//! The loop's side of the results database (2.0.7's schema, `store::results_db`):
//! started with the loop, handed every judged round without waiting, and
//! given a while to write what is left when the loop ends.

use std::sync::Arc;
use std::time::Duration;

use crate::health::Board;
use crate::pipeline::Heartbeat;
use crate::scoring::RoundReport;

use super::config::RoundInputs;
use super::Shutdown;

/// How long a loop's end waits for the results database's unwritten
/// rounds: at the end of `--rounds` or `score`, and after a signal.
const FLUSH_AT_END: Duration = Duration::from_secs(60);
/// How long it waits once a signal asked to stop.
const FLUSH_ON_SIGNAL: Duration = Duration::from_secs(5);

impl RoundInputs {
    /// Starts the results database's writer, when it is on: it connects
    /// and creates the tables now, so a server down at start is said now.
    pub fn start_results(&self, board: &Arc<Board>) {
        if let Some(db) = &self.results {
            db.start(board);
        }
    }

    /// Hands a judged round (folded or discarded) to the results
    /// database, when it is on, and returns at once: the rows are written
    /// in the background, and nothing the round decides waits for them.
    pub fn store_round(&self, report: &RoundReport, board: &Arc<Board>) {
        if let Some(db) = &self.results {
            db.submit(report, board);
        }
    }

    /// At a loop's end: waits a while for the rounds not written yet (a
    /// signal, before or meanwhile, shortens the wait), and says what is
    /// lost.
    pub async fn finish_results(&self, shutdown: &Shutdown) {
        let Some(db) = &self.results else {
            return;
        };
        if db.pending() == 0 {
            return;
        }
        let within = if shutdown.requested().is_some() {
            FLUSH_ON_SIGNAL
        } else {
            FLUSH_AT_END
        };
        log::info!(
            "results database: waiting up to {}s for {} unwritten rounds",
            within.as_secs(),
            db.pending()
        );
        let (pending, started) = (db.pending(), std::time::Instant::now());
        // The event loop is measured while the rows are written: the writes
        // run on the bridge, so it should not notice them.
        let heartbeat = Heartbeat::start(Duration::from_millis(5));
        let mut signal = shutdown.clone();
        let left = tokio::select! {
            left = db.flush(within) => left,
            name = signal.wait(), if within > FLUSH_ON_SIGNAL => {
                log::info!("{name}: waiting at most {}s more for the results database", FLUSH_ON_SIGNAL.as_secs());
                db.flush(FLUSH_ON_SIGNAL).await
            }
        };
        let lag = heartbeat.stop().await;
        log::info!(
            "results database: {} of {pending} rounds written in {} ms; event-loop lag meanwhile max {:.2} ms, p99 {:.2} ms",
            pending - left.min(pending),
            started.elapsed().as_millis(),
            lag.max_ms,
            lag.p99_ms
        );
        if left > 0 {
            log::warn!(
                "results database {}: {left} rounds were not written and are lost (the scores and weights are not affected)",
                db.target()
            );
        }
    }
}
