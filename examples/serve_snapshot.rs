//! Serves a snapshot (the `--replay` file format) from the crate's
//! GitHub-shaped server on 127.0.0.1, for programs outside the crate: the
//! reference runners (`scripts/reference/`) point gittensor 2.0.7's own
//! GitHub calls at it, so 2.0.7 and `score --replay` read the same answers.
//! Prints the base URL on the first line of stdout, then serves until stdin
//! closes (or the process is killed).
//!
//! ```text
//! cargo run --example serve_snapshot -- sample/snapshot.json
//! ```

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use gittensor_validator::inputs::load_snapshot;
use gittensor_validator::testkit::fakehub::FakeHub;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: serve_snapshot SNAPSHOT.json");
        std::process::exit(2);
    };
    let snapshot = match load_snapshot(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let hub = FakeHub::start(snapshot, Duration::ZERO, None)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", hub.url())?;
    out.flush()?;
    // Serve until whoever started us closes our stdin.
    for line in std::io::stdin().lock().lines() {
        line?;
    }
    Ok(())
}
