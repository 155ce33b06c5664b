//! 2.0.7's optional results database (`--database.store_validation_results`,
//! `STORE_DB_RESULTS=true` in upstream's `.env`, and its `DB_*` variables):
//! the flags, checked and turned into the store's config.

use clap::Args;
use gittensor_validator::store::results_db::{Config as ResultsDbConfig, ResultsDb};

use gittensor_validator::validator::Failure;

/// The results database (2.0.7's `--database.store_validation_results` and
/// `DB_*` variables; the password only from `DB_PASSWORD`).
#[derive(Args)]
pub(crate) struct DatabaseArgs {
    /// Store every round's evaluations in PostgreSQL, in 2.0.7's tables
    /// (plus our round history, gv_round_history). Written in the
    /// background: a database fault never stops a round or its weights.
    #[arg(long = "database.store_validation_results", env = "STORE_DB_RESULTS")]
    pub(crate) db_store: bool,
    /// A libpq connection string (postgresql://user@host:port/db or
    /// "host=... dbname=..."); wins over DB_HOST, DB_PORT, DB_USER and
    /// DB_NAME (DB_PASSWORD fills in a password it does not give).
    #[arg(long = "database.url")]
    pub(crate) db_url: Option<String>,
    /// The server's host.
    #[arg(long = "database.host", env = "DB_HOST", default_value = "localhost")]
    pub(crate) db_host: String,
    /// The server's port.
    #[arg(long = "database.port", env = "DB_PORT", default_value = "5432")]
    pub(crate) db_port: String,
    /// The login (its password comes from DB_PASSWORD only).
    #[arg(long = "database.user", env = "DB_USER", default_value = "postgres")]
    pub(crate) db_user: String,
    /// The database.
    #[arg(
        long = "database.name",
        env = "DB_NAME",
        default_value = "gittensor_validator"
    )]
    pub(crate) db_name: String,
    /// Days of gv_round_history kept (older rows are deleted as rounds are
    /// written); 0 keeps them all.
    #[arg(long = "database.history_days", default_value_t = 90)]
    pub(crate) db_history_days: u32,
    /// Rounds kept in memory while the database is away; past it the
    /// oldest unwritten round is dropped (with a WARN).
    #[arg(long = "database.max_pending_rounds", default_value_t = 4)]
    pub(crate) db_max_pending: usize,
}

impl DatabaseArgs {
    /// The results database when the switch is on; a bad `DB_PORT` or URL
    /// is bad usage (status 2), named without its secret.
    pub(crate) fn results_db(&self) -> Result<Option<ResultsDb>, Failure> {
        if !self.db_store {
            return Ok(None);
        }
        let mut builder = ResultsDbConfig::builder()
            .history_days(self.db_history_days)
            .max_pending(self.db_max_pending);
        // An empty DB_PASSWORD is no password, as 2.0.7 reads it; it also
        // serves a --database.url without one (kept out of `ps`).
        let password = std::env::var("DB_PASSWORD").unwrap_or_default();
        builder = match &self.db_url {
            Some(url) => builder.url(url.clone()).password(password),
            None => {
                let port = self
                    .db_port
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| {
                        Failure::Input(format!(
                            "DB_PORT (or --database.port) {:?}: not a port number (1 to 65535)",
                            self.db_port
                        ))
                    })?;
                builder
                    .host(self.db_host.clone())
                    .port(port)
                    .user(self.db_user.clone())
                    .dbname(self.db_name.clone())
                    .password(password)
            }
        };
        let what = if self.db_url.is_some() {
            "--database.url"
        } else {
            "DB_HOST/DB_USER/DB_NAME"
        };
        let config = builder
            .build()
            .map_err(|e| Failure::Input(format!("{what}: {e}")))?;
        log::info!(
            "results database: every round stored in {} (2.0.7's tables and gv_round_history)",
            config.target()
        );
        Ok(Some(ResultsDb::new(config)))
    }
}
