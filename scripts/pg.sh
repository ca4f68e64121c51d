#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: Debian's server binaries, a fresh cluster in a temporary
# directory, listening only on 127.0.0.1 on a free port, trust authentication on loopback
# only (the Unix socket lives in the private cluster directory), fsync on (the default).
# Role and database `coffer` are created for the tests.
#
# Usage: scripts/pg.sh start    starts it and prints the URL (postgres://coffer@127.0.0.1:PORT/coffer)
#        scripts/pg.sh url      prints the URL of the running one
#        scripts/pg.sh stop     stops it and removes its directory
#
# The state (directory and port) is kept in $COFFER_PG_STATE (default /tmp/coffer-pg.state).
# As root (CI) the server runs as the unprivileged `postgres` user the Debian package creates
# (created here if missing); as any other user it runs as that user.
set -euo pipefail

state=${COFFER_PG_STATE:-/tmp/coffer-pg.state}

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "pg.sh: PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$dir"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

url() {
  [ -f "$state" ] || { echo "pg.sh: not running (no $state)" >&2; exit 1; }
  # shellcheck disable=SC1090
  . "$state"
  echo "postgres://coffer@127.0.0.1:${PORT}/coffer"
}

start() {
  if [ -f "$state" ]; then
    echo "pg.sh: already started ($state); stop it first" >&2
    exit 1
  fi
  local bin dir port
  bin=$(bindir)
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
  dir=$(mktemp -d /tmp/coffer-pg.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=400 -c fsync=on" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  printf 'DIR=%q\nPORT=%q\n' "$dir" "$port" >"$state"
  as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE coffer LOGIN CREATEDB" -c "CREATE DATABASE coffer OWNER coffer" >/dev/null
  url
}

stop() {
  [ -f "$state" ] || exit 0
  # shellcheck disable=SC1090
  . "$state"
  as_owner "$(bindir)/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR" "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
