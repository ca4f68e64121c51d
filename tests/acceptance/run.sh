#!/usr/bin/env bash
# Acceptance suite: drives a release build of the coffer server with unmodified third-party
# clients (cos-python-sdk-v5, boto3, AWS CLI, rclone, s3cmd) plus the SIGKILL crash test.
#
# Usage (from any directory):
#   tests/acceptance/run.sh                                  # the whole suite
#   tests/acceptance/run.sh test_cos_sdk.py                  # a single file
#   tests/acceptance/run.sh test_boto3.py -k multipart -x    # any extra pytest arguments
#   tests/acceptance/run.sh 'test_cos_sdk.py::TestMultipart::test_full_multipart_upload'
# File arguments may be given relative to tests/acceptance/ or to the repository root.
#
# The server binary comes from $COFFER_BIN (default <repo>/target/release/coffer) and is never
# built here: run `cargo build --release -p coffer` first. Python packages are installed into
# the virtualenv $ACCEPTANCE_VENV (default tests/acceptance/.venv, git-ignored); rclone and
# s3cmd tests are skipped when those tools are missing (CI installs rclone from Debian).
# COFFER_CRASH_SEED reproduces a particular crash-test schedule.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
pytest_arguments "$@"

cd "$repo"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "${args[@]}"
