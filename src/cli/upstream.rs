//! gittensor 2.0.7's command line, as its `scripts/run_validator.sh` starts
//! `neurons/validator.py`, taken by `validate` so that switching is one word
//! (`python neurons/validator.py` becomes `gittensor-validator validate`).
//!
//! Each flag of 2.0.7's parser (`gittensor/utils/config.py` over bittensor
//! 9.9.0's `wallet`, `subtensor`, `logging` and `axon` arguments and
//! `bt.config`'s own) is one of:
//! - the same setting under our name: an alias on our flag
//!   (`--neuron.epoch_length`, `--neuron.moving_average_alpha`,
//!   `--neuron.disable_set_weights`), or a flag here (the log level, the
//!   state folder's parts);
//! - meaningless here: accepted with one INFO line saying why ([`FLAGS`]);
//! - refused: exit 2 naming the flag and why ([`FLAGS`]).
//!
//! Each takes a value exactly when 2.0.7's does (`store_true` flags take
//! none), so a flag never swallows the next one.

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use log::LevelFilter;

use gittensor_validator::validator::Failure;

/// What becomes of a 2.0.7 flag that has no twin here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Accepted; one INFO line gives the reason.
    Ignored(&'static str),
    /// Exit 2, naming the flag and the reason.
    Refused(&'static str),
}

/// One flag of 2.0.7's command line.
#[derive(Debug)]
pub(crate) struct Flag {
    /// Its name, without the dashes.
    pub(crate) name: &'static str,
    /// Another spelling 2.0.7 accepts for it.
    alias: Option<&'static str>,
    /// Whether it takes a value (argparse `type=`), or is a switch
    /// (`action="store_true"`).
    takes_value: bool,
    pub(crate) fate: Fate,
}

const NO_AXON: &str = "this validator serves no axon and announces none on the chain \
    (2.0.7's validator announces one but never starts it, and nothing asks a validator's axon)";
const NO_WANDB: &str = "no wandb run here";
const MINER_ONLY: &str = "a miner's flag in 2.0.7: a validator blacklists no one";
const NO_EVENTS_FILE: &str =
    "2.0.7's events log file; every line goes to stderr here, kept by the supervisor (pm2, journald)";
const MOCKED: &str = "a mocked chain and dendrite, for 2.0.7's tests; for an offline run here \
    use --metagraph FILE";

const fn ignored(name: &'static str, takes_value: bool, why: &'static str) -> Flag {
    Flag {
        name,
        alias: None,
        takes_value,
        fate: Fate::Ignored(why),
    }
}

const fn refused(name: &'static str, takes_value: bool, why: &'static str) -> Flag {
    Flag {
        name,
        alias: None,
        takes_value,
        fate: Fate::Refused(why),
    }
}

/// The flags of 2.0.7's validator (and of `bt.config`) that mean nothing
/// here or are refused, with their value forms from 2.0.7's parser.
pub(crate) const FLAGS: &[Flag] = &[
    // bittensor 9.9.0 `axon.add_args`.
    ignored("axon.port", true, NO_AXON),
    ignored("axon.ip", true, NO_AXON),
    ignored("axon.external_port", true, NO_AXON),
    ignored("axon.external_ip", true, NO_AXON),
    ignored("axon.max_workers", true, NO_AXON),
    // gittensor/utils/config.py
    ignored(
        "neuron.sample_size",
        true,
        "read nowhere in 2.0.7: every round asks every uid",
    ),
    ignored(
        "neuron.num_concurrent_forwards",
        true,
        "one round per scoring step, as 2.0.7's default 1; the axons are asked all at once",
    ),
    ignored(
        "neuron.vpermit_tao_limit",
        true,
        "2.0.7 defines the check that reads it and never calls it (SCORING.md §11)",
    ),
    ignored(
        "neuron.timeout",
        true,
        "defined in 2.0.7's config and read nowhere (an axon query's deadline is --dendrite-timeout)",
    ),
    Flag {
        name: "neuron.axon_off",
        alias: Some("axon_off"),
        takes_value: false,
        fate: Fate::Ignored(NO_AXON),
    },
    ignored("neuron.device", true, "nothing here runs on a GPU"),
    ignored("neuron.events_retention_size", true, NO_EVENTS_FILE),
    ignored("neuron.dont_save_events", false, NO_EVENTS_FILE),
    ignored("wandb.project", true, NO_WANDB),
    ignored("wandb.project_name", true, NO_WANDB),
    ignored("wandb.entity", true, NO_WANDB),
    ignored("blacklist.force_validator_permit", false, MINER_ONLY),
    ignored("blacklist.allow_non_registered", false, MINER_ONLY),
    ignored("blacklist.min_stake", true, MINER_ONLY),
    // bittensor 9.9.0 `logging.add_args` and `Config`'s own.
    ignored(
        "logging.record_log",
        false,
        "bittensor's log file; every line goes to stderr here, kept by the supervisor (pm2, journald)",
    ),
    ignored(
        "no_version_checking",
        false,
        "bittensor's check for a newer SDK; nothing to check here",
    ),
    ignored(
        "strict",
        false,
        "bittensor's strict parsing; this command line is always strict",
    ),
    refused("mock", false, MOCKED),
    refused("subtensor._mock", true, MOCKED),
    refused(
        "dev_mode",
        false,
        "a miner's development mode in 2.0.7, not a validator's",
    ),
    refused(
        "neuron.remote_debug_port",
        true,
        "2.0.7's remote code execution API for development; there is no such API here",
    ),
    refused(
        "config",
        true,
        "bittensor's YAML config file is not read here: pass its settings as flags",
    ),
];

/// The 2.0.7 flags of [`FLAGS`] that were given.
#[derive(Default)]
pub(crate) struct Given(Vec<&'static Flag>);

impl Given {
    /// Refuses (exit 2) the first refused flag given; else logs one INFO
    /// line per ignored flag given. Call first, before anything is read.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        for flag in &self.0 {
            if let Fate::Refused(why) = flag.fate {
                return Err(Failure::Input(format!(
                    "--{} (gittensor 2.0.7's) is refused: {why}",
                    flag.name
                )));
            }
        }
        for flag in &self.0 {
            if let Fate::Ignored(why) = flag.fate {
                log::info!(
                    "--{} (gittensor 2.0.7's) accepted and ignored: {why}",
                    flag.name
                );
            }
        }
        Ok(())
    }
}

impl FromArgMatches for Given {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Given(
            FLAGS
                .iter()
                .filter(|f| m.value_source(f.name) == Some(ValueSource::CommandLine))
                .collect(),
        ))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Given::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for Given {
    fn augment_args(mut cmd: Command) -> Command {
        for f in FLAGS {
            let (verdict, why) = match f.fate {
                Fate::Ignored(why) => ("ignored", why),
                Fate::Refused(why) => ("refused", why),
            };
            let mut arg = Arg::new(f.name)
                .long(f.name)
                .help(format!("2.0.7's flag, {verdict}: {why}"))
                .help_heading(HEADING);
            arg = if f.takes_value {
                arg.action(ArgAction::Set)
                    .value_name("VALUE")
                    .allow_negative_numbers(true)
            } else {
                arg.action(ArgAction::SetTrue)
            };
            if let Some(alias) = f.alias {
                arg = arg.visible_alias(alias);
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Given::augment_args(cmd)
    }
}

const HEADING: &str = "gittensor 2.0.7's flags";

/// 2.0.7's flags that set something here too, besides the aliases on our
/// own flags, and the ones that mean nothing here ([`Given`]).
#[derive(Args)]
#[command(next_help_heading = HEADING)]
pub(crate) struct UpstreamArgs {
    /// Log level trace, as bittensor's flag. RUST_LOG, when set, wins over
    /// every --logging.* flag; the most verbose --logging.* flag wins.
    #[arg(long = "logging.trace")]
    trace: bool,
    /// Log level debug (see --logging.trace).
    #[arg(long = "logging.debug")]
    debug: bool,
    /// Log level info, this binary's default (see --logging.trace).
    #[arg(long = "logging.info")]
    info: bool,
    /// Log level warn (see --logging.trace).
    #[arg(long = "logging.warning")]
    warning: bool,
    /// The first part of the default --state folder, as 2.0.7's
    /// (LOGGING_DIR/NAME/HOTKEY/netuidN/NEURON_NAME). Defaults to
    /// ~/.bittensor/miners.
    #[arg(long = "logging.logging_dir", env = "BT_LOGGING_LOGGING_DIR")]
    pub(crate) logging_dir: Option<String>,
    /// The last part of the default --state folder, as 2.0.7's.
    #[arg(long = "neuron.name", default_value = "validator")]
    pub(crate) neuron_name: String,
    #[command(flatten)]
    pub(crate) given: Given,
}

impl UpstreamArgs {
    /// The level the `--logging.*` flags ask for, the most verbose first
    /// as bittensor's `LoggingMachine` takes them; `None` without one.
    pub(crate) fn log_level(&self) -> Option<LevelFilter> {
        [
            (self.trace, LevelFilter::Trace),
            (self.debug, LevelFilter::Debug),
            (self.info, LevelFilter::Info),
            (self.warning, LevelFilter::Warn),
        ]
        .into_iter()
        .find_map(|(on, level)| on.then_some(level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flag_is_spelled_once() {
        let mut names: Vec<&str> = FLAGS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "{names:?}");
    }
}
