"""Reads a PostgreSQL schema (the public one) from pg_catalog into plain data,
in a stable order: tables by name, columns by position, constraints and
indexes by name."""


def q(cur, sql, *args):
    cur.execute(sql, args)
    return cur.fetchall()


def dump(conn):
    cur = conn.cursor()
    out = {}
    tables = [r[0] for r in q(cur, """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname""")]
    for t in tables:
        cols = []
        for name, typ, notnull, default in q(cur, """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum""", t):
            cols.append({"name": name, "type": typ, "nullable": not notnull, "default": default})
        cons = {"primary_key": None, "unique": [], "foreign_keys": [], "checks": []}
        for name, kind, cols_, ftable, fcols, upd, dele, definition in q(cur, """
            SELECT c.conname, c.contype,
                   ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
                   c.confrelid::regclass::text,
                   ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
                   c.confupdtype, c.confdeltype, pg_get_constraintdef(c.oid)
            FROM pg_constraint c WHERE c.conrelid = %s::regclass ORDER BY c.conname""", t):
            actions = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
            if kind == "p":
                cons["primary_key"] = {"name": name, "columns": list(cols_)}
            elif kind == "u":
                cons["unique"].append({"name": name, "columns": list(cols_)})
            elif kind == "f":
                cons["foreign_keys"].append({
                    "name": name, "columns": list(cols_), "references": ftable,
                    "referenced_columns": list(fcols), "on_update": actions[upd], "on_delete": actions[dele]})
            elif kind == "c":
                cons["checks"].append({"name": name, "definition": definition})
            else:
                cons.setdefault("other", []).append({"name": name, "kind": kind, "definition": definition})
        indexes = []
        for name, unique, primary, cols_, definition in q(cur, """
            SELECT i.relname, x.indisunique, x.indisprimary,
                   ARRAY(SELECT pg_get_indexdef(x.indexrelid, k.i::int, true)
                         FROM generate_series(1, x.indnkeyatts) k(i) ORDER BY k.i),
                   pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass ORDER BY i.relname""", t):
            indexes.append({"name": name, "unique": unique, "primary": primary,
                            "columns": list(cols_), "definition": definition})
        out[t] = {"columns": cols, **cons, "indexes": indexes}
    return out
