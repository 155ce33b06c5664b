//! The long-running validator: one loop for `run` and `validate`, and the
//! pieces of a round the one-shot commands use too. Nothing here knows the
//! command line: the binary's `cli` checks the flags and hands over a
//! [`LoopConfig`]; the loop answers with a [`Failure`] that the binary maps
//! to an exit status.
//!
//! A source of neurons (the chain, a metagraph file, a miners file) says
//! what it read as plain data; the pure
//! [`crate::scoring::step::plan_step`] says what the step does with it; the
//! loop carries the plan out. The files: ARCHITECTURE.md, `validator/`.

mod config;
mod error;
mod fold;
mod on_chain;
mod results;
mod round;
mod shutdown;
mod source;
mod start;
mod startup;
mod steps;
mod submit;
mod systemd;
mod tables;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

pub use config::{LoopConfig, NeuronsFrom, Pace, RoundInputs, Settings};
pub use error::Failure;
pub use round::{print_table, round_until_stopped, Round, RoundMiners, INTERRUPTED};
pub use shutdown::Shutdown;
pub use start::run_loop;
pub use tables::Tables;

/// A multi-threaded tokio runtime with every driver on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(format!("cannot start the runtime: {e}")))
}

/// Ends a command's runtime without waiting for blocking tasks still in
/// flight: a round cut short, or a miner past its deadline, may sit in a
/// request until its timeout, and everything that matters (the state, the
/// report) is written by then.
pub fn let_go(rt: tokio::runtime::Runtime) {
    rt.shutdown_timeout(Duration::from_millis(200));
}

/// Raises the soft limit of open files to the hard one, as long-running
/// servers do: systemd and most shells start a process at a soft 1024,
/// which 256 miners' GitHub and axon connections can reach. Logs both
/// figures; a limit that cannot be read or raised is a warning, not a
/// reason to stop.
pub(crate) fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one plain struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        let e = std::io::Error::last_os_error();
        log::warn!("open files: cannot read the limit ({e})");
        return;
    }
    let figure = |n: libc::rlim_t| {
        if n == libc::RLIM_INFINITY {
            "unlimited".to_string()
        } else {
            n.to_string()
        }
    };
    let (soft, hard) = (limit.rlim_cur, limit.rlim_max);
    if soft == hard {
        log::info!("open files: soft limit {} (the hard limit)", figure(soft));
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: hard,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads one plain struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        log::info!(
            "open files: soft limit raised from {} to the hard limit {}",
            figure(soft),
            figure(hard)
        );
    } else {
        let e = std::io::Error::last_os_error();
        log::warn!(
            "open files: cannot raise the soft limit {} to the hard limit {} ({e})",
            figure(soft),
            figure(hard)
        );
    }
}

/// The time a wait ends at, RFC 3339 in UTC to the second: what
/// `/healthz` promises in `next_round.at` and `next_weights.at` (a
/// program reads it; the log keeps [`when`]'s clock time).
pub(crate) fn due_at(wait: Duration) -> String {
    let at = OffsetDateTime::now_utc() + wait;
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A wait as a person reads it (`1h55m`, `7m`, `40s`), and the UTC clock
/// time it ends at (`16:35 UTC`).
pub(crate) fn when(wait: Duration) -> (String, String) {
    let secs = wait.as_secs_f64().ceil() as u64;
    let span = match secs {
        0..=89 => format!("{secs}s"),
        90..=3599 => format!("{}m", (secs + 30) / 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    };
    let at = OffsetDateTime::now_utc() + wait;
    (span, format!("{:02}:{:02} UTC", at.hour(), at.minute()))
}

/// "1 round", "2 rounds".
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_string()
    } else {
        many.to_string()
    }
}

/// The operator's board, served on `addr` (`/healthz`, `/readyz`, `/metrics`) when
/// one is given. A port that cannot be bound is bad usage.
pub async fn serve_board(
    addr: Option<std::net::SocketAddr>,
) -> Result<Arc<crate::health::Board>, Failure> {
    let board = Arc::new(crate::health::Board::new());
    if let Some(addr) = addr {
        let bound = crate::health::serve(addr, board.clone())
            .await
            .map_err(|e| Failure::Input(format!("--health-addr {addr}: {e}")))?;
        log::info!("serving /healthz, /readyz and /metrics on {bound}");
    }
    Ok(board)
}
