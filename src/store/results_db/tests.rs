//! The evaluation -> rows mapping, as 2.0.7's `DatabaseStorage` would
//! write the same evaluation (no server: the rows are plain data).

use std::collections::BTreeMap;
use std::sync::Arc;

use time::macros::{datetime, format_description};
use time::PrimitiveDateTime;

use super::rows::{round_rows, utc};
use super::write::decimal;
use crate::scoring::pr::Issue;
use crate::scoring::round::DUPLICATE_ACCOUNT;
use crate::scoring::{FileChange, MinerEvaluation, PullRequest, RoundReport};

const NOW: time::OffsetDateTime = datetime!(2025-12-20 12:00 UTC);

fn pr(number: u64) -> PullRequest {
    let mut pr = PullRequest::new(
        "Owner/Repo".into(),
        number,
        format!("PR {number}"),
        datetime!(2025-12-01 10:00 +02:00),
        datetime!(2025-12-02 10:00 UTC),
        None,
        Some("alice".into()),
        vec![Issue {
            number: 7,
            title: "bug".into(),
            state: Some("CLOSED".into()),
            created_at: Some(datetime!(2025-11-01 0:00 UTC)),
            closed_at: Some(datetime!(2025-12-02 10:00 UTC)),
            author_login: Some("bob".into()),
        }],
        true,
    );
    pr.additions = 12;
    pr.deletions = 3;
    pr.commits = 2;
    pr.merged_by_login = Some("carol".into());
    pr.description = Some("Fixes #7".into());
    pr.base_score = 14.5;
    pr.earned_score = 21.75;
    pr.files = vec![FileChange {
        filename: "Src/Lib.RS".into(),
        changes: 15,
        patch: Some("@@ -1 +1 @@".into()),
        additions: 12,
        deletions: 3,
        status: "modified".into(),
    }];
    pr
}

fn report(evaluations: Vec<MinerEvaluation>, discarded: Option<&str>) -> RoundReport {
    let rewards: BTreeMap<u16, f64> = evaluations.iter().map(|e| (e.uid, 0.25)).collect();
    let mut r = RoundReport::new(NOW, &rewards, &evaluations);
    r.evaluations_in_full = Arc::new(evaluations);
    r.discarded = discarded.map(str::to_string);
    r
}

fn scored(uid: u16) -> MinerEvaluation {
    let mut e = MinerEvaluation::new(uid, format!("hk{uid}"));
    e.github_id = format!("{}", 1000 + uid);
    e.total_open_prs = 1;
    e.total_merged_prs = 4;
    e.total_closed_prs = 1;
    e.pull_requests = vec![pr(1), pr(2)];
    e.unique_repos_contributed_to.insert("owner/repo".into());
    e.base_total_score = 29.0;
    e.total_score = 43.5;
    e.total_lines_changed = 30;
    e
}

#[test]
fn a_scored_miner_gives_its_miner_prs_issues_files_and_evaluation_rows() {
    let report = report(vec![scored(3)], None);
    let rows = round_rows(&report);
    let m = &rows.miners[0];
    assert_eq!(
        (m.miner.uid, m.miner.hotkey, m.miner.github_id),
        (3, "hk3", "1003")
    );
    assert_eq!(m.pull_requests.len(), 2);
    let p = &m.pull_requests[0];
    assert_eq!(p.repository_full_name, "Owner/Repo", "as GitHub spells it");
    assert_eq!((p.uid, p.hotkey, p.github_id), (3, "hk3", "1003"));
    assert_eq!((p.additions, p.deletions, p.commits), (12, 3, 2));
    assert_eq!(p.merged_by_login, Some("carol"));
    assert_eq!(p.description, Some("Fixes #7"));
    assert!(p.gittensor_tagged);
    assert_eq!((p.base_score, p.earned_score), (14.5, 21.75));
    // Times in UTC, without a zone, as the TIMESTAMP columns hold them.
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]");
    let at = |t: PrimitiveDateTime| t.format(&fmt).unwrap();
    assert_eq!(at(p.pr_created_at), "2025-12-01 08:00");
    assert_eq!(at(p.merged_at), "2025-12-02 10:00");
    // One issue and one file per PR, keyed by the PR.
    assert_eq!(m.issues.len(), 2);
    assert_eq!(
        (m.issues[1].number, m.issues[1].pr_number, m.issues[1].title),
        (7, 2, "bug")
    );
    assert_eq!(m.file_changes.len(), 2);
    let f = &m.file_changes[0];
    assert_eq!(f.file_extension, "rs", "lower-cased, as 2.0.7 computes it");
    assert_eq!((f.changes, f.additions, f.deletions), (15, 12, 3));
    assert_eq!(f.status, "modified");
    let e = &m.evaluation;
    assert_eq!(e.failed_reason, None);
    assert_eq!((e.base_total_score, e.total_score), (29.0, 43.5));
    assert_eq!(
        (
            e.total_lines_changed,
            e.total_open_prs,
            e.total_closed_prs,
            e.total_merged_prs
        ),
        (30, 1, 1, 4)
    );
    assert_eq!((e.total_prs, e.unique_repos_count), (2, 1));
}

#[test]
fn failed_miners_get_a_miner_and_an_evaluation_row_with_github_id_0() {
    let e = MinerEvaluation::failed(5, "hk5", "No Github PAT provided by miner 5");
    let report = report(vec![e], None);
    let rows = round_rows(&report);
    let m = &rows.miners[0];
    assert_eq!(m.miner.github_id, "0");
    assert!(m.pull_requests.is_empty() && m.issues.is_empty() && m.file_changes.is_empty());
    assert_eq!(
        m.evaluation.failed_reason,
        Some("No Github PAT provided by miner 5")
    );
    assert_eq!((m.evaluation.total_score, m.evaluation.total_prs), (0.0, 0));
}

#[test]
fn the_recycle_uid_is_stored_with_an_empty_hotkey_as_2_0_7_builds_it() {
    let e = MinerEvaluation::failed(0, "5Grecycle", "SPECIAL CASE UID 0 - RECYCLE UID");
    let report = report(vec![e], None);
    let rows = round_rows(&report);
    assert_eq!(rows.miners[0].miner.hotkey, "");
    assert_eq!(rows.miners[0].evaluation.hotkey, "");
    assert_eq!(
        rows.history[0].hotkey, "5Grecycle",
        "our history keeps ours"
    );
}

#[test]
fn a_duplicate_account_is_stored_without_a_reason_as_2_0_7_empties_it() {
    let reason = format!("{DUPLICATE_ACCOUNT} [1, 2]");
    let e = MinerEvaluation::failed(1, "hk1", reason.clone());
    let report = report(vec![e], None);
    let rows = round_rows(&report);
    assert_eq!(rows.miners[0].evaluation.failed_reason, None);
    assert_eq!(rows.miners[0].miner.github_id, "0");
    assert_eq!(rows.history[0].failed_reason, Some(reason));
}

#[test]
fn miners_are_stored_in_uid_order_as_2_0_7_iterates_its_sorted_uids() {
    let report = report(vec![scored(9), scored(2), scored(4)], None);
    let rows = round_rows(&report);
    let uids: Vec<i64> = rows.miners.iter().map(|m| m.miner.uid).collect();
    assert_eq!(uids, [2, 4, 9]);
}

#[test]
fn a_discarded_round_writes_only_its_history_marked_with_why() {
    let report = report(vec![scored(1), scored(2)], Some("GitHub down"));
    let rows = round_rows(&report);
    assert!(rows.miners.is_empty());
    assert_eq!(rows.history.len(), 2);
    assert!(rows.history.iter().all(|h| h.discarded));
    assert_eq!(
        rows.history[0].discarded_reason.as_deref(),
        Some("GitHub down")
    );
}

#[test]
fn history_has_one_row_per_uid_with_reward_score_and_the_rounds_now() {
    let report = report(vec![scored(1), MinerEvaluation::failed(2, "", "x")], None);
    let rows = round_rows(&report);
    assert_eq!(rows.history.len(), 2);
    let h = &rows.history[0];
    assert_eq!((h.uid, h.reward, h.score), (1, 0.25, 43.5));
    assert_eq!(h.round_now, utc(NOW));
    assert!(!h.discarded);
    assert_eq!(rows.history[1].failed_reason.as_deref(), Some("x"));
}

#[test]
fn decimals_are_sent_with_the_shortest_digits_python_repr_gives() {
    assert_eq!(decimal(0.1), "0.1");
    assert_eq!(decimal(1.0), "1");
    assert_eq!(decimal(1.4000000000000001), "1.4000000000000001");
    assert_eq!(decimal(1e-7), "0.0000001");
    assert_eq!(decimal(2.5e20), "250000000000000000000");
    assert_eq!(decimal(f64::NAN), "NaN");
}

#[test]
fn no_debug_print_of_the_config_or_the_handle_shows_the_password() {
    use super::{Config, ResultsDb};
    let secret = "hunter2-db-secret";
    let from_parts = Config::builder().password(secret).build().unwrap();
    let from_url = Config::builder()
        .url(format!("postgresql://me:{secret}@db.example:6543/results"))
        .build()
        .unwrap();
    assert_eq!(from_url.target(), "me@db.example:6543/results");
    for text in [
        format!("{from_parts:?}"),
        format!("{from_url:?}"),
        format!("{:?}", ResultsDb::new(from_url.clone())),
        format!("{:?}", Config::builder().password(secret)),
        from_url.target().to_string(),
    ] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn a_bad_connection_string_names_the_option_never_its_value() {
    let err = super::Config::builder()
        .url("postgresql://me:hunter2@h:notaport/db")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("port"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn db_password_fills_in_a_connection_string_without_one_and_never_beats_one() {
    use super::Config;
    let url = |u: &str| {
        Config::builder()
            .url(u)
            .password("from-env")
            .build()
            .unwrap()
    };
    let without = url("postgresql://me@h:5433/results");
    assert_eq!(without.pg.get_password(), Some(&b"from-env"[..]));
    let with = url("postgresql://me:in-url@h:5433/results");
    assert_eq!(with.pg.get_password(), Some(&b"in-url"[..]));
    let none = Config::builder()
        .url("host=h dbname=results")
        .build()
        .unwrap();
    assert_eq!(none.pg.get_password(), None);
}
