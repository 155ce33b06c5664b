"""The rounds of the results-database goldens, in our input formats: each
case is a list of rounds applied in order to one fresh database; a round is
{snapshot, miners, repositories, languages, now} as `score --replay`
takes them (README "Record and replay a round"). Tokens are placeholders.
"""
import copy
import json
import os

NOW = "2025-12-20T12:00:00Z"

REPOSITORIES = {
    "acme/widgets": {"weight": 1.2, "inactiveAt": None},
    "RustLang-Demo/Parser": {"weight": 0.8, "additional_acceptable_branches": ["release/*"]},
    "oldorg/legacy": {"weight": 0.5, "inactiveAt": "2025-12-10T00:00:00Z"},
    "beta/gizmo": {"weight": 0.37},
}
LANGUAGES = {"rs": 1.8, "py": 1.5, "ts": 1.2, "md": 0.1, "json": 0.05, "lock": 0.0}


def user(login, uid, created="2019-01-01T00:00:00Z"):
    u = {"login": login, "id": uid}
    if created is not None:
        u["created_at"] = created
    return u


def pr(repo, number, author, **kw):
    owner, name = repo.split("/")
    node = {
        "title": f"PR {number}", "number": number, "additions": 10, "deletions": 2,
        "mergedAt": "2025-12-20T10:00:00Z", "createdAt": "2025-12-15T00:00:00Z",
        "closedAt": "2025-12-20T10:00:00Z", "lastEditedAt": None, "bodyText": "A change.",
        "state": "MERGED", "commits": {"totalCount": 1},
        "repository": {"name": name, "owner": {"login": owner}, "defaultBranchRef": {"name": "main"}},
        "headRepository": {"name": name, "owner": {"login": author}},
        "baseRefName": "main", "headRefName": "feature",
        "author": {"login": author}, "authorAssociation": "CONTRIBUTOR",
        "mergedBy": {"login": "maintainer"}, "closingIssuesReferences": {"nodes": []},
        "reviews": {"nodes": []},
    }
    node.update(kw)
    return node


def issue(number, author="reporter", state="CLOSED", created="2025-11-01T00:00:00Z",
          closed="2025-12-20T10:00:00Z", title=None):
    return {"number": number, "title": title or f"Issue {number}", "state": state, "createdAt": created,
            "closedAt": closed, "author": {"login": author} if author else None}


def rs_file(path, lines, status="modified"):
    body = "".join(f"\n+let v{i} = compute({i});" for i in range(lines))
    return {"filename": path, "status": status, "additions": lines, "deletions": 0, "changes": lines,
            "patch": f"@@ -1,0 +1,{lines} @@" + body}


def miner(uid, hotkey, token):
    m = {"uid": uid, "hotkey": hotkey}
    m["github_access_token"] = token
    return m


def rnd(snapshot, miners, now=NOW):
    return {"snapshot": snapshot, "miners": miners, "repositories": REPOSITORIES, "languages": LANGUAGES,
            "now": now}


def hk(name):
    return ("5Hk" + name + "0" * 48)[:48]


def sample_round(repo_root):
    def load(n):
        with open(os.path.join(repo_root, "sample", n)) as f:
            return json.load(f)
    return {"snapshot": load("snapshot.json"), "miners": load("miners.json"),
            "repositories": load("repositories.json"), "languages": load("languages.json"), "now": NOW}


def failures():
    """Every way a miner fails, beside one that earns with a PR whose files
    GitHub does not give (stored with the defaults) and files without a
    patch or an extension."""
    snap = {"users": {
        "tok-good": user("good-dev", 2001),
        "tok-young": user("young-dev", 2002, created="2025-10-01T00:00:00Z"),
        "tok-noage": user("noage-dev", 2003, created=None),
        "tok-today": user("today-dev", 2004, created="2025-12-20T01:00:00Z"),
    }, "pull_requests": {
        "2001": [
            pr("acme/widgets", 101, "good-dev", title="Add the \"quoted\" widget — ünïcode ✓",
               bodyText="Adds it.\n\nLine two with 'quotes' and \\ backslash.\n\n"
                        "Contribution by Gittensor, learn more at https://gittensor.io/"),
            pr("acme/widgets", 102, "good-dev", title="Files GitHub lost", mergedAt="2025-12-19T08:00:00Z",
               closedAt="2025-12-19T08:00:00Z", lastEditedAt="2025-12-19T07:00:00Z"),
            pr("acme/widgets", 103, "good-dev", state="OPEN", mergedAt=None, closedAt=None),
            pr("acme/widgets", 104, "good-dev", state="CLOSED", mergedAt=None, closedAt="2025-12-18T00:00:00Z"),
        ],
        "2002": [pr("acme/widgets", 110, "young-dev")],
    }, "files": {
        "acme/widgets#101": [
            rs_file("src/widget.rs", 12),
            {"filename": "assets/icon.png", "status": "added", "additions": 0, "deletions": 0, "changes": 0},
            {"filename": "Makefile", "status": "modified", "additions": 3, "deletions": 1, "changes": 4,
             "patch": "@@ -1,1 +1,3 @@\n-all:\n+all: build\n+build:\n+\tcargo build"},
            {"filename": "docs/Old Name.MD", "status": "renamed", "additions": 0, "deletions": 0,
             "changes": 0, "patch": None},
            rs_file("src/gone.rs", 0, status="removed"),
        ],
        "acme/widgets#110": [rs_file("src/young.rs", 5)],
    }}
    miners = [
        miner(0, hk("Recycle"), None),
        miner(1, hk("Good"), "tok-good"),
        {"uid": 2},  # did not respond
        miner(3, hk("NoPat"), None),
        miner(4, hk("EmptyPat"), ""),
        miner(5, hk("Revoked"), "tok-revoked"),  # /user answers 401
        miner(6, hk("Young"), "tok-young"),
        miner(7, hk("NoAge"), "tok-noage"),
        miner(8, hk("Today"), "tok-today"),
    ]
    return [rnd(snap, miners)]


def duplicates():
    """Two uids with one PAT, two PATs of one account (all emptied), and one
    pull request listed by two accounts: it is stored for each in turn."""
    shared = pr("beta/gizmo", 7, "pair-a", title="Shared work",
                closingIssuesReferences={"nodes": [issue(5, created="2025-12-01T00:00:00Z")]})
    snap = {"users": {
        "tok-twice": user("twice-dev", 3001),
        "tok-alt-1": user("alt-dev", 3002),
        "tok-alt-2": user("alt-dev", 3002),
        "tok-pair-a": user("pair-a", 3003),
        "tok-pair-b": user("pair-b", 3004),
        "tok-solo": user("solo-dev", 3005),
    }, "pull_requests": {
        "3001": [pr("acme/widgets", 300, "twice-dev")],
        "3002": [pr("acme/widgets", 301, "alt-dev")],
        "3003": [shared, pr("acme/widgets", 302, "pair-a")],
        "3004": [dict(copy.deepcopy(shared), author={"login": "pair-b"})],
        "3005": [pr("RustLang-Demo/Parser", 40, "solo-dev", baseRefName="release/2.0")],
    }, "files": {
        "acme/widgets#300": [rs_file("src/a.rs", 10)],
        "acme/widgets#301": [rs_file("src/b.rs", 20)],
        "acme/widgets#302": [rs_file("src/c.rs", 7)],
        "beta/gizmo#7": [rs_file("src/shared.rs", 30), rs_file("tests/shared_test.rs", 9)],
        "RustLang-Demo/Parser#40": [rs_file("src/solo.rs", 15)],
    }}
    miners = [
        miner(0, hk("Recycle"), None),
        miner(1, hk("TwiceA"), "tok-twice"),
        miner(2, hk("TwiceB"), "tok-twice"),
        miner(3, hk("Alt1"), "tok-alt-1"),
        miner(4, hk("Alt2"), "tok-alt-2"),
        miner(5, hk("PairA"), "tok-pair-a"),
        miner(6, hk("PairB"), "tok-pair-b"),
        miner(7, hk("Solo"), "tok-solo"),
    ]
    return [rnd(snap, miners)]


def closed_issues():
    """Pull requests closing issues: valid ones (at most two scored), one by
    the PR's author, one opened after the PR, one closed too far from the
    merge, an open one and one without closedAt (neither stored), one
    without author, a PR edited after its merge, and one issue closed by
    two PRs (stored once, for the first)."""
    snap = {"users": {"tok-iss": user("iss-dev", 4001), "tok-other": user("other-dev", 4002)},
            "pull_requests": {
        "4001": [
            pr("acme/widgets", 200, "iss-dev", closingIssuesReferences={"nodes": [
                issue(150, created="2025-10-01T00:00:00Z"),
                issue(151, created="2025-12-10T00:00:00Z", title="Crash on \"empty\" input"),
                issue(152, created="2025-12-14T00:00:00Z"),
                issue(153, author="iss-dev"),
                issue(154, state="OPEN", closed=None),
                issue(155, closed=None),
            ]}),
            pr("acme/widgets", 201, "iss-dev", createdAt="2025-12-16T00:00:00Z", closingIssuesReferences={"nodes": [
                issue(156, created="2025-12-17T00:00:00Z"),
                issue(157, closed="2025-12-10T00:00:00Z"),
                issue(158, author=None),
            ]}),
            pr("acme/widgets", 202, "iss-dev", lastEditedAt="2025-12-20T11:00:00Z",
               closingIssuesReferences={"nodes": [issue(159)]}),
        ],
        "4002": [
            pr("acme/widgets", 210, "other-dev", closingIssuesReferences={"nodes": [issue(150)]}),
        ],
    }, "files": {
        "acme/widgets#200": [rs_file("src/fix.rs", 8)],
        "acme/widgets#201": [rs_file("src/fix2.rs", 6)],
        "acme/widgets#202": [rs_file("src/fix3.rs", 4)],
        "acme/widgets#210": [rs_file("src/other.rs", 11)],
    }}
    miners = [miner(0, hk("Recycle"), None), miner(1, hk("Issues"), "tok-iss"), miner(2, hk("Other"), "tok-other")]
    return [rnd(snap, miners)]


def many_files():
    """A pull request of 45 files (2.0.7 reads the first page of 30), long
    and odd file names, a mitigated extension over its cap, a test file."""
    files = [rs_file(f"src/module_{i:02d}/mod.rs", 3 + i % 5) for i in range(40)]
    files += [
        {"filename": "docs/" + "very-long-name-" * 20 + ".md", "status": "added", "additions": 400,
         "deletions": 0, "changes": 400, "patch": "@@ -0,0 +1,400 @@" + "\n+text line" * 400},
        rs_file("tests/module_test.rs", 25),
        rs_file("src/ünï/çødé.rs", 4),
        {"filename": "data/config.JSON", "status": "modified", "additions": 5, "deletions": 5, "changes": 10,
         "patch": "@@ -1,5 +1,5 @@" + "\n-\"a\": 1\n+\"a\": 2" * 5},
        rs_file("lib/x.tar.gz.rs", 2),
    ]
    snap = {"users": {"tok-big": user("big-dev", 5001), "tok-small": user("small-dev", 5002)},
            "pull_requests": {
        "5001": [pr("acme/widgets", 500, "big-dev", additions=2000, deletions=300,
                    commits={"totalCount": 57})],
        "5002": [pr("RustLang-Demo/Parser", 501, "small-dev", mergedAt="2025-12-12T00:00:00Z",
                    closedAt="2025-12-12T00:00:00Z")],
    }, "files": {
        "acme/widgets#500": files,
        # An extension longer than file_extension's VARCHAR(50): 2.0.7's
        # insert of this PR's files fails as a whole; the PR row stays.
        "RustLang-Demo/Parser#501": [rs_file("src/p.rs", 9), rs_file("notes." + "x" * 60, 2)],
    }}
    miners = [miner(0, hk("Recycle"), None), miner(1, hk("Big"), "tok-big"), miner(2, hk("Small"), "tok-small")]
    return [rnd(snap, miners)]


def two_rounds():
    """The same miners a day apart, on one database: what each conflict
    updates and what it keeps. In round 2 a PR is edited (title: kept;
    description and lastEditedAt: updated), its files change (kept), a
    miner moves to a new hotkey (new miner and evaluation rows, the old
    ones stay), one loses its PAT (a new row under github_id "0"), and a
    PR moves to another uid."""
    moved = pr("acme/widgets", 602, "mover", title="Moves")
    r1 = {"users": {"tok-edit": user("edit-dev", 6001), "tok-hop": user("hop-dev", 6002),
                    "tok-lose": user("lose-dev", 6003), "tok-mover": user("mover", 6004)},
          "pull_requests": {
        "6001": [pr("acme/widgets", 600, "edit-dev", title="First title", bodyText="First body.",
                    closingIssuesReferences={"nodes": [issue(590, created="2025-11-20T00:00:00Z")]})],
        "6002": [pr("beta/gizmo", 601, "hop-dev")],
        "6003": [pr("RustLang-Demo/Parser", 610, "lose-dev")],
        "6004": [moved],
    }, "files": {
        "acme/widgets#600": [rs_file("src/edit.rs", 10)],
        "beta/gizmo#601": [rs_file("src/hop.rs", 20)],
        "RustLang-Demo/Parser#610": [rs_file("src/lose.rs", 5)],
        "acme/widgets#602": [rs_file("src/move.rs", 3)],
    }}
    m1 = [miner(0, hk("Recycle"), None), miner(1, hk("Edit"), "tok-edit"), miner(2, hk("HopOld"), "tok-hop"),
          miner(3, hk("Lose"), "tok-lose"), miner(4, hk("Mover"), "tok-mover"), miner(5, hk("Taker"), None)]
    r2 = copy.deepcopy(r1)
    r2["users"]["tok-taker"] = user("taker", 6005)
    r2["pull_requests"]["6001"][0].update(title="Second title", bodyText="Second body.",
                                          lastEditedAt="2025-12-20T13:00:00Z")
    r2["pull_requests"]["6005"] = [dict(copy.deepcopy(moved), author={"login": "taker"})]
    del r2["pull_requests"]["6004"]
    r2["files"]["acme/widgets#600"] = [rs_file("src/edit.rs", 14), rs_file("src/edit2.rs", 2)]
    m2 = copy.deepcopy(m1)
    m2[2]["hotkey"] = hk("HopNew")
    m2[3]["github_access_token"] = None
    m2[5]["github_access_token"] = "tok-taker"
    return [rnd(r1, m1), rnd(r2, m2, now="2025-12-21T12:00:00Z")]


def page_overlap():
    """A pull request listed twice by one miner's GraphQL pages (a PR opened
    between two page requests shifts the next page by one, as GitHub's
    created-at order does): 2.0.7 scores it twice, and its one multi-row
    upsert of that miner's PRs fails as a whole ("ON CONFLICT DO UPDATE
    command cannot affect row a second time"), so that miner's PRs, issues
    and files are not stored; its miner and evaluation rows are, and the
    other miners' rows too."""
    twice = pr("acme/widgets", 5, "page-dev", closingIssuesReferences={"nodes": [issue(4)]})
    snap = {"users": {"tok-page": user("page-dev", 8001), "tok-next": user("next-dev", 8002)},
            "pull_requests": {
        "8001": [twice, pr("acme/widgets", 6, "page-dev"), copy.deepcopy(twice)],
        "8002": [pr("beta/gizmo", 9, "next-dev")],
    }, "files": {
        "acme/widgets#5": [rs_file("src/d.rs", 10)],
        "acme/widgets#6": [rs_file("src/e.rs", 4)],
        "beta/gizmo#9": [rs_file("src/g.rs", 6)],
    }}
    miners = [miner(0, hk("Recycle"), None), miner(1, hk("Page"), "tok-page"), miner(2, hk("Next"), "tok-next")]
    return [rnd(snap, miners)]


def cases(repo_root):
    return {
        "sample": [sample_round(repo_root)],
        "failures": failures(),
        "duplicates": duplicates(),
        "closed-issues": closed_issues(),
        "many-files": many_files(),
        "two-rounds": two_rounds(),
        "page-overlap": page_overlap(),
    }
