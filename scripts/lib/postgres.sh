# Sourced by scripts, from the repository root, after scripts/lib/common.sh
# (it sources that itself when `cleanup` is not defined yet): a throwaway
# PostgreSQL cluster on 127.0.0.1, gone on exit.
#
#   . scripts/lib/common.sh
#   . scripts/lib/postgres.sh
#   pg_up                  # once; a second call is a no-op
#   psql -c 'select 1'     # PGHOST PGPORT PGUSER PGDATABASE are exported
#   "$bin" ... --database.url "$PG_URL"
#   pg_stop; ...; pg_start # an outage mid-script, same port, same data
#
# After pg_up:
#   PGHOST=127.0.0.1, PGPORT (a free port), PGUSER=postgres (a superuser,
#   trust auth on 127.0.0.1 only, as 2.0.7's DB_USER default with an empty
#   DB_PASSWORD), PGDATABASE (default gittensor_validator, 2.0.7's DB_NAME
#   default; set PG_DB before pg_up for another name), PG_URL (the same as a
#   libpq URL), and PG_BIN (the server's bin directory: psql, pg_dump, ...).
#   The same values as 2.0.7 reads them: DB_HOST DB_PORT DB_USER DB_NAME.
#   pg_createdb NAME makes another database in the cluster.
#
# The server binaries: Debian's postgresql package puts them under
# /usr/lib/postgresql/<major>/bin, off PATH (only psql and friends get
# wrappers in /usr/bin). We take the newest major there; without any, we
# install `postgresql` with apt-get (as root) and look again. Whatever
# `initdb` is first on PATH is not used: on some machines it is a stray
# link into one of those very directories, on others another build.
#
# initdb and postgres refuse to run as root, so as root the cluster is run
# as the `postgres` user (made by the package; created here if missing) via
# runuser; as any other user it is run as that user. The cluster lives in
# its own directory under ${TMPDIR:-/tmp} (not inside $work, which is 0700
# root's), with its socket in that directory, fsync off (a throwaway).

if [ -z "$(type -t cleanup)" ]; then
  . "$(dirname "${BASH_SOURCE[0]}")/common.sh"
fi

if [ -z "${_gv_pg_sourced:-}" ]; then
  _gv_pg_sourced=1
  _pg_dir=""
  _pg_running=""
  # Stop the cluster before common.sh's cleanup runs (it removes $work and
  # kills `pids`; the postmaster is not our child, so it would outlive it).
  eval "_pg_prev_$(declare -f cleanup)"
  cleanup() {
    pg_stop 2>/dev/null || true
    if [ -n "$_pg_dir" ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$_pg_dir"; fi
    if [ -n "$_pg_dir" ] && [ -n "${KEEP_WORK:-}" ]; then echo "kept $_pg_dir" >&2; fi
    _pg_prev_cleanup
  }
fi

_pg_find_bin() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] || continue
    if [ -z "$best" ] || [ "$(basename "$(dirname "$d")")" -gt "$(basename "$(dirname "$best")")" ] 2>/dev/null; then
      best=$d
    fi
  done
  echo "$best"
}

_pg_install() {
  [ -n "$(_pg_find_bin)" ] && return 0
  [ "$(id -u)" = 0 ] || fail "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and we are not root to apt-get install it"
  command -v apt-get >/dev/null || fail "PostgreSQL is not installed and there is no apt-get"
  echo "installing PostgreSQL from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 ||
    fail "apt-get install postgresql"
  [ -n "$(_pg_find_bin)" ] || fail "postgresql installed but no /usr/lib/postgresql/*/bin/initdb"
}

# Runs a server command as the cluster's owner.
_pg_as() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$_pg_user" -- "$@"
  else
    "$@"
  fi
}

_pg_free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

# Starts the cluster made by pg_up (again, after pg_stop) on $PGPORT.
pg_start() {
  [ -n "$_pg_dir" ] || fail "pg_start before pg_up"
  [ -n "$_pg_running" ] && return 0
  _pg_as "$PG_BIN/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w -t 60 \
    -o "-p $PGPORT" start >/dev/null || return 1
  _pg_running=1
}

# Stops the server at once (fast shutdown: open sessions are cut), keeping
# its data for pg_start.
pg_stop() {
  [ -n "$_pg_running" ] || return 0
  _pg_as "$PG_BIN/pg_ctl" -D "$_pg_dir/data" -m fast -w -t 60 stop >/dev/null
  _pg_running=""
}

pg_createdb() {
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$1"
}

pg_up() {
  [ -n "$_pg_dir" ] && return 0
  # /dev/null has been seen as a regular root-owned file on these machines
  # (see .ci/run); initdb's shell then cannot redirect to it as postgres.
  if [ ! -c /dev/null ] && [ "$(id -u)" = 0 ]; then
    rm -f /dev/null && mknod -m 666 /dev/null c 1 3
  fi
  _pg_install
  PG_BIN=$(_pg_find_bin)
  _pg_user=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    _pg_user=postgres
    if ! id -u "$_pg_user" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$_pg_user" || fail "useradd $_pg_user"
    fi
  fi
  _pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-pg.XXXXXX")
  chmod 0755 "$_pg_dir"
  [ "$(id -u)" = 0 ] && chown "$_pg_user" "$_pg_dir"
  _pg_as "$PG_BIN/initdb" -D "$_pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N \
    >"$_pg_dir/initdb.log" 2>&1 ||
    _pg_as "$PG_BIN/initdb" -D "$_pg_dir/data" -U postgres -A trust -E UTF8 --locale=C -N \
      >"$_pg_dir/initdb.log" 2>&1 ||
    { cat "$_pg_dir/initdb.log" >&2; fail "initdb (log above)"; }
  # A throwaway: no durability, nothing but 127.0.0.1, the socket in our dir.
  _pg_as tee -a "$_pg_dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$_pg_dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
timezone = 'UTC'
log_timezone = 'UTC'
EOF
  export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=${PG_DB:-gittensor_validator}
  unset PGPASSWORD PGSERVICE PGSSLMODE PGOPTIONS
  local try
  for try in 1 2 3 4 5; do
    PGPORT=$(_pg_free_port)
    export PGPORT
    pg_start && break
    # Another process took the port between our probe and the bind: retry.
    grep -q "could not bind\|Address already in use" "$_pg_dir/server.log" 2>/dev/null ||
      { cat "$_pg_dir/server.log" >&2; fail "postgres did not start (log above)"; }
  done
  [ -n "$_pg_running" ] || { cat "$_pg_dir/server.log" >&2; fail "postgres did not start on a free port"; }
  pg_createdb "$PGDATABASE" || fail "createdb $PGDATABASE"
  export PG_URL="postgresql://postgres@127.0.0.1:$PGPORT/$PGDATABASE"
  export DB_HOST=127.0.0.1 DB_PORT=$PGPORT DB_USER=postgres DB_NAME=$PGDATABASE
  export PATH="$PG_BIN:$PATH"
  echo "postgres $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT ($_pg_dir)" >&2
}
