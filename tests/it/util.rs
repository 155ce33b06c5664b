//! Builders of GitHub-shaped JSON shared by the tests.

use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

pub const NOW: OffsetDateTime = datetime!(2025-12-20 12:00:00 UTC);

/// Merges `patch` into `base`, object by object (null replaces).
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(&k) {
                    Some(slot) if v.is_object() && slot.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, p) => *b = p,
    }
}

/// A merged PR from a fork into `main` of `repo`, by `alice`, merged one hour
/// before NOW, with `overrides` merged in.
pub fn pr_node(repo: &str, number: u64, overrides: Value) -> Value {
    let (owner, name) = repo.split_once('/').unwrap();
    let mut node = json!({
        "title": format!("PR {number}"), "number": number, "additions": 10, "deletions": 2,
        "mergedAt": "2025-12-20T11:00:00Z", "createdAt": "2025-12-15T00:00:00Z",
        "closedAt": "2025-12-20T11:00:00Z", "lastEditedAt": null, "bodyText": "A change.",
        "state": "MERGED", "commits": {"totalCount": 1},
        "repository": {"name": name, "owner": {"login": owner}, "defaultBranchRef": {"name": "main"}},
        "headRepository": {"name": name, "owner": {"login": "alice"}},
        "baseRefName": "main", "headRefName": "feature",
        "author": {"login": "alice"}, "authorAssociation": "CONTRIBUTOR",
        "mergedBy": {"login": "maintainer"},
        "closingIssuesReferences": {"nodes": []},
        "reviews": {"nodes": []}
    });
    merge(&mut node, overrides);
    node
}

/// A GraphQL answer holding one page of pull requests.
pub fn page(nodes: Vec<Value>, next: Option<&str>) -> Value {
    json!({"data": {"node": {"pullRequests": {
        "pageInfo": {"hasNextPage": next.is_some(), "endCursor": next},
        "nodes": nodes
    }}}})
}

/// A patch of `n` added code lines.
pub fn code_lines(n: usize) -> String {
    let mut s = String::from("@@ -0,0 +1 @@");
    for i in 0..n {
        s.push_str(&format!("\n+let v{i} = compute({i});"));
    }
    s
}
