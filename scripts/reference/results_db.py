"""Results-database goldens from gittensor 2.0.7's own storage code.

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


def main():
    tmp = tempfile.mkdtemp(prefix="gittensor-2.0.7-")
    gtref.unpack(tmp)
    cmd, *args = sys.argv[1:]
    if cmd == "schema":
        cmd_schema(*args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
