//! `gittensor-validator`: parse, run, map the outcome to an exit status
//! (0 done, 2 bad usage or input, 1 anything else). The commands live in
//! `cli`, one module each.

mod cli;
mod validator;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gittensor_validator::logging::init();
    cli::ignore_empty_env();
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::Failure::Input(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(cli::Failure::Other(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
    }
}
