//! The long-running validator, shared by `run` and `validate`, and the
//! pieces of a round the one-shot commands use too. Nothing here knows the
//! command line: `cli` checks the flags and hands over a config
//! (`config.rs`); the loop answers with a [`Failure`] that `main` maps to
//! an exit status.
//!
//! - `validate.rs`: `validate`'s start: the neurons chosen, the board,
//!   the first sync, the state; then `steps.rs`, the step loop (SCORING.md
//!   §11.5): a round when due, the wait, the end of the step, what it waits
//!   for next. The loop holds a `state.rs` `Validator` and is written once
//!   against `neurons.rs`, the interface of where the metagraph comes
//!   from, with two implementations: `on_chain.rs` (the first sync, and a
//!   step's end: registration, resync, weights due) and `metagraph_file.rs`
//!   (`--metagraph`: the file read again, weights only computed).
//!   `adopt.rs` holds what both share (a fresh metagraph adopted),
//!   `startup.rs` the state import, `submit.rs` the weights, on the pure
//!   `decide_submission`.
//! - `rounds.rs`: `run`'s loop of rounds on an interval.
//! - `round.rs`: one scoring round under a stop signal, judged (§11.9.7),
//!   and its table; `tables.rs` the weight tables read at every round.
//! - `persist.rs`: `state.json`, `weights.json`, `report.json`, atomically.
//! - `shutdown.rs`: SIGTERM and SIGINT; `systemd.rs`: notify and watchdog.

mod adopt;
mod config;
mod error;
mod metagraph_file;
mod neurons;
mod on_chain;
mod persist;
mod round;
mod rounds;
mod shutdown;
mod startup;
mod state;
mod steps;
mod submit;
mod validate;

mod systemd;
mod tables;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

pub use config::{Github, NeuronsFrom, RunConfig, Settings, Source, ValidateConfig};
pub use error::Failure;
pub use persist::write_report;
pub use round::{print_table, round_until_stopped, Round, RoundMiners, INTERRUPTED};
pub use rounds::run_rounds;
pub use shutdown::Shutdown;
pub use tables::Tables;
pub use validate::validate;

pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(format!("cannot start the runtime: {e}")))
}

/// Raises the soft limit of open files to the hard one, as long-running
/// servers do: systemd and most shells start a process at a soft 1024,
/// which 256 miners' GitHub and axon connections can reach. Logs both
/// figures; a limit that cannot be read or raised is a warning, not a
/// reason to stop.
pub fn raise_open_files_limit() {
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
pub fn due_at(wait: Duration) -> String {
    let at = OffsetDateTime::now_utc() + wait;
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A wait as a person reads it (`1h55m`, `7m`, `40s`), and the UTC clock
/// time it ends at (`16:35 UTC`).
pub fn when(wait: Duration) -> (String, String) {
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
pub fn plural(n: u64, one: &str, many: &str) -> String {
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
