//! What `deploy/` ships, checked against the code: the Grafana dashboard
//! and the Prometheus alert rules query only metrics that `/metrics` really
//! exports, and the build's commit is what `--version`, `/healthz` and
//! `gittensor_build_info` say. (The systemd unit, the pm2 script and the
//! rules' syntax are checked by `scripts/check-deploy.sh`, which needs
//! `systemd-analyze` and `promtool`.)

use std::collections::BTreeSet;

use gittensor_validator::health::Board;
use serde_json::Value;

/// The sample names `/metrics` exports (`gittensor_rounds_total`, ...).
fn exported() -> BTreeSet<String> {
    Board::new()
        .metrics_text()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split([' ', '{']).next())
        .map(str::to_string)
        .collect()
}

/// Every `gittensor_...` name in a query.
fn names_in(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("gittensor_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

fn exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr" | "query", Value::String(s)) => out.push(s.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| exprs(i, out)),
        _ => {}
    }
}

#[test]
fn every_dashboard_query_names_a_metric_that_metrics_exports() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queries = Vec::new();
    exprs(&dashboard, &mut queries);
    assert!(queries.len() >= 10, "{queries:?}");
    let exported = exported();
    let mut used = BTreeSet::new();
    for q in &queries {
        for name in names_in(q) {
            assert!(
                exported.contains(&name),
                "{q}: {name} is not exported; /metrics has {exported:?}"
            );
            used.insert(name);
        }
    }
    // The operator's two questions have a panel each.
    assert!(
        used.contains("gittensor_ready") && used.contains("gittensor_alive"),
        "{used:?}"
    );
    assert!(
        used.contains("gittensor_rounds_discarded_total"),
        "{used:?}"
    );
}

#[test]
fn the_check_sees_a_metric_that_does_not_exist() {
    let exported = exported();
    assert!(exported.contains("gittensor_rounds_total"), "{exported:?}");
    assert!(
        !exported.contains("gittensor_rounds"),
        "counters are exported with _total"
    );
    assert_eq!(
        names_in("rate(gittensor_github_requests_total{job=~\"x\"}[1h])"),
        vec!["gittensor_github_requests_total"]
    );
}

#[test]
fn every_alert_rule_names_a_metric_that_metrics_exports() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/prometheus-alerts.yml");
    let rules = std::fs::read_to_string(path).unwrap();
    let exprs: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .collect();
    assert!(exprs.len() >= 5, "{exprs:?}");
    let exported = exported();
    let mut used = BTreeSet::new();
    for e in &exprs {
        for name in names_in(e) {
            assert!(
                exported.contains(&name),
                "{e}: {name} is not exported; /metrics has {exported:?}"
            );
            used.insert(name);
        }
    }
    for name in [
        "gittensor_ready",
        "gittensor_weights_submitted_total",
        "gittensor_predicted_trust",
    ] {
        assert!(used.contains(name), "{name}: {used:?}");
    }
}

#[test]
fn metrics_healthz_and_version_carry_the_commit() {
    use gittensor_validator::health::COMMIT;
    let board = Board::new();
    assert!(
        board.metrics_text().contains(&format!(
            "gittensor_build_info{{version=\"{}\",commit=\"{COMMIT}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        board.metrics_text()
    );
    assert_eq!(board.status().commit, COMMIT);
    let out = std::process::Command::new(crate::cli::BIN)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(version.contains(&format!("(commit {COMMIT})")), "{version}");
    // Built from a git checkout (CI clones one): the commit is HEAD's.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(head) = head {
        assert_eq!(COMMIT, String::from_utf8_lossy(&head.stdout).trim());
    }
}

/// The repository's own paths in a document: backticked names under its
/// folders, and its top-level documents; not upstream's (a name right after
/// "upstream's").
fn repo_paths(text: &str) -> BTreeSet<String> {
    let roots = [
        "deploy/", "scripts/", "docs/", "sample/", "tests/", "src/", ".ci/",
    ];
    let pieces: Vec<&str> = text.split('`').collect();
    pieces
        .iter()
        .enumerate()
        .skip(1)
        .step_by(2)
        .filter(|(i, _)| !pieces[i - 1].ends_with("upstream's "))
        .flat_map(|(_, code)| code.split_whitespace())
        .map(|w| w.trim_end_matches([',', ')', ';', ':']))
        .filter(|w| {
            roots.iter().any(|r| w.starts_with(r)) || (w.ends_with(".md") && !w.contains('/'))
        })
        .map(|w| w.split(['[', '<']).next().unwrap_or(w).to_string())
        .collect()
}

#[test]
fn every_file_the_readme_names_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["README.md", "TESTING.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let named = repo_paths(&text);
        assert!(named.contains("docs/SCORING.md"), "{doc}: {named:?}");
        for path in &named {
            assert!(
                root.join(path).exists(),
                "{doc} names {path}, which is not in the repository"
            );
        }
    }
    let seen = repo_paths("see `SCORING.md`, `deploy/x.sh` and upstream's `scripts/y.sh`");
    assert_eq!(
        seen,
        BTreeSet::from(["SCORING.md".into(), "deploy/x.sh".into()])
    );
}
