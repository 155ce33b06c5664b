//! `gittensor-validator`: parse, run, map the outcome to an exit status
//! (0 done, 2 bad usage or input, 1 anything else). The commands live in
//! `cli`, one module each.

mod cli;
mod validator;

use std::process::ExitCode;

use clap::Parser;
use gittensor_validator::logging;

fn main() -> ExitCode {
    logging::init();
    cli::ignore_empty_env();
    let cli = match cli::Cli::try_parse() {
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
