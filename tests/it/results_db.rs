//! The results database's writer without a server (the real-server tests
//! are `scripts/results-db.sh`): a port that refuses every connection, so
//! every attempt fails as it would with the server down.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use gittensor_validator::health::Board;
use gittensor_validator::scoring::RoundReport;
use gittensor_validator::store::results_db::{Config, ResultsDb};

use crate::util::{ClosedPort, NOW};

fn round(n: u16) -> RoundReport {
    let rewards: BTreeMap<u16, f64> = [(0, 1.0), (n, 0.0)].into_iter().collect();
    RoundReport::new(NOW + time::Duration::hours(i64::from(n)), &rewards, &[])
}

/// Waits until the board's status says `f`, as the writer reports.
async fn until(board: &Board, f: impl Fn(&gittensor_validator::health::Status) -> bool) {
    while !f(&board.status()) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn with_the_server_down_rounds_wait_in_memory_up_to_the_bound_and_the_oldest_go() {
    let closed = ClosedPort::new();
    let db = ResultsDb::new(
        Config::builder()
            .host("127.0.0.1")
            .port(closed.port())
            .password("hunter2-db-secret")
            .max_pending(2)
            .build()
            .unwrap(),
    );
    let board = Arc::new(Board::new());
    let rt = crate::util::runtime();
    rt.block_on(async {
        for n in 1..=5 {
            db.submit(&round(n), &board);
        }
        assert_eq!(db.pending(), 2, "at most max_pending rounds are kept");
        until(&board, |s| {
            s.results_db
                .as_ref()
                .is_some_and(|r| r.last_error.is_some())
        })
        .await;
        let status = board.status().results_db.unwrap();
        assert!(!status.connected);
        assert_eq!(status.rounds_pending, 2);
        assert!(
            status
                .last_error
                .as_deref()
                .unwrap()
                .contains("cannot connect"),
            "{status:?}"
        );
        assert!(!format!("{status:?}").contains("hunter2"), "{status:?}");
        let metrics = board.metrics_text();
        assert!(
            metrics.contains("gittensor_db_rounds_pending 2"),
            "{metrics}"
        );
        assert!(
            metrics.contains("gittensor_db_rounds_dropped_total 3"),
            "{metrics}"
        );
        assert!(metrics.contains("gittensor_db_writes_total 0"), "{metrics}");
        // Storage is not what makes the weights right.
        assert!(board.readiness_problems().is_empty());
        // A flush gives up at its deadline and says what is left.
        assert_eq!(db.flush(Duration::from_millis(50)).await, 2);
    });
}
