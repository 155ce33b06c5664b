//! `score`: one round from a miners file, its report written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use gittensor_validator::health::Board;
use gittensor_validator::inputs;
use gittensor_validator::metagraph::Metagraph;
use gittensor_validator::pipeline::{Recorder, RoundExtras};
use gittensor_validator::scoring::RoundContext;
use time::OffsetDateTime;

use super::common::{prepare, write_report, SourceArgs};
use super::Common;
use gittensor_validator::validator::{
    print_table, round_until_stopped, runtime, Failure, Round, RoundMiners, Shutdown, Tables,
    INTERRUPTED,
};

#[derive(Args)]
pub(crate) struct ScoreArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) common: Common,
    /// Where to write the round report ("-" for stdout).
    #[arg(long, default_value = "-")]
    pub(crate) report: String,
    /// Record GitHub's answers into this directory, with placeholder PATs,
    /// so the round can be re-scored offline with --replay.
    #[arg(long, conflicts_with = "replay")]
    pub(crate) record: Option<PathBuf>,
    /// Keep merged pull requests' files in this file across rounds and take
    /// them from it instead of asking GitHub again (scores do not change).
    #[arg(long)]
    pub(crate) file_store: Option<PathBuf>,
}
pub(crate) fn score(args: ScoreArgs) -> Result<(), Failure> {
    let p = prepare(&args.common, &args.source)?;
    let files = args
        .file_store
        .as_deref()
        .map(|path| Arc::new(gittensor_validator::store::files::open_logged(path)));
    let (repos, languages) = p.round.tables.current();
    let ctx = Arc::new(RoundContext {
        repos,
        languages,
        now: p.round.now.unwrap_or_else(OffsetDateTime::now_utc),
    });
    let rt = runtime()?;
    let recorder = args.record.as_ref().map(|_| Arc::new(Recorder::new()));
    let (
        Round {
            mut report,
            interrupted,
        },
        shutdown,
    ) = rt.block_on(async {
        let shutdown = Shutdown::install()?;
        let round = round_until_stopped(
            p.round.client.clone(),
            p.miners.round.clone(),
            ctx.clone(),
            p.round.options,
            RoundExtras {
                recorder: recorder.clone(),
                files,
            },
            &shutdown,
        )
        .await;
        Ok::<_, Failure>((round, shutdown))
    })?;
    print_table(&report);
    // A round that failed on our side says nothing about the miners: its
    // report is written, marked, and the exit status says so.
    let discarded = if interrupted {
        None
    } else {
        p.round.judge(&mut report).err()
    };
    if let (Some(dir), Some(recorder)) = (&args.record, &recorder) {
        let metagraph = match &p.miners.round {
            RoundMiners::Axons(_, metagraph) => Some(metagraph),
            RoundMiners::Listed(_) => None,
        };
        save_recording(dir, recorder, &p.round.tables, metagraph, &report.now)?;
    }
    // Written even when interrupted, to show what was done; the exit status
    // says it is not a finished round.
    let written = write_report(&report, &args.report);
    // Stored once the report is out: a database that is slow or away holds
    // up nothing else.
    if !interrupted {
        // `score` has no board to serve; the writer reports to one anyway.
        let board = Arc::new(Board::new());
        rt.block_on(async {
            p.round.store_round(&report, &board);
            p.round.finish_results(&shutdown).await;
        });
    }
    gittensor_validator::validator::let_go(rt);
    written?;
    if interrupted {
        return Err(Failure::Other(INTERRUPTED.into()));
    }
    if let Some(why) = discarded {
        return Err(Failure::Other(format!("round discarded: {why}")));
    }
    Ok(())
}

/// Writes a recorded round to `dir`: the snapshot, the miners file with
/// placeholder PATs, the metagraph when the PATs came from axons, and
/// copies of the weight tables; logs the command that
/// replays it.
pub(crate) fn save_recording(
    dir: &Path,
    recorder: &Recorder,
    tables: &Tables,
    metagraph: Option<&Metagraph>,
    now: &str,
) -> Result<(), Failure> {
    let fail =
        |path: &Path, e: &dyn std::fmt::Display| Failure::Other(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let (snapshot, miners) = recorder.finish();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        inputs::write_atomic(&path, text.as_bytes()).map_err(|e| fail(&path, &e))
    };
    let snapshot = serde_json::to_string_pretty(&snapshot).map_err(|e| fail(dir, &e))?;
    let miners = serde_json::to_string_pretty(&miners).map_err(|e| fail(dir, &e))?;
    write("snapshot.json", snapshot)?;
    // The PATs the axons gave are in it as placeholders: a replay needs no
    // axon at all. The metagraph is kept beside it for the record.
    write("miners.json", miners)?;
    if let Some(m) = metagraph {
        let text =
            serde_json::to_string_pretty(&inputs::metagraph_json(m)).map_err(|e| fail(dir, &e))?;
        write("metagraph.json", text)?;
    }
    let (repositories, languages) = tables.paths();
    for (name, from) in [
        ("repositories.json", repositories),
        ("languages.json", languages),
    ] {
        let text = std::fs::read_to_string(from).map_err(|e| fail(from, &e))?;
        write(name, text)?;
    }
    log::info!(
        "recorded into {d}; replay with: gittensor-validator score --replay {d}/snapshot.json \
         --miners {d}/miners.json --repositories {d}/repositories.json \
         --languages {d}/languages.json --now {now}",
        d = dir.display()
    );
    Ok(())
}
