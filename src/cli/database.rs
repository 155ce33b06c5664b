//! 2.0.7's optional results database (`--database.store_validation_results`,
//! `STORE_DB_RESULTS=true` in upstream's `.env`): accepted so that 2.0.7's
//! command line runs, not supported yet.

use clap::Args;

/// The results database's flags.
#[derive(Args)]
pub(crate) struct DatabaseArgs {
    /// Store each round's results in 2.0.7's results database (not
    /// supported yet: accepted and logged). Defaults to off.
    #[arg(
        long = "database.store_validation_results",
        env = "STORE_DB_RESULTS",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub(crate) store_validation_results: bool,
}

/// What the results database does at start: for now, one INFO line when
/// it was asked for.
pub(crate) fn start(args: &DatabaseArgs) {
    if args.store_validation_results {
        log::info!(
            "--database.store_validation_results (or STORE_DB_RESULTS): the results database is not supported yet; \
             rounds are scored and weights set without it"
        );
    }
}
