"""Random rounds (seeded) that reach every scoring rule, in our input formats.

    round_for(seed) -> {snapshot, miners, repositories, languages, now}

Used by scoring_goldens.py: each round is scored by gittensor 2.0.7's own
get_rewards and the result kept as a golden for `score`.
"""
import random
from datetime import datetime, timedelta, timezone

LANGUAGES = {"rs": 1.8, "py": 1.5, "ts": 1.2, "js": 1.1, "go": 1.3, "c": 1.6, "h": 1.0, "md": 0.1,
             "json": 0.05, "txt": 0.07, "lock": 0.0, "yml": 0.3}
EXTS = list(LANGUAGES) + ["java", "cpp", "sh", "toml", "RS", "Py", "gz", ""]
TAGLINE = "Contribution by Gittensor, learn more at https://gittensor.io/"
MERGE_RATIO_DATE = datetime(2025, 12, 4, 18, 0, 0, tzinfo=timezone.utc)


def iso(dt, frac=False):
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        s += ".%03d" % (dt.microsecond // 1000)
    return s + "Z"


def patch_lines(rng, ext, n):
    out = []
    comment_styles = ["// note", "# remark", "/* block */", " * more", " */", "-- sql", "<!-- html -->",
                      "% tex", "; lisp", '"""doc', "'''doc"]
    while len(out) < n:
        k = rng.random()
        i = len(out)
        if k < 0.45:
            out.append(f"+let value_{i} = compute({rng.randint(0, 99)}, \"s{i}\");")
        elif k < 0.52:
            out.append(rng.choice(["+", "+   ", "+\t"]))
        elif k < 0.62:
            out.append("+" + rng.choice(["", "    "]) + rng.choice(comment_styles))
        elif k < 0.66:
            out.append("+#include <lib_%d.h>" % i)
        elif k < 0.74:
            word = rng.choice(["receive", "separate", "definitely", "occurrence", "widget", "config"])
            typo = word[:2] + word[3] + word[2] + word[4:]
            out += [f"-let {typo} = {i};", f"+let {word} = {i};"]
        elif k < 0.78:
            out += [f"-foo(a_{i}, b)", f"+completely_different_call({i})"]
        elif k < 0.84:
            out.append(f"-removed_line_{i}();")
        elif k < 0.88:
            out.append(f" context line {i}")
        elif k < 0.90:
            out.append(rng.choice(["++double plus", "--double minus", "+++ b/file", "--- a/file"]))
        elif k < 0.92:
            out.append(f"@@ -{i},3 +{i},4 @@ fn x()")
        elif k < 0.94:
            out.append(f"+ünïcödé_{i} = \"✓\"")
        else:
            out.append(f"+    return helper_{i}(x) + {i}")
    return out


def filename(rng, i):
    ext = rng.choice(EXTS)
    base = rng.choice(["src/mod_%d" % i, "lib/util_%d" % i, "tests/case_%d" % i, "src/__tests__/t%d" % i,
                       "pkg/test_thing_%d" % i, "pkg/thing_%d_test" % i, "web/comp_%d.spec" % i,
                       "web/comp_%d.test" % i, "docs/page_%d" % i, "Makefile_%d" % i, "a/b/c/deep_%d" % i,
                       "spec_runner_%d" % i, "conf/.hidden_%d" % i])
    return base + ("." + ext if ext else "")


def files_for(rng, pr_number, compact):
    if compact:
        n = rng.choice([0, 1, 1, 2, 3, 5, 8, 31])
    else:
        n = rng.choice([0, 1, 1, 2, 3, 5, 8, 12, 31, 40]) if rng.random() < 0.95 else rng.randint(60, 110)
    files = []
    for i in range(n):
        name = filename(rng, i)
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        k = rng.random()
        if k < 0.08:
            files.append({"filename": name, "status": "modified", "additions": 0, "deletions": 0,
                          "changes": rng.choice([0, 0, 12]), "patch": None} if rng.random() < 0.5 else
                         {"filename": name, "status": "added", "additions": 0, "deletions": 0, "changes": 0})
            continue
        sizes = [1, 3, 6, 12] if compact else [1, 3, 10, 40, 150, 420]
        lines = patch_lines(rng, ext, rng.choice(sizes))
        adds = sum(1 for x in lines if x.startswith("+") and not x.startswith("++"))
        dels = sum(1 for x in lines if x.startswith("-") and not x.startswith("--"))
        changes = adds + dels
        if rng.random() < 0.15:
            changes += rng.randint(1, 500)  # a patch GitHub truncated
        patch = f"@@ -1,{dels} +1,{adds} @@\n" + "\n".join(lines)
        files.append({"filename": name, "status": rng.choice(["modified", "added", "removed", "renamed"]),
                      "additions": adds, "deletions": dels, "changes": changes, "patch": patch})
    return files


def round_for(seed, compact=False):
    """compact: small patches and file lists, so a round fits in a few tens
    of kB (the committed goldens); otherwise sizes as large as real rounds."""
    rng = random.Random(seed)
    now = datetime(2025, 12, 5, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 40 * 86400))
    repos = {}
    repo_names = ["acme/widgets", "RustLang-Demo/Parser", "beta/gizmo", "Old-Org/Legacy", "zeta/Tools",
                  "entrius/gittensor", "gamma/lib"]
    for name in repo_names:
        meta = {"weight": round(rng.choice([0.01, 0.05, 0.37, 0.5, 1.0, 1.25, 2.5, 7.77]), 2)}
        if rng.random() < 0.3:
            inactive = now - timedelta(seconds=rng.randint(0, 20 * 86400))
            meta["inactiveAt"] = iso(inactive, frac=rng.random() < 0.5)
        elif rng.random() < 0.3:
            meta["inactiveAt"] = None
        if rng.random() < 0.35:
            meta["additional_acceptable_branches"] = rng.choice([["release/*"], ["dev", "*-stable"], ["staging"]])
        repos[name if rng.random() < 0.7 else name.upper()] = meta
    snapshot = {"users": {}, "pull_requests": {}, "files": {}}
    miners = [{"uid": 0, "hotkey": "5Recycle" + "0" * 40, "github_access_token": None}]
    n = rng.randint(4, 12)
    tokens = []
    for uid in range(1, n):
        kind = rng.random()
        hotkey = f"5Hk{seed}x{uid}".ljust(48, "0")
        if kind < 0.06:
            miners.append({"uid": uid})
            continue
        if kind < 0.10:
            miners.append({"uid": uid, "hotkey": hotkey, "github_access_token": None})
            continue
        if kind < 0.14:
            miners.append({"uid": uid, "hotkey": hotkey, "github_access_token": f"revoked-{seed}-{uid}"})
            continue
        if kind < 0.20 and tokens:
            miners.append({"uid": uid, "hotkey": hotkey, "github_access_token": rng.choice(tokens)})
            continue
        token = f"tok-{seed}-{uid}"
        tokens.append(token)
        miners.append({"uid": uid, "hotkey": hotkey, "github_access_token": token})
        gid = 100000 + seed * 100 + uid
        if rng.random() < 0.05 and len(tokens) > 1:
            gid = 100000 + seed * 100 + 1  # another PAT of an account already seen
        login = f"dev{gid}"
        age = rng.choice([3000, 3000, 1000, 1000, 400, 400, 181, 180, 179, 30, 0])
        created = now - timedelta(days=age, seconds=rng.randint(0, 86399))
        user = {"login": login, "id": gid}
        if rng.random() > 0.03:
            user["created_at"] = iso(created)
        snapshot["users"][token] = user
        prs = []
        paged = rng.random() >= 0.93
        if compact:
            # Past one GraphQL page (100) only for one miner of every 7th seed.
            paged = seed % 7 == 0 and uid == 1
        count = rng.randint(101, 130) if paged else rng.choice([0, 1, 2, 3, 5, 8, 13, 20])
        for j in range(count):
            number = rng.randint(1, 400)
            repo = rng.choice(repo_names + ["somewhere/unlisted"])
            owner, name = repo.split("/")
            if rng.random() < 0.2:
                owner, name = owner.lower(), name.lower()
            created_at = now - timedelta(seconds=rng.randint(0, 45 * 86400))
            state = rng.choices(["MERGED", "OPEN", "CLOSED"], [0.7, 0.15, 0.15])[0]
            merged = closed = None
            if state == "MERGED":
                merged = min(now, created_at + timedelta(seconds=rng.randint(60, 6 * 86400)))
                closed = merged
            elif state == "CLOSED":
                closed = min(now, created_at + timedelta(seconds=rng.randint(60, 6 * 86400)))
            author = login
            merged_by = rng.choice(["maintainer", "maintainer", author, None]) if merged else None
            reviews = []
            if rng.random() < 0.3:
                reviews = [{"author": {"login": rng.choice([author, "reviewer", "other"])}}]
                if rng.random() < 0.2:
                    reviews.append({"author": None})
            body = rng.choice(["Small fix.", "", "Fixes things.\n\n" + TAGLINE, "x" * 50 + "\n" + TAGLINE + ".",
                               TAGLINE.upper() + " !", "Long " * 40 + TAGLINE, "no tag"])
            edited = None
            if rng.random() < 0.25 and merged:
                edited = merged + timedelta(seconds=rng.choice([-3600, -1, 0, 1, 7200]))
            issues = []
            for _ in range(rng.choice([0, 0, 0, 1, 2, 3, 4])):
                ic = created_at - timedelta(seconds=rng.randint(-86400, 90 * 86400))
                icl = (merged or now) + timedelta(seconds=rng.randint(-2 * 86400, 2 * 86400))
                issues.append({
                    "number": rng.randint(1, 400), "title": f"Issue from {ic.date()}",
                    "state": rng.choice(["CLOSED", "CLOSED", "CLOSED", "OPEN"]),
                    "createdAt": iso(ic),
                    "closedAt": iso(icl) if rng.random() > 0.1 else None,
                    "author": rng.choice([{"login": "reporter"}, {"login": author}, None, {"login": "r2"}])})
            head_owner = rng.choice([author, owner])
            base_ref = rng.choice(["main", "main", "main", "dev", "release/1.0", "staging", "x-stable"])
            head_ref = rng.choice(["feature", "main", "dev", "release/2.0", "staging"])
            default = rng.choice(["main", "main", "master"]) if rng.random() > 0.05 else None
            node = {
                "title": f"PR {number} {rng.choice(['fix', 'feat', 'docs'])}", "number": number,
                "additions": rng.randint(0, 900), "deletions": rng.randint(0, 300),
                "mergedAt": iso(merged) if merged else None, "createdAt": iso(created_at),
                "closedAt": iso(closed) if closed else None, "lastEditedAt": iso(edited) if edited else None,
                "bodyText": body, "state": state, "commits": {"totalCount": rng.randint(1, 30)},
                "repository": {"name": name, "owner": {"login": owner},
                               "defaultBranchRef": {"name": default} if default else None},
                "headRepository": {"name": name, "owner": {"login": head_owner}} if rng.random() > 0.05 else None,
                "baseRefName": base_ref, "headRefName": head_ref, "author": {"login": author},
                "authorAssociation": rng.choices(["CONTRIBUTOR", "NONE", "FIRST_TIME_CONTRIBUTOR", "OWNER",
                                                  "MEMBER", "COLLABORATOR"], [0.5, 0.15, 0.15, 0.07, 0.07, 0.06])[0],
                "mergedBy": {"login": merged_by} if merged_by else None,
                "closingIssuesReferences": {"nodes": issues},
                "reviews": {"nodes": reviews},
            }
            prs.append(node)
            key = f"{owner}/{name}#{number}"
            if merged and rng.random() > 0.05 and key not in snapshot["files"]:
                snapshot["files"][key] = files_for(rng, number, compact)
        prs.sort(key=lambda p: p["createdAt"], reverse=True)
        snapshot["pull_requests"][str(gid)] = snapshot["pull_requests"].get(str(gid), []) + prs
    return {"snapshot": snapshot, "miners": miners, "repositories": repos, "languages": LANGUAGES,
            "now": iso(now)}
