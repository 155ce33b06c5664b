//! `gittensor-validator`: parse, run, map the outcome to an exit status
//! (0 done, 2 bad usage or input, 1 anything else). The commands live in
//! `cli`, one module each.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use gittensor_validator::logging;

/// jemalloc instead of glibc's malloc: a long-running process that makes
/// a thread per request (ureq's resolver under a timeout) and frees in
/// other threads leaves glibc's per-thread arenas holding pages it never
/// returns, so RSS creeps round after round with a flat heap (BENCHMARKS
/// §10); jemalloc purges what it does not use.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Parsed before logging starts: the command line may set the level.
    let emptied = cli::ignore_empty_env();
    let parsed = cli::Cli::try_parse();
    logging::init_with(parsed.as_ref().ok().and_then(cli::Cli::log_level));
    for name in emptied {
        log::debug!("{name} is set but empty: taken as not set");
    }
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints usage to stderr itself: the logged lines first.
            logging::flush();
            e.exit()
        }
    };
    let code = match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::Failure::Input(m)) => {
            logging::print(&format!("error: {m}\n"));
            ExitCode::from(2)
        }
        Err(cli::Failure::Other(m)) => {
            logging::print(&format!("error: {m}\n"));
            ExitCode::from(1)
        }
    };
    // The last lines (the round's table, the error) are still in the
    // sink's channel: write them before the process ends.
    logging::flush();
    code
}
