//! systemd's notify protocol (`Type=notify`, `WatchdogSec=`), through the
//! `sd-notify` crate: a few lines of a well-kept crate instead of our own
//! datagram code. Outside systemd (`NOTIFY_SOCKET` unset) every call is a
//! no-op.
//!
//! The watchdog is fed only while the board says the loop is alive (the
//! same test as `/healthz`), so systemd restarts a loop that is stuck, and
//! also one whose event loop is blocked (the feeding task then never runs).

use std::sync::Arc;

use crate::bridge;
use crate::health::Board;
use sd_notify::NotifyState;

/// Tells systemd the process is up, and starts feeding the watchdog when
/// the unit has one. Call inside the runtime, once the loop's board is up
/// (READY=1 goes through the bridge, as every syscall from async code).
pub async fn ready(board: &Arc<Board>) {
    let _ = bridge::blocking(|| sd_notify::notify(&[NotifyState::Ready])).await;
    let Some(period) = sd_notify::watchdog_enabled() else {
        return;
    };
    let board = board.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period / 2);
        loop {
            tick.tick().await;
            let problems = board.liveness_problems();
            // A datagram to systemd's socket: a syscall, so through the
            // bridge like every blocking call from async code.
            let _ = bridge::blocking(move || {
                if problems.is_empty() {
                    let _ = sd_notify::notify(&[NotifyState::Watchdog]);
                } else {
                    let status = format!("STATUS={}", problems.join("; "));
                    let _ = sd_notify::notify(&[NotifyState::Custom(&status)]);
                }
            })
            .await;
        }
    });
}

/// Tells systemd the process is stopping.
pub fn stopping() {
    let _ = sd_notify::notify(&[NotifyState::Stopping]);
}
