#!/usr/bin/env python3
"""Writes a GitHub replay snapshot (README: "Record and replay a round") in
which each PAT given is an old enough account with one merged PR to
acme/widgets of a different size, so every miner earns a different reward.

Usage: snapshot.py OUT PAT...
"""
import json
import sys

out, pats = sys.argv[1], sys.argv[2:]
snap = {"users": {}, "pull_requests": {}, "files": {}}
for i, pat in enumerate(pats, 1):
    uid = 9000 + i
    snap["users"][pat] = {"login": f"dev{i}", "id": uid, "created_at": "2019-01-01T00:00:00Z"}
    snap["pull_requests"][str(uid)] = [{
        "title": f"PR {i}", "number": i, "additions": 10, "deletions": 2,
        "mergedAt": "2025-12-20T11:00:00Z", "createdAt": "2025-12-15T00:00:00Z",
        "closedAt": "2025-12-20T11:00:00Z", "lastEditedAt": None, "bodyText": "A change.",
        "state": "MERGED", "commits": {"totalCount": 1},
        "repository": {"name": "widgets", "owner": {"login": "acme"}, "defaultBranchRef": {"name": "main"}},
        "headRepository": {"name": "widgets", "owner": {"login": f"dev{i}"}},
        "baseRefName": "main", "headRefName": "feature",
        "author": {"login": f"dev{i}"}, "authorAssociation": "CONTRIBUTOR",
        "mergedBy": {"login": "maintainer"}, "closingIssuesReferences": {"nodes": []},
        "reviews": {"nodes": []}}]
    snap["files"][f"acme/widgets#{i}"] = [{"filename": "src/a.rs", "status": "modified",
        "additions": 10 * i * i, "deletions": 0, "changes": 10 * i * i, "patch": None}]
json.dump(snap, open(out, "w"))
