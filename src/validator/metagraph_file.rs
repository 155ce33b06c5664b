//! `validate --metagraph FILE`: the neurons of a file instead of the chain,
//! read again at the end of every step. The weights are computed and
//! logged after every step but the first; nothing is submitted.

use std::path::PathBuf;
use std::time::Duration;

use crate::bridge;
use crate::health::Board;
use crate::inputs;
use crate::metagraph::Metagraph;
use crate::scoring::weights::WeightLimits;
use crate::wallet::Hotkey;

use super::neurons::Neurons;
use super::state::{Attempt, Validator};
use super::{Failure, Shutdown};

/// The neurons of a metagraph file (INTERFACE.md's format).
pub(super) struct MetagraphFile(pub(super) PathBuf);

impl Neurons for MetagraphFile {
    async fn first_sync(
        &self,
        _netuid: u16,
        hotkey: &Hotkey,
        _board: &Board,
        _shutdown: &Shutdown,
    ) -> Result<Option<(Metagraph, u16)>, Failure> {
        let path = self.0.clone();
        let metagraph = bridge::blocking(move || inputs::load_metagraph(&path))
            .await
            .map_err(|e| Failure::Other(e.to_string()))??;
        let uid = metagraph.uid_of(hotkey.ss58()).ok_or_else(|| {
            Failure::Input(format!(
                "hotkey {} is not in {}: add its neuron to the file ({{\"uid\": N, \"hotkey\": \"{}\", ...}})",
                hotkey.ss58(),
                self.0.display(),
                hotkey.ss58()
            ))
        })?;
        Ok(Some((metagraph, uid)))
    }

    /// The file read again (a file that went bad keeps the last
    /// metagraph), then the weights computed and logged.
    async fn end_step(v: &mut Validator<Self>) -> Result<Option<Attempt>, Failure> {
        let path = v.neurons.0.clone();
        let p = path.clone();
        match bridge::blocking(move || inputs::load_metagraph(&p)).await {
            Ok(Ok(fresh)) => v.adopt(fresh),
            Ok(Err(e)) => log::error!("{e}; keeping the metagraph of the last step"),
            Err(e) => log::error!("reading {}: {e}", path.display()),
        }
        if v.state.step == 0 {
            return Ok(None);
        }
        if !v.state.is_scored() {
            log::info!("no scoring round has finished yet: no weights to compute");
            return Ok(Some(Attempt::Concluded));
        }
        // No chain: no limits; neutral ones.
        let limits = WeightLimits {
            min_allowed_weights: 0,
            max_weight_limit: u16::MAX,
        };
        v.compute(limits).await;
        log::info!("--metagraph: no chain, the weights above are not submitted");
        Ok(Some(Attempt::Concluded))
    }

    /// A file is read at once.
    fn sync_budget(&self) -> Duration {
        Duration::from_secs(30)
    }

    fn has_permits(&self) -> bool {
        false
    }

    fn weights_pending(&self) -> &'static str {
        "weights computed at every step (--metagraph)"
    }
}
