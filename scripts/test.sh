#!/usr/bin/env bash
# Runs the whole test suite: formatting and lints, Rust unit and integration tests, the replay
# of the fuzz corpora, then the acceptance suites that drive a release build of the server
# with third-party clients (cos-python-sdk-v5, boto3, AWS CLI, rclone/s3cmd), the crash test,
# the s3-tests conformance run, and the cluster suite (tests/cluster: several nodes, and the
# linearizability of a history recorded while nodes are killed). Python packages are installed
# into a private virtualenv.
#
# Usage: scripts/test.sh            everything
#        scripts/test.sh --rust     only cargo fmt/clippy/test and the corpus replay
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
# A throwaway PostgreSQL for the PostgreSQL metadata backend's tests (scripts/pg.sh), stopped
# on exit. Without the server binaries the tests say they were skipped, except under CI
# (.ci/run installs them), where they fail.
export COFFER_PG_STATE=${COFFER_PG_STATE:-$(mktemp -u /tmp/coffer-pg-test.XXXXXX)}
trap 'scripts/pg.sh stop; rm -f "$log"' EXIT
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "== PostgreSQL (scripts/pg.sh)"
  COFFER_TEST_PG_URL=$(scripts/pg.sh start)
  export COFFER_TEST_PG_URL
  echo "COFFER_TEST_PG_URL=$COFFER_TEST_PG_URL"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --exclude coffer-fuzz 2>&1 | tee -a "$log"
# Every input of fuzz/corpus/<target>/ through its target's body, on stable: a corpus input
# that panics fails here, named (see fuzz/README.md).
echo "== fuzz corpus replay"
started=$(date +%s)
cargo test -p coffer-fuzz 2>&1 | tee -a "$log"
echo "fuzz corpus replay: $(($(date +%s) - started)) s"

if [ "${1:-}" = "--rust" ]; then
  exit 0
fi

echo "== release build"
cargo build --release -p coffer
export COFFER_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/coffer"
cargo build --release -p coffer-sdk --example sdk_interop
export COFFER_SDK_INTEROP="${CARGO_TARGET_DIR:-$PWD/target}/release/examples/sdk_interop"

if [ -x tests/acceptance/run.sh ]; then
  echo "== acceptance (third-party clients, crash test)"
  tests/acceptance/run.sh 2>&1 | tee -a "$log"
fi
# The same suites against two nodes on one PostgreSQL database and one data directory, behind
# a round-robin relay (tests/cluster/relay.py): each server the harness starts is such a pair
# with a database of its own (tests/acceptance/coffer_harness.py), the crash tests included.
pg_acceptance=
if [ -x tests/acceptance/run.sh ] && [ -n "${COFFER_TEST_PG_URL:-}" ]; then
  echo "== acceptance on two nodes over PostgreSQL metadata"
  started=$(date +%s)
  pg_log=$(mktemp)
  COFFER_ACCEPTANCE_PG_URL=$COFFER_TEST_PG_URL COFFER_ACCEPTANCE_NODES=2 \
    tests/acceptance/run.sh 2>&1 | tee "$pg_log"
  pg_acceptance=$(grep -E '^[0-9]+ passed' "$pg_log" | tail -n 1 | sed -E 's/^([0-9]+) passed.*/\1/')
  rm -f "$pg_log"
  echo "acceptance on two PostgreSQL nodes: $(($(date +%s) - started)) s"
fi
if [ -x tests/s3tests/run.sh ]; then
  echo "== s3-tests conformance"
  tests/s3tests/run.sh 2>&1 | tee -a "$log"
fi
# The cluster suite: the linearizability checker's tests, then the cluster tests and the
# history test on one embedded node; then on three nodes over PostgreSQL when there is one
# (COFFER_TEST_PG_URL, or scripts/pg.sh to start one). Its "N passed" lines follow the
# marker line and are counted apart from the acceptance suite's.
if [ -x tests/cluster/run.sh ]; then
  echo "== cluster suite" | tee -a "$log"
  started=$(date +%s)
  tests/cluster/run.sh 2>&1 | tee -a "$log"
  if [ -n "${COFFER_TEST_PG_URL:-}" ] || [ -x scripts/pg.sh ]; then
    echo "== cluster suite on PostgreSQL"
    tests/cluster/run.sh --pg 2>&1 | tee -a "$log"
  fi
  echo "cluster suite: $(($(date +%s) - started)) s"
fi

# One closing line over every suite: Rust tests, acceptance tests and the s3-tests that pass
# (the s3-tests' known gaps are listed in tests/s3tests/expected-failures.txt, and any other
# failure has already stopped this script).
rust=$(grep -E '^test result: ok\.' "$log" | sed -E 's/^test result: ok\. ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
acceptance=$(sed '/^== cluster suite/,$d' "$log" | grep -E '^[0-9]+ passed' | tail -n 1 | sed -E 's/^([0-9]+) passed.*/\1/')
conformance=$(grep -E '^s3-tests conformance:' "$log" | sed -E 's/^s3-tests conformance: ([0-9]+) pass.*/\1/')
cluster=$(sed -n '/^== cluster suite/,$p' "$log" | grep -E '^[0-9]+ passed' | sed -E 's/^([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
echo "rust $rust, acceptance ${acceptance:-0}, acceptance on two PostgreSQL nodes ${pg_acceptance:-0}, s3-tests ${conformance:-0}, cluster $cluster"
echo "$((rust + ${acceptance:-0} + ${pg_acceptance:-0} + ${conformance:-0} + cluster)) passed, 0 failed"
