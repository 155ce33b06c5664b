"""The rows of tests/data/results-db/<case>.json against ours (see that
directory's README for the format and the conventions): the inputs of a
round written to files, and after `score` stored it, every table read back
the way the goldens were (`column::text`, integers and booleans as JSON,
rows sorted by key, text bytewise) and compared column by column. Python's
standard library and psql only.

  python3 scripts/results-db/rows.py rounds CASE            -> number of rounds
  python3 scripts/results-db/rows.py pats CASE              -> every PAT of its rounds
  python3 scripts/results-db/rows.py inputs CASE I DIR      -> files; prints score's flags
  python3 scripts/results-db/rows.py compare CASE I         -> exit 1 and the differences
"""
import json
import subprocess
import sys

# What the database fills itself: not compared (the README's conventions).
SKIP = {"id", "created_at", "updated_at", "evaluation_timestamp"}
KEEP_DATES = {"issues"}  # its created_at / closed_at are the issue's own
ORDER = {
    "miners": "uid, hotkey, github_id",
    "miner_evaluations": "uid, hotkey, github_id",
    "pull_requests": "repository_full_name, number",
    "issues": "repository_full_name, number",
    "file_changes": "repository_full_name, pr_number, filename",
}


def psql(sql):
    return subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def table_rows(table):
    cols = json.loads(psql(f"""
        SELECT coalesce(json_agg(json_build_array(column_name, data_type) ORDER BY ordinal_position), '[]')
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = {lit(table)}"""))
    exprs = []
    for name, typ in cols:
        if name in SKIP and not (table in KEEP_DATES and name in ("created_at", "closed_at")):
            continue
        value = name if typ in ("integer", "bigint", "smallint", "boolean") else f"{name}::text"
        exprs.append(f"{lit(name)}, {value}")
    order = ", ".join(f'{c.strip()} COLLATE "C"' if c.strip() in ("hotkey", "github_id", "repository_full_name", "filename")
                      else c.strip() for c in ORDER.get(table, "1").split(","))
    return json.loads(psql(f"""
        SELECT coalesce(json_agg(json_build_object({', '.join(exprs)}) ORDER BY {order}), '[]')
        FROM {table}"""))


def main():
    cmd, case, *rest = sys.argv[1:]
    data = json.load(open(case))
    if cmd == "rounds":
        print(len(data["rounds"]))
        return
    if cmd == "pats":
        for r in data["rounds"]:
            for m in r["miners"]:
                if m.get("github_access_token"):
                    print(m["github_access_token"])
        return
    r = data["rounds"][int(rest[0])]
    if cmd == "inputs":
        out = rest[1]
        for name in ("snapshot", "miners", "repositories", "languages"):
            json.dump(r[name], open(f"{out}/{name}.json", "w"))
        print(f"--replay {out}/snapshot.json --miners {out}/miners.json "
              f"--repositories {out}/repositories.json --languages {out}/languages.json --now {r['now']}")
        return
    bad = 0
    for table, want in sorted(r["rows"].items()):
        got = table_rows(table)
        if got == want:
            continue
        bad += 1
        print(f"{data['case']} round {rest[0]}: {table}: {len(got)} rows, 2.0.7 has {len(want)}")
        for i in range(max(len(got), len(want))):
            g = got[i] if i < len(got) else None
            w = want[i] if i < len(want) else None
            if g != w:
                if g and w:
                    diff = {k: (g.get(k), w.get(k)) for k in sorted(set(g) | set(w)) if g.get(k) != w.get(k)}
                    print(f"  row {i}: (ours, 2.0.7) {json.dumps(diff, ensure_ascii=False)[:800]}")
                else:
                    print(f"  row {i}: ours {json.dumps(g, ensure_ascii=False)[:400]}\n         2.0.7 {json.dumps(w, ensure_ascii=False)[:400]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
