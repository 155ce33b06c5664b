//! A whole round worked by hand from SCORING.md: 3 scoring miners over 2
//! repositories, a duplicate account, an issue bonus, a tagline, a test
//! file and a typo pair. The expected numbers are derived in the comments.

use gittensor_validator::scoring::miner::{check_user, precheck};
use gittensor_validator::scoring::{
    finish_round, FileChange, GithubUser, LanguageWeights, MasterRepositories, MinerEvaluation,
    PrCollector, RoundContext, PR_TAGLINE,
};
use serde_json::{json, Value};

use crate::util::{page, pr_node, NOW};

fn context() -> RoundContext {
    RoundContext {
        repos: MasterRepositories::parse(
            r#"{"Acme/Widgets": {"weight": 1.5}, "beta/gizmo": {"weight": 0.5}}"#,
            "example",
        )
        .unwrap(),
        languages: LanguageWeights::from_entries([("rs", 2.0), ("md", 0.1)]),
        now: NOW,
    }
}

/// Runs one miner through §3 to §8 with a single GraphQL page and the files
/// of each PR, as the pipeline would.
fn evaluate(
    uid: u16,
    user: GithubUser,
    nodes: Vec<Value>,
    files: &[Vec<FileChange>],
    ctx: &RoundContext,
) -> MinerEvaluation {
    let mut e = MinerEvaluation::new(uid, format!("hotkey-{uid}"));
    precheck(uid, true, true).unwrap();
    e.github_id = check_user(uid, Some(&user), ctx.now).unwrap();
    let mut c = PrCollector::new(&ctx.repos, ctx.now);
    c.add_page(&page(nodes, None));
    e.set_pull_requests(c.finish());
    for (i, f) in files.iter().enumerate() {
        e.score_pull_request(i, f, ctx);
    }
    e
}

fn user(id: u64) -> GithubUser {
    GithubUser {
        id: Some(id),
        login: Some(format!("u{id}")),
        created_at: Some("2020-01-01T00:00:00Z".into()),
    }
}

fn file(name: &str, changes: i64, patch: Option<&str>) -> FileChange {
    FileChange {
        filename: name.into(),
        changes,
        patch: patch.map(str::to_string),
        ..FileChange::default()
    }
}

#[test]
fn hand_worked_round() {
    let ctx = context();

    // uid 1: one PR to Acme/Widgets, merged 2 h before now (no decay),
    // tagged, closing one issue that was open 30 days.
    let pr1 = pr_node(
        "Acme/Widgets",
        11,
        json!({
            "mergedAt": "2025-12-20T10:00:00Z", "createdAt": "2025-12-10T00:00:00Z",
            "bodyText": format!("Fixes the colour bug.\n\n{PR_TAGLINE}"),
            "closingIssuesReferences": {"nodes": [{
                "number": 5, "title": "colour", "state": "CLOSED", "author": {"login": "carol"},
                "createdAt": "2025-11-20T10:00:00Z", "closedAt": "2025-12-20T10:00:00Z"}]}
        }),
    );
    // src/lib.rs: 1 deletion + 8 additions = 9 changes. The first two lines
    // are a typo pair (colour -> color: distance 1) = 2 non-scoreable, the
    // comment = 1, six `fn` lines are scoreable: scored = 9 - 3 = 6.
    let lib_patch = "@@ -1,1 +1,8 @@\n-let colour = 1;\n+let color = 1;\n+fn a() {}\n+fn b() {}\n+fn c() {}\n+fn d() {}\n+fn e() {}\n+fn f() {}\n+// the six above";
    // tests/test_lib.rs: a test file, 4 code lines: scored 4.
    let test_patch = "@@ -0,0 +1,4 @@\n+#[test]\n+fn t() {\n+    assert!(true);\n+}";
    let files1 = vec![vec![
        file("src/lib.rs", 9, Some(lib_patch)),
        file("tests/test_lib.rs", 4, Some(test_patch)),
    ]];
    let m1 = evaluate(1, user(101), vec![pr1], &files1, &ctx);

    // uid 2: one PR to beta/gizmo merged 2 days before now; a README of 50
    // changes with no patch.
    let pr2 = pr_node("beta/gizmo", 7, json!({"mergedAt": "2025-12-18T12:00:00Z"}));
    let m2 = evaluate(
        2,
        user(202),
        vec![pr2],
        &[vec![file("README.md", 50, None)]],
        &ctx,
    );

    // uids 3 and 4: the same GitHub account (303); each would score.
    let pr3 = || pr_node("beta/gizmo", 8, json!({}));
    let big = || vec![vec![file("src/x.rs", 500, None)]];
    let m3 = evaluate(3, user(303), vec![pr3()], &big(), &ctx);
    let m4 = evaluate(4, user(303), vec![pr3()], &big(), &ctx);

    let mut evals = vec![
        MinerEvaluation::failed(0, "", "SPECIAL CASE UID 0 - RECYCLE UID"),
        m1,
        m2,
        m3,
        m4,
        MinerEvaluation::failed(5, "hotkey-5", "No Github PAT provided by miner 5"),
    ];

    // Per-PR values before the round (§7, §8).
    let p1 = &evals[1].pull_requests[0];
    // base = 2.0 * 1.0 * 6 + 2.0 * 0.05 * 4 = 12.0 + 0.4 = 12.4
    assert_eq!(p1.base_score, 12.4);
    assert_eq!(p1.total_lines_scored, 10);
    // issue: 30 days -> 1 + 0.9 * (0.1 + sqrt(30/45)) = 1 + 0.9 * 0.916497 = 1.824847 -> 1.82
    assert_eq!(p1.issue_multiplier, 1.82);
    assert_eq!(p1.gittensor_tag_multiplier, 2.0);
    assert_eq!(p1.time_decay_multiplier, 1.0);
    assert_eq!(p1.repo_weight_multiplier, 1.5);
    let p2 = &evals[2].pull_requests[0];
    // base = 0.1 * 50 = 5.0 (md is capped at 300, 50 is below)
    assert_eq!(p2.base_score, 5.0);
    // decay: d = 2 -> 1 / (1 + exp(0.9 * (2 - 4))) = 1 / (1 + 0.165299) = 0.858149 -> 0.86
    assert_eq!(p2.time_decay_multiplier, 0.86);
    assert_eq!(p2.repo_weight_multiplier, 0.5);

    let rewards = finish_round(&mut evals);

    // §9.1: uids 3 and 4 share account 303 and are emptied.
    for i in [3, 4] {
        assert_eq!(evals[i].github_id, "0");
        assert_eq!(evals[i].total_score, 0.0);
        assert!(evals[i].unique_repos_contributed_to.is_empty());
    }
    // §9.2: contributors = 2 (uids 1, 2), each repository has 1:
    // uniqueness = 1 + 0.4 * (2 - 1 + 1) / 2 = 1.4
    // earned1 = 12.4 * 1.5 * 1.82 * 1.0 * 1.4 * 1.0 * 2.0 * 1.0 = 94.7856
    // earned2 = 5.0 * 0.5 * 1.0 * 1.0 * 1.4 * 0.86 * 1.0 * 1.0 = 3.01
    close(evals[1].total_score, 94.7856);
    close(evals[2].total_score, 3.01);
    // §9.3: sum = 97.7956; r1 = 0.969222, r2 = 0.030778.
    // §9.4: lines = 10 + 50 = 60, repos = 2;
    // unlock(60, 0.9, 1e-5) = 0.1 + 0.9 * (1 - exp(-0.0006)) = 0.10053984
    // unlock(2, 0.9, 0.02)  = 0.1 + 0.9 * (1 - exp(-0.04))   = 0.13528953
    // scalar = 0.11791467
    // final: r1 * scalar = 0.11428544, r2 * scalar = 0.00362923,
    // uid 0 = 1 * (1 - scalar) = 0.88208533.
    close(rewards[&1], 0.114_285_436_944_292_91);
    close(rewards[&2], 0.003_629_234_453_359_177_7);
    close(rewards[&0], 0.882_085_328_602_347_8);
    for uid in [3, 4, 5] {
        assert_eq!(rewards[&uid], 0.0);
    }
    close(rewards.values().sum(), 1.0);
}

fn close(got: f64, expected: f64) {
    assert!(
        (got - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "got {got}, expected {expected}"
    );
}
