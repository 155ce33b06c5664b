//! The loop's one start and stop, for `run` and `validate` alike: the state
//! folder made ready, the runtime, the signals, the board, systemd, the
//! results database; the first read of the neurons and the state; the
//! steps; and at the end the results database given its while, the
//! runtime let go.
//!
//! Where `validate` differs from 2.0.7 on purpose (SCORING.md §11.9): the
//! state survives restarts (`state.json`, a Python `state.npz` imported
//! once), a shrinking metagraph does not stop it, a refused submission is
//! retried at the next due step and logged by the chain's error name, a
//! dropped chain connection is made again with back-off instead of ending
//! the process, the weight tables are read at every round and refused when
//! 2.0.7 would misread them, and a round that failed on the validator's
//! side is discarded instead of folded in.

use crate::health::Concern;
use crate::inputs;
use crate::scoring::step::WeightsBy;

use super::config::LoopConfig;
use super::source::Source;
use super::startup::load_state;
use super::steps::Validator;
use super::{plural, runtime, serve_board, systemd, Failure, Shutdown};

/// Runs the loop until `--rounds` is reached, a signal, or a fault that
/// ends it (the hotkey deregistered, a chain whose runtime we cannot read,
/// a bad input file at start).
pub fn run_loop(config: LoopConfig) -> Result<(), Failure> {
    let LoopConfig {
        settings,
        hotkey,
        neurons,
        weights: weights_by,
        state_dir: dir,
        python_dir,
        health_addr,
        cadence,
        mut round,
    } = config;
    super::raise_open_files_limit();
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
    inputs::remove_stale_temps(&dir, &["state.json", "weights.json", "report.json"]);
    // The merged PRs' file lists live beside the state: every round asks
    // them before GitHub.
    round.files = Some(std::sync::Arc::new(crate::store::files::open_in_state_dir(
        &dir,
    )));
    let source = Source::new(neurons);
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let shutdown = Shutdown::install()?;
        let board = serve_board(health_addr).await?;
        board.submission_mode(None, settings.dry_run);
        board.concern(
            Concern::Round,
            Some("starting: the first read of the neurons has not finished".into()),
        );
        systemd::ready(&board).await;
        round.start_results(&board);
        let netuid = settings.netuid;
        let Some(start) = source
            .first_read(netuid, hotkey.as_ref(), &board, &shutdown)
            .await?
        else {
            return Ok(());
        };
        let state = load_state(&dir, python_dir.as_deref(), &start.neurons).await?;
        let every = cadence.steps_per_round;
        match (&hotkey, start.uid) {
            (Some(hotkey), Some(uid)) => log::info!(
                "validating netuid {netuid} as uid {uid} ({}), {} uids, state in {}, step {}, a round every {every} {}",
                hotkey.ss58(),
                start.neurons.count(),
                dir.display(),
                state.step,
                plural(every, "step", "steps")
            ),
            _ => log::info!(
                "scoring {} miners every {}s, state in {}, {} rounds so far",
                start.neurons.count(),
                settings.step_interval.as_secs(),
                dir.display(),
                state.rounds
            ),
        }
        let no_weights = match weights_by {
            WeightsBy::WithTheRound => "no scoring round has finished yet",
            WeightsBy::Chain | WeightsBy::EveryStep => {
                "no scoring round has finished yet: no weights to set"
            }
        };
        board.concern(
            Concern::Round,
            (!state.is_scored()).then(|| no_weights.into()),
        );
        let mut v = Validator {
            settings,
            hotkey,
            source,
            neurons: start.neurons,
            uid: start.uid,
            state,
            weights_by,
            dir,
            cadence,
            board,
            round,
            shutdown,
            rounds_done: 0,
            head: None,
        };
        v.board.step(v.state.step);
        v.board.submission_mode(v.permit(), v.settings.dry_run);
        if let Some(block) = v.state.last_weights_block {
            v.board.last_weights_block(block);
        }
        // Written at once: an imported state is kept as `state.json`, and
        // the hotkey rule may have changed a loaded one.
        v.save().await;
        let result = v.steps().await;
        v.round.finish_results(&v.shutdown).await;
        result
    });
    systemd::stopping();
    super::let_go(rt);
    result
}
