//! SIGTERM and SIGINT, handled alike (INTERFACE.md "Operating"): what
//! `systemctl stop`, `docker stop`, `pm2 stop` and Ctrl-C send. The first
//! signal asks the loop to stop: a round in flight is discarded, the state
//! saved, and the process exits 0 within a few seconds. A second signal
//! means "now": the process exits at once with status 1.

use tokio::sync::watch;

use super::Failure;

/// A stop request, seen by every part of the loop that waits.
#[derive(Clone)]
pub struct Shutdown {
    rx: watch::Receiver<Option<&'static str>>,
}

impl Shutdown {
    /// Installs the handlers (inside the runtime, before anything waits).
    pub fn install() -> Result<Shutdown, Failure> {
        use tokio::signal::unix::{signal, SignalKind};
        let handler = |kind: SignalKind| {
            signal(kind).map_err(|e| Failure::Other(format!("cannot handle signals: {e}")))
        };
        let mut term = handler(SignalKind::terminate())?;
        let mut int = handler(SignalKind::interrupt())?;
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                seen += 1;
                if seen > 1 {
                    log::error!("{name} again: exiting now, without saving");
                    crate::logging::flush();
                    std::process::exit(1);
                }
                log::warn!("{name}: stopping; a round in flight is discarded, the state is saved");
                let _ = tx.send(Some(name));
            }
        });
        Ok(Shutdown { rx })
    }

    /// The signal that asked to stop, if one did.
    pub fn requested(&self) -> Option<&'static str> {
        *self.rx.borrow()
    }

    /// Resolves when a stop is asked for, with the signal's name.
    pub async fn wait(&mut self) -> &'static str {
        let name = self
            .rx
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|r| *r);
        match name {
            Some(name) => name,
            // The handler task never ends while the runtime runs.
            None => std::future::pending().await,
        }
    }
}
