//! Prints every request the GitHub client sends for one miner, one JSON
//! object a line (`method`, `path`, `body`), with the token left out:
//! `/user`, the GraphQL search over two pages (so the cursor is set), and
//! `/files` as release 2.0.7 reads it and with every page. The requests go
//! to the local GitHub-shaped server; `scripts/check-github-schema.sh`
//! checks them against GitHub's published GraphQL schema and REST
//! description.
//!
//! ```text
//! cargo run --example github_requests > requests.jsonl
//! ```

use std::time::Duration;

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::{Client, ClientConfig};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::{MasterRepositories, PrCollector};
use gittensor_validator::testkit::fakehub::FakeHub;
use gittensor_validator::token::Token;
use serde_json::{json, Value};
use time::macros::datetime;

fn pr(number: u64) -> Value {
    json!({
        "title": format!("PR {number}"), "number": number, "additions": 10, "deletions": 2,
        "mergedAt": "2025-12-19T11:00:00Z", "createdAt": "2025-12-15T00:00:00Z",
        "closedAt": "2025-12-19T11:00:00Z", "lastEditedAt": null, "bodyText": "A change.",
        "state": "MERGED", "commits": {"totalCount": 1},
        "repository": {"name": "widgets", "owner": {"login": "acme"}, "defaultBranchRef": {"name": "main"}},
        "headRepository": {"name": "widgets", "owner": {"login": "alice"}},
        "baseRefName": "main", "headRefName": "feature",
        "author": {"login": "alice"}, "authorAssociation": "CONTRIBUTOR",
        "mergedBy": {"login": "maintainer"},
        "closingIssuesReferences": {"nodes": []}, "reviews": {"nodes": []}
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut snap = Snapshot::default();
    snap.users.insert(
        "placeholder-token".into(),
        json!({"login": "alice", "id": 7, "created_at": "2019-01-01T00:00:00Z"}),
    );
    // Over one page of 100, so the second page is asked with a cursor.
    snap.pull_requests
        .insert("7".into(), (1..=150).map(pr).collect());
    let files: Vec<Value> = (0..120)
        .map(|i| json!({"filename": format!("src/f{i}.rs"), "status": "modified", "additions": 1, "deletions": 0, "changes": 1, "patch": "@@ -1 +1 @@\n+x"}))
        .collect();
    snap.files.insert("acme/widgets#1".into(), files);
    let hub = FakeHub::start(snap, Duration::ZERO, None)?;
    hub.set_recording(true);

    let token = Token::new("placeholder-token").ok_or("bad token")?;
    let cancel = Cancel::new();
    let repos = MasterRepositories::parse(r#"{"acme/widgets": {"weight": 1.0}}"#, "example")?;
    let client = Client::new(ClientConfig::builder().base_url(hub.url()).build());
    let user = client.user(&token, &cancel)?;
    let id = user.id.ok_or("no id")?.to_string();
    let mut collector = PrCollector::new(&repos, datetime!(2025-12-20 12:00 UTC));
    client.collect_pull_requests(&token, &id, &mut collector, &cancel, &mut |_| {})?;
    client.pull_request_files(&token, "acme/widgets", 1, &cancel)?;
    let all_pages = Client::new(
        ClientConfig::builder()
            .base_url(hub.url())
            .all_file_pages(true)
            .build(),
    );
    all_pages.pull_request_files(&token, "acme/widgets", 1, &cancel)?;

    for r in hub.requests() {
        let line = json!({
            "method": r.method,
            "path": r.path,
            "body": r.body,
            "api_version": r.api_version,
        });
        println!("{line}");
    }
    Ok(())
}
