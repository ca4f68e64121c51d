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
venv="${ACCEPTANCE_VENV:-$here/.venv}"
export COFFER_BIN="${COFFER_BIN:-$repo/target/release/coffer}"

if [ ! -x "$COFFER_BIN" ]; then
  echo "run.sh: no coffer binary at $COFFER_BIN; build it with 'cargo build --release -p coffer'" >&2
  exit 2
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
  echo "$wanted" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

# Resolve file arguments given relative to tests/acceptance/; default to the whole directory.
args=()
have_path=no
for arg in "$@"; do
  case "$arg" in
    -*) args+=("$arg") ;;
    *)
      file="${arg%%::*}"
      if [ -e "$here/$file" ] && [ ! -e "$file" ]; then
        args+=("$here/$arg"); have_path=yes
      elif [ -e "$file" ]; then
        args+=("$(realpath "$file")${arg#"$file"}"); have_path=yes
      else
        args+=("$arg")
      fi
      ;;
  esac
done
if [ "$have_path" = no ]; then
  args=("$here" "${args[@]}")
fi

cd "$repo"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "${args[@]}"
