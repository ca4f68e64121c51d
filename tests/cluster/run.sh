#!/usr/bin/env bash
# Cluster suite: the linearizability checker's unit tests, then the official COS SDK and boto3
# against a cluster of `coffer serve` nodes (read-after-write across nodes, multipart across
# nodes, convergence, kill -9 during writes, and the history test checked for per-key
# linearizability while nodes are killed and restarted).
#
# Usage (from any directory):
#   tests/cluster/run.sh                        # one embedded node
#   tests/cluster/run.sh --pg                   # COFFER_CLUSTER_NODES (default 3) nodes on
#                                               # the PostgreSQL COFFER_TEST_PG_URL names, or
#                                               # on a throwaway one (scripts/pg.sh) without it
#   tests/cluster/run.sh test_history.py -x     # any pytest arguments, files relative to here
#
# The binary is $COFFER_BIN (default <repo>/target/release/coffer; never built here); the
# Python packages are the acceptance suite's (tests/acceptance/lib.sh, its virtualenv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pg=no
if [ "${1:-}" = "--pg" ]; then
  pg=yes
  shift
fi
# shellcheck source=../acceptance/lib.sh
source "$repo/tests/acceptance/lib.sh"
pytest_arguments "$@"

if [ "$pg" = yes ] && [ -z "${COFFER_TEST_PG_URL:-}" ]; then
  pg_sh="${COFFER_PG_SH:-$repo/scripts/pg.sh}"
  if [ ! -x "$pg_sh" ]; then
    echo "run.sh: --pg needs scripts/pg.sh (the PostgreSQL metadata backend's helper)" >&2
    exit 2
  fi
  # A server of our own, whatever else is running (its state file is private).
  COFFER_PG_STATE="$(mktemp -u "${TMPDIR:-/tmp}/coffer-pg-cluster.XXXXXX")"
  export COFFER_PG_STATE
  trap '"$pg_sh" stop' EXIT
  COFFER_TEST_PG_URL="$("$pg_sh" start | tail -n 1)"
  export COFFER_TEST_PG_URL
elif [ "$pg" = no ]; then
  unset COFFER_TEST_PG_URL
fi

cd "$repo"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "${args[@]}"
