"""Reads the public schema of the database psql reaches (PG* variables) in
the shape of tests/data/results-db/schema.json (see its README): tables by
name, columns by position, constraints and indexes by name. Python's
standard library and psql only, so the check needs no venv.

  python3 scripts/results-db/schema.py TABLE... > ours.json
"""
import json
import subprocess
import sys


def rows(sql):
    """The rows of `sql` as JSON objects (psql builds the JSON)."""
    wrapped = f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({sql}) t"
    out = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", wrapped],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def lit(s):
    return "'" + s.replace("'", "''") + "'"


ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def table(t):
    cols = [{"name": r["attname"], "type": r["type"], "nullable": not r["attnotnull"], "default": r["def"]}
            for r in rows(f"""
        SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid) AS def
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = {lit(t)}::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum""")]
    cons = {"primary_key": None, "unique": [], "foreign_keys": [], "checks": []}
    for r in rows(f"""
        SELECT c.conname, c.contype,
               ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
               c.confrelid::regclass::text AS ftable,
               ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS fcols,
               c.confupdtype AS upd, c.confdeltype AS del, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c WHERE c.conrelid = {lit(t)}::regclass ORDER BY c.conname"""):
        kind = r["contype"]
        if kind == "p":
            cons["primary_key"] = {"name": r["conname"], "columns": r["cols"]}
        elif kind == "u":
            cons["unique"].append({"name": r["conname"], "columns": r["cols"]})
        elif kind == "f":
            cons["foreign_keys"].append({
                "name": r["conname"], "columns": r["cols"], "references": r["ftable"],
                "referenced_columns": r["fcols"], "on_update": ACTIONS[r["upd"]],
                "on_delete": ACTIONS[r["del"]]})
        elif kind == "c":
            cons["checks"].append({"name": r["conname"], "definition": r["def"]})
        else:
            cons.setdefault("other", []).append({"name": r["conname"], "kind": kind, "definition": r["def"]})
    indexes = [{"name": r["relname"], "unique": r["indisunique"], "primary": r["indisprimary"],
                "columns": r["cols"], "definition": r["def"]}
               for r in rows(f"""
        SELECT i.relname, x.indisunique, x.indisprimary,
               ARRAY(SELECT pg_get_indexdef(x.indexrelid, k.i::int, true)
                     FROM generate_series(1, x.indnkeyatts) k(i) ORDER BY k.i) AS cols,
               pg_get_indexdef(x.indexrelid) AS def
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = {lit(t)}::regclass ORDER BY i.relname""")]
    return {"columns": cols, **cons, "indexes": indexes}


def main():
    print(json.dumps({t: table(t) for t in sorted(sys.argv[1:])}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
