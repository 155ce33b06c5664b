//! The file store: a round takes merged pull requests' files from it, and
//! the scores never depend on it (SCORING.md is silent on where the files
//! come from; the report's rewards must be the same bit for bit).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::Client;
use gittensor_validator::inputs::parse_miners;
use gittensor_validator::metagraph::MinerInput;
use gittensor_validator::pipeline::{run_round, run_round_blocking, RoundExtras, RoundOptions};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::{RoundContext, RoundReport, RoundStats};
use gittensor_validator::store::files::{FileStore, FILE_NAME};
use gittensor_validator::testkit::fakehub::{FakeHub, Fault, Response};
use serde_json::{json, Value};

use crate::util::{fast_client, faults, runtime, sample};

fn without_stats(mut r: RoundReport) -> RoundReport {
    r.stats = RoundStats::default();
    r
}

fn same_scores(a: &RoundReport, b: &RoundReport) {
    assert_eq!(
        serde_json::to_string(&without_stats(a.clone())).unwrap(),
        serde_json::to_string(&without_stats(b.clone())).unwrap()
    );
}

fn sample_round() -> (Snapshot, Vec<MinerInput>, RoundContext) {
    let (snap, miners_text, ctx) = sample();
    let miners = parse_miners(&miners_text, Path::new("sample/miners.json")).unwrap();
    (snap, miners, ctx)
}

/// A round's extras with the store at `path` opened afresh, as a new
/// process would (none when `None`).
fn extras(path: Option<&Path>) -> RoundExtras {
    RoundExtras {
        files: path.map(|p| Arc::new(FileStore::open(p))),
        ..RoundExtras::default()
    }
}

fn blocking(
    hub: &FakeHub,
    path: Option<&Path>,
    miners: &[MinerInput],
    ctx: &RoundContext,
) -> RoundReport {
    let client = fast_client(&hub.url());
    run_round_blocking(&client, miners, ctx, &Cancel::new(), &extras(path))
}

fn on_tokio(
    hub: &FakeHub,
    path: Option<&Path>,
    miners: &[MinerInput],
    ctx: &RoundContext,
) -> RoundReport {
    runtime().block_on(run_round(
        fast_client(&hub.url()),
        miners.to_vec(),
        Arc::new(ctx.clone()),
        RoundOptions::default(),
        Cancel::new(),
        extras(path),
    ))
}

fn files_asked(r: &RoundReport) -> u64 {
    r.stats.requests_by_endpoint["files"]
}

fn store_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join(FILE_NAME)
}

#[test]
fn rounds_score_the_same_with_no_store_a_cold_one_and_a_warm_one() {
    let (snap, miners, ctx) = sample_round();
    for round in [blocking, on_tokio] {
        let hub = FakeHub::start(snap.clone(), Duration::ZERO, None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = store_path(&dir);
        let none = round(&hub, None, &miners, &ctx);
        let cold = round(&hub, Some(&path), &miners, &ctx);
        let warm = round(&hub, Some(&path), &miners, &ctx);
        let warmer = round(&hub, Some(&path), &miners, &ctx);
        for r in [&cold, &warm, &warmer] {
            same_scores(&none, r);
        }
        // Every list is either asked or taken from the store. Uids 4 and 5
        // share a PAT: the second reads the first's lists from the store
        // already in the cold round.
        let all = files_asked(&none);
        for r in [&cold, &warm, &warmer] {
            assert_eq!(r.stats.files_from_store + files_asked(r), all);
        }
        assert!(cold.stats.files_from_store > 0);
        // Warm, only the lists that failed (a 404, a list that does not
        // parse: never kept) are asked again, and the same each round.
        assert!(files_asked(&warm) < files_asked(&cold));
        assert!(files_asked(&warm) <= 3, "{}", files_asked(&warm));
        assert_eq!(files_asked(&warmer), files_asked(&warm));
        assert_eq!(
            warm.stats.github_requests,
            none.stats.github_requests - warm.stats.files_from_store
        );
    }
}

#[test]
fn a_wrong_entry_is_dropped_and_asked_again() {
    let (snap, miners, ctx) = sample_round();
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let cold = blocking(&hub, Some(&path), &miners, &ctx);
    let warm = blocking(&hub, Some(&path), &miners, &ctx);
    // Change one entry's files but not its digest, as a bad disk or a
    // hand edit would.
    let mut disk: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let entries = disk["entries"].as_array_mut().unwrap();
    let victim = entries
        .iter_mut()
        .find(|e| !e["files"].as_array().unwrap().is_empty())
        .unwrap();
    victim["files"][0]["changes"] = json!(99_999);
    std::fs::write(&path, serde_json::to_vec(&disk).unwrap()).unwrap();
    let mended = blocking(&hub, Some(&path), &miners, &ctx);
    same_scores(&cold, &mended);
    assert_eq!(files_asked(&mended), files_asked(&warm) + 1);
    assert_eq!(
        mended.stats.files_from_store,
        warm.stats.files_from_store - 1
    );
    // The store was mended: the next round is warm again.
    let next = blocking(&hub, Some(&path), &miners, &ctx);
    assert_eq!(files_asked(&next), files_asked(&warm));
}

#[test]
fn a_truncated_store_is_set_aside_and_the_round_asks_for_everything() {
    let (snap, miners, ctx) = sample_round();
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let cold = blocking(&hub, Some(&path), &miners, &ctx);
    let warm_before = blocking(&hub, Some(&path), &miners, &ctx);
    let text = std::fs::read(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let again = blocking(&hub, Some(&path), &miners, &ctx);
    same_scores(&cold, &again);
    assert_eq!(files_asked(&again), files_asked(&cold));
    assert_eq!(again.stats.files_from_store, cold.stats.files_from_store);
    let bad = dir.path().join(format!("{FILE_NAME}.bad"));
    assert_eq!(std::fs::read(&bad).unwrap(), &text[..text.len() / 2]);
    // And a fresh, whole store was written in its place.
    let warm = blocking(&hub, Some(&path), &miners, &ctx);
    assert_eq!(files_asked(&warm), files_asked(&warm_before));
}

#[test]
fn a_store_that_is_not_json_at_all_changes_nothing_but_the_requests() {
    let (snap, miners, ctx) = sample_round();
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    std::fs::write(&path, b"\x00\xffnot json").unwrap();
    let none = blocking(&hub, None, &miners, &ctx);
    let with = blocking(&hub, Some(&path), &miners, &ctx);
    same_scores(&none, &with);
}

#[test]
fn only_complete_200_answers_are_kept() {
    let (snap, miners, ctx) = sample_round();
    // Every /files answer fails once (a 404, not retried): nothing is kept.
    let f = faults(|r| {
        r.path
            .ends_with("/files")
            .then(|| Fault::Respond(Response::json(404, &json!({"message": "Not Found"}))))
    });
    let failing = FakeHub::start(snap.clone(), Duration::ZERO, f).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let broken = blocking(&failing, Some(&path), &miners, &ctx);
    assert_eq!(broken.stats.files_from_store, 0);
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let none = blocking(&hub, None, &miners, &ctx);
    let cold = blocking(&hub, None, &miners, &ctx.clone());
    let dir2 = tempfile::tempdir().unwrap();
    let fresh = blocking(&hub, Some(&store_path(&dir2)), &miners, &ctx);
    let next = blocking(&hub, Some(&path), &miners, &ctx);
    // After the failed round the store is as cold as a new one.
    assert_eq!(next.stats.files_from_store, fresh.stats.files_from_store);
    assert_eq!(files_asked(&next), files_asked(&fresh));
    same_scores(&none, &next);
    same_scores(&cold, &next);
}

/// `score --replay` of the bundled sample, with `extra` arguments; the report.
fn score_sample(report: &Path, extra: &[&str]) -> Value {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
    let mut args = crate::cli::replay_args(&sample, "2025-12-20T12:00:00Z");
    args.extend(["--report".to_string(), report.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    crate::cli::run_ok(&args, &[]);
    serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap()
}

#[test]
fn score_with_a_file_store_gives_the_same_rewards_and_says_what_it_saved() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("files.json");
    let store_arg = store.display().to_string();
    let report = dir.path().join("report.json");
    let none = score_sample(&report, &[]);
    let cold = score_sample(&report, &["--file-store", &store_arg]);
    let warm = score_sample(&report, &["--file-store", &store_arg]);
    assert!(store.exists());
    for r in [&cold, &warm] {
        assert_eq!(r["rewards"], none["rewards"]);
        assert_eq!(r["evaluations"], none["evaluations"]);
    }
    let files = |r: &Value| {
        r["stats"]["requests_by_endpoint"]["files"]
            .as_u64()
            .unwrap()
    };
    let hits = |r: &Value| r["stats"]["files_from_store"].as_u64().unwrap();
    assert!(files(&warm) < files(&cold));
    assert_eq!(hits(&warm) + files(&warm), files(&none));
    assert_eq!(none["stats"]["files_from_store"], 0);
}

#[test]
fn run_keeps_the_file_store_in_its_state_folder() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
    let mut args = crate::cli::replay_args(&sample, "2025-12-20T12:00:00Z");
    args[0] = "run".into();
    args.extend(
        [
            "--state",
            &state.display().to_string(),
            "--rounds",
            "2",
            "--interval",
            "10ms",
        ]
        .map(String::from),
    );
    crate::cli::run_ok(&args, &[]);
    assert!(state.join(FILE_NAME).exists());
    // The second round's report: its files came from the first's store.
    let report: Value =
        serde_json::from_slice(&std::fs::read(state.join("report.json")).unwrap()).unwrap();
    assert!(report["stats"]["files_from_store"].as_u64().unwrap() > 0);
}

#[test]
fn with_all_file_pages_an_entry_is_kept_only_when_every_page_was_read() {
    // One miner, one merged PR of 150 files: two pages of 100.
    let files: Vec<Value> = (0..150)
        .map(|i| crate::util::file_entry(&format!("src/f{i}.rs"), 1, None))
        .collect();
    let pr = crate::util::pr_node("acme/widgets", 3, json!({}));
    let snap = crate::util::snapshot("tok", 7, vec![pr], vec![("acme/widgets#3", files)]);
    let miners = parse_miners(
        r#"[{"uid": 1, "hotkey": "hk", "github_access_token": "tok"}]"#,
        Path::new("miners.json"),
    )
    .unwrap();
    let ctx = crate::util::widgets_ctx();
    let dir = tempfile::tempdir().unwrap();
    let round = |hub: &FakeHub, store: &Arc<FileStore>| {
        let client = Client::new(
            crate::util::fast_config(&hub.url())
                .all_file_pages(true)
                .build(),
        );
        let extras = RoundExtras {
            files: Some(store.clone()),
            ..RoundExtras::default()
        };
        run_round_blocking(&client, &miners, &ctx, &Cancel::new(), &extras)
    };
    // The second page fails (a 404 is not retried): the first page's 100
    // files are not a complete list, and nothing is kept.
    let second_page_fails = faults(|r| {
        r.path
            .contains("page=2")
            .then(|| Fault::Respond(Response::json(404, &json!({"message": "Not Found"}))))
    });
    let failing = FakeHub::start(snap.clone(), Duration::ZERO, second_page_fails).unwrap();
    let store = Arc::new(FileStore::open(&store_path(&dir)));
    let broken = round(&failing, &store);
    assert_eq!(files_asked(&broken), 2);
    assert!(store.is_empty());
    // A list the client's page guard cut short (a `next` link that never
    // ends) is scored as read but not kept either.
    let endless = faults(|r| {
        r.path.contains("/files").then(|| {
            let one = crate::util::file_entry("a.rs", 1, None);
            Fault::Respond(
                Response::json(200, &json!([one]))
                    .header("link", &format!("<{}&x=1>; rel=\"next\"", r.path)),
            )
        })
    });
    let endless = FakeHub::start(snap.clone(), Duration::ZERO, endless).unwrap();
    let cut_short = round(&endless, &store);
    assert_eq!(
        cut_short.evaluations_in_full[0].pull_requests[0]
            .files
            .len(),
        30
    );
    assert!(store.is_empty());
    // Whole, it is kept (and saved), and the next round asks GitHub nothing.
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let whole = round(&hub, &store);
    assert_eq!(
        whole.evaluations_in_full[0].pull_requests[0].files.len(),
        150
    );
    assert_eq!((files_asked(&whole), whole.stats.files_from_store), (2, 0));
    assert_eq!(store.len(), 1);
    let store = Arc::new(FileStore::open(&store_path(&dir)));
    let warm = round(&hub, &store);
    assert_eq!((files_asked(&warm), warm.stats.files_from_store), (0, 1));
    assert_eq!(
        warm.evaluations_in_full[0].pull_requests[0].files.len(),
        150
    );
    same_scores(&whole, &warm);
}

#[test]
fn the_store_is_bounded_at_64_mib() {
    use gittensor_validator::store::files::StoreConfig;
    assert_eq!(
        StoreConfig::default(),
        StoreConfig::default().max_bytes(64 * 1024 * 1024)
    );
    assert_ne!(
        StoreConfig::default(),
        StoreConfig::default().max_bytes(64 * 1024 * 1024 + 1)
    );
}

#[test]
fn a_store_that_cannot_be_saved_is_on_readyz_and_the_round_still_counts() {
    let hub = FakeHub::start(crate::cli::round_snapshot(2), Duration::ZERO, None).unwrap();
    let inputs = crate::cli::Inputs::new(2);
    let state = inputs.path("state");
    // Folders where the store's file and its set-aside copy would be: the
    // store can be neither read, set aside nor written.
    for name in [FILE_NAME.to_string(), format!("{FILE_NAME}.bad")] {
        std::fs::create_dir_all(state.join(name).join("in-the-way")).unwrap();
    }
    let args = inputs.run_args(
        &hub.url(),
        &state,
        &["--interval", "1h", "--health-addr", "127.0.0.1:0"],
    );
    let mut p = crate::util::Running::start(&args, &[]);
    let addr = p.health_addr();
    let line = p.wait_for("file store: cannot save");
    assert!(line.contains("WARN"), "{line}");
    p.wait_for("next round in");
    let (status, ready) = crate::util::get_json(addr, "/readyz");
    assert_eq!(status, 503, "{ready}");
    let problems = ready["problems"].to_string();
    assert!(
        problems.contains(&format!("cannot write {}", state.join(FILE_NAME).display())),
        "{ready}"
    );
    let saved: Value =
        serde_json::from_slice(&std::fs::read(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(saved["rounds"], 1, "{saved}");
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
}
