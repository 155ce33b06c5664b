//! SCORING.md rule by rule. Each family has one `check` helper; each rule
//! a test named after it.

use std::collections::BTreeMap;

use gittensor_validator::scoring::files::{
    extension, is_test_file, is_typo, non_scoreable, score_file,
};
use gittensor_validator::scoring::pr::{
    merge_success_multiplier, open_pr_spam_multiplier, time_decay_multiplier, PrCounts,
};
use gittensor_validator::scoring::pulls::is_tagged;
use gittensor_validator::scoring::round::emission_scalar;
use gittensor_validator::scoring::state::{Cadence, ValidatorState};
use gittensor_validator::scoring::{
    finish_round, parse_files, parse_time, CollectedPrs, FileChange, LanguageWeights,
    MasterRepositories, MinerEvaluation, PageStep, PrCollector, PullRequest, RoundContext, Stop,
    PR_TAGLINE,
};
use serde_json::{json, Value};
use time::Duration;

use crate::util::{code_lines, page, pr_node, NOW};

fn repos() -> MasterRepositories {
    MasterRepositories::parse(
        r#"{
        "Acme/Widgets": {"weight": 1.5},
        "beta/gizmo": {"weight": 0.5, "additional_acceptable_branches": ["release/*", "dev"]},
        "old/legacy": {"weight": 1.0, "inactiveAt": "2025-12-18T00:00:00Z"}
    }"#,
        "test",
    )
    .unwrap()
}

fn collect(nodes: Vec<Value>) -> CollectedPrs {
    let repos = repos();
    let mut c = PrCollector::new(&repos, NOW);
    assert_eq!(
        c.add_page(&page(nodes, None)),
        PageStep::Done(Stop::LastPage)
    );
    c.finish()
}

// ---------------------------------------------------------------- §4 counts

/// (open, closed, merged) counts after one page.
fn check_counts(nodes: Vec<Value>, expected: (u32, u32, u32)) {
    let c = collect(nodes);
    assert_eq!(
        (c.open_pr_count, c.closed_pr_count, c.merged_pr_count),
        expected
    );
}

#[test]
fn s4_open_prs_count_only_in_active_repositories() {
    let open = json!({"state": "OPEN", "mergedAt": null, "closedAt": null});
    check_counts(
        vec![
            pr_node("acme/widgets", 1, open.clone()),
            pr_node("ACME/WIDGETS", 2, open.clone()),
            pr_node("old/legacy", 3, open.clone()),
            pr_node("not/master", 4, open),
        ],
        (2, 0, 0),
    );
}

#[test]
fn s4_closed_prs_count_in_lookback_after_application_date() {
    let closed = |at: &str| json!({"state": "CLOSED", "mergedAt": null, "closedAt": at});
    check_counts(
        vec![
            pr_node("acme/widgets", 1, closed("2025-12-10T00:00:00Z")),
            // Before MERGE_SUCCESS_RATIO_APPLICATION_DATE (and in the lookback).
            pr_node("acme/widgets", 2, closed("2025-12-04T17:00:00Z")),
            // Exactly the application date: not after it.
            pr_node("acme/widgets", 3, closed("2025-12-04T18:00:00Z")),
            pr_node("old/legacy", 4, closed("2025-12-10T00:00:00Z")),
            pr_node(
                "acme/widgets",
                5,
                json!({"state": "CLOSED", "mergedAt": null, "closedAt": null}),
            ),
        ],
        (0, 1, 0),
    );
}

#[test]
fn s4_closed_prs_before_lookback_start_do_not_count() {
    // now - 30 days = 2025-11-20T12:00Z; the application date is later anyway,
    // so check the lookback bound with a round "now" far in the future.
    let repos = repos();
    let later = NOW + Duration::days(60);
    let mut c = PrCollector::new(&repos, later);
    let closed = |at: &str| {
        pr_node(
            "acme/widgets",
            1,
            json!({"state": "CLOSED", "mergedAt": null, "closedAt": at}),
        )
    };
    c.add_page(&page(
        vec![
            closed("2026-01-18T00:00:00Z"),
            closed("2026-01-20T00:00:00Z"),
        ],
        None,
    ));
    assert_eq!(c.finish().closed_pr_count, 1);
}

#[test]
fn s4_merged_count_is_accepted_prs_merged_after_application_date() {
    let c = collect(vec![
        pr_node("acme/widgets", 1, json!({})),
        pr_node("acme/widgets", 2, json!({"authorAssociation": "OWNER"})),
    ]);
    assert_eq!(c.merged_pr_count, 1);
    assert_eq!(c.pull_requests.len(), 1);
}

// ------------------------------------------------------------- §4 skip rules

/// Whether a merged PR with `overrides` is accepted.
fn check_accepted(repo: &str, overrides: Value, expected: bool) {
    let c = collect(vec![pr_node(repo, 1, overrides.clone())]);
    assert_eq!(c.pull_requests.len() == 1, expected, "{repo} {overrides}");
}

#[test]
fn s4_skip_1_not_a_master_repository() {
    check_accepted("not/master", json!({}), false);
    check_accepted("ACME/widgets", json!({}), true);
}

#[test]
fn s4_skip_2_merged_before_lookback_start() {
    check_accepted(
        "acme/widgets",
        json!({"mergedAt": "2025-11-20T11:59:59Z"}),
        false,
    );
    check_accepted(
        "acme/widgets",
        json!({"mergedAt": "2025-11-20T12:00:00Z"}),
        true,
    );
}

#[test]
fn s4_skip_3_owner_member_collaborator() {
    for a in ["OWNER", "MEMBER", "COLLABORATOR"] {
        check_accepted("acme/widgets", json!({"authorAssociation": a}), false);
    }
    check_accepted(
        "acme/widgets",
        json!({"authorAssociation": "FIRST_TIME_CONTRIBUTOR"}),
        true,
    );
}

#[test]
fn s4_skip_4_self_merged_without_other_approver() {
    let self_merged = json!({"mergedBy": {"login": "alice"}});
    check_accepted("acme/widgets", self_merged.clone(), false);
    check_accepted(
        "acme/widgets",
        json!({"mergedBy": {"login": "alice"}, "reviews": {"nodes": [{"author": {"login": "alice"}}, null]}}),
        false,
    );
    check_accepted(
        "acme/widgets",
        json!({"mergedBy": {"login": "alice"}, "reviews": {"nodes": [{"author": {"login": "bob"}}]}}),
        true,
    );
    // A null mergedBy is not a self-merge.
    check_accepted("acme/widgets", json!({"mergedBy": null}), true);
}

#[test]
fn s4_skip_5_internal_pr_from_an_acceptable_branch() {
    let internal =
        |head: &str| json!({"headRepository": {"owner": {"login": "acme"}}, "headRefName": head});
    check_accepted("acme/widgets", internal("main"), false);
    check_accepted("acme/widgets", internal("feature"), true);
    // A fork's `main` is fine.
    check_accepted("acme/widgets", json!({"headRefName": "main"}), true);
    // A deleted fork (null headRepository) is not internal.
    check_accepted(
        "acme/widgets",
        json!({"headRepository": null, "headRefName": "main"}),
        true,
    );
    // Additional branches are globs.
    let internal_gizmo =
        |head: &str| json!({"headRepository": {"owner": {"login": "beta"}}, "headRefName": head});
    check_accepted("beta/gizmo", internal_gizmo("release/2.0"), false);
    check_accepted("beta/gizmo", internal_gizmo("dev"), false);
    check_accepted("beta/gizmo", internal_gizmo("develop"), true);
}

#[test]
fn s4_skip_6_base_branch_not_acceptable() {
    check_accepted("acme/widgets", json!({"baseRefName": "develop"}), false);
    check_accepted("beta/gizmo", json!({"baseRefName": "release/1.0"}), true);
    check_accepted("beta/gizmo", json!({"baseRefName": "Release/1.0"}), false);
    // A null defaultBranchRef means `main`.
    check_accepted(
        "acme/widgets",
        json!({"repository": {"defaultBranchRef": null}}),
        true,
    );
    check_accepted(
        "acme/widgets",
        json!({"repository": {"defaultBranchRef": null}, "baseRefName": "master"}),
        false,
    );
    check_accepted(
        "acme/widgets",
        json!({"repository": {"defaultBranchRef": {"name": "trunk"}}, "baseRefName": "trunk"}),
        true,
    );
}

#[test]
fn s4_skip_7_merged_after_repository_inactive() {
    check_accepted(
        "old/legacy",
        json!({"mergedAt": "2025-12-18T00:00:00Z"}),
        false,
    );
    check_accepted(
        "old/legacy",
        json!({"mergedAt": "2025-12-17T23:59:59Z"}),
        true,
    );
}

#[test]
fn s4_missing_or_null_fields_skip_the_pr_without_panic() {
    for bad in [
        json!({"repository": null}),
        json!({"repository": {"owner": null}}),
        json!({"number": null}),
        json!({"createdAt": null}),
        json!({"mergedAt": "not a time"}),
        json!({"mergedAt": 12}),
    ] {
        check_accepted("acme/widgets", bad, false);
    }
    // Nulls in optional places are fine.
    check_accepted(
        "acme/widgets",
        json!({"author": null, "bodyText": null, "closingIssuesReferences": null, "reviews": null,
               "headRefName": null, "authorAssociation": null}),
        true,
    );
}

#[test]
fn s4_accepted_prs_keep_github_order() {
    let c = collect(vec![
        pr_node("acme/widgets", 3, json!({})),
        pr_node("beta/gizmo", 1, json!({})),
        pr_node("acme/widgets", 2, json!({})),
    ]);
    let order: Vec<u64> = c.pull_requests.iter().map(|p| p.number).collect();
    assert_eq!(order, vec![3, 1, 2]);
}

// ---------------------------------------------------------------- §4 paging

fn check_stop(answer: Value, expected: Stop) {
    let repos = repos();
    let mut c = PrCollector::new(&repos, NOW);
    assert_eq!(c.add_page(&answer), PageStep::Done(expected));
}

#[test]
fn s4_paging_follows_end_cursor_while_has_next_page() {
    let repos = repos();
    let mut c = PrCollector::new(&repos, NOW);
    assert_eq!(c.next_limit(), 100);
    let step = c.add_page(&page(
        vec![pr_node("acme/widgets", 1, json!({}))],
        Some("c1"),
    ));
    assert_eq!(step, PageStep::Next("c1".into()));
}

#[test]
fn s4_paging_stops_on_last_empty_errors_null_node() {
    check_stop(
        page(vec![pr_node("acme/widgets", 1, json!({}))], None),
        Stop::LastPage,
    );
    check_stop(page(vec![], Some("c")), Stop::EmptyPage);
    check_stop(json!({"data": {"node": null}}), Stop::NullNode);
    check_stop(
        json!({"data": null, "errors": [{"type": "RATE_LIMITED", "message": "slow down"}]}),
        Stop::GraphqlErrors("RATE_LIMITED: slow down".into()),
    );
    check_stop(json!({"data": {"viewer": {}}}), Stop::NullNode);
    check_stop(
        json!({"data": {"node": {}}}),
        Stop::Malformed("no pullRequests".into()),
    );
    check_stop(json!([1, 2]), Stop::Malformed("no data".into()));
}

#[test]
fn s4_errors_member_stops_even_with_partial_data() {
    let mut answer = page(vec![pr_node("acme/widgets", 1, json!({}))], Some("c"));
    answer["errors"] = json!([{"type": "RESOURCE_LIMITS_EXCEEDED", "message": "x"}]);
    let repos = repos();
    let mut c = PrCollector::new(&repos, NOW);
    assert!(matches!(
        c.add_page(&answer),
        PageStep::Done(Stop::GraphqlErrors(_))
    ));
    assert_eq!(c.finish().pull_requests.len(), 0);
}

#[test]
fn s4_paging_keeps_counts_gathered_before_a_stop() {
    let repos = repos();
    let mut c = PrCollector::new(&repos, NOW);
    c.add_page(&page(
        vec![pr_node("acme/widgets", 1, json!({}))],
        Some("c1"),
    ));
    c.add_page(&json!({"data": {"node": null}}));
    assert_eq!(c.finish().pull_requests.len(), 1);
}

#[test]
fn s4_limit_is_min_100_and_1000_minus_accepted_and_stops_at_1000() {
    let repos = repos();
    let mut c = PrCollector::new(&repos, NOW);
    let mut n = 0;
    for _ in 0..9 {
        let nodes = (0..100)
            .map(|_| {
                n += 1;
                pr_node("acme/widgets", n, json!({}))
            })
            .collect();
        assert!(matches!(
            c.add_page(&page(nodes, Some("c"))),
            PageStep::Next(_)
        ));
    }
    let nodes: Vec<Value> = (0..50)
        .map(|_| {
            n += 1;
            pr_node("acme/widgets", n, json!({}))
        })
        .collect();
    c.add_page(&page(nodes, Some("c")));
    assert_eq!(c.next_limit(), 50);
    let nodes = (0..50)
        .map(|_| {
            n += 1;
            pr_node("acme/widgets", n, json!({}))
        })
        .collect();
    assert_eq!(
        c.add_page(&page(nodes, Some("c"))),
        PageStep::Done(Stop::Cap)
    );
    assert_eq!(c.next_limit(), 0);
}

// --------------------------------------------------------------------- §5

#[test]
fn s5_only_closed_issues_are_kept() {
    let issue = |state: &str, closed: Option<&str>| {
        json!({"number": 1, "title": "t", "state": state, "createdAt": "2025-12-01T00:00:00Z",
               "closedAt": closed, "author": {"login": "bob"}})
    };
    let c = collect(vec![pr_node(
        "acme/widgets",
        1,
        json!({"closingIssuesReferences": {"nodes": [
            issue("CLOSED", Some("2025-12-20T11:00:00Z")),
            issue("OPEN", None),
            issue("CLOSED", None),
            issue("OPEN", Some("2025-12-20T11:00:00Z")),
            null
        ]}}),
    )]);
    assert_eq!(c.pull_requests[0].issues.len(), 1);
}

fn check_tagged(body: &str, expected: bool) {
    assert_eq!(is_tagged(body), expected, "{body:?}");
}

#[test]
fn s5_tagline_is_searched_in_the_last_100_characters() {
    check_tagged(&format!("Fixes a bug.\n\n{PR_TAGLINE}"), true);
    check_tagged(&format!("x {}", PR_TAGLINE.to_uppercase()), true);
    check_tagged(&format!("{PR_TAGLINE} \n\t"), true);
    check_tagged(&format!("{PR_TAGLINE}.!?;:,"), true);
    check_tagged(&format!("{PR_TAGLINE} thanks"), false);
    // The tagline is 62 characters: 38 strippable ones after it still fit in
    // the 100-character window, 39 push its first character out.
    assert_eq!(PR_TAGLINE.chars().count(), 62);
    check_tagged(&format!("{PR_TAGLINE}{}", ".".repeat(38)), true);
    check_tagged(&format!("{PR_TAGLINE}{}", ".".repeat(39)), false);
    // Characters, not bytes: 50 two-byte chars before it do not matter.
    check_tagged(&format!("{}{PR_TAGLINE}", "é".repeat(50)), true);
    check_tagged("", false);
}

#[test]
fn s5_tag_is_lost_when_edited_after_merge() {
    let body = format!("Change.\n{PR_TAGLINE}");
    let c = collect(vec![
        pr_node(
            "acme/widgets",
            1,
            json!({"bodyText": body, "lastEditedAt": "2025-12-20T11:00:00Z"}),
        ),
        pr_node(
            "acme/widgets",
            2,
            json!({"bodyText": body, "lastEditedAt": "2025-12-20T11:00:01Z"}),
        ),
    ]);
    assert!(c.pull_requests[0].gittensor_tagged);
    assert!(!c.pull_requests[1].gittensor_tagged);
}

// --------------------------------------------------------------------- §6

fn check_ext(path: &str, expected: &str) {
    assert_eq!(extension(path), expected, "{path}");
}

#[test]
fn s6_extension_is_text_after_last_dot_of_whole_path() {
    check_ext("src/Main.RS", "rs");
    check_ext("a.b/Makefile", "b/makefile");
    check_ext("Makefile", "");
    check_ext("archive.tar.gz", "gz");
    check_ext(".gitignore", "gitignore");
}

fn check_test_file(path: &str, expected: bool) {
    assert_eq!(is_test_file(path), expected, "{path}");
}

#[test]
fn s6_files_answer_is_all_or_nothing() {
    let entry = |extra: Value| {
        let mut e = json!({"filename": "a.rs", "status": "modified", "additions": 1, "deletions": 0, "changes": 1});
        crate::util::merge(&mut e, extra);
        e
    };
    assert_eq!(
        parse_files(&json!([entry(json!({})), entry(json!({"patch": "+x"}))]))
            .unwrap()
            .len(),
        2
    );
    // One entry without `status` (or any required key) fails the list, as upstream's KeyError does.
    let mut no_status = entry(json!({}));
    no_status.as_object_mut().unwrap().remove("status");
    assert!(parse_files(&json!([entry(json!({})), no_status])).is_err());
    assert!(parse_files(&json!([entry(json!({"changes": "many"}))])).is_err());
    assert!(parse_files(&json!({"message": "Not Found"})).is_err());
    assert_eq!(parse_files(&json!([])).unwrap(), vec![]);
}

#[test]
fn s6_test_files_by_directory() {
    check_test_file("tests/a.rs", true);
    check_test_file("src/test/a.py", true);
    check_test_file("web/__tests__/a.js", true);
    check_test_file("web/__test__/a.js", true);
    check_test_file("Test/A.java", true);
    check_test_file("contest/a.rs", false);
    check_test_file("src/testing/a.rs", false);
}

#[test]
fn s6_test_files_by_base_name() {
    for p in [
        "test_a.py",
        "spec_a.rb",
        "a_test.go",
        "a_tests.rs",
        "a.test.ts",
        "a.tests.js",
        "a.spec.ts",
        "test.js",
        "TESTS.py",
        "src/Foo_Test.java",
    ] {
        check_test_file(p, true);
    }
    for p in [
        "attest.py",
        "test",
        "a_test",
        "a_test.",
        "contest.rs",
        "latest.ts",
        "src/testdata.rs",
    ] {
        check_test_file(p, false);
    }
}

// --------------------------------------------------------------------- §7

fn check_non(patch: &str, max: i64, ext: &str, expected: i64) {
    assert_eq!(non_scoreable(Some(patch), max, ext), expected, "{patch:?}");
}

#[test]
fn s7_blank_and_comment_lines_are_not_scoreable() {
    check_non("+\n+   \n-\t\n+x = 1", 10, "py", 3);
    check_non(
        "+// c\n+/* c\n+ * c\n+ */\n+-- sql\n+<!-- html\n+% tex\n+; lisp\n+\"\"\"doc\n+'''doc",
        100,
        "js",
        10,
    );
    check_non("+# comment\n+  # indented", 10, "py", 2);
}

#[test]
fn s7_hash_is_code_in_preprocessor_languages() {
    for ext in [
        "c", "h", "cpp", "cxx", "cc", "hpp", "hxx", "hh", "h++", "cs", "rs", "swift",
    ] {
        check_non("+#include <x.h>", 10, ext, 0);
    }
    check_non("+#include <x.h>", 10, "py", 1);
}

#[test]
fn s7_only_single_diff_lines_count() {
    check_non(
        "+++ b/file\n--- a/file\n++x\n--y\n context\n\\ No newline",
        10,
        "py",
        0,
    );
    // A lone `+` is a (blank) single diff line.
    check_non("+", 10, "py", 1);
}

#[test]
fn s7_typo_pair_counts_two_and_skips_the_next_line() {
    check_non("-let colour = 1;\n+let color = 1;", 10, "rs", 2);
    // Not a typo: different token counts.
    check_non("-let a = 1;\n+let a = b + 1;", 10, "rs", 0);
    // Only `-` then `+`: the reverse order is two scoreable lines.
    check_non("+let color = 1;\n-let colour = 1;", 10, "rs", 0);
    // No tokens on either side is a typo pair.
    check_non("-}\n+}", 10, "rs", 2);
    // After a pair, the walk goes on with the line after its `+`.
    check_non("-x\n+x\n+// c", 10, "rs", 3);
}

#[test]
fn s7_walk_stops_at_max_scoreable() {
    check_non("+a = 1\n+b = 2\n+\n+# c", 2, "py", 0);
    check_non("+\n+a = 1\n+b = 2\n+\n+# c", 2, "py", 1);
    check_non("+a = 1\n+\n", 0, "py", 0);
}

#[test]
fn s7_absent_or_empty_patch_has_no_non_scoreable_lines() {
    assert_eq!(non_scoreable(None, 10, "rs"), 0);
    assert_eq!(non_scoreable(Some(""), 10, "rs"), 0);
}

fn check_typo(old: &str, new: &str, expected: bool) {
    assert_eq!(is_typo(old, new), expected, "{old:?} -> {new:?}");
}

#[test]
fn s7_is_typo_by_levenshtein_or_indel_ratio() {
    check_typo("recieve", "receive", true); // distance 2
    check_typo("abcdefgh", "abcdxyzh", false); // distance 3, ratio 0.625
                                               // Distance 3, but LCS 9: ratio 18/24 = 0.75 exactly, which is enough.
    check_typo("abcdefghijkl", "abcdefghixyz", true);
    check_typo("internationalization", "internationalizatoin", true);
    check_typo("a b", "a", false);
    check_typo("don't stop", "dont stop", true);
    check_typo("", "", true);
    check_typo("(", ")", true);
}

fn check_file(path: &str, changes: i64, patch: Option<&str>, expected: (i64, f64)) {
    let langs = LanguageWeights::from_entries([("rs", 2.0), ("md", 0.5), ("json", 0.25)]);
    let f = FileChange {
        filename: path.into(),
        changes,
        patch: patch.map(str::to_string),
        ..FileChange::default()
    };
    let s = score_file(&f, &langs);
    assert_eq!((s.lines_scored, s.score), expected, "{path}");
}

#[test]
fn s7_file_score_is_language_weight_times_test_factor_times_scored() {
    check_file("src/a.rs", 10, None, (10, 20.0));
    check_file("src/a.zig", 10, None, (10, 0.12 * 10.0));
    check_file("tests/a.rs", 10, None, (10, 2.0 * 0.05 * 10.0));
    check_file("src/a.rs", 3, Some("+a\n+\n+// c"), (1, 2.0));
}

#[test]
fn s7_mitigated_extensions_cap_at_300_lines() {
    check_file("README.md", 1000, None, (300, 150.0));
    check_file("data.json", 1000, None, (300, 75.0));
    check_file("notes.txt", 1000, None, (300, 0.12 * 300.0));
    check_file("src/a.rs", 1000, None, (1000, 2000.0));
}

#[test]
fn s7_scored_lines_never_go_below_zero() {
    // The API's `changes` can disagree with the patch.
    check_file("src/a.rs", 1, Some("+\n+\n+\n+"), (0, 0.0));
}

// --------------------------------------------------------------------- §8

fn ctx(repos: MasterRepositories) -> RoundContext {
    RoundContext {
        repos,
        languages: LanguageWeights::from_entries([("rs", 1.0)]),
        now: NOW,
    }
}

/// Scores the single PR built from `overrides` with `files` and `counts`.
fn scored_pr(overrides: Value, files: &[FileChange], counts: PrCounts) -> PullRequest {
    let mut pr = collect(vec![pr_node("acme/widgets", 1, overrides)])
        .pull_requests
        .remove(0);
    let c = ctx(repos());
    pr.score(files, &c.languages, &c.repos, counts, NOW);
    pr
}

fn rs_file(lines: usize) -> FileChange {
    FileChange {
        filename: "src/a.rs".into(),
        changes: lines as i64,
        patch: Some(code_lines(lines)),
        ..FileChange::default()
    }
}

#[test]
fn s8_multipliers_are_rounded_like_python() {
    // Language weight 0.125 over 1 line: base 0.125 rounds to 0.12.
    let mut pr = collect(vec![pr_node("acme/widgets", 1, json!({}))])
        .pull_requests
        .remove(0);
    let langs = LanguageWeights::from_entries([("rs", 0.125)]);
    let repos = MasterRepositories::parse(r#"{"acme/widgets": {"weight": 2.675}}"#, "t").unwrap();
    pr.score(&[rs_file(1)], &langs, &repos, PrCounts::default(), NOW);
    assert_eq!(pr.base_score, 0.12);
    assert_eq!(pr.repo_weight_multiplier, 2.67);
}

#[test]
fn s8_pr_without_files_keeps_defaults_and_is_not_a_contribution() {
    let mut e = MinerEvaluation::new(1, "hk");
    e.set_pull_requests(collect(vec![pr_node("acme/widgets", 1, json!({}))]));
    e.score_pull_request(0, &[], &ctx(repos()));
    let pr = &e.pull_requests[0];
    assert_eq!(
        (
            pr.base_score,
            pr.repo_weight_multiplier,
            pr.time_decay_multiplier
        ),
        (0.0, 1.0, 1.0)
    );
    assert!(e.unique_repos_contributed_to.is_empty());
    e.score_pull_request(0, &[rs_file(1)], &ctx(repos()));
    assert!(e.unique_repos_contributed_to.contains("acme/widgets"));
}

#[test]
fn s8_repo_weight_multiplier_is_master_weight() {
    let pr = scored_pr(json!({}), &[rs_file(2)], PrCounts::default());
    assert_eq!(pr.repo_weight_multiplier, 1.5);
    assert_eq!(pr.base_score, 2.0);
}

fn issue(author: &str, created: &str, closed: &str) -> Value {
    json!({"number": 9, "title": "bug", "state": "CLOSED", "createdAt": created, "closedAt": closed,
           "author": {"login": author}})
}

fn check_issue_mult(overrides: Value, expected: f64) {
    let pr = scored_pr(overrides, &[rs_file(1)], PrCounts::default());
    assert_eq!(pr.issue_multiplier, expected);
}

#[test]
fn s8_issue_multiplier_per_valid_issue() {
    // PR merged 2025-12-20T11:00Z, created 2025-12-15.
    let one = |i: Value| json!({"closingIssuesReferences": {"nodes": [i]}});
    // 45 days open: 0.9 * min(0.1 + 1, 1) = 0.9.
    check_issue_mult(
        one(issue("bob", "2025-11-05T11:00:00Z", "2025-12-20T11:00:00Z")),
        1.9,
    );
    // 5 days open: 0.9 * (0.1 + sqrt(5/45)) = 0.9 * 0.433333 = 0.39 -> 1.39.
    check_issue_mult(
        one(issue("bob", "2025-12-15T00:00:00Z", "2025-12-20T10:00:00Z")),
        1.39,
    );
    // 20 days: 0.9 * (0.1 + sqrt(20/45)) = 0.9 * 0.766667 = 0.69 -> 1.69.
    check_issue_mult(
        one(issue("bob", "2025-11-30T11:00:00Z", "2025-12-20T11:00:00Z")),
        1.69,
    );
}

#[test]
fn s8_issue_invalid_when_self_authored_created_after_pr_or_far_from_merge() {
    let one = |i: Value| json!({"closingIssuesReferences": {"nodes": [i]}});
    check_issue_mult(
        one(issue(
            "alice",
            "2025-11-05T11:00:00Z",
            "2025-12-20T11:00:00Z",
        )),
        1.0,
    );
    check_issue_mult(
        one(issue("bob", "2025-12-16T00:00:00Z", "2025-12-20T11:00:00Z")),
        1.0,
    );
    check_issue_mult(
        one(issue("bob", "2025-11-05T11:00:00Z", "2025-12-21T11:00:01Z")),
        1.0,
    );
    check_issue_mult(
        one(issue("bob", "2025-11-05T11:00:00Z", "2025-12-21T11:00:00Z")),
        1.9,
    );
    let mut no_author = issue("bob", "2025-11-05T11:00:00Z", "2025-12-20T11:00:00Z");
    no_author["author"] = Value::Null;
    check_issue_mult(one(no_author), 1.0);
}

#[test]
fn s8_issue_without_usable_dates_adds_0_1() {
    let one = |i: Value| json!({"closingIssuesReferences": {"nodes": [i]}});
    let mut no_created = issue("bob", "2025-11-05T11:00:00Z", "2025-12-20T11:00:00Z");
    no_created["createdAt"] = Value::Null;
    check_issue_mult(one(no_created), 1.1);
    // Closed before it was created: upstream's sqrt raises and it falls back to 0.1.
    check_issue_mult(
        one(issue("bob", "2025-12-21T00:00:00Z", "2025-12-20T11:00:00Z")),
        1.0,
    );
    let mut pr = json!({"createdAt": "2025-12-22T00:00:00Z"});
    crate::util::merge(
        &mut pr,
        one(issue("bob", "2025-12-21T00:00:00Z", "2025-12-20T11:00:00Z")),
    );
    check_issue_mult(pr, 1.1);
}

#[test]
fn s8_no_issue_counts_when_pr_edited_after_merge() {
    let i = issue("bob", "2025-11-05T11:00:00Z", "2025-12-20T11:00:00Z");
    check_issue_mult(
        json!({"closingIssuesReferences": {"nodes": [i]}, "lastEditedAt": "2025-12-20T12:00:00Z"}),
        1.0,
    );
}

#[test]
fn s8_at_most_two_issues_count() {
    let i = issue("bob", "2025-11-05T11:00:00Z", "2025-12-20T11:00:00Z");
    check_issue_mult(
        json!({"closingIssuesReferences": {"nodes": [i, i, i]}}),
        2.8,
    );
    // The first two *valid* ones: an invalid first one does not use a slot.
    let bad = issue("alice", "2025-11-05T11:00:00Z", "2025-12-20T11:00:00Z");
    check_issue_mult(
        json!({"closingIssuesReferences": {"nodes": [bad, i, i]}}),
        2.8,
    );
}

fn check(got: f64, expected: f64) {
    assert!(
        (got - expected).abs() < 1e-12,
        "got {got}, expected {expected}"
    );
}

#[test]
fn s8_open_pr_spam_multiplier() {
    check(open_pr_spam_multiplier(10), 1.0);
    check(open_pr_spam_multiplier(11), 0.5);
    check(open_pr_spam_multiplier(12), 0.0);
    check(open_pr_spam_multiplier(40), 0.0);
}

#[test]
fn s8_time_decay_multiplier() {
    let merged = parse_time("2025-12-20T08:00:01Z").unwrap();
    check(time_decay_multiplier(merged, NOW), 1.0);
    // Exactly 4 hours: d = 1/6 day.
    let merged = parse_time("2025-12-20T08:00:00Z").unwrap();
    let d: f64 = 1.0 / 6.0;
    check(
        time_decay_multiplier(merged, NOW),
        1.0 / (1.0 + (0.9 * (d - 4.0)).exp()),
    );
    // 4 days: the midpoint.
    check(time_decay_multiplier(NOW - Duration::days(4), NOW), 0.5);
    // 20 days: floor.
    check(time_decay_multiplier(NOW - Duration::days(20), NOW), 0.01);
}

#[test]
fn s8_gittensor_tag_multiplier() {
    let body = format!("x {PR_TAGLINE}");
    let pr = scored_pr(
        json!({"bodyText": body}),
        &[rs_file(1)],
        PrCounts::default(),
    );
    assert_eq!(pr.gittensor_tag_multiplier, 2.0);
    let pr = scored_pr(json!({}), &[rs_file(1)], PrCounts::default());
    assert_eq!(pr.gittensor_tag_multiplier, 1.0);
    let repos = MasterRepositories::parse(r#"{"Entrius/Gittensor": {"weight": 1}}"#, "t").unwrap();
    let mut c = PrCollector::new(&repos, NOW);
    c.add_page(&page(
        vec![pr_node("Entrius/Gittensor", 1, json!({"bodyText": body}))],
        None,
    ));
    let mut pr = c.finish().pull_requests.remove(0);
    pr.score(
        &[rs_file(1)],
        &LanguageWeights::default(),
        &repos,
        PrCounts::default(),
        NOW,
    );
    assert!(pr.gittensor_tagged);
    assert_eq!(pr.gittensor_tag_multiplier, 1.0);
}

#[test]
fn s8_merge_success_multiplier() {
    let after = parse_time("2025-12-05T00:00:00Z").unwrap();
    let before = parse_time("2025-12-04T18:00:00Z").unwrap();
    let counts = |merged, closed| PrCounts {
        open: 0,
        merged,
        closed,
    };
    check(merge_success_multiplier(after, counts(2, 2)), 1.0);
    check(merge_success_multiplier(after, counts(3, 2)), 0.6);
    check(merge_success_multiplier(after, counts(0, 5)), 0.0);
    check(merge_success_multiplier(before, counts(0, 5)), 1.0);
    // Rounded: 2/3 -> 0.67.
    let pr = scored_pr(json!({}), &[rs_file(1)], counts(2, 1));
    assert_eq!(pr.merge_success_multiplier, 1.0);
    let pr = scored_pr(json!({}), &[rs_file(1)], counts(4, 2));
    assert_eq!(pr.merge_success_multiplier, 0.67);
}

// --------------------------------------------------------------------- §9

/// A miner with one scored PR of `lines` Rust lines in `repo`.
fn miner(uid: u16, github_id: &str, repo: &str, lines: usize) -> MinerEvaluation {
    let mut e = MinerEvaluation::new(uid, format!("hk{uid}"));
    e.github_id = github_id.into();
    e.set_pull_requests(collect(vec![pr_node(repo, 1, json!({}))]));
    e.score_pull_request(0, &[rs_file(lines)], &ctx(repos()));
    e
}

#[test]
fn s9_1_duplicate_github_ids_empty_every_holder() {
    let mut evals = vec![
        MinerEvaluation::failed(0, "", "recycle"),
        miner(1, "10", "acme/widgets", 4),
        miner(2, "10", "beta/gizmo", 4),
        miner(3, "30", "beta/gizmo", 4),
        MinerEvaluation::failed(4, "hk4", "no pat"),
        MinerEvaluation::failed(5, "hk5", "no pat"),
    ];
    let rewards = finish_round(&mut evals);
    for uid in [1, 2] {
        let e = &evals[uid];
        assert_eq!(
            (e.github_id.as_str(), e.pull_requests.len(), e.total_score),
            ("0", 0, 0.0)
        );
        assert_eq!(e.hotkey, format!("hk{uid}"));
        assert_eq!(rewards[&(uid as u16)], 0.0);
    }
    assert!(rewards[&3] > 0.0);
}

#[test]
fn s9_2_uniqueness_multiplier_and_totals() {
    let mut evals = vec![
        miner(1, "1", "acme/widgets", 10),
        miner(2, "2", "acme/widgets", 10),
        miner(3, "3", "beta/gizmo", 10),
    ];
    finish_round(&mut evals);
    // contributors = 3; acme has 2, beta 1.
    check(
        evals[0].pull_requests[0].repository_uniqueness_multiplier,
        1.0 + 0.4 * 2.0 / 3.0,
    );
    check(
        evals[2].pull_requests[0].repository_uniqueness_multiplier,
        1.0 + 0.4 * 3.0 / 3.0,
    );
    let pr = &evals[0].pull_requests[0];
    let expected =
        pr.base_score * 1.5 * pr.time_decay_multiplier * pr.repository_uniqueness_multiplier;
    check(pr.earned_score, expected);
    check(evals[0].total_score, expected);
    assert_eq!(evals[0].base_total_score, 10.0);
    assert_eq!(evals[0].total_lines_changed, 10);
    assert_eq!(evals[0].unique_repos_count(), 1);
}

#[test]
fn s9_2_uniqueness_is_the_share_times_the_boost_as_upstream_groups_it() {
    // scoring.py: `1.0 + ((C - n + 1) / C) * UNIQUE_PR_BOOST`. With C = 3
    // and n = 1 this is exactly 1.4; `1 + 0.4 * (C - n + 1) / C` gives
    // 1.4000000000000001.
    let mut evals = vec![
        miner(1, "1", "acme/widgets", 10),
        miner(2, "2", "beta/gizmo", 10),
        miner(3, "3", "gamma/thing", 10),
    ];
    finish_round(&mut evals);
    let got = evals[0].pull_requests[0].repository_uniqueness_multiplier;
    assert_eq!(got.to_bits(), 1.4f64.to_bits(), "{got:?}");
}

#[test]
fn s9_2_earned_score_is_base_times_the_product_of_multipliers() {
    // Upstream: `base_score * prod(multipliers)`. Grouping matters in the
    // last bit: 12.4 * (1.5*1.82*1.0*1.4*0.57*2.0*0.67) = 36.198620639999994,
    // while a left-to-right product gives 36.19862064.
    let mut e = miner(1, "1", "acme/widgets", 1);
    let pr = &mut e.pull_requests[0];
    pr.base_score = 12.4;
    pr.issue_multiplier = 1.82;
    pr.time_decay_multiplier = 0.57;
    pr.gittensor_tag_multiplier = 2.0;
    pr.merge_success_multiplier = 0.67;
    let mut evals = vec![e, miner(2, "2", "beta/gizmo", 1)];
    finish_round(&mut evals);
    let pr = &evals[0].pull_requests[0];
    assert_eq!(pr.repository_uniqueness_multiplier, 1.4);
    assert_eq!(pr.earned_score, 36.198620639999994);
}

#[test]
fn s9_2_no_contribution_leaves_every_total_at_zero() {
    let mut e = MinerEvaluation::new(1, "hk");
    e.github_id = "1".into();
    e.set_pull_requests(collect(vec![pr_node("acme/widgets", 1, json!({}))]));
    let mut evals = vec![e];
    let rewards = finish_round(&mut evals);
    assert_eq!(evals[0].total_score, 0.0);
    assert_eq!(
        evals[0].pull_requests[0].repository_uniqueness_multiplier,
        1.0
    );
    // Nothing to pay: uid 0 gets 1.
    assert_eq!(rewards, BTreeMap::from([(0, 1.0), (1, 0.0)]));
}

#[test]
fn s9_3_normalize_then_4_dynamic_emissions_pay_the_rest_to_uid_0() {
    let mut evals = vec![
        MinerEvaluation::failed(0, "", "recycle"),
        miner(1, "1", "acme/widgets", 30),
        miner(2, "2", "beta/gizmo", 10),
    ];
    let rewards = finish_round(&mut evals);
    let total = evals[1].total_score + evals[2].total_score;
    let scalar = emission_scalar(40, 2);
    check(rewards[&1], evals[1].total_score / total * scalar);
    check(rewards[&2], evals[2].total_score / total * scalar);
    check(rewards[&0], 1.0 - scalar);
    check(rewards.values().sum(), 1.0);
}

#[test]
fn s9_4_emission_scalar_unlocks_with_lines_and_repositories() {
    // Nothing contributed: each unlock is 1 - 0.9 = 0.1.
    check(emission_scalar(0, 0), 0.1);
    let by_lines = 0.1 + 0.9 * (1.0 - (-0.00001f64 * 100_000.0).exp());
    let by_repos = 0.1 + 0.9 * (1.0 - (-0.02f64 * 50.0).exp());
    check(emission_scalar(100_000, 50), (by_lines + by_repos) / 2.0);
    assert!(emission_scalar(i64::MAX / 2, 1_000_000) <= 1.0);
}

#[test]
fn s9_4_lines_count_only_miners_with_positive_score() {
    // Miner 2 scores 1000 lines, but 12 open PRs make its spam multiplier 0.
    let mut m2 = miner(2, "2", "beta/gizmo", 0);
    m2.total_open_prs = 12;
    let mut evals = vec![
        MinerEvaluation::failed(0, "", "r"),
        miner(1, "1", "acme/widgets", 10),
        m2,
    ];
    evals[2].score_pull_request(0, &[rs_file(1000)], &ctx(repos()));
    let rewards = finish_round(&mut evals);
    assert_eq!(evals[2].total_score, 0.0);
    assert_eq!(evals[2].total_lines_changed, 1000);
    check(rewards[&1], emission_scalar(10, 2));
}

#[test]
fn s9_5_every_queried_uid_has_a_reward() {
    let mut evals = vec![
        miner(5, "5", "acme/widgets", 3),
        MinerEvaluation::failed(9, "", "no response"),
    ];
    let rewards = finish_round(&mut evals);
    assert_eq!(rewards.keys().copied().collect::<Vec<_>>(), vec![0, 5, 9]);
}

// -------------------------------------------------------------------- §10

fn state(hotkeys: &[&str]) -> ValidatorState {
    ValidatorState::new(hotkeys.iter().map(|h| h.to_string()).collect())
}

fn scores(s: &ValidatorState) -> Vec<f64> {
    s.scores.to_f64()
}

#[test]
fn s10_scores_are_an_exponential_moving_average_in_float32() {
    let mut s = state(&["a", "b"]);
    s.fold_round(&BTreeMap::from([(0, 1.0), (1, 0.0)]), 0.7)
        .unwrap();
    s.fold_round(&BTreeMap::from([(0, 0.0), (1, 1.0)]), 0.7)
        .unwrap();
    let (a, b) = (0.7f32, 0.3f32);
    let expected = [f64::from(b * (a * 1.0)), f64::from(a * 1.0)];
    assert_eq!(scores(&s), expected);
    assert_eq!(s.rounds, 2);
    // Normalised in float32.
    let w = s.normalized();
    let share = expected[0] / (expected[0] + expected[1]);
    assert!((w[&0] - share).abs() < 1e-7, "{} vs {share}", w[&0]);
}

#[test]
fn s10_nan_reward_counts_as_zero_and_absent_uids_decay() {
    let mut s = state(&["a", "b"]);
    s.fold_round(&BTreeMap::from([(0, 1.0), (1, 1.0)]), 0.7)
        .unwrap();
    // §11.2.5: a uid without a reward is scattered 0, not skipped.
    s.fold_round(&BTreeMap::from([(0, f64::NAN)]), 0.7).unwrap();
    let after_one = f64::from(0.7f32);
    let decayed = f64::from(0.3f32 * 0.7f32);
    assert_eq!(scores(&s), [decayed, decayed]);
    assert!(after_one > decayed);
}

#[test]
fn s10_changed_hotkey_resets_the_score() {
    let mut s = state(&["a", "b"]);
    s.fold_round(&BTreeMap::from([(0, 1.0), (1, 1.0)]), 0.7)
        .unwrap();
    let hotkeys = ["new".to_string(), "b".to_string()];
    let resync = s.resync(&hotkeys, true);
    assert_eq!(resync.reset, [0]);
    assert_eq!(scores(&s)[0], 0.0);
    assert!(scores(&s)[1] > 0.0);
    assert_eq!(s.hotkeys[0], "new");
}

#[test]
fn s10_weights_are_equal_when_every_score_is_zero() {
    let mut s = state(&["a", "b"]);
    s.fold_round(&BTreeMap::from([(0, 0.0), (1, 0.0)]), 0.7)
        .unwrap();
    assert_eq!(s.normalized(), BTreeMap::from([(0, 0.5), (1, 0.5)]));
}

#[test]
fn s11_5_loop_cadence() {
    let c = Cadence::default();
    // Rounds at steps 0, 120, 240.
    assert!(c.is_round_step(0) && c.is_round_step(240));
    assert!(!c.is_round_step(1) && !c.is_round_step(119));
    // More than an epoch (100 blocks) since the last weights.
    assert!(!c.resync_due(1100, 1000) && c.resync_due(1101, 1000));
    // Never at step 0, even when due by blocks.
    assert!(!c.weights_due(0, 5000, 0));
    assert!(c.weights_due(1, 5000, 0));
    assert!(!c.weights_due(1, 1050, 1000));
    // A last update ahead of the block (a stale block) is not due.
    assert!(!c.resync_due(900, 1000));
}
