#!/usr/bin/env bash
# Cluster suite: the linearizability checker's unit tests, then the official COS SDK and boto3
# against a cluster of `coffer serve` nodes (read-after-write across nodes, multipart across
# nodes, convergence, kill -9 during writes, and the history test checked for per-key
# linearizability while nodes are killed and restarted).
#
# Usage (from any directory):
#   tests/cluster/run.sh                        # one embedded node, or the nodes
#                                               # COFFER_TEST_PG_URL names (see README.md)
#   tests/cluster/run.sh --pg                   # a throwaway PostgreSQL (scripts/pg.sh) and
#                                               # COFFER_CLUSTER_NODES (default 3) nodes on it
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

if [ "$pg" = yes ]; then
  if [ ! -x "$repo/scripts/pg.sh" ]; then
    echo "run.sh: --pg needs scripts/pg.sh (the PostgreSQL metadata backend's helper)" >&2
    exit 2
  fi
  "$repo/scripts/pg.sh" start
  trap '"$repo/scripts/pg.sh" stop' EXIT
  COFFER_TEST_PG_URL="$("$repo/scripts/pg.sh" url)"
  export COFFER_TEST_PG_URL
fi

cd "$repo"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "${args[@]}"
