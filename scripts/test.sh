#!/usr/bin/env bash
# Runs the whole test suite: formatting and lints, Rust unit and integration tests, then the
# acceptance suites that drive a release build of the server with third-party clients
# (cos-python-sdk-v5, boto3, AWS CLI, rclone/s3cmd), the crash test, and the s3-tests
# conformance run. Python packages are installed into a private virtualenv.
#
# Usage: scripts/test.sh            everything
#        scripts/test.sh --rust     only cargo fmt/clippy/test
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace

if [ "${1:-}" = "--rust" ]; then
  exit 0
fi

echo "== release build"
cargo build --release -p coffer
export COFFER_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/coffer"

if [ -x tests/acceptance/run.sh ]; then
  echo "== acceptance (third-party clients, crash test)"
  tests/acceptance/run.sh
fi
if [ -x tests/s3tests/run.sh ]; then
  echo "== s3-tests conformance"
  tests/s3tests/run.sh
fi
echo "== all suites passed"
