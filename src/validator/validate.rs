//! The drop-in validator on subtensor (`validate`), the loop of 2.0.7's
//! `neurons/validator.py` (SCORING.md §11.5): a step every
//! `--step-interval`; a scoring round at every `--scoring-interval` (the
//! PATs from the miners' axons, then GitHub), folded into the float32
//! moving average; after each step the metagraph is resynced and weights
//! are set when an epoch has passed since this validator's last weights.
//!
//! Where it differs from 2.0.7 on purpose (SCORING.md §11.9): the state
//! survives restarts (`state.json`, a Python `state.npz` imported once), a
//! shrinking metagraph does not stop it, a refused submission is retried at
//! the next due step and logged by the chain's error name, a dropped chain
//! connection is made again with back-off instead of ending the process,
//! the weight tables are read at every round and refused when 2.0.7 would
//! misread them, and a round that failed on the validator's side is
//! discarded instead of folded in.
//!
//! What the submission is, given what the loop knows, is decided by the
//! pure `decide_submission`; `submit.rs` acts on it.

use std::sync::Arc;
use std::time::Duration;

use crate::chain::{Chain, ChainConfig};
use crate::dendrite::{Dendrite, DendriteConfig};
use crate::health::Concern;
use crate::inputs;

use super::config::{NeuronsFrom, Settings, ValidateConfig};
use super::metagraph_file::MetagraphFile;
use super::neurons::Neurons;
use super::on_chain::OnChain;
use super::startup::load_state;
use super::state::Validator;
use super::{plural, runtime, serve_board, systemd, Failure, Shutdown};

/// Runs the validator until `--rounds` is reached, a signal, or a fault
/// that ends it (the hotkey deregistered, the state unwritable).
pub fn validate(config: ValidateConfig) -> Result<(), Failure> {
    match &config.neurons {
        NeuronsFrom::File(path) => validate_with(MetagraphFile(path.clone()), config),
        NeuronsFrom::Chain { endpoint, watch } => {
            let chain = Chain::new(ChainConfig::builder().endpoint(endpoint.clone()).build());
            validate_with(OnChain::new(chain, *watch), config)
        }
    }
}

/// [`validate`] with its neurons chosen.
fn validate_with<N: Neurons>(neurons: N, config: ValidateConfig) -> Result<(), Failure> {
    let ValidateConfig {
        settings,
        hotkey,
        // Read by `validate` for the neurons.
        neurons: _,
        state_dir: dir,
        python_dir,
        health_addr,
        cadence,
        mut github,
    } = config;
    let Settings {
        netuid,
        dry_run,
        dendrite_timeout,
        ..
    } = settings;
    super::raise_open_files_limit();
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
    inputs::remove_stale_temps(&dir, &["state.json", "weights.json", "report.json"]);
    github.files = Some(Arc::new(crate::store::files::open_in_state_dir(&dir)));
    let dendrite = Dendrite::new(
        hotkey.clone(),
        DendriteConfig::builder().timeout(dendrite_timeout).build(),
    );
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let shutdown = Shutdown::install()?;
        let board = serve_board(health_addr).await?;
        board.submission_mode(None, dry_run);
        board.concern(
            Concern::Round,
            Some("starting: the first sync with the chain has not finished".into()),
        );
        systemd::ready(&board).await;
        github.start_results(&board);
        let Some((metagraph, uid)) =
            neurons.first_sync(netuid, &hotkey, &board, &shutdown).await?
        else {
            return Ok(());
        };
        let state = load_state(&dir, &python_dir, &metagraph).await?;
        log::info!(
            "validating netuid {netuid} as uid {uid} ({}), {} uids, state in {}, step {}, a round every {} {}",
            hotkey.ss58(),
            metagraph.n(),
            dir.display(),
            state.step,
            cadence.steps_per_round,
            plural(cadence.steps_per_round, "step", "steps")
        );
        board.concern(
            Concern::Round,
            (!state.is_scored())
                .then(|| "no scoring round has finished yet: no weights to set".into()),
        );
        let mut v = Validator {
            args: settings,
            hotkey,
            neurons,
            metagraph,
            uid,
            state,
            dir,
            cadence,
            dendrite,
            board,
            github,
            shutdown,
            rounds_done: 0,
            head: None,
        };
        v.board.step(v.state.step);
        v.board.submission_mode(v.permit(), v.args.dry_run);
        if let Some(block) = v.state.last_weights_block {
            v.board.last_weights_block(block);
        }
        v.save().await;
        let result = v.steps().await;
        v.github.finish_results(&v.shutdown).await;
        result
    });
    systemd::stopping();
    // A round cut short may leave requests in flight (until their timeout);
    // the state is saved, so do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}
