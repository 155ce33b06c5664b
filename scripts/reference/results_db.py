"""Results-database goldens from gittensor 2.0.7's own storage code.

`rounds OUTDIR`: for every case of db_cases.py, on a fresh database, runs
each round with 2.0.7's get_rewards storing through its DatabaseStorage
exactly as neurons/validator.py does (gtround.py: what is real, what is
replaced), then reads every table back (rows.py conventions in
tests/data/results-db/README.md) and writes OUTDIR/<case>.json.

`schema OUT`: runs 2.0.7's DatabaseMigrator (gittensor/validator/storage/
migrator.py over its sql/*.sql, exactly as DatabaseStorage.__init__ does) on
the empty database the DB_* variables name, then writes the schema it made
(read from pg_catalog, see pg_schema.py) to OUT.

Run through scripts/reference/results-db.sh, which starts the throwaway
PostgreSQL and the venv.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gtref  # noqa: E402
import pg_schema  # noqa: E402


def dumps(v, ind=0, width=150):
    """JSON with every object or array that fits in `width` on one line."""
    flat = json.dumps(v, ensure_ascii=False)
    if len(flat) + ind <= width or not isinstance(v, (dict, list)) or not v:
        return flat
    pad = " " * (ind + 1)
    if isinstance(v, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(x, ind + 1, width)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * ind + "}"
    items = [pad + dumps(x, ind + 1, width) for x in v]
    return "[\n" + ",\n".join(items) + "\n" + " " * ind + "]"


def write_json(path, data):
    with open(path, "w") as f:
        f.write(dumps(data) + "\n")


def cmd_schema(out):
    from gittensor.validator.storage.database import create_database_connection
    from gittensor.validator.storage.migrator import DatabaseMigrator

    conn = create_database_connection()
    assert conn is not None, "no database connection (DB_* variables)"
    assert DatabaseMigrator(conn).create_tables(), "2.0.7's migrations failed"
    # Twice, as every validator start runs them: they must be idempotent.
    assert DatabaseMigrator(conn).create_tables(), "2.0.7's migrations failed on a second run"
    cur = conn.cursor()
    cur.execute("SELECT version()")
    server = cur.fetchone()[0]
    data = {
        "origin": f"gittensor {gtref.COMMIT} (2.0.7) gittensor/validator/storage/migrator.py + sql/*.sql, "
                  "run twice on an empty database; read back from pg_catalog by scripts/reference/pg_schema.py",
        "server": server,
        "tables": pg_schema.dump(conn),
    }
    conn.close()
    write_json(out, data)


# Columns the database fills itself (surrogate ids, its own timestamps):
# not compared. issues.created_at/closed_at are the issue's own dates.
DB_SET = {
    "miners": {"created_at", "updated_at"},
    "miner_evaluations": {"id", "evaluation_timestamp", "created_at", "updated_at"},
    "pull_requests": {"created_at", "updated_at"},
    "issues": set(),
    "file_changes": {"id", "created_at", "updated_at"},
    "repositories": {"created_at"},
    "languages": {"created_at", "updated_at"},
}
# Rows in the order of each table's key, bytewise (COLLATE "C").
ORDER = {
    "miners": ["uid", "hotkey", "github_id"],
    "miner_evaluations": ["uid", "hotkey", "github_id"],
    "pull_requests": ["repository_full_name", "number"],
    "issues": ["repository_full_name", "number"],
    "file_changes": ["repository_full_name", "pr_number", "filename"],
    "repositories": ["full_name"],
    "languages": ["extension"],
}
TABLES = ["miners", "miner_evaluations", "pull_requests", "issues", "file_changes", "repositories", "languages"]


def read_rows(conn):
    cur = conn.cursor()
    out = {}
    for t in TABLES:
        cur.execute("""SELECT column_name, data_type FROM information_schema.columns
                       WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position""", (t,))
        cols = [(c, ty) for c, ty in cur.fetchall() if c not in DB_SET[t]]
        # Qualified: a bare name would sort by the ::text output column.
        order = ", ".join(
            f'"{t}"."{c}" COLLATE "C"' if dict(cols)[c] in ("character varying", "text") else f'"{t}"."{c}"'
            for c in ORDER[t])
        select = ", ".join('"%s"::text' % c for c, _ in cols)
        cur.execute(f'SELECT {select} FROM "{t}" ORDER BY {order}')
        rows = []
        for r in cur.fetchall():
            row = {}
            for (c, ty), v in zip(cols, r):
                if v is None:
                    row[c] = None
                elif ty in ("integer", "bigint", "smallint"):
                    row[c] = int(v)
                elif ty == "boolean":
                    row[c] = {"true": True, "false": False}[v]
                else:
                    row[c] = v
            rows.append(row)
        out[t] = rows
    conn.rollback()
    return out


def serve(snapshot):
    """Our GitHub-shaped server on `snapshot`: (process, url)."""
    import subprocess
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(snapshot, f)
    p = subprocess.Popen([os.environ["SERVE_SNAPSHOT"], path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    url = p.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), f"serve_snapshot said {url!r}"
    return p, url


def f64_bits(x):
    import struct
    return struct.pack(">d", float(x)).hex()


def cmd_rounds(gt_root, repo_root, outdir):
    import psycopg2
    import gtround
    import db_cases
    from gittensor.validator.utils.storage import DatabaseStorage

    ref = gtround.Reference(gt_root)
    admin = psycopg2.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
                             user=os.environ["DB_USER"], dbname="postgres")
    admin.autocommit = True
    for name, rounds in db_cases.cases(repo_root).items():
        db = "case_" + name.replace("-", "_")
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}"')
            cur.execute(f'CREATE DATABASE "{db}"')
        os.environ["DB_NAME"] = db
        out_rounds = []
        for i, r in enumerate(rounds):
            tmp = tempfile.mkdtemp()
            paths = {}
            for k in ("repositories", "languages"):
                paths[k] = os.path.join(tmp, k + ".json")
                with open(paths[k], "w") as f:
                    json.dump(r[k], f)
            # Each round is a fresh validator process, as `score` is one:
            # nothing cached, the migrations run again at start.
            ref.fresh_process()
            storage = DatabaseStorage()
            assert storage.is_enabled(), "no database connection"
            results = {1: {}, 2: {}}
            stage = [0]
            real_store = storage.store_evaluation

            def store_evaluation(ev, real_store=real_store, results=results, stage=stage):
                res = real_store(ev)
                results[stage[0]][str(ev.uid)] = {"success": res.success, "errors": res.errors,
                                                  "stored_counts": res.stored_counts}
                return res

            storage.store_evaluation = store_evaluation

            def on_store(n, evs, stage=stage):
                stage[0] = n

            hub, url = serve(r["snapshot"])
            try:
                ref.set_github(url)
                uids, rewards, _ = ref.run_round(r["miners"], paths["repositories"], paths["languages"],
                                                 gtround.parse_now(r["now"]), db_storage=storage,
                                                 on_store=on_store)
            finally:
                hub.stdin.close()
                hub.wait()
            storage.close()
            conn = psycopg2.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
                                    user=os.environ["DB_USER"], dbname=db)
            rows = read_rows(conn)
            conn.close()
            # 2.0.7 stores no PAT: check it, every token of the round against every value.
            text = json.dumps(rows)
            for m in r["miners"]:
                tok = m.get("github_access_token")
                assert not tok or tok not in text, f"case {name}: a PAT reached the database"
            out_rounds.append({
                "now": r["now"],
                "snapshot": r["snapshot"],
                "miners": r["miners"],
                "repositories": r["repositories"],
                "languages": r["languages"],
                "rewards": {str(u): {"reward": float(x), "bits": f64_bits(x)} for u, x in zip(uids, rewards)},
                "storage": {"after_multipliers": results[1], "after_emissions": results[2]},
                "rows": rows,
            })
            print(f"{name} round {i + 1}: " + ", ".join(f"{t} {len(v)}" for t, v in rows.items()), file=sys.stderr)
        doc = "The bundled sample/ (its snapshot, miners and tables)." if name == "sample" else getattr(
            db_cases, name.replace("-", "_")).__doc__
        write_json(os.path.join(outdir, f"{name}.json"), {
            "case": name,
            "description": " ".join(doc.split()),
            "origin": f"gittensor {gtref.COMMIT} (2.0.7) get_rewards + DatabaseStorage, run by "
                      "scripts/reference/results-db.sh (scripts/reference/results_db.py rounds)",
            "rounds": out_rounds,
        })
    admin.close()


def main():
    tmp = tempfile.mkdtemp(prefix="gittensor-2.0.7-")
    gtref.unpack(tmp)
    cmd, *args = sys.argv[1:]
    if cmd == "schema":
        cmd_schema(*args)
    elif cmd == "rounds":
        import bittensor as bt
        bt.logging.set_warning()
        cmd_rounds(tmp, *args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
