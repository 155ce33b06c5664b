//! The results database's settings: where the server is (2.0.7's `DB_*`
//! variables, or a libpq connection string), how many rounds may wait
//! unwritten, how long the round history is kept, the longest retry wait.
//! A bad setting fails the build, naming the option; the password is
//! never printed.

use std::fmt;
use std::time::Duration;

use super::{error_text, Error};

/// Where the database is and how the writer behaves.
#[derive(Clone)]
pub struct Config {
    pub(super) pg: postgres::Config,
    pub(super) target: String,
    pub(super) max_pending: usize,
    pub(super) history_days: u32,
    pub(super) retry_max: Duration,
}

impl fmt::Debug for Config {
    // By hand: the password is never printed, not even redacted in a
    // nested Debug we do not control.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("target", &self.target)
            .field("max_pending", &self.max_pending)
            .field("history_days", &self.history_days)
            .field("retry_max", &self.retry_max)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::builder()
            .build()
            .unwrap_or_else(|_| unreachable!("the defaults are valid"))
    }
}

impl Config {
    /// A builder with 2.0.7's defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// `user@host:port/dbname`, for messages (never the password).
    pub fn target(&self) -> &str {
        &self.target
    }
}

/// Builds a [`Config`].
#[derive(Clone)]
pub struct ConfigBuilder {
    host: String,
    port: u16,
    user: String,
    password: String,
    dbname: String,
    url: Option<String>,
    max_pending: usize,
    history_days: u32,
    retry_max: Duration,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            host: "localhost".into(),
            port: 5432,
            user: "postgres".into(),
            password: String::new(),
            dbname: "gittensor_validator".into(),
            url: None,
            max_pending: 4,
            history_days: 90,
            retry_max: Duration::from_secs(60),
        }
    }
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The server's host (`DB_HOST`). Defaults to `localhost`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The server's port (`DB_PORT`). Defaults to 5432.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The login (`DB_USER`). Defaults to `postgres`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = user.into();
        self
    }

    /// The password (`DB_PASSWORD`). Defaults to none (empty).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = password.into();
        self
    }

    /// The database (`DB_NAME`). Defaults to `gittensor_validator`.
    pub fn dbname(mut self, dbname: impl Into<String>) -> Self {
        self.dbname = dbname.into();
        self
    }

    /// A libpq connection string (`postgresql://…` or `key=value …`),
    /// which wins over the host, port, user and database above, and over
    /// the password when it has one. Defaults to none.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Rounds kept in memory while the server is away; past it the oldest
    /// is dropped. Defaults to 4.
    pub fn max_pending(mut self, rounds: usize) -> Self {
        self.max_pending = rounds.max(1);
        self
    }

    /// Days of `gv_round_history` kept (0: all). Defaults to 90.
    pub fn history_days(mut self, days: u32) -> Self {
        self.history_days = days;
        self
    }

    /// The longest wait between two attempts. Defaults to 60 s.
    pub fn retry_max(mut self, wait: Duration) -> Self {
        self.retry_max = wait.max(Duration::from_millis(100));
        self
    }

    /// The config; a connection string that does not parse is an error
    /// that names the option at fault, never its value.
    pub fn build(self) -> Result<Config, Error> {
        let mut pg = match &self.url {
            Some(url) => {
                let mut pg = url
                    .parse::<postgres::Config>()
                    .map_err(|e| Error::Config(error_text(&e)))?;
                if pg.get_password().is_none() && !self.password.is_empty() {
                    pg.password(self.password.as_str());
                }
                pg
            }
            None => {
                let mut pg = postgres::Config::new();
                pg.host(&self.host)
                    .port(self.port)
                    .user(&self.user)
                    .dbname(&self.dbname);
                if !self.password.is_empty() {
                    pg.password(self.password.as_str());
                }
                pg
            }
        };
        if pg.get_hosts().is_empty() {
            pg.host("localhost");
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(10));
        }
        // A server that stops answering mid-write fails the write (and it is
        // retried) instead of holding a blocking thread forever.
        pg.tcp_user_timeout(Duration::from_secs(30))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .application_name("gittensor-validator")
            .options("-c statement_timeout=120000");
        let host = match pg.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = pg.get_ports().first().copied().unwrap_or(5432);
        let target = format!(
            "{}@{host}:{port}/{}",
            pg.get_user().unwrap_or("postgres"),
            pg.get_dbname().unwrap_or("")
        );
        Ok(Config {
            pg,
            target,
            max_pending: self.max_pending,
            history_days: self.history_days,
            retry_max: self.retry_max,
        })
    }
}
